/**
 * A security-group rule as iptables arguments, as Neutron's driver writes
 * it (in iptables-save's own order: addresses, protocol, ports, set, jump).
 */
import type { SecurityGroupRule } from '../../model/index.js';
import { parseCidr } from '../addresses.js';
import { iptablesProtocol, MULTIPORT_ONLY, PORT_PROTOCOLS, PROTOCOL_MODULE } from './protocols.js';

/** netaddr's `str(IPNetwork(x))`: the address as written (host bits kept, IPv6 compressed), /32 or /128 when bare. */
export function ipToCidr(text: string): string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const c = parseCidr(addr);
  return `${c.address}/${slash < 0 ? (c.version === 4 ? 32 : 128) : Number(text.slice(slash + 1))}`;
}

/** `-s`/`-d` with the prefix; nothing for /0, which constrains nothing. */
function prefixArg(flag: 's' | 'd', prefix: string | undefined): string[] {
  if (!prefix) return [];
  if (!prefix.includes('/')) return [`-${flag}`, ipToCidr(prefix)];
  if (prefix.endsWith('/0')) return [];
  return [`-${flag}`, prefix];
}

/** The protocol a rule of this ethertype names, as iptables spells it (IPv6's icmp is ipv6-icmp). */
export function ruleProtocol(rule: SecurityGroupRule): string | undefined {
  const p = rule.ethertype === 'IPv6' && (rule.protocol === 'icmp' || rule.protocol === 'icmpv6') ? 'ipv6-icmp' : rule.protocol;
  return iptablesProtocol(p);
}

function portArgs(protocol: string | undefined, min: number | undefined, max: number | undefined): string[] {
  if (min === undefined || min === null) return [];
  if (protocol === 'icmp' || protocol === 'ipv6-icmp') {
    const type = protocol === 'ipv6-icmp' ? 'icmpv6' : 'icmp';
    return [`--${type}-type`, max !== undefined && max !== null ? `${min}/${max}` : `${min}`];
  }
  if (protocol !== undefined && PORT_PROTOCOLS.has(protocol)) {
    if (min === max) return MULTIPORT_ONLY.has(protocol) ? ['-m', 'multiport', '--dports', `${min}`] : ['--dport', `${min}`];
    return ['-m', 'multiport', '--dports', `${min}:${max}`];
  }
  return [];
}

/** `-p P [-m P]` and the port or ICMP type arguments. */
export function protocolAndPortArgs(rule: SecurityGroupRule): string[] {
  const protocol = ruleProtocol(rule);
  const args: string[] = [];
  if (protocol) {
    args.push('-p', protocol);
    if (rule.portRangeMin !== undefined && rule.portRangeMin !== null && PROTOCOL_MODULE[protocol]) args.push('-m', PROTOCOL_MODULE[protocol]);
  }
  args.push(...portArgs(protocol, rule.portRangeMin, rule.portRangeMax));
  return args;
}

/**
 * The rule's line in the port's chain: a remote-group rule matches its
 * group's ipset (undefined when the set does not exist: Neutron leaves such
 * a rule out), any other rule its prefix. Remote address groups are not
 * known to Neutron's iptables driver: such a rule is a plain one, as there.
 */
export function sgRuleArgs(rule: SecurityGroupRule, ipsetOf: (sgId: string) => string | undefined): string | undefined {
  if (rule.remoteGroupId) {
    const set = ipsetOf(rule.remoteGroupId);
    if (set === undefined) return undefined;
    return [...protocolAndPortArgs(rule), '-m set', '--match-set', set, rule.direction === 'ingress' ? 'src' : 'dst', '-j RETURN'].join(' ');
  }
  const args = rule.direction === 'ingress' ? prefixArg('s', rule.remoteIpPrefix) : prefixArg('d', rule.remoteIpPrefix);
  return [...args, ...protocolAndPortArgs(rule), '-j RETURN'].join(' ');
}
