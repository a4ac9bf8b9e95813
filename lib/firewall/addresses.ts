/**
 * The few address operations the firewall needs, done the way Neutron's
 * netaddr calls do them: IP version, CIDR normalisation (host bits cleared,
 * RFC 5952 text for IPv6), the EUI-64 link-local address of a MAC.
 */
import { isIPv4, isIPv6 } from 'node:net';

export class AddressError extends Error {
  override readonly name = 'AddressError';
  readonly code = 'FW_BAD_ADDRESS';
}

export type IpVersion = 4 | 6;

function splitPrefix(text: string): [string, string | undefined] {
  const slash = text.indexOf('/');
  return slash < 0 ? [text, undefined] : [text.slice(0, slash), text.slice(slash + 1)];
}

/** 4 or 6 for an address or a CIDR; throws on anything else. */
export function ipVersion(text: string): IpVersion {
  const [addr] = splitPrefix(text);
  if (isIPv4(addr)) return 4;
  if (isIPv6(addr)) return 6;
  throw new AddressError(`not an IP address or CIDR: ${JSON.stringify(text)}`);
}

function parseV6(addr: string): number[] {
  // An embedded dotted quad ("::ffff:1.2.3.4") becomes two groups.
  let a = addr.toLowerCase();
  const lastColon = a.lastIndexOf(':');
  const tail = a.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    a = `${a.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, rest] = a.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  if (rest === undefined) return h;
  const t = rest === '' ? [] : rest.split(':').map((g) => parseInt(g, 16));
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function formatV6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function parsePrefixLen(p: string | undefined, max: number, text: string): number {
  if (p === undefined) return max;
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new AddressError(`bad prefix length in ${JSON.stringify(text)}`);
  return Number(p);
}

export interface Cidr {
  version: IpVersion;
  /** Network address text (host bits cleared). */
  address: string;
  prefixLen: number;
}

/** Parses an address or CIDR and clears the host bits (netaddr's `IPNetwork(x).cidr`). */
export function parseCidr(text: string): Cidr {
  const [addr, p] = splitPrefix(text.trim());
  if (isIPv4(addr)) {
    const prefixLen = parsePrefixLen(p, 32, text);
    const o = addr.split('.').map(Number);
    let v = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
    v = prefixLen === 0 ? 0 : (v & (0xffffffff << (32 - prefixLen))) >>> 0;
    return { version: 4, address: `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`, prefixLen };
  }
  if (isIPv6(addr)) {
    const prefixLen = parsePrefixLen(p, 128, text);
    const g = parseV6(addr);
    for (let i = 0; i < 8; i++) {
      const bits = Math.min(16, Math.max(0, prefixLen - i * 16));
      g[i] = bits === 0 ? 0 : g[i] & ((0xffff << (16 - bits)) & 0xffff);
    }
    return { version: 6, address: formatV6(g), prefixLen };
  }
  throw new AddressError(`not an IP address or CIDR: ${JSON.stringify(text)}`);
}

/** `a.b.c.d/n` with host bits cleared; a bare address gets /32 or /128. */
export function normalizeCidr(text: string): string {
  const c = parseCidr(text);
  return `${c.address}/${c.prefixLen}`;
}

/** An address as written in a match: a bare host stays bare, a network becomes its normalised CIDR. */
export function matchAddress(text: string): string {
  const c = parseCidr(text);
  const host = c.version === 4 ? 32 : 128;
  return c.prefixLen === host ? c.address : `${c.address}/${c.prefixLen}`;
}

/** True for 0.0.0.0/0 and ::/0 (in any spelling): Neutron ignores such prefixes in rules. */
export function isAnyPrefix(text: string): boolean {
  return parseCidr(text).prefixLen === 0;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lowercase `aa:bb:cc:dd:ee:ff`; throws on anything else. */
export function normalizeMac(text: string): string {
  const m = text.trim().toLowerCase().replace(/-/g, ':');
  if (!MAC_RE.test(m)) throw new AddressError(`not a MAC address: ${JSON.stringify(text)}`);
  return m;
}

/** The EUI-64 IPv6 link-local address of a MAC (fe80::/64), as netaddr prints it. */
export function linkLocalFromMac(mac: string): string {
  const b = normalizeMac(mac).split(':').map((x) => parseInt(x, 16));
  const groups = [0xfe80, 0, 0, 0, ((b[0] ^ 0x02) << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]];
  return formatV6(groups);
}
