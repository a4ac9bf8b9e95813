/**
 * Write coalescing with backpressure.
 *
 * Messages are encoded straight into a slab (the outbox is the codec's
 * OfWriter); everything encoded in one tick
 * leaves in one `socket.write` (flushed on `process.nextTick`, as ioredis
 * auto-pipelines), and a long synchronous burst is cut every `flushBytes` so
 * the switch starts working while we are still encoding. The socket gets
 * `subarray` views of the slab; bytes handed to it are never written again,
 * and a slab that cannot hold another whole message is simply replaced, as
 * Node's own Buffer pool does, so messages never move while being encoded.
 *
 * Once `socket.write` returns false, nothing more goes to the socket until
 * 'drain': bytes pile up here instead (in slabs, never copied as a whole),
 * and `queuedBytes` says how many. Callers that send without bound await
 * `drained()` when `needsDrain` is true (or use the async send of the
 * session); a caller that ignores it hits `maxQueuedBytes` and gets a typed
 * OUTBOX_FULL error instead of exhausting memory.
 */
import { OfWriter } from '../writer.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';

/** Limits of an outbox: when to ask producers to wait, and when to refuse more. */
export interface OutboxOptions {
  /** Size of each slab. */
  slabBytes?: number;
  /**
   * Room guaranteed at the start of each message; a slab with less left is
   * replaced first. The default fits the largest OpenFlow message (65,535
   * bytes), so a message never has to move.
   */
  reserveBytes?: number;
  /** A synchronous burst is written out every this many bytes. */
  flushBytes?: number;
  /** Above this many queued bytes (ours plus the socket's), `needsDrain` turns true. */
  highWaterBytes?: number;
  /** Above this many queued bytes, encoding another message throws OUTBOX_FULL. */
  maxQueuedBytes?: number;
}

/** What the outbox writes to: a net.Socket in practice. */
export interface OutboxSink {
  /** Writes a chunk; false when the caller should wait for drain. */
  write(chunk: Buffer): boolean;
  /** Starts holding writes back until uncork. */
  cork(): void;
  /** Flushes the writes held since cork. */
  uncork(): void;
  readonly writableLength: number;
}

const DEFAULTS = {
  slabBytes: 1024 * 1024,
  reserveBytes: 64 * 1024,
  flushBytes: 64 * 1024,
  highWaterBytes: 4 * 1024 * 1024,
  maxQueuedBytes: 256 * 1024 * 1024,
};

/**
 * An OfWriter whose buffer is the current slab: the codec encodes straight
 * into it. Bytes [start, pos) are encoded but not yet written.
 */
export class Outbox extends OfWriter {
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
    const opts = { ...DEFAULTS, ...options };
    super(opts.slabBytes);
    this.opts = opts;
  }

  /** Bytes accepted but not yet taken by the kernel: ours plus the socket's own buffer. */
  get queuedBytes(): number {
    return this.heldBytes + (this.pos - this.start) + this.sink.writableLength;
  }

  /** True when a well-behaved producer should await `drained()` before sending more. */
  get needsDrain(): boolean {
    return this.congested || this.queuedBytes > this.opts.highWaterBytes;
  }

  /**
   * Starts a message: call before encoding at `pos`, then `end()`.
   * Throws OUTBOX_FULL when the cap is reached.
   */
  begin(): void {
    if (this.heldBytes + (this.pos - this.start) > this.opts.maxQueuedBytes) {
      throw new OpenFlowConnectionError(ConnectionErrorCode.OUTBOX_FULL,
        `more than ${this.opts.maxQueuedBytes} bytes queued for a peer that is not reading: await drained() before sending more`);
    }
    if (this.buf.length - this.pos < this.opts.reserveBytes) this.nextSlab();
    this.messageStart = this.pos;
  }

  /** Moves on to a fresh slab; the unsent tail of the old one waits in `held`. */
  private nextSlab(): void {
    if (this.pos > this.start) this.hold(this.buf.subarray(this.start, this.pos));
    this.buf = Buffer.allocUnsafe(this.opts.slabBytes);
    this.start = this.pos = this.messageStart = 0;
  }

  /** Where the message being encoded starts in `buf`. */
  get messageOffset(): number {
    return this.messageStart;
  }

  /** Forgets the bytes of a message whose encoding failed. */
  abort(): void {
    this.pos = this.messageStart;
  }

  /**
   * Grows the slab in place (offsets kept: encoders back-patch lengths at
   * saved positions). Only a message longer than `reserveBytes` gets here,
   * since `begin()` starts every message with that much room.
   */
  override ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Ends a message; schedules the tick's flush, or flushes now after a large burst. */
  end(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushTick);
    }
    if (!this.congested && this.heldBytes + this.pos - this.start >= this.opts.flushBytes) this.flush();
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

  /** Rewinding would overwrite bytes the socket still holds: it drops the unsent bytes instead. */
  override reset(): void {
    this.discard();
  }

  /** Drops everything unsent (the connection is gone) and releases waiters. */
  discard(): void {
    this.held = [];
    this.heldBytes = 0;
    this.start = this.pos = this.messageStart = 0;
    this.congested = false;
    this.buf = Buffer.allocUnsafe(this.opts.slabBytes);
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
    const tail = this.pos - this.start;
    if (tail === 0 && this.heldBytes === 0) return;
    let ok: boolean;
    this.writes++;
    if (this.held.length === 0) {
      ok = this.sink.write(this.buf.subarray(this.start, this.pos));
    } else {
      // cork/uncork turns the held chunks and the tail into one writev.
      this.sink.cork();
      ok = true;
      for (const chunk of this.held) ok = this.sink.write(chunk) && ok;
      if (tail > 0) ok = this.sink.write(this.buf.subarray(this.start, this.pos)) && ok;
      this.sink.uncork();
      this.held = [];
      this.heldBytes = 0;
    }
    this.start = this.messageStart = this.pos;
    if (!ok) this.congested = true;
    else if (this.waiters.length > 0 && !this.needsDrain) this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
