/**
 * Scalar values of the flow syntax: integers the way ovs-ofctl reads them
 * (C `strtoull` base 0: `0x` hex, a leading `0` octal, else decimal),
 * Ethernet, IPv4 and IPv6 addresses, with their masks, and their printed
 * forms as OVS prints them (lib/packets.c, lib/match.c).
 *
 * Parsers return `undefined` on malformed input; callers turn that into a
 * FlowSyntaxError that names the token.
 */
import { formatIpv6, formatMac as formatMacAt } from '../addr.js';

const ZERO = 48;
const NINE = 57;
const LOWER_A = 97;
const LOWER_F = 102;
const UPPER_A = 65;
const UPPER_F = 70;
const LOWER_X = 120;
const UPPER_X = 88;

function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  if (c >= LOWER_A && c <= LOWER_F) return c - LOWER_A + 10;
  if (c >= UPPER_A && c <= UPPER_F) return c - UPPER_A + 10;
  return -1;
}

/**
 * An unsigned integer up to 2^53 - 1, C base-0 syntax. `undefined` if
 * malformed or too large for a double.
 */
export function parseNumber(s: string): number | undefined {
  const n = s.length;
  if (n === 0) return undefined;
  let i = 0;
  let base = 10;
  if (s.charCodeAt(0) === ZERO && n > 1) {
    const x = s.charCodeAt(1);
    if (x === LOWER_X || x === UPPER_X) {
      base = 16;
      i = 2;
      if (n === 2) return undefined;
    } else {
      base = 8;
      i = 1;
    }
  }
  let v = 0;
  for (; i < n; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0 || d >= base) return undefined;
    v = v * base + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : undefined;
}

const U64_MAX = 0xffffffffffffffffn;

/**
 * An unsigned integer, C base-0 syntax, as ovs-ofctl reads one: hexadecimal
 * of any length (fields up to 128 bits), decimal and octal up to 64 bits (it
 * reads those with strtoull), and strtoull's wrap of a negative number to
 * 2^64 - n (`cookie=0x1/-1` is an all-ones mask).
 */
export function parseBig(s: string): bigint | undefined {
  if (s.charCodeAt(0) === 45) {
    const neg = parseBig(s.slice(1));
    return neg === undefined || neg > U64_MAX || neg === 0n ? undefined : (1n << 64n) - neg;
  }
  const n = parseNumber(s);
  if (n !== undefined) return BigInt(n);
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return BigInt(s);
  let v: bigint | undefined;
  if (/^[1-9][0-9]*$/.test(s)) v = BigInt(s);
  else if (/^0[0-7]+$/.test(s)) v = BigInt('0o' + s.slice(1));
  return v !== undefined && v <= U64_MAX ? v : undefined;
}

/** `aa:bb:cc:dd:ee:ff` (one or two hex digits per byte) → 6 bytes. */
export function parseMac(s: string): Uint8Array | undefined {
  const out = new Uint8Array(6);
  let i = 0;
  for (let b = 0; b < 6; b++) {
    if (b > 0) {
      if (s.charCodeAt(i) !== 58) return undefined;
      i++;
    }
    const h = hexDigit(s.charCodeAt(i));
    if (h < 0) return undefined;
    const l = hexDigit(s.charCodeAt(i + 1));
    if (l < 0) {
      out[b] = h;
      i += 1;
    } else {
      out[b] = (h << 4) | l;
      i += 2;
    }
  }
  return i === s.length ? out : undefined;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(b: Uint8Array): string {
  return formatMacAt(b, 0);
}

/** Dotted quad → unsigned 32-bit number. */
export function parseIPv4(s: string): number | undefined {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= ZERO && c <= NINE) {
      part = part * 10 + (c - ZERO);
      if (++digits > 3 || part > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return v * 256 + part;
}

/** Unsigned 32-bit number → dotted quad (the inverse of {@link parseIPv4}). */
export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The 32-bit netmask of a prefix length. */
export function ipv4PrefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The prefix length of a CIDR netmask, or -1 if it is not one. */
export function ipv4MaskLength(mask: number): number {
  const inv = ~mask >>> 0;
  // A CIDR mask's complement is 2^k - 1.
  if (((inv & (inv + 1)) >>> 0) !== 0 && inv !== 0xffffffff) return -1;
  return popcount32(mask >>> 0);
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** OVS's `ip_format_masked`: `a.b.c.d`, `a.b.c.d/N` or `a.b.c.d/m.m.m.m`. */
export function formatIPv4Masked(v: number, mask: number): string {
  const ip = formatIPv4(v);
  if (mask === 0xffffffff) return ip;
  const len = ipv4MaskLength(mask);
  return len >= 0 ? `${ip}/${len}` : `${ip}/${formatIPv4(mask)}`;
}

const COLON = 58;
const DOT = 46;
/** The 16-bit words of the address being parsed (parsing is synchronous, so one scratch array serves every call). */
const IPV6_WORDS = new Uint16Array(8);

/**
 * RFC 4291 text → 16 bytes, including `::` and a trailing dotted quad. One
 * pass over the characters: groups of 1 to 4 hex digits separated by `:`, at
 * most one `::` standing for one or more zero words, a dotted quad only as
 * the last two words.
 */
export function parseIPv6(s: string): Uint8Array | undefined {
  const len = s.length;
  const words = IPV6_WORDS;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (len === 0) return undefined;
  if (s.charCodeAt(0) === COLON) {
    if (len < 2 || s.charCodeAt(1) !== COLON) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    let j = i;
    let v = 0;
    for (let d = j < len ? hexDigit(s.charCodeAt(j)) : -1; d >= 0; d = ++j < len ? hexDigit(s.charCodeAt(j)) : -1) v = v * 16 + d;
    if (j < len && s.charCodeAt(j) === DOT) {
      if (n > 6) return undefined;
      const v4 = parseIPv4(s.slice(i));
      if (v4 === undefined) return undefined;
      words[n++] = v4 >>> 16;
      words[n++] = v4 & 0xffff;
      break;
    }
    if (j === i || j - i > 4 || n === 8) return undefined;
    words[n++] = v;
    if (j === len) break;
    if (s.charCodeAt(j) !== COLON) return undefined;
    if (j + 1 < len && s.charCodeAt(j + 1) === COLON) {
      if (gap >= 0) return undefined;
      gap = n;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === len) return undefined;
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return undefined;
  const out = new Uint8Array(16);
  // Words before the gap, then the ones after it at the end; the gap stays zero.
  const tail = gap < 0 ? n : gap;
  for (let k = 0; k < tail; k++) {
    out[2 * k] = words[k] >> 8;
    out[2 * k + 1] = words[k] & 255;
  }
  for (let k = tail, at = 8 - (n - tail); k < n; k++, at++) {
    out[2 * at] = words[k] >> 8;
    out[2 * at + 1] = words[k] & 255;
  }
  return out;
}

/** The prefix length of a CIDR IPv6 mask, or -1. */
export function ipv6MaskLength(mask: Uint8Array): number {
  let len = 0;
  let k = 0;
  while (k < 16 && mask[k] === 0xff) {
    len += 8;
    k++;
  }
  if (k === 16) return 128;
  const m = mask[k];
  const inv = ~m & 0xff;
  if ((inv & (inv + 1)) !== 0) return -1;
  len += 8 - Math.log2(inv + 1);
  for (k++; k < 16; k++) if (mask[k] !== 0) return -1;
  return len;
}

/** The 16-byte netmask of an IPv6 prefix length. */
export function ipv6PrefixMask(len: number): Uint8Array {
  const m = new Uint8Array(16);
  for (let k = 0; k < 16; k++) {
    const bits = Math.max(0, Math.min(8, len - 8 * k));
    m[k] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return m;
}

/** OVS's `ipv6_format_masked`. */
export function formatIPv6Masked(v: Uint8Array, mask: Uint8Array): string {
  const ip = formatIpv6(v);
  const len = ipv6MaskLength(mask);
  if (len === 128) return ip;
  return len >= 0 ? `${ip}/${len}` : `${ip}/${formatIpv6(mask)}`;
}

export function hexBytes(b: Uint8Array): string {
  let s = '';
  for (let k = 0; k < b.length; k++) s += HEX2[b[k]];
  return s;
}

/** OVS's `ds_put_hex`: `0x` and the bytes without leading zero bytes, `0` when all zero. */
export function formatHexBytes(b: Uint8Array): string {
  let k = 0;
  while (k < b.length && b[k] === 0) k++;
  if (k === b.length) return '0';
  let s = '0x' + b[k].toString(16);
  for (k++; k < b.length; k++) s += HEX2[b[k]];
  return s;
}

export function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + hexBytes(b));
}

export function bigToBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = n - 1; k >= 0; k--) {
    out[k] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
