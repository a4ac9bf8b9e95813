/**
 * oslo.messaging's message format on the rabbit driver (docs/neutron.md, "Messages"):
 * a JSON envelope `{"oslo.version": "2.0", "oslo.message": "<JSON text>"}`
 * whose inner dict carries `method`, `args`, `version`, `_unique_id`, the
 * call's `_msg_id`/`_reply_q`/`_timeout`, and the request context flattened
 * into `_context_<key>` fields. Replies carry `result`, `failure` (itself a
 * JSON string), `ending` and the call's `_msg_id`.
 */
import { randomUUID } from 'node:crypto';
import { decodeError, type RemoteFailure } from './errors.js';

export const OSLO_VERSION = '2.0';

/** A request, as the dispatcher sees it once the envelope and context are removed. */
export interface RpcRequest {
  method: string;
  args: Record<string, unknown>;
  /** `"1.0"` when the message has none (oslo's default). */
  version: string;
  namespace: string | null;
  uniqueId: string | undefined;
  /** Present on calls: where and under which id the reply goes. */
  msgId: string | undefined;
  replyQueue: string | undefined;
  context: Record<string, unknown>;
}

export interface RpcReply {
  msgId: string;
  result: unknown;
  /** The decoded `failure`, or null on success. */
  failure: RemoteFailure | null;
  /** false only on call-monitor heartbeats. */
  ending: boolean;
}

/** uuid4 hex without dashes, as oslo writes `_unique_id`, `_msg_id` and queue suffixes. */
export function uuidHex(): string {
  return randomUUID().replaceAll('-', '');
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), neutron_lib's context timestamp format. */
function contextTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000`;
}

/**
 * The `_context_*` keys of the admin context an agent uses
 * (`neutron_lib.context.get_admin_context_without_session().to_dict()`).
 */
export function adminContextFields(now = new Date()): Record<string, unknown> {
  return {
    _context_user: null,
    _context_project_id: null,
    _context_system_scope: null,
    _context_project: null,
    _context_domain: null,
    _context_user_domain: null,
    _context_project_domain: null,
    _context_is_admin: true,
    _context_read_only: false,
    _context_show_deleted: false,
    _context_auth_token: null,
    _context_request_id: `req-${randomUUID()}`,
    _context_global_request_id: null,
    _context_resource_uuid: null,
    _context_roles: [],
    _context_user_identity: '- - - - -',
    _context_is_admin_project: true,
    _context_user_id: null,
    _context_tenant_id: null,
    _context_timestamp: contextTimestamp(now),
    _context_tenant_name: null,
    _context_project_name: null,
    _context_user_name: null,
  };
}

export interface OutgoingRequest {
  method: string;
  args: Record<string, unknown>;
  version?: string;
  /** The target's namespace (the trunk RPCs'); none for most of Neutron's. */
  namespace?: string;
  /** For calls. */
  msgId?: string;
  replyQueue?: string;
}

/** Serialises a call or cast with the admin context. */
export function encodeRequest(req: OutgoingRequest): Buffer {
  const inner: Record<string, unknown> = { method: req.method, args: req.args };
  if (req.version !== undefined) inner.version = req.version;
  if (req.namespace !== undefined) inner.namespace = req.namespace;
  if (req.msgId !== undefined) {
    inner._msg_id = req.msgId;
    inner._reply_q = req.replyQueue;
    // No call-monitor: Neutron never sets call_monitor_timeout.
    inner._timeout = null;
  }
  inner._unique_id = uuidHex();
  Object.assign(inner, adminContextFields());
  return wrap(inner);
}

/** Serialises the reply to a call we served. */
export function encodeReply(msgId: string, result: unknown, failure: RemoteFailure | null): Buffer {
  return wrap({
    result: result ?? null,
    failure:
      failure === null
        ? null
        : JSON.stringify({
            class: failure.className,
            module: failure.module,
            message: failure.message,
            tb: failure.traceback,
            args: [failure.message],
            kwargs: {},
          }),
    ending: true,
    _msg_id: msgId,
    _unique_id: uuidHex(),
  });
}

function wrap(inner: Record<string, unknown>): Buffer {
  return Buffer.from(`{"oslo.version":"${OSLO_VERSION}","oslo.message":${JSON.stringify(JSON.stringify(inner))}}`);
}

/**
 * Parses a body into the inner dict (oslo `deserialize_msg`): an envelope is
 * unwrapped, anything else that is a JSON object is taken as the message itself.
 */
export function decodeBody(body: Buffer): Record<string, unknown> {
  let outer: unknown;
  try {
    outer = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw decodeError(`body is not JSON (${body.length} bytes): ${(err as Error).message}`, err);
  }
  if (!isObject(outer)) throw decodeError(`body is JSON ${typeOf(outer)}, not an object`);
  if (!('oslo.version' in outer && 'oslo.message' in outer)) return outer;
  const version = outer['oslo.version'];
  if (typeof version !== 'string' || version.split('.')[0] !== OSLO_VERSION.split('.')[0]) {
    throw decodeError(`unsupported envelope oslo.version ${JSON.stringify(version)} (expected ${OSLO_VERSION})`);
  }
  const text = outer['oslo.message'];
  if (typeof text !== 'string') throw decodeError(`envelope oslo.message is ${typeOf(text)}, not a JSON string`);
  let inner: unknown;
  try {
    inner = JSON.parse(text);
  } catch (err) {
    throw decodeError(`envelope oslo.message is not JSON: ${(err as Error).message}`, err);
  }
  if (!isObject(inner)) throw decodeError(`envelope oslo.message is JSON ${typeOf(inner)}, not an object`);
  return inner;
}

/** Reads a request (call or cast) out of an inner dict. */
export function readRequest(msg: Record<string, unknown>): RpcRequest {
  const { method, args, version, namespace } = msg;
  if (typeof method !== 'string' || method === '') throw decodeError(`message has no method (keys: ${Object.keys(msg).join(', ')})`);
  if (args !== undefined && !isObject(args)) throw decodeError(`${method}: args is ${typeOf(args)}, not an object`);
  if (version !== undefined && version !== null && typeof version !== 'string') {
    throw decodeError(`${method}: version is ${typeOf(version)}, not a string`);
  }
  const context: Record<string, unknown> = {};
  for (const key of Object.keys(msg)) {
    if (key.startsWith('_context_')) context[key.slice(9)] = msg[key];
  }
  return {
    method,
    args: (args as Record<string, unknown> | undefined) ?? {},
    version: (version as string | null | undefined) ?? '1.0',
    namespace: typeof namespace === 'string' ? namespace : null,
    uniqueId: typeof msg._unique_id === 'string' ? msg._unique_id : undefined,
    msgId: typeof msg._msg_id === 'string' ? msg._msg_id : undefined,
    replyQueue: typeof msg._reply_q === 'string' ? msg._reply_q : undefined,
    context,
  };
}

/** Reads a reply out of an inner dict; undefined when it is not a reply (no `_msg_id`). */
export function readReply(msg: Record<string, unknown>): RpcReply | undefined {
  if (typeof msg._msg_id !== 'string') return undefined;
  return {
    msgId: msg._msg_id,
    result: msg.result ?? null,
    failure: msg.failure === undefined || msg.failure === null ? null : parseFailure(msg.failure),
    ending: msg.ending !== false,
  };
}

/** Decodes a reply's `failure` (a JSON string of oslo's serialised exception). */
export function parseFailure(failure: unknown): RemoteFailure {
  let data: unknown = failure;
  if (typeof failure === 'string') {
    try {
      data = JSON.parse(failure);
    } catch {
      return { className: 'RemoteError', module: '', message: failure, traceback: [] };
    }
  }
  if (!isObject(data)) return { className: 'RemoteError', module: '', message: String(data), traceback: [] };
  const tb = Array.isArray(data.tb) ? data.tb.map(String) : [];
  return {
    className: typeof data.class === 'string' ? data.class : 'RemoteError',
    module: typeof data.module === 'string' ? data.module : '',
    message: typeof data.message === 'string' ? data.message : JSON.stringify(data.message ?? null),
    traceback: tb,
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Whether a message of version `msg` can be served by an endpoint of version `endpoint` (same major, minor ≤). */
export function versionCompatible(endpoint: string, msg: string): boolean {
  const [em, en = '0'] = endpoint.split('.');
  const [mm, mn = '0'] = msg.split('.');
  return em === mm && Number(mn) <= Number(en);
}
