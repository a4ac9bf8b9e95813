/**
 * Range checks for header-style numeric fields on the encode path: one
 * comparison each, so a wrong value becomes an error naming the field instead
 * of silently truncated bytes on the wire.
 */
import { OpenFlowEncodeError } from './errors.js';

function bad(what: string, v: unknown, bits: number): never {
  throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `${what}: ${String(v)} is not an unsigned ${bits}-bit integer`, what);
}

export function u8(v: number, what: string): number {
  if ((v & 0xff) !== v) bad(what, v, 8);
  return v;
}

export function u16(v: number, what: string): number {
  if ((v & 0xffff) !== v) bad(what, v, 16);
  return v;
}

export function u32(v: number, what: string): number {
  if (v >>> 0 !== v) bad(what, v, 32);
  return v;
}

export function u64(v: bigint, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) bad(what, v, 64);
  return v;
}
