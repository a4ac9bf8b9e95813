/**
 * 64-bit big-endian writes on the encoder's hot path (cookies, masks,
 * metadata, tunnel ids).
 */
const U32_MAX = 0xffffffffn;
const U64_MAX = 0xffffffffffffffffn;

/**
 * Writes `v` at b[p..p+8) and returns true, or returns false and writes
 * nothing when `v` is not an unsigned 64-bit bigint (the caller throws its own
 * error, naming the field). One BigInt-to-Number conversion decides the common
 * case (values that fit 32 bits): below 2^53 the conversion is exact, so a
 * result within 0..2^32-1 is the value itself. BigInt comparisons and shifts
 * cost several times more, so only wider values pay them.
 */
export function putU64(b: Buffer, p: number, v: unknown): boolean {
  let hi = 0;
  let lo = typeof v === 'bigint' ? Number(v) : -1;
  if (!(lo >= 0 && lo <= 0xffffffff)) {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) return false;
    hi = Number(v >> 32n);
    lo = Number(v & U32_MAX);
  }
  b[p] = hi >>> 24;
  b[p + 1] = hi >>> 16;
  b[p + 2] = hi >>> 8;
  b[p + 3] = hi;
  b[p + 4] = lo >>> 24;
  b[p + 5] = lo >>> 16;
  b[p + 6] = lo >>> 8;
  b[p + 7] = lo;
  return true;
}
