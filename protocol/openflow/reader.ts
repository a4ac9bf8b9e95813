import { OpenFlowDecodeError } from './errors.js';

/**
 * A bounds-checked big-endian cursor over one slice of a buffer. It never
 * reads past `end`: every read that would throws OpenFlowDecodeError naming
 * what was being read and the offset from `base` (the start of the message),
 * so decoding untrusted bytes fails with a typed error, never a RangeError.
 * Byte ranges are returned as `subarray` views, not copies.
 */
export class OfReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
    /** Offset of the enclosing message in `buf`, for error offsets. */
    readonly base: number = pos,
  ) {}

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Offset of the cursor from the message start, for error reports. */
  get offset(): number {
    return this.pos - this.base;
  }

  /** Throws a decode error naming `what` unless `n` more bytes are there. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new OpenFlowDecodeError(
        'OF_DECODE_TRUNCATED',
        `truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`,
        this.pos - this.base,
      );
    }
  }

  /** Throws an {@link OpenFlowDecodeError} with `code` at offset `at` (the current one by default). */
  fail(code: OpenFlowDecodeError['code'], message: string, at: number = this.pos): never {
    throw new OpenFlowDecodeError(code, message, at - this.base);
  }

  /** Reads one byte; `what` names it in the error if the message is too short. */
  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  /** Reads a 16-bit unsigned integer, big-endian. */
  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const v = (b[this.pos] << 8) | b[this.pos + 1];
    this.pos += 2;
    return v;
  }

  /** Reads a 32-bit unsigned integer, big-endian. */
  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a 64-bit unsigned integer, big-endian. */
  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads `n` bytes (n up to 16) as an unsigned big-endian integer. */
  uintN(n: number, what = 'integer'): bigint {
    this.need(n, what);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos + i]);
    this.pos += n;
    return v;
  }

  /** Skips `n` bytes (padding). */
  skip(n: number, what = 'padding'): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A view of the next `n` bytes (no copy). */
  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A NUL-terminated string in a fixed-width field. */
  fixedString(width: number, what = 'string'): string {
    this.need(width, what);
    let end = this.pos;
    const lim = this.pos + width;
    while (end < lim && this.buf[end] !== 0) end++;
    const s = this.buf.toString('latin1', this.pos, end);
    this.pos = lim;
    return s;
  }

  /** A reader over the next `n` bytes (same buffer and base); advances past them. */
  sub(n: number, what: string): OfReader {
    this.need(n, what);
    const r = new OfReader(this.buf, this.pos, this.pos + n, this.base);
    this.pos += n;
    return r;
  }
}
