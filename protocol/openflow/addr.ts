/**
 * Text <-> wire for MAC, IPv4 and IPv6 addresses, writing straight into the
 * output buffer (no intermediate arrays on the encode path).
 */
import { OpenFlowEncodeError } from './errors.js';

/** Hex digit values by character code (-1: not a hex digit); a table beats three range tests per character. */
const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[97 + i] = 10 + i;
    t[65 + i] = 10 + i;
  }
  return t;
})();

function hexVal(c: number): number {
  return c < 256 ? HEX_VALUE[c] : -1;
}

function bad(kind: string, s: unknown, field?: string): never {
  throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `${field ?? 'value'}: ${JSON.stringify(s)} is not a valid ${kind}`, field);
}

/** Writes "aa:bb:cc:dd:ee:ff" as 6 bytes at `at`. */
export function writeMac(buf: Buffer, at: number, s: string, field?: string): void {
  if (typeof s !== 'string' || s.length !== 17) bad('MAC address', s, field);
  for (let i = 0; i < 6; i++) {
    const p = i * 3;
    const hi = hexVal(s.charCodeAt(p));
    const lo = hexVal(s.charCodeAt(p + 1));
    if (hi < 0 || lo < 0 || (i < 5 && s.charCodeAt(p + 2) !== 58)) bad('MAC address', s, field);
    buf[at + i] = (hi << 4) | lo;
  }
}

/** Character codes of the lowercase hex digits. */
const HEX_CHAR = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const COLON = 58;

/**
 * "aa:bb:cc:dd:ee:ff" for the 6 bytes at `at`, built as one flat string in
 * one call: concatenating the pieces costs about ten times more (a chain of
 * intermediate strings the engine flattens later).
 */
export function formatMac(buf: Uint8Array, at: number): string {
  const a = buf[at];
  const b = buf[at + 1];
  const c = buf[at + 2];
  const d = buf[at + 3];
  const e = buf[at + 4];
  const f = buf[at + 5];
  const h = HEX_CHAR;
  return String.fromCharCode(
    h[a >> 4], h[a & 15], COLON, h[b >> 4], h[b & 15], COLON, h[c >> 4], h[c & 15], COLON,
    h[d >> 4], h[d & 15], COLON, h[e >> 4], h[e & 15], COLON, h[f >> 4], h[f & 15],
  );
}

/** Writes dotted-quad IPv4 as 4 bytes at `at`. */
export function writeIpv4(buf: Buffer, at: number, s: string, field?: string): void {
  if (typeof s !== 'string') bad('IPv4 address', s, field);
  let part = 0;
  let val = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (val < 0 || part > 3) bad('IPv4 address', s, field);
      buf[at + part++] = val;
      val = -1;
    } else if (c >= 48 && c <= 57) {
      val = (val < 0 ? 0 : val * 10) + (c - 48);
      if (val > 255) bad('IPv4 address', s, field);
    } else {
      bad('IPv4 address', s, field);
    }
  }
  if (part !== 4) bad('IPv4 address', s, field);
}

/** Formats the 4 bytes at `at` as a dotted quad. */
export function formatIpv4(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** Writes an IPv6 address (any RFC 4291 text form, including an embedded IPv4 tail) as 16 bytes. */
export function writeIpv6(buf: Buffer, at: number, s: string, field?: string): void {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) bad('IPv6 address', s, field);
  const words: number[] = [];
  let gap = -1;
  const parts = s.split(':');
  // A leading or trailing "::" yields two empty parts; collapse them.
  let start = 0;
  let end = parts.length;
  if (parts[0] === '' && parts[1] === '') start = 1;
  if (parts[end - 1] === '' && parts[end - 2] === '') end -= 1;
  for (let i = start; i < end; i++) {
    const p = parts[i];
    if (p === '') {
      if (gap >= 0) bad('IPv6 address', s, field);
      gap = words.length;
      continue;
    }
    if (i === end - 1 && p.includes('.')) {
      const tmp = Buffer.alloc(4);
      writeIpv4(tmp, 0, p, field);
      words.push((tmp[0] << 8) | tmp[1], (tmp[2] << 8) | tmp[3]);
      continue;
    }
    if (p.length > 4) bad('IPv6 address', s, field);
    let w = 0;
    for (let j = 0; j < p.length; j++) {
      const v = hexVal(p.charCodeAt(j));
      if (v < 0) bad('IPv6 address', s, field);
      w = (w << 4) | v;
    }
    words.push(w);
  }
  if (gap < 0 ? words.length !== 8 : words.length > 7) bad('IPv6 address', s, field);
  const fill = 8 - words.length;
  let k = 0;
  for (let i = 0; i < 8; i++) {
    let w: number;
    if (gap >= 0 && i >= gap && i < gap + fill) w = 0;
    else w = words[k++];
    buf[at + i * 2] = w >> 8;
    buf[at + i * 2 + 1] = w & 0xff;
  }
}

const IPV6_FORMAT_WORDS = new Uint16Array(8);

/**
 * IPv6 text as inet_ntop (glibc) and so OVS print it: lowercase, leading
 * zeros dropped, the longest run of two or more zero words as `::`, and an
 * IPv4-compatible or -mapped address ending in a dotted quad. The one
 * formatter of the project: the codec's decoded values, the text view and
 * the firewall's normalised prefixes all read the same way, and writeIpv6
 * reads every form back.
 */
export function formatIpv6(buf: Uint8Array, at = 0): string {
  const w = IPV6_FORMAT_WORDS;
  for (let i = 0; i < 8; i++) w[i] = (buf[at + i * 2] << 8) | buf[at + i * 2 + 1];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    if (i === 6 && bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += `${buf[at + 12]}.${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}`;
      break;
    }
    s += w[i].toString(16);
  }
  return s;
}
