/**
 * One OpenFlow session over one socket: the HELLO and FEATURES handshake,
 * xids, requests matched to replies (multipart reassembled), echo keepalive
 * and dead-peer detection, barriers that report the errors of everything
 * before them, and coalesced writes with backpressure (outbox.ts).
 *
 * A session ends with its socket. Reconnecting, and keeping one logical
 * switch across sessions, is switch.ts's job.
 */
import type { Socket } from 'node:net';
import { OFP_HEADER_LEN, OFP_VERSION, OFPET, OFPHFC, OFPMPF } from '../constants.js';
import { decodeMessage, encodeMessage } from '../messages.js';
import type {
  ErrorMsg,
  FeaturesReply,
  MultipartReplyBody,
  MultipartRequestBody,
  OpenFlowMessage,
} from '../types.js';
import { OpenFlowChannel, type RequestOptions } from './channel.js';
import { ConnectionErrorCode, OpenFlowConnectionError, OpenFlowVersionError } from './errors.js';
import { FlowMonitor, type FlowMonitorOptions } from './flow-monitor.js';
import { MessageFramer } from './framer.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { SentWindow } from './sent-window.js';
import type { OpenFlowSession } from './session.js';
import { OpenFlowSwitchError } from './switch-error.js';

/** Options of one session: versions offered, echo probe interval, timeouts, error window, outbox limits. */
export interface ConnectionOptions {
  /** Versions we accept, as OFP_VERSION numbers. Default: OpenFlow 1.3 only. Add OF14 for native bundles. */
  versions?: readonly number[];
  /**
   * Send an echo request after this long without hearing from the peer, and
   * drop the connection (DEAD_PEER) when another interval passes in silence.
   * 0 disables. Default 5000, as ovs-vswitchd's inactivity_probe.
   */
  probeIntervalMs?: number;
  /** How long a request waits for its reply. 0 = forever. Default 60000. */
  requestTimeoutMs?: number;
  /** How long HELLO plus FEATURES may take. Default 10000. */
  handshakeTimeoutMs?: number;
  /** How many fire-and-forget messages are remembered to attribute errors. Default 262144 (a whole 100k-flow batch with room). */
  errorWindow?: number;
  /** Write coalescing and backpressure knobs. */
  outbox?: OutboxOptions;
  /** How error messages name the peer; default its address (`host:port`) or "unix socket". */
  label?: string;
}

/** A request waiting for its reply. */
interface Pending {
  xid: number;
  request: OpenFlowMessage;
  resolve(reply: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** Multipart parts received so far (MORE set). */
  parts: MultipartReplyBody[] | undefined;
  /** For barriers: the errors of messages sent before it. */
  errors: OpenFlowSwitchError[] | undefined;
  /** The caller's signal and our listener on it, removed once the request settles. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The versions the codec speaks; any other in `versions` is refused when the session is made. */
const SUPPORTED_VERSIONS: readonly number[] = [OFP_VERSION.OF13, OFP_VERSION.OF14];
/** Aborted requests whose late replies are dropped rather than emitted; the oldest forgotten beyond this. */
const MAX_ABANDONED = 1024;

/** Counters of one session (socket writes, messages, echoes), for monitoring. */
export interface ConnectionStats {
  /** Batches handed to the socket (each one `write` or one corked writev). */
  socketWrites: number;
  messagesSent: number;
  messagesReceived: number;
  /** Echo requests from the switch that we answered. */
  echoRequestsAnswered: number;
  /** Echo requests we sent as keepalive probes. */
  probesSent: number;
}

/** Unclaimed errors kept for the next barrier; beyond this the oldest go (they were also emitted). */
const MAX_UNCLAIMED_ERRORS = 1024;

type State = 'hello' | 'features' | 'ready' | 'closed';

/**
 * Events: 'message' (asynchronous messages: packet_in, port_status,
 * flow_removed, and anything no request claims), 'ofpError' (an
 * OpenFlowSwitchError for a message that had no reply of its own; it is
 * also reported by the barrier that covers it), 'close' (Error | undefined).
 */
export class OpenFlowConnection extends OpenFlowChannel implements OpenFlowSession {
  /** The negotiated OFP_VERSION. */
  version = 0;
  /** The FEATURES_REPLY of the handshake. */
  features: FeaturesReply | undefined;
  readonly stats: ConnectionStats = { socketWrites: 0, messagesSent: 0, messagesReceived: 0, echoRequestsAnswered: 0, probesSent: 0 };

  private state: State = 'hello';
  private readonly socket: Socket;
  private readonly outbox: Outbox;
  private readonly framer: MessageFramer;
  private readonly window: SentWindow<OpenFlowMessage>;
  private readonly pending = new Map<number, Pending>();
  /** Barriers in flight, in the order sent. */
  private barriers: Pending[] = [];
  private unclaimed: OpenFlowSwitchError[] = [];
  /** Xids of aborted requests, in abort order, whose replies are still to come. */
  private readonly abandoned = new Set<number>();
  private xid = 0;
  private bundleId = 0;
  /** The last xid a barrier reply confirmed: window entries up to it are released. */
  private confirmedXid = 0;
  private readonly opts: Required<Omit<ConnectionOptions, 'outbox' | 'label'>>;
  /** Named once: a closed socket forgets its remote address. */
  readonly peer: string;
  private lastRx = Date.now();
  private probeTimer: NodeJS.Timeout | undefined;
  private probeSentAt = 0;
  /** Whether anything arrived since the last probe (timestamps alone tie within a millisecond). */
  private rxSinceProbe = false;
  private closeError: Error | undefined;
  private helloWaiter: { resolve(v: number): void; reject(e: Error): void } | undefined;
  /** The versions the peer's HELLO offered, once it came. */
  private peerVersions: number[] | undefined;

  private constructor(socket: Socket, options: ConnectionOptions) {
    super();
    this.socket = socket;
    this.peer = options.label ?? (socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix socket');
    this.opts = {
      versions: options.versions ?? [OFP_VERSION.OF13],
      probeIntervalMs: options.probeIntervalMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      errorWindow: options.errorWindow ?? 262_144,
    };
    checkVersions(this.opts.versions);
    this.outbox = new Outbox(socket, options.outbox);
    this.framer = new MessageFramer(this.onFrame);
    this.window = new SentWindow(this.opts.errorWindow);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('drain', () => this.outbox.onDrain());
    socket.on('error', (err) => this.teardown(new OpenFlowConnectionError(ConnectionErrorCode.DISCONNECTED,
      `OpenFlow connection to ${this.peer} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.teardown(new OpenFlowConnectionError(ConnectionErrorCode.DISCONNECTED,
      `OpenFlow connection to ${this.peer} closed`)));
  }

  /**
   * Runs the handshake on a connected socket (either direction: OpenFlow's
   * HELLO is symmetric) and resolves with a ready session.
   */
  static async establish(socket: Socket, options: ConnectionOptions = {}): Promise<OpenFlowConnection> {
    const conn = new OpenFlowConnection(socket, options);
    const timer = setTimeout(() => conn.teardown(new OpenFlowConnectionError(ConnectionErrorCode.HANDSHAKE,
      `OpenFlow handshake with ${conn.peer} took more than ${conn.opts.handshakeTimeoutMs} ms`)), conn.opts.handshakeTimeoutMs);
    try {
      await conn.handshake();
      return conn;
    } catch (err) {
      conn.teardown(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  protected session(): OpenFlowConnection {
    return this;
  }

  /** The switch's datapath id, from its FEATURES_REPLY (throws before the handshake is done). */
  get datapathId(): bigint {
    if (!this.features) throw this.notReady();
    return this.features.datapathId;
  }

  /** False once the session is closed. */
  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  /** Bytes accepted but not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.outbox.queuedBytes;
  }

  /** True when a producer should `await drained()` before sending more. */
  get needsDrain(): boolean {
    return this.outbox.needsDrain;
  }

  /** Resolves once the socket's buffer is back under its high-water mark. */
  drained(): Promise<void> {
    return this.outbox.drained();
  }

  // -------------------------------------------------------------------------
  // Sending

  /**
   * Encodes `msg` into this tick's batch and returns its xid (the message's
   * own when nonzero, else a fresh one). Nothing is awaited: errors come back through the
   * next barrier and the 'ofpError' event. Throws OUTBOX_FULL past the cap;
   * check `needsDrain` (or use `sendAsync`) when sending without bound.
   */
  send(msg: OpenFlowMessage): number {
    const xid = msg.xid || this.nextXid();
    this.write(msg, xid);
    this.window.record(xid, msg);
    return xid;
  }

  /** `send`, first waiting for the socket to drain when it is congested: memory stays bounded. */
  async sendAsync(msg: OpenFlowMessage): Promise<number> {
    if (this.outbox.needsDrain) await this.outbox.drained();
    return this.send(msg);
  }

  /** Sends a request and resolves with its reply; rejects with the switch's ERROR, a timeout or the disconnect. */
  request<R extends OpenFlowMessage = OpenFlowMessage>(msg: OpenFlowMessage, options?: RequestOptions): Promise<R> {
    return this.track(msg, false, options?.signal) as Promise<R>;
  }

  /** A multipart request, its reply parts (MORE) gathered in order. */
  multipart(body: MultipartRequestBody, options?: RequestOptions): Promise<MultipartReplyBody[]> {
    return this.track({ type: 'multipart_request', flags: 0, body }, true, options?.signal) as Promise<MultipartReplyBody[]>;
  }

  /**
   * Resolves once the switch has processed everything sent before it.
   * Rejects with the first OpenFlowSwitchError among those messages (all of
   * them in its `errors`), or with the disconnect.
   */
  barrier(options?: RequestOptions): Promise<void> {
    return this.track({ type: 'barrier_request' }, false, options?.signal) as Promise<void>;
  }

  /**
   * Starts a flow monitor on this session: the flows that match now, then
   * every change anyone makes to them, as typed events (see flow-monitor.ts).
   */
  monitorFlows(options: FlowMonitorOptions = {}): Promise<FlowMonitor> {
    return FlowMonitor.start(this, options);
  }

  /** Round-trip time of an echo, in milliseconds. */
  async echo(data: Buffer = Buffer.alloc(0)): Promise<number> {
    const t = process.hrtime.bigint();
    await this.request({ type: 'echo_request', data });
    return Number(process.hrtime.bigint() - t) / 1e6;
  }

  /** Flushes what is queued, then ends the socket. In-flight requests reject with CLOSED. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.outbox.flush();
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.teardown(new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, `OpenFlow connection to ${this.peer} closed by us`), false);
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }

  /** Drops the connection at once. */
  destroy(err?: Error): void {
    this.teardown(err ?? new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, `OpenFlow connection to ${this.peer} closed by us`));
  }

  /** A fresh xid, for callers that must know it before encoding (bundle adds carry it twice). */
  allocateXid(): number {
    return this.nextXid();
  }

  /** A bundle id unused on this session. */
  allocateBundleId(): number {
    this.bundleId = (this.bundleId + 1) >>> 0;
    return this.bundleId;
  }

  /**
   * Sends an already encoded message (captured bytes, a hand-made message the
   * codec cannot express), with a fresh xid written into a copy; returns it.
   * Not for hot paths: it decodes the bytes to describe errors.
   */
  sendRaw(bytes: Buffer): number {
    if (this.state === 'closed') throw this.closedError();
    if (bytes.length < OFP_HEADER_LEN || bytes.readUInt16BE(2) !== bytes.length) {
      throw new RangeError(`sendRaw wants one whole OpenFlow message; got ${bytes.length} bytes with length field ${bytes.length >= 4 ? bytes.readUInt16BE(2) : '?'}`);
    }
    const xid = this.nextXid();
    const w = this.outbox;
    w.begin();
    w.bytes(bytes);
    w.patchU32(w.messageOffset + 4, xid);
    w.end();
    this.stats.messagesSent++;
    // Remembered for error attribution when the codec can read it back.
    try {
      this.window.record(xid, { ...decodeMessage(bytes), xid });
    } catch {
      // Not decodable (that may be the point of sending it raw): errors quote the xid alone.
    }
    return xid;
  }

  private nextXid(): number {
    // Skip 0 (what an absent xid encodes as) and any xid still awaiting a reply after a wrap.
    do this.xid = (this.xid + 1) >>> 0;
    while (this.xid === 0 || this.pending.has(this.xid));
    return this.xid;
  }

  private write(msg: OpenFlowMessage, xid: number): void {
    if (this.state === 'closed') throw this.closedError();
    const w = this.outbox;
    w.begin();
    try {
      encodeMessage(w, msg, this.version || maxVersion(this.opts.versions));
    } catch (err) {
      // Nothing of a message that failed to encode may reach the wire.
      w.abort();
      throw err;
    }
    // The codec encodes msg.xid; callers' messages often carry none, and we do not mutate them.
    w.patchU32(w.messageOffset + 4, xid);
    w.end();
    this.stats.messagesSent++;
    this.stats.socketWrites = w.writes;
  }

  private track(msg: OpenFlowMessage, multipart: boolean, signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.state === 'closed') {
        reject(this.closedError());
        return;
      }
      if (signal?.aborted) {
        reject(abortedError(msg, this.peer, signal));
        return;
      }
      const xid = msg.xid || this.nextXid();
      const isBarrier = msg.type === 'barrier_request';
      const p: Pending = {
        xid, request: msg, resolve, reject, timer: undefined, parts: multipart ? [] : undefined, errors: isBarrier ? [] : undefined,
        signal, onAbort: undefined,
      };
      try {
        this.write(msg, xid);
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.pending.set(xid, p);
      if (isBarrier) {
        // Errors that arrived while no barrier was waiting belong to this one.
        if (this.unclaimed.length > 0) {
          p.errors!.push(...this.unclaimed);
          this.unclaimed = [];
        }
        this.barriers.push(p);
      }
      if (this.opts.requestTimeoutMs > 0) {
        p.timer = setTimeout(() => this.expire(p), this.opts.requestTimeoutMs);
        p.timer.unref();
      }
      if (signal) {
        p.onAbort = () => this.abort(p);
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
    });
  }

  /** The caller gave up on `p`: reject it now, and drop its reply when it comes. */
  private abort(p: Pending): void {
    if (this.pending.get(p.xid) !== p) return;
    this.settle(p);
    this.abandoned.add(p.xid);
    if (this.abandoned.size > MAX_ABANDONED) this.abandoned.delete(this.abandoned.values().next().value!);
    // Errors a barrier collected still belong to a later one.
    if (p.errors && p.errors.length > 0) this.unclaimed.unshift(...p.errors);
    p.reject(abortedError(p.request, this.peer, p.signal!));
  }

  private expire(p: Pending): void {
    if (this.pending.get(p.xid) !== p) return;
    this.settle(p);
    p.reject(new OpenFlowConnectionError(ConnectionErrorCode.TIMEOUT,
      `no reply to ${p.request.type} (xid ${p.xid}) from ${this.peer} within ${this.opts.requestTimeoutMs} ms`));
  }

  /** Forgets a pending request (it is about to be resolved or rejected). */
  private settle(p: Pending): void {
    this.pending.delete(p.xid);
    if (p.timer) clearTimeout(p.timer);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    if (p.errors) {
      const i = this.barriers.indexOf(p);
      if (i >= 0) this.barriers.splice(i, 1);
    }
  }

  // -------------------------------------------------------------------------
  // Receiving

  private readonly onData = (chunk: Buffer): void => {
    this.lastRx = Date.now();
    this.rxSinceProbe = true;
    try {
      this.framer.push(chunk);
    } catch (err) {
      this.teardown(err as Error);
    }
  };

  private readonly onFrame = (buf: Buffer): void => {
    if (this.state === 'closed') return;
    this.stats.messagesReceived++;
    let msg: OpenFlowMessage;
    try {
      msg = decodeMessage(buf);
    } catch (err) {
      this.onUndecodable(buf, err as Error);
      return;
    }
    const xid = msg.xid ?? 0;
    switch (msg.type) {
      case 'hello':
        this.onHello(buf[0], msg.versions);
        return;
      case 'echo_request':
        // The reply joins this tick's batch: OpenFlow is ordered, and the batch leaves this tick.
        this.write({ type: 'echo_reply', data: msg.data }, xid);
        this.stats.echoRequestsAnswered++;
        return;
      case 'error':
        this.onError(msg);
        return;
      case 'multipart_reply': {
        const p = this.pending.get(xid);
        if (p?.parts) {
          p.parts.push(msg.body);
          if ((msg.flags & OFPMPF.MORE) === 0) {
            this.settle(p);
            p.resolve(p.parts);
          }
          return;
        }
        break;
      }
      case 'barrier_reply': {
        const p = this.pending.get(xid);
        if (p?.errors) {
          this.settle(p);
          this.window.release(this.confirmedXid, xid);
          this.confirmedXid = xid;
          if (p.errors.length === 0) p.resolve(undefined);
          else p.reject(firstWithAll(p.errors));
          return;
        }
        break;
      }
      case 'echo_reply': {
        // Unclaimed echo replies answer our keepalive probes: receiving them was the point.
        const p = this.pending.get(xid);
        if (p && !p.parts && !p.errors) {
          this.settle(p);
          p.resolve(msg);
        }
        return;
      }
      case 'features_reply':
      case 'get_config_reply':
      case 'role_reply':
      case 'get_async_reply':
      case 'bundle_control': {
        const p = this.pending.get(xid);
        if (p && !p.parts && !p.errors) {
          this.settle(p);
          p.resolve(msg);
          return;
        }
        break;
      }
      default:
        break;
    }
    // The reply (or one part of it) to a request its caller aborted: nobody waits for it.
    if (this.abandoned.size > 0 && this.abandoned.has(xid)) {
      if (msg.type !== 'multipart_reply' || (msg.flags & OFPMPF.MORE) === 0) this.abandoned.delete(xid);
      return;
    }
    this.dispatch(msg);
  };

  private onUndecodable(buf: Buffer, err: Error): void {
    const xid = buf.readUInt32BE(4);
    const p = this.pending.get(xid);
    const wrapped = new OpenFlowConnectionError(ConnectionErrorCode.PROTOCOL,
      `undecodable message type ${buf[1]} (xid ${xid}) from ${this.peer}: ${err.message}`, { cause: err });
    if (p) {
      this.settle(p);
      p.reject(wrapped);
    } else {
      this.emit('protocolError', wrapped);
    }
  }

  private onError(msg: ErrorMsg): void {
    const xid = msg.xid ?? 0;
    if (this.state === 'hello' && msg.errType === OFPET.HELLO_FAILED) {
      this.helloWaiter?.reject(msg.errCode === OFPHFC.INCOMPATIBLE && this.peerVersions
        ? new OpenFlowVersionError(this.opts.versions, this.peerVersions, this.peer)
        : new OpenFlowConnectionError(ConnectionErrorCode.HANDSHAKE,
          `${this.peer} refused our HELLO (versions ${this.opts.versions.join(',')}): code ${msg.errCode}`));
      return;
    }
    if (this.abandoned.delete(xid)) return;
    const p = this.pending.get(xid);
    if (p && !p.errors) {
      // A request with a reply of its own: the error is its reply.
      this.settle(p);
      p.reject(new OpenFlowSwitchError(msg, p.request));
      return;
    }
    const err = new OpenFlowSwitchError(msg, p?.request ?? this.window.get(xid));
    const barrier = this.barriers.find((b) => follows(b.xid, xid));
    if (barrier) barrier.errors!.push(err);
    else {
      this.unclaimed.push(err);
      if (this.unclaimed.length > MAX_UNCLAIMED_ERRORS) this.unclaimed.shift();
    }
    this.emit('ofpError', err);
  }

  // -------------------------------------------------------------------------
  // Handshake and keepalive

  private async handshake(): Promise<void> {
    const peerHello = new Promise<number>((resolve, reject) => (this.helloWaiter = { resolve, reject }));
    this.write({ type: 'hello', versions: [...this.opts.versions] }, this.nextXid());
    const version = await peerHello;
    this.helloWaiter = undefined;
    this.version = version;
    this.state = 'features';
    this.features = await this.request<FeaturesReply>({ type: 'features_request' });
    this.state = 'ready';
    this.armProbe(this.opts.probeIntervalMs);
  }

  private onHello(headerVersion: number, bitmap: number[]): void {
    const w = this.helloWaiter;
    if (!w || this.state !== 'hello') return;
    // Without a bitmap a peer speaks its header's version and, per OpenFlow, any below it.
    this.peerVersions = bitmap.length > 0 ? bitmap : Array.from({ length: headerVersion }, (_, i) => i + 1);
    const ours = this.opts.versions;
    let version = 0;
    if (bitmap.length > 0) {
      // OF1.3 §6.3.1: with bitmaps on both sides, the highest version both set.
      for (const v of bitmap) if (ours.includes(v) && v > version) version = v;
    } else {
      // Without a bitmap: the lower of the two header versions, if we support it.
      const v = Math.min(headerVersion, maxVersion(ours));
      if (ours.includes(v)) version = v;
    }
    if (version === 0) {
      this.write({ type: 'error', errType: OFPET.HELLO_FAILED, errCode: OFPHFC.INCOMPATIBLE,
        data: Buffer.from(`we support ${ours.join(',')}`) }, this.nextXid());
      w.reject(new OpenFlowVersionError(ours, this.peerVersions, this.peer));
      return;
    }
    w.resolve(version);
  }

  private armProbe(delayMs: number): void {
    if (this.opts.probeIntervalMs <= 0 || this.state === 'closed') return;
    this.probeTimer = setTimeout(this.probe, delayMs);
    this.probeTimer.unref();
  }

  /** OVS rconn's rule: idle for an interval → echo; still silent an interval later → dead. */
  private readonly probe = (): void => {
    const interval = this.opts.probeIntervalMs;
    const now = Date.now();
    const idle = now - this.lastRx;
    if (idle < interval) {
      this.probeSentAt = 0;
      this.armProbe(interval - idle);
      return;
    }
    if (this.probeSentAt !== 0 && !this.rxSinceProbe) {
      const waited = now - this.probeSentAt;
      if (waited >= interval) {
        // Timers run before I/O in an event-loop turn: after a stall of our own, the reply may be
        // sitting unread. setImmediate runs after the poll phase has read it.
        setImmediate(() => {
          if (this.state === 'closed') return;
          if (this.rxSinceProbe) {
            this.armProbe(interval);
            return;
          }
          this.teardown(new OpenFlowConnectionError(ConnectionErrorCode.DEAD_PEER,
            `${this.peer} sent nothing for ${Date.now() - this.lastRx} ms, not even a reply to our echo request: dropping the connection`));
        });
      } else {
        this.armProbe(interval - waited);
      }
      return;
    }
    this.probeSentAt = now;
    this.rxSinceProbe = false;
    this.stats.probesSent++;
    // A plain send: the reply only needs to arrive, which refreshes lastRx.
    this.write({ type: 'echo_request', data: Buffer.alloc(0) }, this.nextXid());
    this.armProbe(interval);
  };

  // -------------------------------------------------------------------------
  // Teardown

  private teardown(err: Error, destroySocket = true): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeError = err;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.helloWaiter?.reject(err);
    this.helloWaiter = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.barriers = [];
    this.abandoned.clear();
    for (const p of pending) {
      if (p.timer) clearTimeout(p.timer);
      if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
      p.reject(err);
    }
    this.window.clear();
    this.framer.reset();
    this.outbox.discard();
    if (destroySocket) this.socket.destroy();
    this.emit('close', err);
  }

  private closedError(): OpenFlowConnectionError {
    const cause = this.closeError;
    const code = cause instanceof OpenFlowConnectionError && cause.code === ConnectionErrorCode.CLOSED
      ? ConnectionErrorCode.CLOSED : ConnectionErrorCode.DISCONNECTED;
    return new OpenFlowConnectionError(code, `OpenFlow connection to ${this.peer} is closed${cause ? `: ${cause.message}` : ''}`, { cause });
  }

  private notReady(): OpenFlowConnectionError {
    return new OpenFlowConnectionError(ConnectionErrorCode.NOT_CONNECTED, `OpenFlow handshake with ${this.peer} not finished`);
  }
}

/**
 * Refuses a `versions` option the library cannot speak (empty, or naming a
 * version other than OpenFlow 1.3 and 1.4) with an OpenFlowVersionError, so
 * that callers fail at start rather than at each handshake.
 */
export function checkVersions(versions: readonly number[] | undefined): void {
  if (versions === undefined) return;
  if (versions.length === 0) throw new RangeError('versions must not be empty');
  const unsupported = versions.filter((v) => !SUPPORTED_VERSIONS.includes(v));
  if (unsupported.length > 0) {
    throw new OpenFlowVersionError(versions, SUPPORTED_VERSIONS, `this library (the versions option asks for ${unsupported.join(',')})`);
  }
}

function maxVersion(versions: readonly number[]): number {
  return Math.max(...versions);
}

/** True when xid `later` was allocated after `earlier` (xids increase modulo 2^32). */
function follows(later: number, earlier: number): boolean {
  const d = (later - earlier) >>> 0;
  return d !== 0 && d < 0x80000000;
}

function firstWithAll(errors: OpenFlowSwitchError[]): OpenFlowSwitchError {
  const first = errors[0];
  first.errors = errors;
  return first;
}

function abortedError(request: OpenFlowMessage, peer: string, signal: AbortSignal): OpenFlowConnectionError {
  return new OpenFlowConnectionError(ConnectionErrorCode.ABORTED, `${request.type} to ${peer} aborted by the caller`, { cause: signal.reason });
}
