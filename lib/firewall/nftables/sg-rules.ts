/**
 * A security-group rule as one nftables rule of its group's chain (the
 * matches Neutron's iptables driver writes, in nft's words), and the
 * address lists of sets and spoof filters without overlaps (an interval set
 * refuses an element inside another).
 */
import type { SecurityGroupRule } from '../../model/index.js';
import { parseCidr } from '../addresses.js';
import { PORT_PROTOCOLS } from '../iptables/protocols.js';
import { ruleProtocol } from '../iptables/sg-rules.js';

/** An address or CIDR as nft takes it: host bits cleared, a host bare. */
export function nftAddress(text: string): string {
  const c = parseCidr(text);
  return c.prefixLen === (c.version === 4 ? 32 : 128) ? c.address : `${c.address}/${c.prefixLen}`;
}

/** The addresses, each once, none inside another (the wider kept), sorted. */
export function coverAddresses(addresses: Iterable<string>): string[] {
  const cidrs = [...new Set([...addresses].map((a) => nftAddress(a)))].map((t) => ({ t, c: parseCidr(t) }));
  cidrs.sort((a, b) => a.c.prefixLen - b.c.prefixLen);
  const out: typeof cidrs = [];
  const hostLen = (v: 4 | 6): number => (v === 4 ? 32 : 128);
  for (const x of cidrs) {
    // Only networks can hold others; hosts (the usual case) are compared with the few networks kept so far.
    const inside = out.some((w) => w.c.prefixLen < hostLen(w.c.version) && w.c.version === x.c.version
      && parseCidr(`${x.c.address}/${w.c.prefixLen}`).address === w.c.address);
    if (!inside) out.push(x);
  }
  return out.map((x) => x.t).sort();
}

/** The set of a remote group's members of one ethertype. */
export const remoteSetName = (sgId: string, ethertype: 'IPv4' | 'IPv6'): string => `rg${ethertype === 'IPv4' ? 4 : 6}-${sgId}`;

/** neutron-lib's IP_PROTOCOL_MAP: every protocol name the Neutron API accepts, by number. */
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4, 'ipv6-encap': 41,
  'ipv6-frag': 44, 'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43, ospf: 89,
  pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};

/**
 * The rule's IP protocol as a number: 0 for any, undefined for a name
 * outside Neutron's table. Numbers because nft resolves a protocol name
 * through the host's /etc/protocols: a name it lacks (or a name iptables
 * spells differently, such as `ax.25`) would make the whole transaction,
 * every port's filter with it, fail on every pass.
 */
export function protocolNumber(rule: SecurityGroupRule): number | undefined {
  const p = (rule.protocol ?? '').toLowerCase();
  if (p === '' || p === 'any') return 0;
  if (/^\d+$/.test(p)) return Number(p) <= 255 ? Number(p) : undefined;
  return PROTOCOL_NUMBERS[p];
}

/**
 * The rule's nft text, or undefined when it names a remote group whose
 * members are not known (Neutron leaves such a rule out too) or a protocol
 * the Neutron API does not accept (left out: the port's traffic of that
 * protocol stays dropped, and the other rules apply).
 */
export function nftRule(rule: SecurityGroupRule, setOf: (sgId: string) => string | undefined): string | undefined {
  const v4 = rule.ethertype === 'IPv4';
  const parts = [v4 ? 'meta nfproto ipv4' : 'meta nfproto ipv6'];
  const dir = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  const ip = v4 ? 'ip' : 'ip6';
  if (rule.remoteGroupId) {
    const set = setOf(rule.remoteGroupId);
    if (set === undefined) return undefined;
    parts.push(`${ip} ${dir} @${set}`);
  } else if (rule.remoteIpPrefix && parseCidr(rule.remoteIpPrefix).prefixLen !== 0) {
    parts.push(`${ip} ${dir} ${nftAddress(rule.remoteIpPrefix)}`);
  }
  const number = protocolNumber(rule);
  if (number === undefined) return undefined;
  const protocol = ruleProtocol(rule);
  // ICMP of the other family matches nothing, and nft refuses its type match in this family's chain.
  if ((protocol === 'icmp' && !v4) || (protocol === 'ipv6-icmp' && v4)) return undefined;
  const min = rule.portRangeMin ?? undefined;
  const max = rule.portRangeMax ?? undefined;
  if (protocol && number !== 0) {
    // IPv6 rules name ICMP as icmp too (ruleProtocol gives ipv6-icmp): the number follows the name it chose.
    parts.push(`meta l4proto ${protocol === 'ipv6-icmp' ? 58 : number}`);
    if (min !== undefined && (protocol === 'icmp' || protocol === 'ipv6-icmp')) {
      const kw = protocol === 'icmp' ? 'icmp' : 'icmpv6';
      parts.push(`${kw} type ${min}`);
      if (max !== undefined) parts.push(`${kw} code ${max}`);
    } else if (min !== undefined && PORT_PROTOCOLS.has(protocol)) {
      parts.push(`th dport ${max === undefined || max === min ? min : `${min}-${max}`}`);
    }
  }
  parts.push('accept');
  return parts.join(' ');
}
