/**
 * `OvsdbClient`: every RFC 7047 method and the OVS extensions over one
 * JSON-RPC session.
 *
 * One client is one connection: when it drops, the client emits
 * `disconnected` once, every request in flight rejects, and the client is
 * done. Reconnecting is the owner's choice (see {@link connectWithBackoff}):
 * the replica reconnects and resumes its monitor with `monitor_cond_since`.
 */
import { EventEmitter } from 'node:events';
import { OvsdbConnectionError, OvsdbErrorCode, OvsdbProtocolError, type OvsdbError, preview } from './errors.js';
import { JsonRpcSession, type SessionOptions } from './jsonrpc.js';
import {
  checkTransactResult,
  decodeResults,
  encodeOperations,
  type Operation,
  type TransactionResults,
  type WireOperation,
} from './operations.js';
import { parseSchema, type DatabaseSchema } from './schema.js';
import { openSocket, sessionErrorMapper, type ConnectOptions } from './transport.js';
import {
  checkTableUpdates,
  checkTableUpdates2,
  encodeMonitorCondChanges,
  encodeMonitorRequests,
  type MonitorCondChange,
  type MonitorCondRequest,
  type MonitorRequest,
  type TableUpdates,
  type TableUpdates2,
} from './updates.js';

/** Any JSON value the caller picks to name a monitor. */
export type MonitorId = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown };

/**
 * Options of `OvsdbClient.connect`: the transport's (TLS files, connect timeout) and the session's
 * (inactivity probe, request timeout, message size).
 */
export interface ClientOptions extends ConnectOptions, SessionOptions {}

/** Options of one `transact`: an AbortSignal (sends `cancel`) and a timeout. */
export interface TransactOptions {
  /** Aborting sends `cancel`; the transaction then rejects with the server's `canceled` error. */
  signal?: AbortSignal;
  /** Overrides the client's request timeout for this call. */
  timeoutMs?: number;
}

/**
 * The answer to `monitorCondSince`: whether the server could resume from `lastTxnId`, its latest
 * transaction id, and the updates.
 */
export interface MonitorCondSinceResult {
  /** True when the server still had `lastTxnId` and `updates` holds only what changed since. */
  readonly found: boolean;
  /** The id of the last transaction the updates include; keep it for the next resume. */
  readonly lastTxnId: string;
  readonly updates: TableUpdates2;
}

/** Events; updates are wire-shaped (checked) and carry the monitor id and its database. */
export interface OvsdbClientEvents {
  update: [monitorId: MonitorId, updates: TableUpdates, db: string];
  update2: [monitorId: MonitorId, updates: TableUpdates2, db: string];
  update3: [monitorId: MonitorId, lastTxnId: string, updates: TableUpdates2, db: string];
  /** The server canceled a monitor (its database was removed or converted). */
  monitorCanceled: [monitorId: MonitorId, db: string | undefined];
  /** A lock requested with `lock` was granted later. */
  locked: [lock: string];
  /** Another client stole a lock we held. */
  stolen: [lock: string];
  /** Any other notification from the server. */
  notification: [method: string, params: unknown[]];
  /** A non-fatal violation by the server (reply to an unknown id, ill-shaped update); the connection stays up. */
  protocolError: [err: OvsdbProtocolError];
  /** One of our listeners for update/update2/update3/locked/stolen/notification threw; the session goes on. */
  listenerError: [err: unknown];
  /** The connection ended; `err.code` says why (DISCONNECTED, CLOSED, INACTIVITY, PROTOCOL). Emitted once. */
  disconnected: [err: OvsdbError];
}

interface MonitorEntry {
  db: string;
}

function monitorKey(id: unknown): string {
  return JSON.stringify(id);
}

/**
 * One JSON-RPC session with an ovsdb-server: every RFC 7047 method and the Open vSwitch extensions,
 * operations checked against the schema, typed errors. `OvsdbClient.connect(remote)` makes one.
 */
export class OvsdbClient extends EventEmitter<OvsdbClientEvents> {
  readonly remote: string;
  private readonly session: JsonRpcSession;
  private readonly schemas = new Map<string, DatabaseSchema>();
  private readonly schemaRequests = new Map<string, Promise<DatabaseSchema>>();
  private readonly monitors = new Map<string, MonitorEntry>();
  private disconnectError: OvsdbError | undefined;
  private readonly onClosed: (err: OvsdbError) => void;
  /** Resolves when the connection ends, with the reason. */
  readonly closed: Promise<OvsdbError>;

  private constructor(remote: string, session: (c: OvsdbClient) => JsonRpcSession) {
    super();
    this.remote = remote;
    let onClosed!: (err: OvsdbError) => void;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.onClosed = (err) => {
      this.disconnectError = err;
      onClosed(err);
      this.safeEmit('disconnected', err);
    };
    this.session = session(this);
  }

  /** Connects to `unix:PATH`, `tcp:HOST:PORT` or `ssl:HOST:PORT`. Rejects with `CONNECT_FAILED`, `TLS` or `BAD_REMOTE`. */
  static async connect(remote: string, options: ClientOptions = {}): Promise<OvsdbClient> {
    const socket = await openSocket(remote, options);
    return new OvsdbClient(
      remote,
      (client) =>
        new JsonRpcSession(
          socket,
          remote,
          {
            notification: (method, params) => client.dispatch(method, params),
            protocolError: (err) => client.safeEmit('protocolError', err),
            closed: (err) => client.onClosed(err),
          },
          options,
          sessionErrorMapper(remote, options),
        ),
    );
  }

  /** True until the connection ends. */
  get isConnected(): boolean {
    return this.disconnectError === undefined && this.session.isOpen;
  }

  /** Requests awaiting a reply. */
  get inFlight(): number {
    return this.session.inFlight;
  }

  /** Closes the connection; requests in flight reject with `CLOSED`. */
  close(): Promise<void> {
    this.session.close();
    return this.closed.then(() => undefined);
  }

  /** A raw JSON-RPC call, for methods this client does not wrap. */
  call(method: string, params: unknown[], options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown> {
    return this.session.request(method, params, options);
  }

  // ------------------------------------------------------------ RFC 7047 §4.1

  /** `list_dbs`: the databases the server serves. */
  async listDbs(): Promise<string[]> {
    const r = await this.call('list_dbs', []);
    if (!Array.isArray(r) || !r.every((d) => typeof d === 'string')) throw this.bad(`list_dbs result is not an array of strings: ${preview(r)}`);
    return r;
  }

  /** `get_schema`, parsed; cached per database until `refresh`. Unknown database → code `UNKNOWN_DATABASE`. */
  getSchema(db: string, options: { refresh?: boolean } = {}): Promise<DatabaseSchema> {
    if (!options.refresh) {
      const cached = this.schemas.get(db);
      if (cached) return Promise.resolve(cached);
      const inflight = this.schemaRequests.get(db);
      if (inflight) return inflight;
    }
    const p = this.call('get_schema', [db]).then(
      (json) => {
        this.schemaRequests.delete(db);
        const schema = parseSchema(json);
        this.schemas.set(db, schema);
        return schema;
      },
      (err) => {
        this.schemaRequests.delete(db);
        throw err;
      },
    );
    this.schemaRequests.set(db, p);
    return p;
  }

  /** The cached schema of a database, if `getSchema` ran. */
  schema(db: string): DatabaseSchema | undefined {
    return this.schemas.get(db);
  }

  /** Uses a known schema for `db` instead of fetching it (e.g. a checked-in model's). */
  useSchema(db: string, schema: DatabaseSchema): void {
    this.schemas.set(db, schema);
  }

  /**
   * `transact`: validates and encodes the operations against the database's
   * schema, sends them, and returns one typed result per operation. A failed
   * operation, or the commit, rejects with `OvsdbTransactionError` (its index).
   */
  async transact<const T extends readonly Operation[]>(db: string, ops: T, options: TransactOptions = {}): Promise<TransactionResults<T>> {
    const schema = await this.getSchema(db);
    const wire = encodeOperations(schema, ops);
    const raw = await this.transactWire(db, wire, options);
    return decodeResults(schema, ops, raw) as TransactionResults<T>;
  }

  /**
   * `transact` with operations already in wire form (no schema validation);
   * resolves with the raw results, rejects on the first error like `transact`.
   */
  async transactWire(db: string, ops: readonly WireOperation[], options: TransactOptions = {}): Promise<unknown[]> {
    const raw = await this.session.request('transact', [db, ...ops], {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      // RFC 7047 §4.1.4: cancel is a notification naming the transact's id; the server answers the transact with "canceled".
      onAbort: (id) => this.session.notify('cancel', [id]),
    });
    return checkTransactResult(raw, ops);
  }

  /** `monitor` (RFC 7047 §4.1.5): returns the initial contents; later changes arrive as `update` events. */
  async monitor(db: string, monitorId: MonitorId, requests: Record<string, MonitorRequest | readonly MonitorRequest[]>): Promise<TableUpdates> {
    const schema = await this.getSchema(db);
    const params = encodeMonitorRequests(schema, requests, false);
    const key = this.reserveMonitor(monitorId, db);
    try {
      const r = await this.call('monitor', [db, monitorId, params]);
      return checkTableUpdates(schema, r);
    } catch (err) {
      this.monitors.delete(key);
      throw err;
    }
  }

  /** `monitor_cond` (OVS): like monitor with conditions; changes arrive as `update2` events. */
  async monitorCond(db: string, monitorId: MonitorId, requests: Record<string, MonitorCondRequest | readonly MonitorCondRequest[]>): Promise<TableUpdates2> {
    const schema = await this.getSchema(db);
    const params = encodeMonitorRequests(schema, requests, true);
    const key = this.reserveMonitor(monitorId, db);
    try {
      const r = await this.call('monitor_cond', [db, monitorId, params]);
      return checkTableUpdates2(schema, r);
    } catch (err) {
      this.monitors.delete(key);
      throw err;
    }
  }

  /**
   * `monitor_cond_since` (OVS): resumes from `lastTxnId` (or starts fresh when
   * omitted); changes arrive as `update3` events carrying the new last txn id.
   */
  async monitorCondSince(
    db: string,
    monitorId: MonitorId,
    requests: Record<string, MonitorCondRequest | readonly MonitorCondRequest[]>,
    lastTxnId?: string,
  ): Promise<MonitorCondSinceResult> {
    const schema = await this.getSchema(db);
    const params = encodeMonitorRequests(schema, requests, true);
    const key = this.reserveMonitor(monitorId, db);
    try {
      const r = await this.call('monitor_cond_since', [db, monitorId, params, lastTxnId ?? ZERO_UUID]);
      if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'boolean' || typeof r[1] !== 'string') {
        throw this.bad(`monitor_cond_since result is not [found, last-txn-id, updates]: ${preview(r)}`);
      }
      return { found: r[0], lastTxnId: r[1], updates: checkTableUpdates2(schema, r[2]) };
    } catch (err) {
      this.monitors.delete(key);
      throw err;
    }
  }

  /**
   * `monitor_cond_change` (OVS): changes the columns/conditions of a
   * `monitor_cond`/`monitor_cond_since` monitor, optionally renaming it;
   * the resulting changes arrive as update2/update3 events under the new id.
   */
  async monitorCondChange(
    monitorId: MonitorId,
    changes: Record<string, MonitorCondChange | readonly MonitorCondChange[]>,
    newMonitorId: MonitorId = monitorId,
  ): Promise<void> {
    const entry = this.monitors.get(monitorKey(monitorId));
    if (!entry) throw new OvsdbProtocolError(`monitor_cond_change: no monitor ${preview(monitorId)} on this connection`);
    const schema = await this.getSchema(entry.db);
    const params = encodeMonitorCondChanges(schema, changes);
    const renamed = monitorKey(newMonitorId) !== monitorKey(monitorId);
    // Reserved before sending: the server's first update under the new id may come before its reply.
    if (renamed) this.reserveMonitor(newMonitorId, entry.db);
    try {
      await this.call('monitor_cond_change', [monitorId, newMonitorId, params]);
    } catch (err) {
      if (renamed) this.monitors.delete(monitorKey(newMonitorId));
      throw err;
    }
    if (renamed) this.monitors.delete(monitorKey(monitorId));
  }

  /** `monitor_cancel`. */
  async monitorCancel(monitorId: MonitorId): Promise<void> {
    await this.call('monitor_cancel', [monitorId]);
    this.monitors.delete(monitorKey(monitorId));
  }

  /** `lock`: true if granted now; otherwise a `locked` event follows when it is. */
  async lock(name: string): Promise<boolean> {
    const r = (await this.call('lock', [name])) as { locked?: unknown } | null;
    if (!r || typeof r.locked !== 'boolean') throw this.bad(`lock result has no "locked": ${preview(r)}`);
    return r.locked;
  }

  /** `steal`: takes the lock now; its former owner gets `stolen`. */
  async steal(name: string): Promise<void> {
    const r = (await this.call('steal', [name])) as { locked?: unknown } | null;
    if (!r || r.locked !== true) throw this.bad(`steal result is not {"locked": true}: ${preview(r)}`);
  }

  /** `unlock`: releases (or stops waiting for) a lock. */
  async unlock(name: string): Promise<void> {
    await this.call('unlock', [name]);
  }

  /** Waits for the `locked` notification of a lock requested earlier. */
  waitLocked(name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onLocked = (lock: string) => {
        if (lock !== name) return;
        this.off('locked', onLocked);
        this.off('disconnected', onGone);
        resolve();
      };
      const onGone = (err: OvsdbError) => {
        this.off('locked', onLocked);
        reject(err);
      };
      this.on('locked', onLocked);
      this.once('disconnected', onGone);
    });
  }

  /** `echo`: the server returns the params. */
  async echo(...params: unknown[]): Promise<unknown[]> {
    const r = await this.call('echo', params);
    if (!Array.isArray(r)) throw this.bad(`echo result is not an array: ${preview(r)}`);
    return r;
  }

  /** `set_db_change_aware` (OVS): keep the session open across database changes, with `monitor_canceled`. */
  async setDbChangeAware(aware = true): Promise<void> {
    await this.call('set_db_change_aware', [aware]);
  }

  // ------------------------------------------------------------ notifications

  private reserveMonitor(monitorId: MonitorId, db: string): string {
    const key = monitorKey(monitorId);
    if (this.monitors.has(key)) throw new OvsdbProtocolError(`monitor id ${key} is already in use on this connection`);
    this.monitors.set(key, { db });
    return key;
  }

  private dispatch(method: string, params: unknown[]): void {
    try {
      switch (method) {
        case 'update':
        case 'update2': {
          if (params.length !== 2) throw this.bad(`${method} notification needs [monitor-id, table-updates], got ${preview(params)}`);
          const [id, tu] = params as [MonitorId, unknown];
          const db = this.monitorDb(method, id);
          const schema = this.schemas.get(db);
          if (method === 'update') this.emit('update', id, checkTableUpdates(schema, tu), db);
          else this.emit('update2', id, checkTableUpdates2(schema, tu), db);
          return;
        }
        case 'update3': {
          if (params.length !== 3 || typeof params[1] !== 'string') {
            throw this.bad(`update3 notification needs [monitor-id, last-txn-id, table-updates2], got ${preview(params)}`);
          }
          const [id, txn, tu] = params as [MonitorId, string, unknown];
          const db = this.monitorDb(method, id);
          this.emit('update3', id, txn, checkTableUpdates2(this.schemas.get(db), tu), db);
          return;
        }
        case 'monitor_canceled': {
          const id = params[0] as MonitorId;
          const entry = this.monitors.get(monitorKey(id));
          this.monitors.delete(monitorKey(id));
          this.emit('monitorCanceled', id, entry?.db);
          return;
        }
        case 'locked':
        case 'stolen': {
          if (typeof params[0] !== 'string') throw this.bad(`${method} notification without a lock name: ${preview(params)}`);
          if (method === 'locked') this.emit('locked', params[0]);
          else this.emit('stolen', params[0]);
          return;
        }
        default:
          this.emit('notification', method, params);
      }
    } catch (err) {
      if (err instanceof OvsdbProtocolError) this.safeEmit('protocolError', err);
      else this.listenerFailed(err);
    }
  }

  /** Emits from inside the session's I/O callbacks, where a throwing listener must not escape. */
  private safeEmit<K extends 'protocolError' | 'disconnected'>(event: K, ...args: OvsdbClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: OvsdbClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.listenerFailed(err);
    }
  }

  /**
   * An event listener threw. The session must go on (the bytes after this
   * message are fine), so the error is handed to `listenerError` listeners,
   * or reported as a process warning, instead of tearing the connection down.
   */
  private listenerFailed(err: unknown): void {
    if (this.listenerCount('listenerError') > 0) {
      try {
        this.emit('listenerError', err);
        return;
      } catch {
        // Fall through to the warning.
      }
    }
    process.emitWarning(`OvsdbClient (${this.remote}): an event listener threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }

  private monitorDb(method: string, id: unknown): string {
    const entry = this.monitors.get(monitorKey(id));
    if (!entry) throw this.bad(`${method} for unknown monitor ${preview(id)}`);
    return entry.db;
  }

  private bad(message: string): OvsdbProtocolError {
    return new OvsdbProtocolError(`${this.remote}: ${message}`);
  }
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * How `connectWithBackoff` retries a refused connection: jittered exponential backoff, a cap on
 * attempts, an AbortSignal.
 */
export interface BackoffOptions {
  /** First retry delay (default 100 ms); doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  /** Largest delay (default 8 s, OVS's reconnect default max backoff). */
  maxDelayMs?: number;
  /** Give up after this many attempts (default: never). */
  maxAttempts?: number;
  /** Stops retrying; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told of each failed attempt and the delay before the next. */
  onRetry?: (err: OvsdbError, attempt: number, delayMs: number) => void;
}

/**
 * Connects, retrying with exponential backoff (with jitter) while the
 * connection fails. Only connection failures (`CONNECT_FAILED`) are retried;
 * a bad remote or a TLS failure (`TLS`: files, certificates) rejects at once.
 */
export async function connectWithBackoff(remote: string, options: ClientOptions & BackoffOptions = {}): Promise<OvsdbClient> {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 8000;
  let delay = initial;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    try {
      return await OvsdbClient.connect(remote, options);
    } catch (err) {
      if (!(err instanceof OvsdbConnectionError) || err.code !== OvsdbErrorCode.CONNECT_FAILED) throw err;
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) throw err;
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      options.onRetry?.(err, attempt, wait);
      await sleep(wait, options.signal);
      delay = Math.min(max, delay * 2);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
