/**
 * Addresses and CIDR blocks as the bytes a match holds (match.ts, address):
 * parsed once per text and family, whichever fields then match them.
 */
import { ipv4PrefixMask, ipv6PrefixMask, parseIPv4, parseIPv6 } from '@ovs-agent/openflow';

const CACHE_MAX = 50_000;

/** An address or block as bytes: its value (host bits cleared) and, for a block, its mask. */
export interface ParsedAddress {
  readonly value: Uint8Array;
  readonly mask: Uint8Array | undefined;
}

/**
 * Addresses parsed, per family (null: /0; false: not an address), shared by
 * the fields: a port's address is matched as arp_spa and nw_src, its
 * link-local address as ipv6_src and nd_target. Bounded as the parts'
 * caches are.
 */
export type Parsed = ParsedAddress | null | false;
const parsed: [Map<string, Parsed>, Map<string, Parsed>] = [new Map(), new Map()];

export function parsedAddress(v6: boolean, cidr: string): Parsed {
  const cache = parsed[v6 ? 1 : 0];
  let a = cache.get(cidr);
  if (a === undefined) {
    a = parseAddress(v6, cidr);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(cidr, a);
  }
  return a;
}

const PREFIX_LEN = /^\d{1,3}$/;

function parseAddress(v6: boolean, cidr: string): Parsed {
  const slash = cidr.indexOf('/');
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  const bits = v6 ? 128 : 32;
  const lenText = slash < 0 ? undefined : cidr.slice(slash + 1);
  if (lenText !== undefined && !PREFIX_LEN.test(lenText)) return false;
  const len = lenText === undefined ? bits : Number(lenText);
  if (len > bits) return false;
  if (len === 0) return null;
  if (!v6) {
    const v = parseIPv4(addr);
    if (v === undefined) return false;
    const mask = ipv4PrefixMask(len);
    return { value: u32Bytes((v & mask) >>> 0), mask: len === bits ? undefined : u32Bytes(mask) };
  }
  const bytes = parseIPv6(addr);
  if (bytes === undefined) return false;
  if (len === bits) return { value: bytes, mask: undefined };
  const mask = ipv6PrefixMask(len);
  for (let i = 0; i < 16; i++) bytes[i] &= mask[i];
  return { value: bytes, mask };
}

function u32Bytes(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

