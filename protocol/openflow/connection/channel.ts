/**
 * What both a single session (OpenFlowConnection) and a logical switch that
 * outlives sessions (OpenFlowSwitch) offer: the request primitives, and on
 * top of them the conveniences callers reach for (flow-mods, flow deletion by
 * cookie, flow and port dumps, bundles).
 */
import { EventEmitter } from 'node:events';
import { flowMod } from '../builders.js';
import { OFPG, OFPP, OFPTT } from '../constants.js';
import type {
  FeaturesReply,
  FlowMod,
  FlowStats,
  FlowStatsSelector,
  Match,
  MessageOf,
  MessageType,
  MultipartReplyBody,
  MultipartRequestBody,
  OpenFlowMessage,
  Port,
  SwitchDesc,
  TableFeatures,
} from '../types.js';
import { BundleTransaction, type BundleOptions } from './bundle.js';
import type { OpenFlowSession, RequestOptions } from './session.js';

export type { RequestOptions } from './session.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';

/** A handler of one message type, given the message with its type narrowed. */
export type MessageHandler<T extends MessageType> = (msg: MessageOf<T>) => void;

/** A flow-mod with every field optional; the rest take ovs-ofctl's defaults (the codec's `flowMod` builder). */
export type FlowModSpec = Partial<FlowMod>;

/** Which flows a dump, an aggregate or a delete selects; everything optional (all flows of all tables). */
export interface FlowFilter {
  /** Default: all tables. */
  tableId?: number;
  cookie?: bigint;
  /** Default: all ones when `cookie` is given, else 0 (any cookie). */
  cookieMask?: bigint;
  match?: Match;
  outPort?: number;
  outGroup?: number;
}

/** An aggregate-stats reply: how many flows the filter selects, with their packet and byte counts. */
export interface Aggregate {
  packetCount: bigint;
  byteCount: bigint;
  flowCount: number;
}

const ALL_COOKIE_BITS = 0xffffffffffffffffn;

function selector(f: FlowFilter): FlowStatsSelector {
  return {
    tableId: f.tableId ?? OFPTT.ALL,
    outPort: f.outPort ?? OFPP.ANY,
    outGroup: f.outGroup ?? OFPG.ANY,
    cookie: f.cookie ?? 0n,
    cookieMask: f.cookieMask ?? (f.cookie === undefined ? 0n : ALL_COOKIE_BITS),
    match: f.match ?? {},
  };
}

/**
 * The requests a switch session offers (flow-mods, dumps, bundles, barriers...), whether one
 * connection (OpenFlowConnection) or a switch that outlives them (OpenFlowSwitch).
 */
export abstract class OpenFlowChannel extends EventEmitter {
  /** Handlers by message type (`handle`): one map lookup per message, no event name per type. */
  private readonly handlers = new Map<MessageType, Set<(msg: OpenFlowMessage) => void>>();

  /** The live session requests go to; throws NOT_CONNECTED between sessions. */
  protected abstract session(): OpenFlowSession;

  /**
   * Calls `handler` with every asynchronous message of one type (the ones the
   * 'message' event carries: `packet_in`, `port_status`, `flow_removed`, flow
   * monitor replies, anything no request claimed), its type narrowed:
   * `sw.handle('packet_in', (pi) => pi.data)`. On an OpenFlowSwitch the
   * handler stays across reconnects. Returns a function that removes it.
   * A handler that throws does not stop the others; the error is emitted as
   * 'handlerError' (or thrown, as EventEmitter does, if nobody listens).
   */
  handle<T extends MessageType>(type: T, handler: MessageHandler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as (msg: OpenFlowMessage) => void;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  /** Hands an asynchronous message to the 'message' listeners and to the handlers of its type. */
  protected dispatch(msg: OpenFlowMessage): void {
    this.emit('message', msg);
    const set = this.handlers.get(msg.type);
    if (set === undefined) return;
    for (const h of set) {
      try {
        h(msg);
      } catch (err) {
        if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err, msg);
        else throw err;
      }
    }
  }

  /** Queues a message into this tick's batch; returns its xid. */
  abstract send(msg: OpenFlowMessage): number;
  /** As `send`, waiting first for the socket to drain if it is over its high-water mark. */
  abstract sendAsync(msg: OpenFlowMessage): Promise<number>;
  /** Sends a request and resolves with its reply (rejects with the switch's error). */
  abstract request<R extends OpenFlowMessage = OpenFlowMessage>(msg: OpenFlowMessage, options?: RequestOptions): Promise<R>;
  /** Sends a multipart request and resolves with the bodies of every part of the reply. */
  abstract multipart(body: MultipartRequestBody, options?: RequestOptions): Promise<MultipartReplyBody[]>;
  /**
   * Resolves once the switch has processed everything sent before; rejects with the errors it
   * reported for those messages.
   */
  abstract barrier(options?: RequestOptions): Promise<void>;

  /**
   * Sends every message, pausing whenever the socket is congested so memory
   * stays bounded however many there are. Follow with `barrier()`.
   */
  async sendAll(messages: Iterable<OpenFlowMessage>): Promise<number> {
    const conn = this.session();
    let n = 0;
    for (const m of messages) {
      if (conn.needsDrain) await conn.drained();
      conn.send(m);
      n++;
    }
    return n;
  }

  /** Sends a flow-mod (defaults filled in) into this tick's batch; returns its xid. Follow with `barrier()`. */
  flowMod(spec: FlowModSpec): number {
    return this.send(isComplete(spec) ? spec : flowMod(spec));
  }

  /**
   * Sends one OFPFC_DELETE for the flows the filter selects (by cookie/mask,
   * table, match...); returns its xid. Follow with `barrier()`.
   */
  deleteFlows(filter: FlowFilter = {}): number {
    const s = selector(filter);
    return this.send(flowMod({ ...s, command: 'delete' }));
  }

  /** The flows the filter selects, from a flow-stats multipart request (all parts). */
  async dumpFlows(filter: FlowFilter = {}, options?: RequestOptions): Promise<FlowStats[]> {
    const parts = await this.multipart({ kind: 'flow', ...selector(filter) }, options);
    const flows: FlowStats[] = [];
    for (const p of parts) if (p.kind === 'flow') for (const f of p.flows) flows.push(f);
    return flows;
  }

  /** Flow, packet and byte counts of the flows the filter selects. */
  async aggregate(filter: FlowFilter = {}, options?: RequestOptions): Promise<Aggregate> {
    const [p] = await this.multipart({ kind: 'aggregate', ...selector(filter) }, options);
    if (p?.kind !== 'aggregate') throw unexpected('aggregate', p?.kind);
    return { packetCount: p.packetCount, byteCount: p.byteCount, flowCount: p.flowCount };
  }

  /** Every port of the switch (OFPMP_PORT_DESC). */
  async portDesc(options?: RequestOptions): Promise<Port[]> {
    const parts = await this.multipart({ kind: 'port_desc' }, options);
    const ports: Port[] = [];
    for (const p of parts) if (p.kind === 'port_desc') ports.push(...p.ports);
    return ports;
  }

  /** The switch's description strings (OFPMP_DESC). */
  async desc(options?: RequestOptions): Promise<SwitchDesc> {
    const [p] = await this.multipart({ kind: 'desc' }, options);
    if (p?.kind !== 'desc') throw unexpected('desc', p?.kind);
    const { kind: _kind, ...desc } = p;
    return desc;
  }

  /** A fresh FEATURES_REPLY. */
  getFeatures(options?: RequestOptions): Promise<FeaturesReply> {
    return this.request<FeaturesReply>({ type: 'features_request' }, options);
  }

  /** What each table of the switch matches and takes (OFPMP_TABLE_FEATURES, all parts). */
  async tableFeatures(options?: RequestOptions): Promise<TableFeatures[]> {
    const parts = await this.multipart({ kind: 'table_features', tables: [] }, options);
    const tables: TableFeatures[] = [];
    for (const p of parts) if (p.kind === 'table_features') for (const t of p.tables) tables.push(t);
    return tables;
  }

  /**
   * Starts a bundle on the current session: `add()` messages, then
   * `commit()` applies all of them or none. See bundle.ts.
   */
  bundle(options: BundleOptions = {}): BundleTransaction {
    return new BundleTransaction(this.session(), options);
  }
}

/** A caller's complete FlowMod is sent as is: no copy on the hot path. */
function isComplete(spec: FlowModSpec): spec is FlowMod {
  return spec.type === 'flow_mod' && spec.instructions !== undefined && (spec.writeOxm !== undefined || spec.match !== undefined) && spec.cookie !== undefined
    && spec.outPort !== undefined && spec.bufferId !== undefined;
}

function unexpected(want: string, got: string | undefined): OpenFlowConnectionError {
  return new OpenFlowConnectionError(ConnectionErrorCode.PROTOCOL, `expected a ${want} multipart reply, got ${got ?? 'no parts'}`);
}
