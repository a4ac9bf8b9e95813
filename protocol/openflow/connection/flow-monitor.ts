/**
 * Watching a bridge's flow table change: Open vSwitch's flow monitor over
 * one OpenFlow session. The request's reply lists the flows that match
 * now; after it, the switch sends every flow added, deleted or modified by
 * anyone (other controllers, ovs-ofctl, learn actions, timeouts) as
 * unsolicited flow monitor replies, which a `FlowMonitor` turns into typed
 * events.
 *
 * The updates do not name the monitor they are for: a session with two
 * monitors hears the updates of both on each. A monitor lives as long as
 * its session (the switch forgets it when the session drops).
 */
import { EventEmitter } from 'node:events';
import { NXFMF, OFPP, OFPTT } from '../constants.js';
import type { FlowMonitorRequest, FlowUpdate, FlowUpdateAbbrev, FlowUpdateFull, Match, MessageOf, MessageType, MultipartReplyBody, MultipartRequestBody, OpenFlowMessage } from '../types.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';
import type { RequestOptions } from './session.js';
import { updateIterator, type FlowUpdatesOptions } from './update-iterator.js';

/** What a flow monitor watches and reports. Everything optional: all flows, all changes, with their instructions. */
export interface FlowMonitorOptions extends RequestOptions {
  /** One table; default all. */
  tableId?: number;
  /** Only flows whose match is at least as specific as this one; default all. */
  match?: Match;
  /** Only flows that output to this port; default any. */
  outPort?: number;
  /** Which changes to report; default all three. */
  events?: readonly FlowUpdateFull['event'][];
  /** List the matching flows when the monitor starts (`initial`); default true. */
  initial?: boolean;
  /** Include each flow's instructions; default true. */
  instructions?: boolean;
  /** Report this session's own changes too (as `abbrev` updates naming the flow-mod's xid); default false. */
  own?: boolean;
  /** The monitor's id on its session; default a fresh one. */
  id?: number;
}

/** What a FlowMonitor needs of its session: requests, handlers by type, and its end. */
export interface FlowMonitorSession {
  /** Queues a message (the cancel); returns its xid. */
  send(msg: OpenFlowMessage): number;
  /** Sends the monitor request; resolves with its reply's parts (the initial flows). */
  multipart(body: MultipartRequestBody, options?: RequestOptions): Promise<MultipartReplyBody[]>;
  /** Subscribes to one message type (the unsolicited updates, paused, resumed). */
  handle<T extends MessageType>(type: T, handler: (msg: MessageOf<T>) => void): () => void;
  /** The session's end. */
  once(event: 'close', listener: (err: Error | undefined) => void): unknown;
  /** Stops listening for the session's end. */
  off(event: 'close', listener: (err: Error | undefined) => void): unknown;
  /** False once the session is closed. */
  readonly isOpen: boolean;
}

/** The `event` of a flow update: added, deleted, modified or abbrev. */
export type FlowUpdateEvent = FlowUpdate['event'];
/** A handler of one kind of flow update, given the update with its type narrowed. */
export type FlowUpdateHandler<E extends FlowUpdateEvent> = (update: E extends 'abbrev' ? FlowUpdateAbbrev : FlowUpdateFull & { event: E }) => void;

let nextMonitorId = 0;
/** The monitor ids running on each session (the switch refuses a second monitor with one of them). */
const idsInUse = new WeakMap<FlowMonitorSession, Set<number>>();

/** The request flags for `options`. */
export function flowMonitorFlags(options: FlowMonitorOptions): number {
  const events = options.events ?? ['added', 'deleted', 'modified'];
  let flags = 0;
  if (events.includes('added')) flags |= NXFMF.ADD;
  if (events.includes('deleted')) flags |= NXFMF.DELETE;
  if (events.includes('modified')) flags |= NXFMF.MODIFY;
  if (options.initial !== false) flags |= NXFMF.INITIAL;
  if (options.instructions !== false) flags |= NXFMF.ACTIONS;
  if (options.own) flags |= NXFMF.OWN;
  return flags;
}

/**
 * One flow monitor on one session. `initial` holds the flows that matched
 * when it started; then each change is emitted as 'update' (any) and to the
 * handlers of its kind (`handle('deleted', fn)`). Also 'paused' and
 * 'resumed' (the switch's buffer for this session filled up: changes in
 * between are summarised after 'resumed'), and 'close' (Error | undefined)
 * when the monitor ends: cancelled, or its session gone.
 *
 * Or iterate: `for await (const u of monitor)` (or `monitor.updates({signal})`)
 * yields every update from then on, with a bounded queue in between (see
 * `updates`).
 */
export class FlowMonitor extends EventEmitter {
  /** The flows that matched when the monitor started (empty unless `initial`). */
  readonly initial: FlowUpdateFull[] = [];
  /** Whether the switch has paused the updates (between 'paused' and 'resumed'). */
  paused = false;
  /** Updates received since the start, for monitoring. */
  received = 0;
  private readonly handlers = new Map<FlowUpdateEvent, Set<(u: FlowUpdate) => void>>();
  private readonly unsubscribe: (() => void)[] = [];
  /** The queues of running iterations (`updates()`). */
  private readonly feeds = new Set<(u: FlowUpdate) => void>();
  private closed = false;
  /** Why the monitor ended, once it has: undefined for a cancel. */
  private endError: Error | undefined;

  private constructor(
    private readonly session: FlowMonitorSession,
    /** The monitor's id on its session. */
    readonly id: number,
  ) {
    super();
  }

  /**
   * Starts a monitor on `session` and resolves once the switch has accepted
   * it (with `initial` filled in). Rejects with the switch's error (for
   * instance `OFPET_FLOW_MONITOR_FAILED` or a bad request), or `OF_CONN_ABORTED`.
   * An abort after the start cancels the monitor.
   */
  static async start(session: FlowMonitorSession, options: FlowMonitorOptions = {}): Promise<FlowMonitor> {
    nextMonitorId = (nextMonitorId + 1) >>> 0;
    const request: FlowMonitorRequest = {
      id: options.id ?? nextMonitorId,
      flags: flowMonitorFlags(options),
      outPort: options.outPort ?? OFPP.ANY,
      tableId: options.tableId ?? OFPTT.ALL,
      match: options.match ?? {},
    };
    let ids = idsInUse.get(session);
    if (!ids) idsInUse.set(session, (ids = new Set()));
    if (ids.has(request.id)) {
      throw new OpenFlowConnectionError(ConnectionErrorCode.MONITOR_EXISTS, `flow monitor ${request.id} is already running on this session: cancel it first or choose another id`);
    }
    const monitor = new FlowMonitor(session, request.id);
    ids.add(request.id);
    // Listen first: updates may follow the reply within one read.
    monitor.listen();
    try {
      const parts = await session.multipart({ kind: 'flow_monitor', monitors: [request] }, { signal: options.signal });
      for (const p of parts) {
        if (p.kind !== 'flow_monitor') continue;
        for (const u of p.updates) if (u.event !== 'abbrev') monitor.initial.push(u);
      }
    } catch (err) {
      monitor.stop(err as Error);
      throw err;
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => monitor.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      monitor.unsubscribe.push(() => signal.removeEventListener('abort', onAbort));
    }
    return monitor;
  }

  /** Calls `handler` with every update of one kind; returns a function that removes it. */
  handle<E extends FlowUpdateEvent>(event: E, handler: FlowUpdateHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const h = handler as (u: FlowUpdate) => void;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  /**
   * The updates from now on as an async iterator: `for await (const u of monitor.updates({ signal }))`.
   * The loop ends (`done`) when the monitor is cancelled, its session is closed by its owner, or
   * `signal` aborts; it throws the session's error when the session is lost (`OF_CONN_DISCONNECTED`,
   * `OF_CONN_DEAD_PEER`...), after the updates that came before. Leaving the loop (or aborting)
   * ends this iteration only: `cancel()` stops the monitor. Updates wait in a queue while the
   * consumer is busy; more than `maxBuffered` (default 100,000) fail the iteration with
   * `OF_CONN_MONITOR_OVERFLOW` rather than drop changes silently or grow without bound.
   * Pauses of the switch are not in the sequence: see `paused` and the 'paused'/'resumed' events.
   */
  updates(options?: FlowUpdatesOptions): AsyncIterableIterator<FlowUpdate> {
    return updateIterator({
      subscribe: (push) => {
        this.feeds.add(push);
        return () => this.feeds.delete(push);
      },
      onEnd: (end) => {
        if (this.closed) {
          const err = this.endError;
          queueMicrotask(() => end(err));
          return () => {};
        }
        const listener = (): void => end(this.endError);
        this.once('close', listener);
        return () => this.off('close', listener);
      },
    }, options);
  }

  /** `for await (const update of monitor)`: {@link FlowMonitor.updates} with its defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<FlowUpdate> {
    return this.updates();
  }

  /** Asks the switch to stop the monitor (ONF flow monitor cancel) and ends it here; 'close' follows. */
  cancel(): void {
    if (this.closed) return;
    if (this.session.isOpen) this.session.send({ type: 'flow_monitor_cancel', id: this.id });
    this.stop(undefined);
  }

  private listen(): void {
    const onClose = (err: Error | undefined): void => this.stop(err);
    this.session.once('close', onClose);
    this.unsubscribe.push(
      () => this.session.off('close', onClose),
      this.session.handle('multipart_reply', (msg) => {
        // The request's own reply (its xid) is the initial list, read by start().
        if (msg.body.kind === 'flow_monitor' && msg.xid === 0) this.deliver(msg.body.updates);
      }),
      this.session.handle('flow_monitor_paused', () => {
        this.paused = true;
        this.emit('paused');
      }),
      this.session.handle('flow_monitor_resumed', () => {
        this.paused = false;
        this.emit('resumed');
      }),
    );
  }

  private deliver(updates: FlowUpdate[]): void {
    for (const u of updates) {
      this.received++;
      this.emit('update', u);
      const set = this.handlers.get(u.event);
      if (set) for (const h of set) h(u);
      for (const push of this.feeds) push(u);
    }
  }

  private stop(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    // Closed by its owner is a deliberate end, like a cancel; any other error is a lost session.
    this.endError = (err as OpenFlowConnectionError | undefined)?.code === ConnectionErrorCode.CLOSED ? undefined : err;
    idsInUse.get(this.session)?.delete(this.id);
    for (const u of this.unsubscribe.splice(0)) u();
    this.emit('close', err);
  }
}
