/**
 * Cuts a byte stream into whole OpenFlow messages using the length field of
 * the fixed 8-byte header (OpenFlow 1.3 §7.1: version u8, type u8, length u16
 * covering the header, xid u32).
 *
 * A message that lies inside one chunk is handed out as a `subarray` view of
 * that chunk: no copy. Only a message that spans chunks is assembled into a
 * buffer of its own, allocated once at its final size as soon as the length
 * is known. Parsing resumes where the previous chunk stopped; chunks are never
 * concatenated.
 */
import { OFP_HEADER_LEN as HEADER_LEN } from '../constants.js';
import { FramingError } from './errors.js';

/** Offset of the header's big-endian length field. */
const LENGTH_OFFSET = 2;

export type MessageSink = (message: Buffer) => void;

/**
 * Cuts a byte stream into OpenFlow messages by the header's length: views into the chunk when
 * whole, assembled only across chunks.
 */
export class MessageFramer {
  /** The message being assembled across chunks; undefined between messages. */
  private partial: Buffer | undefined;
  /** How many bytes of `partial` are filled. */
  private filled = 0;
  /** The first bytes of a header cut by a chunk boundary, before its length is readable. */
  private readonly head = Buffer.alloc(HEADER_LEN);
  private headFilled = 0;

  constructor(private readonly sink: MessageSink) {}

  /** True when no bytes of an unfinished message are held. */
  get idle(): boolean {
    return this.partial === undefined && this.headFilled === 0;
  }

  /**
   * Feeds one chunk. Calls the sink once per complete message, in order.
   * Throws FramingError when a header announces a length below 8: the stream
   * cannot be resynchronised after that, so the caller must drop the connection.
   */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    if (this.partial !== undefined || this.headFilled > 0) {
      pos = this.resume(chunk);
      if (pos < 0) return;
    }
    while (end - pos >= HEADER_LEN) {
      const length = chunk.readUInt16BE(pos + LENGTH_OFFSET);
      if (length < HEADER_LEN) throw this.badLength(length);
      if (end - pos < length) break;
      this.sink(chunk.subarray(pos, pos + length));
      pos += length;
    }
    if (pos < end) this.stash(chunk, pos);
  }

  /** Forgets any partial message (after a reconnect). */
  reset(): void {
    this.partial = undefined;
    this.filled = 0;
    this.headFilled = 0;
  }

  /**
   * Continues the message left unfinished by the previous chunk. Returns the
   * offset in `chunk` where the next message starts, or -1 when the chunk was
   * swallowed whole.
   */
  private resume(chunk: Buffer): number {
    let pos = 0;
    if (this.partial === undefined) {
      // Only part of a header so far: complete at least its length field.
      const take = Math.min(HEADER_LEN - this.headFilled, chunk.length);
      chunk.copy(this.head, this.headFilled, 0, take);
      this.headFilled += take;
      pos = take;
      if (this.headFilled < LENGTH_OFFSET + 2) return -1;
      const length = this.head.readUInt16BE(LENGTH_OFFSET);
      if (length < HEADER_LEN) throw this.badLength(length);
      this.partial = Buffer.allocUnsafe(length);
      this.head.copy(this.partial, 0, 0, this.headFilled);
      this.filled = this.headFilled;
      this.headFilled = 0;
    }
    const message = this.partial;
    const take = Math.min(message.length - this.filled, chunk.length - pos);
    chunk.copy(message, this.filled, pos, pos + take);
    this.filled += take;
    pos += take;
    if (this.filled < message.length) return -1;
    this.partial = undefined;
    this.filled = 0;
    this.sink(message);
    return pos;
  }

  /** Keeps the tail of a chunk that holds only the start of a message. */
  private stash(chunk: Buffer, pos: number): void {
    const rest = chunk.length - pos;
    if (rest < LENGTH_OFFSET + 2) {
      chunk.copy(this.head, 0, pos);
      this.headFilled = rest;
      return;
    }
    const length = chunk.readUInt16BE(pos + LENGTH_OFFSET);
    if (length < HEADER_LEN) throw this.badLength(length);
    this.partial = Buffer.allocUnsafe(length);
    chunk.copy(this.partial, 0, pos);
    this.filled = rest;
  }

  private badLength(length: number): FramingError {
    return new FramingError(`OpenFlow header announces length ${length}, below the 8-byte header`);
  }
}
