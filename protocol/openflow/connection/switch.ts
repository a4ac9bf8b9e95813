/**
 * A switch as the caller sees it: one object per datapath that outlives its
 * sessions. In active mode it reconnects by itself, with exponential backoff;
 * in controller mode the switch reconnects to us and the controller hands
 * the new session to the same object (same datapath id).
 *
 * Requests go to the live session. Between sessions they fail at once with
 * NOT_CONNECTED rather than queueing: after a reconnect the switch may have
 * restarted with empty tables, so replaying old flow-mods blindly would be
 * wrong; callers await `ready()` (or the 'connect' event) and reinstall.
 *
 * Over a unix socket (a bridge's `.mgmt`), a dropped session also watches
 * the socket's directory: ovs-vswitchd coming back creates the socket anew,
 * and the switch is dialled at that moment instead of at the next backoff
 * step, which after a restart of a few hundred milliseconds could be a
 * second or more away.
 *
 * Events: 'connect' (OpenFlowConnection) for every session, 'disconnect'
 * (Error), and those of the session, re-emitted: 'message', 'ofpError'.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import type { MultipartReplyBody, MultipartRequestBody, OpenFlowMessage } from '../types.js';
import { formatAddress, openSocket, parseConnectAddress, type ConnectAddress } from './address.js';
import { OpenFlowChannel, type RequestOptions } from './channel.js';
import { checkVersions, OpenFlowConnection, type ConnectionOptions } from './connection.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';
import type { FlowMonitor, FlowMonitorOptions } from './flow-monitor.js';

/** How `connectSwitch` redials a lost switch: jittered exponential backoff between these delays. */
export interface ReconnectOptions {
  /** First delay after a drop. Default 100 ms. */
  initialDelayMs?: number;
  /** Ceiling of the backoff. Default 5000 ms. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

/**
 * Options of `connectSwitch`: the session's options, the dial timeout, how to reconnect, and
 * whether to watch a unix socket's path.
 */
export interface ConnectOptions extends ConnectionOptions {
  /** How long one connect attempt may take. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Backoff between reconnect attempts, or false to stay down after a drop. */
  reconnect?: ReconnectOptions | false;
  /** Over `unix:`, redial as soon as the socket file is created again (the switch is back). Default true. */
  watchSocket?: boolean;
  /**
   * Gives up the first connection attempt (dial and handshake): `connectSwitch`
   * rejects with `OF_CONN_ABORTED` and leaves nothing open. It has no effect
   * once the switch is returned (close it instead).
   */
  signal?: AbortSignal;
}

/** Formats a datapath id as ovs-ofctl does (16 hex digits). */
export function formatDatapathId(dpid: bigint): string {
  return dpid.toString(16).padStart(16, '0');
}

/**
 * One datapath, across its sessions: requests go to the current one, and it reconnects; from
 * `connectSwitch` or an `OpenFlowController`.
 */
export class OpenFlowSwitch extends OpenFlowChannel {
  private conn: OpenFlowConnection | undefined;
  private dpid: bigint | undefined;
  private closed = false;
  private waiters: { resolve(c: OpenFlowConnection): void; reject(e: Error): void }[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The current backoff step, while down. */
  private backoffMs = 0;
  private dialing = false;
  /** The socket file changed while a dial was in flight (that dial may predate it). */
  private changedWhileDialing = false;
  private watcher: FSWatcher | undefined;
  /** How many sessions this switch has had. */
  sessions = 0;

  /** @internal Created by OpenFlowController or `connectSwitch`. */
  constructor(
    private readonly dialer?: () => Promise<OpenFlowConnection>,
    private readonly reconnect?: Required<ReconnectOptions>,
    /** A unix socket whose re-creation means the switch is back. */
    private readonly socketPath?: string,
  ) {
    super();
  }

  /** Connects to a bridge's OpenFlow listener (`tcp:HOST:PORT`) or management socket (`unix:PATH`). */
  static async connect(address: string, options: ConnectOptions = {}): Promise<OpenFlowSwitch> {
    const target = parseConnectAddress(address);
    checkVersions(options.versions);
    const dial = (): Promise<OpenFlowConnection> => dialOnce(target, options);
    const reconnect = options.reconnect === false ? undefined : {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 5000,
      factor: options.reconnect?.factor ?? 2,
    };
    const watched = target.kind === 'unix' && options.watchSocket !== false ? target.path : undefined;
    const sw = new OpenFlowSwitch(dial, reconnect, watched);
    sw.attach(await dialOnce(target, options, options.signal));
    return sw;
  }

  /** The datapath id (known after the first handshake). */
  get datapathId(): bigint {
    if (this.dpid === undefined) throw this.notConnected();
    return this.dpid;
  }

  /** The live session, if any. */
  get connection(): OpenFlowConnection | undefined {
    return this.conn;
  }

  /** Whether a session is up right now. */
  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** Resolves with the live session, at once or when the next one is up. */
  ready(timeoutMs = 30_000): Promise<OpenFlowConnection> {
    if (this.conn) return Promise.resolve(this.conn);
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new OpenFlowConnectionError(ConnectionErrorCode.TIMEOUT, `switch ${this.name} not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (c: OpenFlowConnection) => (clearTimeout(timer), resolve(c)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      this.waiters.push(waiter);
    });
  }

  /** @internal Makes `conn` the live session (a newer session of the same datapath replaces an older one). */
  attach(conn: OpenFlowConnection): void {
    if (this.closed) {
      conn.destroy();
      return;
    }
    const old = this.conn;
    this.conn = conn;
    this.dpid = conn.datapathId;
    this.sessions++;
    this.stopWatching();
    if (old) old.destroy(new OpenFlowConnectionError(ConnectionErrorCode.DISCONNECTED, `switch ${this.name} reconnected: older session replaced`));
    conn.on('message', (m: OpenFlowMessage) => this.dispatch(m));
    conn.on('ofpError', (e: Error) => this.emit('ofpError', e));
    conn.on('close', (err: Error) => this.onSessionClose(conn, err));
    this.emit('connect', conn);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(conn);
  }

  /** Closes the live session and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopWatching();
    const conn = this.conn;
    this.conn = undefined;
    for (const w of this.waiters.splice(0)) w.reject(this.closedError());
    await conn?.close();
  }

  private onSessionClose(conn: OpenFlowConnection, err: Error): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.emit('disconnect', err);
    if (this.closed || !this.dialer || !this.reconnect) return;
    this.watchSocket();
    this.scheduleReconnect(this.reconnect.initialDelayMs);
  }

  private scheduleReconnect(delayMs: number): void {
    this.backoffMs = delayMs;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.redial(false);
    }, delayMs);
  }

  /**
   * One attempt now; on failure the backoff goes on from where it was, or
   * starts again from its first step when the socket file just changed (it
   * may exist a moment before it accepts).
   */
  private redial(fileChanged = false): void {
    if (this.closed || this.conn) return;
    if (this.dialing) {
      this.changedWhileDialing ||= fileChanged;
      return;
    }
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
    this.dialing = true;
    this.dialer!().then(
      (conn) => {
        this.dialing = false;
        this.changedWhileDialing = false;
        this.attach(conn);
      },
      () => {
        this.dialing = false;
        const soon = fileChanged || this.changedWhileDialing;
        this.changedWhileDialing = false;
        if (this.closed || this.conn) return;
        const r = this.reconnect!;
        this.scheduleReconnect(soon ? r.initialDelayMs : Math.min(r.maxDelayMs, this.backoffMs * r.factor));
      },
    );
  }

  private watchSocket(): void {
    if (!this.socketPath || this.watcher) return;
    const file = basename(this.socketPath);
    try {
      this.watcher = watch(dirname(this.socketPath), (_event, name) => {
        if (name === file) this.redial(true);
      });
    } catch {
      // The directory is gone or cannot be watched: the backoff alone redials.
      return;
    }
    this.watcher.on('error', () => this.stopWatching());
    this.watcher.unref();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private get name(): string {
    return this.dpid === undefined ? '(not yet connected)' : formatDatapathId(this.dpid);
  }

  private notConnected(): OpenFlowConnectionError {
    return new OpenFlowConnectionError(ConnectionErrorCode.NOT_CONNECTED, `switch ${this.name} is not connected`);
  }

  private closedError(): OpenFlowConnectionError {
    return new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, `switch ${this.name} was closed`);
  }

  // The primitives, forwarded to the live session.

  protected session(): OpenFlowConnection {
    if (this.conn) return this.conn;
    throw this.closed ? this.closedError() : this.notConnected();
  }

  /** Queues a message on the current session; returns its xid (throws when disconnected). */
  send(msg: OpenFlowMessage): number {
    return this.session().send(msg);
  }

  /** As `send`, waiting first for the socket to drain if needed. */
  async sendAsync(msg: OpenFlowMessage): Promise<number> {
    return this.session().sendAsync(msg);
  }

  /** Sends a request on the current session and resolves with its reply. */
  async request<R extends OpenFlowMessage = OpenFlowMessage>(msg: OpenFlowMessage, options?: RequestOptions): Promise<R> {
    return this.session().request<R>(msg, options);
  }

  /** Sends a multipart request and resolves with the bodies of every part. */
  async multipart(body: MultipartRequestBody, options?: RequestOptions): Promise<MultipartReplyBody[]> {
    return this.session().multipart(body, options);
  }

  /** Starts a flow monitor on the current session (it ends with that session: watch its 'close'). */
  async monitorFlows(options: FlowMonitorOptions = {}): Promise<FlowMonitor> {
    return this.session().monitorFlows(options);
  }

  /** Resolves once the switch has processed everything sent before. */
  async barrier(options?: RequestOptions): Promise<void> {
    return this.session().barrier(options);
  }
}

async function dialOnce(target: ConnectAddress, options: ConnectOptions, signal?: AbortSignal): Promise<OpenFlowConnection> {
  const aborted = (): OpenFlowConnectionError => new OpenFlowConnectionError(ConnectionErrorCode.ABORTED,
    `connecting to ${formatAddress(target)} aborted by the caller`, { cause: signal?.reason });
  if (signal?.aborted) throw aborted();
  let socket: Socket | undefined;
  // Aborting destroys the socket: the dial or the handshake then fails, and the abort is what we report.
  const onAbort = (): void => void socket?.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const opening = openSocket(target, options.connectTimeoutMs ?? 5000);
    socket = await (signal ? Promise.race([opening, new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => {
        // A connection that completes after the abort is closed at once.
        opening.then((late) => late.destroy(), () => undefined);
        reject(aborted());
      }, { once: true });
    })]) : opening);
    return await OpenFlowConnection.establish(socket, { label: formatAddress(target), ...options });
  } catch (err) {
    socket?.destroy();
    if (signal?.aborted) throw aborted();
    throw err instanceof OpenFlowConnectionError ? err : new OpenFlowConnectionError(ConnectionErrorCode.HANDSHAKE,
      `OpenFlow handshake with ${formatAddress(target)} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Connects to a bridge: `tcp:HOST:PORT` (a `ptcp:` controller target of the bridge) or `unix:PATH` (its `.mgmt` socket). */
export function connectSwitch(address: string, options: ConnectOptions = {}): Promise<OpenFlowSwitch> {
  return OpenFlowSwitch.connect(address, options);
}
