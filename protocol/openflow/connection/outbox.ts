/**
 * Write coalescing with backpressure.
 *
 * Messages are encoded straight into a slab; everything encoded in one tick
 * leaves in one `socket.write` (flushed on `process.nextTick`, as ioredis
 * auto-pipelines), and a long synchronous burst is cut every `flushBytes` so
 * the switch starts working while we are still encoding. The socket gets
 * `subarray` views of the slab; bytes handed to it are never written again,
 * and a full slab is simply replaced, as Node's own Buffer pool does.
 *
 * Once `socket.write` returns false, nothing more goes to the socket until
 * 'drain': bytes pile up here instead (in slabs, never copied as a whole),
 * and `queuedBytes` says how many. Callers that send without bound await
 * `drained()` when `needsDrain` is true (or use the async send of the
 * session); a caller that ignores it hits `maxQueuedBytes` and gets a typed
 * OUTBOX_FULL error instead of exhausting memory.
 */
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';

export interface OutboxOptions {
  /** Size of each slab. Messages larger than this get a slab of their own. */
  slabBytes?: number;
  /** A synchronous burst is written out every this many bytes. */
  flushBytes?: number;
  /** Above this many queued bytes (ours plus the socket's), `needsDrain` turns true. */
  highWaterBytes?: number;
  /** Above this many queued bytes, encoding another message throws OUTBOX_FULL. */
  maxQueuedBytes?: number;
}

/** What the outbox writes to: a net.Socket in practice. */
export interface OutboxSink {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
}

const DEFAULTS = {
  slabBytes: 256 * 1024,
  flushBytes: 64 * 1024,
  highWaterBytes: 4 * 1024 * 1024,
  maxQueuedBytes: 256 * 1024 * 1024,
};

export class Outbox {
  /** The slab being filled. Bytes [start, offset) are encoded but not yet written. */
  buf: Buffer;
  offset = 0;
  private start = 0;
  /** Where the message being encoded began, so a slab change keeps it contiguous. */
  private messageStart = 0;
  /** Complete chunks held back while the socket is congested. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private congested = false;
  private flushScheduled = false;
  private waiters: (() => void)[] = [];
  private readonly opts: typeof DEFAULTS;
  /** How many times bytes were handed to the socket (one per cork/uncork batch): for tests and stats. */
  writes = 0;

  constructor(private readonly sink: OutboxSink, options: OutboxOptions = {}) {
    this.opts = { ...DEFAULTS, ...options };
    this.buf = Buffer.allocUnsafe(this.opts.slabBytes);
  }

  /** Bytes accepted but not yet taken by the kernel: ours plus the socket's own buffer. */
  get queuedBytes(): number {
    return this.heldBytes + (this.offset - this.start) + this.sink.writableLength;
  }

  /** True when a well-behaved producer should await `drained()` before sending more. */
  get needsDrain(): boolean {
    return this.congested || this.queuedBytes > this.opts.highWaterBytes;
  }

  /**
   * Starts a message: call before encoding at `offset`, then `end()`.
   * Throws OUTBOX_FULL when the cap is reached.
   */
  begin(): void {
    if (this.heldBytes + (this.offset - this.start) > this.opts.maxQueuedBytes) {
      throw new OpenFlowConnectionError(ConnectionErrorCode.OUTBOX_FULL,
        `more than ${this.opts.maxQueuedBytes} bytes queued for a peer that is not reading: await drained() before sending more`);
    }
    this.messageStart = this.offset;
  }

  /** Guarantees `n` writable bytes at `offset`, moving the current message to a fresh slab if needed. */
  ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const partial = this.offset - this.messageStart;
    if (this.messageStart > this.start) {
      this.hold(this.buf.subarray(this.start, this.messageStart));
    }
    const next = Buffer.allocUnsafe(Math.max(this.opts.slabBytes, 2 * (partial + n)));
    this.buf.copy(next, 0, this.messageStart, this.offset);
    this.buf = next;
    this.start = 0;
    this.messageStart = 0;
    this.offset = partial;
  }

  /** Ends a message; schedules the tick's flush, or flushes now after a large burst. */
  end(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushTick);
    }
    if (!this.congested && this.heldBytes + this.offset - this.start >= this.opts.flushBytes) this.flush();
  }

  /** Resolves when everything queued has been handed to the kernel's socket buffer or below the high-water mark. */
  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Call on the socket's 'drain' event. */
  onDrain(): void {
    this.congested = false;
    this.flush();
    if (!this.needsDrain) this.wake();
  }

  /** Drops everything unsent (the connection is gone) and releases waiters. */
  discard(): void {
    this.held = [];
    this.heldBytes = 0;
    this.start = this.offset = this.messageStart = 0;
    this.congested = false;
    this.wake();
  }

  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    if (!this.congested) this.flush();
  };

  private hold(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
  }

  /** Hands everything encoded so far to the socket in one batch. */
  flush(): void {
    if (this.congested) return;
    const tail = this.offset - this.start;
    if (tail === 0 && this.heldBytes === 0) return;
    let ok: boolean;
    this.writes++;
    if (this.held.length === 0) {
      ok = this.sink.write(this.buf.subarray(this.start, this.offset));
    } else {
      // cork/uncork turns the held chunks and the tail into one writev.
      this.sink.cork();
      ok = true;
      for (const chunk of this.held) ok = this.sink.write(chunk) && ok;
      if (tail > 0) ok = this.sink.write(this.buf.subarray(this.start, this.offset)) && ok;
      this.sink.uncork();
      this.held = [];
      this.heldBytes = 0;
    }
    this.start = this.messageStart = this.offset;
    if (!ok) this.congested = true;
    else if (this.waiters.length > 0 && !this.needsDrain) this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
