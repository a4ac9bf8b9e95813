/**
 * A growable big-endian byte writer. One instance is meant to be reused for
 * many messages: `reset()` rewinds without freeing, so steady-state encoding
 * allocates nothing. Lengths that are only known at the end are reserved with
 * a placeholder and back-patched (`patchU16`). Subclasses may override
 * `ensure` (the only place the buffer is replaced; connection/outbox.ts does):
 * every write calls it when the current buffer is too short.
 */
export class OfWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Rewind to the start; the bytes already handed out by `view()` are overwritten by later writes. */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes, growing the buffer if needed (callers writing in place call it first). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const need = this.pos + n;
    let size = this.buf.length + (this.buf.length >> 1);
    if (size < need) size = need;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Appends one byte. */
  u8(v: number): void {
    if (this.pos + 1 > this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Appends a 16-bit unsigned integer, big-endian (network order). */
  u16(v: number): void {
    if (this.pos + 2 > this.buf.length) this.ensure(2);
    const b = this.buf;
    b[this.pos] = v >>> 8;
    b[this.pos + 1] = v;
    this.pos += 2;
  }

  /** Appends a 32-bit unsigned integer, big-endian. */
  u32(v: number): void {
    if (this.pos + 4 > this.buf.length) this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Appends a 64-bit unsigned integer, big-endian. */
  u64(v: bigint): void {
    // The common case (zero cookies, small metadata) without BigInt arithmetic:
    // the conversion is exact below 2^53, so 0..2^32-1 is the value itself.
    const n = Number(v);
    if (n >= 0 && n <= 0xffffffff) {
      this.u32(0);
      this.u32(n);
      return;
    }
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }

  /** Writes the low `n` bytes of `v` big-endian (n up to 16). */
  uintN(v: bigint, n: number): void {
    this.ensure(n);
    const b = this.buf;
    let x = BigInt.asUintN(n * 8, v);
    for (let i = this.pos + n - 1; i >= this.pos; i--) {
      b[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    this.pos += n;
  }

  /** Appends `n` zero bytes (padding). */
  zeros(n: number): void {
    if (this.pos + n > this.buf.length) this.ensure(n);
    const b = this.buf;
    const end = this.pos + n;
    // Short runs (padding) are cheaper as a loop than as Buffer.fill.
    if (n <= 16) for (let i = this.pos; i < end; i++) b[i] = 0;
    else b.fill(0, this.pos, end);
    this.pos = end;
  }

  /** Appends a copy of `src`. */
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Bytes kept as a one-byte-per-char string (a latin1 string costs a fraction of a typed array to keep). */
  latin1(src: string): void {
    this.ensure(src.length);
    this.pos += this.buf.write(src, this.pos, src.length, 'latin1');
  }

  /** Fixed-width NUL-padded string field (port names, descriptions). */
  fixedString(s: string, width: number): void {
    this.ensure(width);
    const n = this.buf.write(s, this.pos, width - 1, 'latin1');
    this.buf.fill(0, this.pos + n, this.pos + width);
    this.pos += width;
  }

  /** Zero-pads so that the bytes written since `start` are a multiple of 8. */
  pad8(start: number): void {
    const rem = (this.pos - start) & 7;
    if (rem !== 0) this.zeros(8 - rem);
  }

  /** Overwrites the 16 bits at `at` (a length known only once its body is written). */
  patchU16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }

  /** Overwrites the 32 bits at `at`. */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  /** A view of the bytes written so far; valid until the next write or reset. */
  view(start = 0): Buffer {
    return this.buf.subarray(start, this.pos);
  }

  /** A copy of the bytes written so far, owned by the caller. */
  take(start = 0): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos));
  }
}
