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

/**
 * The rule's nft text, or undefined when it names a remote group whose
 * members are not known (Neutron leaves such a rule out too).
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
  const protocol = ruleProtocol(rule);
  const min = rule.portRangeMin ?? undefined;
  const max = rule.portRangeMax ?? undefined;
  if (protocol) {
    parts.push(`meta l4proto ${protocol}`);
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
