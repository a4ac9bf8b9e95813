/**
 * The few address operations the firewall needs, done the way Neutron's
 * netaddr calls do them: IP version, CIDR normalisation (host bits cleared,
 * IPv6 printed as inet_ntop and OVS print it), the EUI-64 link-local address of a MAC.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv6 } from '@ovs-agent/openflow';
import { parseIPv6 } from '@ovs-agent/openflow';

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
    // node:net also accepts a zone ("fe80::1%eth0"), which no prefix has.
    const b = parseIPv6(addr);
    if (!b) throw new AddressError(`not an IP address or CIDR: ${JSON.stringify(text)}`);
    for (let i = 0; i < 16; i++) {
      const bits = Math.min(8, Math.max(0, prefixLen - i * 8));
      b[i] &= (0xff << (8 - bits)) & 0xff;
    }
    return { version: 6, address: formatIpv6(b), prefixLen };
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
  return formatIpv6(Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]));
}
