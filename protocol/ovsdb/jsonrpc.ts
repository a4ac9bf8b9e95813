/**
 * A JSON-RPC 1.0 session over one connected socket, as OVSDB uses it
 * (RFC 7047 §4): requests matched to replies by id, notifications handed
 * to the owner, the server's `echo` answered, our own `echo` sent as the
 * inactivity probe, and every request in flight rejected when the session
 * ends, so none can hang.
 */
import type net from 'node:net';
import { OvsdbConnectionError, OvsdbErrorCode, OvsdbProtocolError, OvsdbRpcError, type OvsdbError, preview } from './errors.js';
import { JsonSplitter } from './framer.js';

/** After this long without receiving anything, a session sends `echo` (OVS's inactivity_probe default). */
export const DEFAULT_INACTIVITY_PROBE_MS = 5000;

/** Options of a JSON-RPC session: inactivity probe, request timeout, largest message. */
export interface SessionOptions {
  /**
   * Like OVS's `inactivity_probe`: after this long without receiving
   * anything we send an `echo`; if still nothing arrives within the same
   * time again, the session is closed with `INACTIVITY`. 0 disables.
   */
  inactivityProbeMs?: number;
  /** Default per-request timeout; 0 (the default) waits as long as the session lives. */
  requestTimeoutMs?: number;
  /** Largest message accepted from the peer. */
  maxMessageBytes?: number;
}

/** Options of one request: a timeout and an AbortSignal. */
export interface RequestOptions {
  /** Overrides the session's `requestTimeoutMs` for this request (0 = none). */
  timeoutMs?: number;
  /** Aborting rejects the request at once with the signal's reason; a reply that comes later is dropped. */
  signal?: AbortSignal;
  /** Runs on abort, before the rejection, with the request's id (the client sends `cancel` with it). */
  onAbort?: (id: number) => void;
}

/**
 * What a JSON-RPC session reports to its owner: notifications, requests from the peer, protocol
 * errors, the end of the session.
 */
export interface SessionHandlers {
  /** A notification (`id: null`) from the peer. */
  notification(method: string, params: unknown[]): void;
  /** A non-fatal violation (reply to an unknown id, bad notification shape). */
  protocolError(err: OvsdbProtocolError): void;
  /** The session ended; `err` says why. Called once. */
  closed(err: OvsdbError): void;
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  cleanup: (() => void) | undefined;
}

/** Ids of requests we gave up on, so their late replies are not called protocol errors. */
const ABANDONED_MEMORY = 1024;

/**
 * JSON-RPC 1.0 over a stream, as OVSDB speaks it: requests matched to replies by id, echo answered,
 * an inactivity probe, every request rejected when the session ends.
 */
export class JsonRpcSession {
  readonly remote: string;
  private readonly socket: net.Socket;
  private readonly handlers: SessionHandlers;
  private readonly splitter: JsonSplitter;
  private readonly probeMs: number;
  private readonly requestTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private readonly abandoned = new Set<number>();
  private nextId = 1;
  private corked = false;
  private closing: OvsdbError | undefined;
  private ended = false;
  private lastRx = Date.now();
  private probeSentAt: number | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  /**
   * `mapSocketError` names what a socket error means when it is more than a
   * disconnect (the transport's TLS failures).
   */
  constructor(
    socket: net.Socket, remote: string, handlers: SessionHandlers, options: SessionOptions = {},
    mapSocketError?: (err: Error) => OvsdbConnectionError | undefined,
  ) {
    this.socket = socket;
    this.remote = remote;
    this.handlers = handlers;
    this.probeMs = options.inactivityProbeMs ?? DEFAULT_INACTIVITY_PROBE_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 0;
    this.splitter = new JsonSplitter((text) => this.receive(text), { maxMessageBytes: options.maxMessageBytes });
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => {
      this.lastRx = Date.now();
      try {
        this.splitter.push(chunk);
      } catch (err) {
        this.close(err instanceof OvsdbProtocolError ? err : new OvsdbProtocolError(`cannot process data from ${remote}: ${String(err)}`, { cause: err }));
      }
    });
    socket.on('error', (err) => {
      this.closing ??= mapSocketError?.(err) ?? new OvsdbConnectionError(OvsdbErrorCode.DISCONNECTED, `connection to ${remote} failed: ${err.message}`, remote, {
        cause: err,
      });
    });
    socket.on('close', () => this.finish());
    if (this.probeMs > 0) this.scheduleProbe(this.probeMs);
  }

  /** False once the session has ended (or is ending). */
  get isOpen(): boolean {
    return !this.ended && this.closing === undefined;
  }

  /** Number of requests awaiting a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a request; resolves with `result`, rejects with {@link OvsdbRpcError} on `error`. */
  request(method: string, params: unknown[], options: RequestOptions = {}): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(this.closedError());
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { method, resolve, reject, timer: undefined, cleanup: undefined };
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.abandon(id);
          reject(new OvsdbConnectionError(OvsdbErrorCode.TIMEOUT, `${method} got no reply from ${this.remote} within ${timeoutMs} ms`, this.remote));
        }, timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = () => {
          // ovsdb-server 3.1 answers a canceled transaction only when its triggers next run (a later
          // commit), maybe never: the caller is not kept waiting for that answer.
          options.onAbort?.(id);
          this.abandon(id);
          reject(signal.reason ?? new Error('aborted'));
        };
        if (signal.aborted) {
          queueMicrotask(onAbort);
        } else {
          signal.addEventListener('abort', onAbort, { once: true });
          p.cleanup = () => signal.removeEventListener('abort', onAbort);
        }
      }
      this.pending.set(id, p);
      this.send({ method, params, id });
    });
  }

  /** Sends a notification (a request with `id: null`, no reply expected). */
  notify(method: string, params: unknown[]): void {
    if (this.isOpen) this.send({ method, params, id: null });
  }

  /**
   * Ends the session: pending requests reject with `err` (by default
   * `CLOSED`), then `closed` runs. Idempotent.
   */
  close(err?: OvsdbError): void {
    this.closing ??= err ?? new OvsdbConnectionError(OvsdbErrorCode.CLOSED, `connection to ${this.remote} was closed by the client`, this.remote);
    this.socket.destroy();
    // 'close' follows destroy() asynchronously; reject now so callers see it without waiting.
    this.finish();
  }

  private closedError(): OvsdbError {
    return this.closing ?? new OvsdbConnectionError(OvsdbErrorCode.DISCONNECTED, `connection to ${this.remote} is closed`, this.remote);
  }

  private abandon(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id, p);
    this.abandoned.add(id);
    if (this.abandoned.size > ABANDONED_MEMORY) {
      const oldest = this.abandoned.values().next().value;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.cleanup?.();
  }

  private send(msg: object): void {
    // Everything sent in one tick leaves in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(JSON.stringify(msg));
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    const err =
      this.closing ??
      new OvsdbConnectionError(OvsdbErrorCode.DISCONNECTED, `connection to ${this.remote} closed by the peer`, this.remote);
    this.closing = err;
    const pending = [...this.pending];
    this.pending.clear();
    for (const [, p] of pending) {
      if (p.timer) clearTimeout(p.timer);
      p.cleanup?.();
      p.reject(err);
    }
    this.handlers.closed(err);
  }

  private scheduleProbe(delayMs: number): void {
    this.probeTimer = setTimeout(() => this.probe(), delayMs);
    this.probeTimer.unref();
  }

  private probe(): void {
    if (!this.isOpen) return;
    const now = Date.now();
    if (this.probeSentAt !== undefined && this.lastRx < this.probeSentAt) {
      const waited = now - this.probeSentAt;
      if (waited >= this.probeMs) {
        // Timers run before I/O in the event loop: after a stall of our own, the
        // reply may be sitting unread in the socket. Decide after one I/O turn.
        setImmediate(() => {
          if (!this.isOpen || this.lastRx >= (this.probeSentAt ?? 0)) {
            if (this.isOpen) this.probe();
            return;
          }
          this.close(
            new OvsdbConnectionError(
              OvsdbErrorCode.INACTIVITY,
              `no reply from ${this.remote} to the inactivity probe for ${Date.now() - (this.probeSentAt ?? 0)} ms; closing the connection`,
              this.remote,
            ),
          );
        });
        return;
      }
      this.scheduleProbe(this.probeMs - waited);
      return;
    }
    const idle = now - this.lastRx;
    if (idle < this.probeMs) {
      this.probeSentAt = undefined;
      this.scheduleProbe(this.probeMs - idle);
      return;
    }
    this.probeSentAt = now;
    this.request('echo', []).catch(() => {
      // The session's end already reports why.
    });
    this.scheduleProbe(this.probeMs);
  }

  private receive(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      // Framing may be lost after bad JSON: end the session, as OVS does.
      this.close(new OvsdbProtocolError(`invalid JSON from ${this.remote}: ${(err as Error).message} in ${preview(text)}`, { cause: err }));
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.close(new OvsdbProtocolError(`JSON-RPC message from ${this.remote} is not an object: ${preview(msg)}`));
      return;
    }
    const m = msg as { method?: unknown; params?: unknown; id?: unknown; result?: unknown; error?: unknown };
    if (m.method !== undefined && m.method !== null) {
      this.receiveRequest(m);
      return;
    }
    if (!('result' in m) && !('error' in m)) {
      this.handlers.protocolError(new OvsdbProtocolError(`JSON-RPC message from ${this.remote} is neither a request nor a reply: ${preview(msg)}`));
      return;
    }
    const id = m.id;
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) {
      if (typeof id === 'number' && this.abandoned.delete(id)) return;
      this.handlers.protocolError(new OvsdbProtocolError(`reply from ${this.remote} to a request we never sent (id ${preview(id)})`));
      return;
    }
    this.settle(id as number, p);
    if (m.error !== undefined && m.error !== null) {
      const name = typeof m.error === 'object' ? (m.error as { error?: unknown }).error : m.error;
      const code = name === 'unknown database' ? OvsdbErrorCode.UNKNOWN_DATABASE : OvsdbErrorCode.RPC;
      p.reject(new OvsdbRpcError(p.method, m.error, code));
    } else {
      p.resolve(m.result);
    }
  }

  private receiveRequest(m: { method?: unknown; params?: unknown; id?: unknown }): void {
    if (typeof m.method !== 'string' || !Array.isArray(m.params)) {
      this.handlers.protocolError(new OvsdbProtocolError(`malformed JSON-RPC request from ${this.remote}: ${preview(m)}`));
      if (m.id !== undefined && m.id !== null) this.send({ id: m.id, result: null, error: 'malformed request' });
      return;
    }
    if (m.id === undefined || m.id === null) {
      this.handlers.notification(m.method, m.params);
      return;
    }
    if (m.method === 'echo') {
      this.send({ id: m.id, result: m.params, error: null });
      return;
    }
    this.send({ id: m.id, result: null, error: { error: 'unknown method', details: `this client does not serve ${m.method}` } });
  }
}
