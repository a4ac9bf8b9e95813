/**
 * One port's chains, as Neutron's hybrid driver builds them: ingress (`i`),
 * egress (`o`) and the spoof filter (`s`, the MAC/IP pairs the port may send
 * from), for IPv4 and IPv6 (docs/firewall.md, "iptables_hybrid").
 */
import type { AddressPair, SecurityGroupRule } from '../../model/index.js';
import { ipVersion, linkLocalFromMac, normalizeMac } from '../addresses.js';
import type { Ethertype } from '../rules.js';
import { C, commented } from './comments.js';
import { portChain, wrapped } from './names.js';
import { ipToCidr, sgRuleArgs } from './sg-rules.js';

/** What the driver knows of a port (FirewallPort plus the device owner). */
export interface HybridPort {
  portId: string;
  macAddress: string;
  fixedIps: string[];
  allowedAddressPairs: AddressPair[];
  securityGroups: string[];
  portSecurityEnabled: boolean;
  deviceOwner?: string;
}

/** The security groups, as the generator reads them. */
export interface GroupsView {
  rules(sgId: string): readonly SecurityGroupRule[];
  /** False for a stateless group. */
  stateful(sgId: string): boolean;
  /** The ipset holding a group's members of this ethertype, if it exists. */
  ipset(sgId: string, ethertype: Ethertype): string | undefined;
}

/** A chain's rules, each as iptables-save prints it after `-A <chain>`. */
export type ChainRules = string[];

export interface FamilyChains {
  i: ChainRules;
  o: ChainRules;
  /** Absent when the port has no MAC/IP pair of this family (Neutron adds no spoof filter then). */
  s?: ChainRules;
}

export interface PortChains {
  v4: FamilyChains;
  v6: FamilyChains;
}

/** ICMPv6 types the port may receive before any rule: MLD query, neighbour solicitation and advertisement. */
const ICMPV6_INGRESS = [130, 135, 136];
/** ICMPv6 types it may send from `::` for duplicate address detection: MLD report, NS, MLDv2 report. */
const ICMPV6_UNSPEC = [131, 135, 143];
const ICMPV6_RA = 134;

const upperMac = (mac: string): string => normalizeMac(mac).toUpperCase();

/** (MAC, IP or undefined) pairs per family: pairs first, then fixed IPs; IPv6 adds each MAC's link-local address once. */
function macIpPairs(port: HybridPort): { v4: Array<[string, string | undefined]>; v6: Array<[string, string | undefined]> } {
  const v4: Array<[string, string | undefined]> = [];
  const v6: Array<[string, string | undefined]> = [];
  const add = (macText: string, ip: string): void => {
    const mac = upperMac(macText);
    if (ipVersion(ip) === 4) {
      v4.push([mac, ip]);
      return;
    }
    v6.push([mac, ip]);
    const lla = linkLocalFromMac(mac);
    if (!v6.some(([m, a]) => m === mac && a === lla)) v6.push([mac, lla]);
  };
  for (const p of port.allowedAddressPairs) add(p.macAddress || port.macAddress, p.ipAddress);
  for (const ip of port.fixedIps) add(port.macAddress, ip);
  if (!port.fixedIps.length) {
    v4.push([upperMac(port.macAddress), undefined]);
    v6.push([upperMac(port.macAddress), undefined]);
  }
  return { v4, v6 };
}

function spoofChain(pairs: Array<[string, string | undefined]>): ChainRules | undefined {
  if (!pairs.length) return undefined;
  const rules = pairs.map(([mac, ip]) => commented(ip === undefined ? `-m mac --mac-source ${mac} -j RETURN` : `-s ${ipToCidr(ip)} -m mac --mac-source ${mac} -j RETURN`, C.PAIR_ALLOW));
  rules.push(commented('-j DROP', C.PAIR_DROP));
  return rules;
}

/** Established first, the rules (duplicates across groups once), invalid dropped, the rest to the fallback chain. */
function ruleLines(rules: readonly SecurityGroupRule[], ethertype: Ethertype, groups: GroupsView): ChainRules {
  const out = [commented('-m state --state RELATED,ESTABLISHED -j RETURN', C.ALLOW_ASSOC)];
  const seen = new Set<string>();
  for (const r of rules) {
    const line = sgRuleArgs(r, (sg) => groups.ipset(sg, ethertype));
    if (line === undefined || seen.has(line)) continue;
    seen.add(line);
    out.push(line);
  }
  out.push(commented('-m state --state INVALID -j DROP', C.INVALID_DROP));
  out.push(commented(`-j ${wrapped('sg-fallback')}`, C.UNMATCHED));
  return out;
}

function selectRules(port: HybridPort, groups: GroupsView, direction: 'ingress' | 'egress'): { v4: SecurityGroupRule[]; v6: SecurityGroupRule[] } {
  const v4: SecurityGroupRule[] = [];
  const v6: SecurityGroupRule[] = [];
  for (const sg of port.securityGroups) {
    for (const r of groups.rules(sg)) {
      if (r.direction !== direction) continue;
      (r.ethertype === 'IPv4' ? v4 : v6).push(r);
    }
  }
  return { v4, v6 };
}

/** A filtered port's chains (one whose port security is on). */
export function portChains(port: HybridPort, groups: GroupsView): PortChains {
  const pairs = macIpPairs(port);
  const s4 = spoofChain(pairs.v4);
  const s6 = spoofChain(pairs.v6);
  const egress = selectRules(port, groups, 'egress');
  const ingress = selectRules(port, groups, 'ingress');

  const o4 = [commented('-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN', C.DHCP_CLIENT)];
  if (s4) o4.push(`-j ${portChain('s', port.portId)}`);
  o4.push(commented('-p udp -m udp --sport 68 --dport 67 -j RETURN', C.DHCP_CLIENT));
  o4.push(commented('-p udp -m udp --sport 67 --dport 68 -j DROP', C.DHCP_SPOOF));
  o4.push(...ruleLines(egress.v4, 'IPv4', groups));

  const o6 = ICMPV6_UNSPEC.map((t) => commented(`-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`, C.IPV6_ICMP_ALLOW));
  if (s6) o6.push(`-j ${portChain('s', port.portId)}`);
  o6.push(commented(`-p ipv6-icmp -m icmp6 --icmpv6-type ${ICMPV6_RA} -j DROP`, C.IPV6_RA_DROP));
  o6.push(commented('-p ipv6-icmp -j RETURN', C.IPV6_ICMP_ALLOW));
  o6.push(commented('-p udp -m udp --sport 546 --dport 547 -j RETURN', C.DHCP_CLIENT));
  o6.push(commented('-p udp -m udp --sport 547 --dport 546 -j DROP', C.DHCP_SPOOF));
  o6.push(...ruleLines(egress.v6, 'IPv6', groups));

  const i4 = ruleLines(ingress.v4, 'IPv4', groups);
  const i6 = [...ICMPV6_INGRESS.map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`), ...ruleLines(ingress.v6, 'IPv6', groups)];
  return { v4: { i: i4, o: o4, ...(s4 ? { s: s4 } : {}) }, v6: { i: i6, o: o6, ...(s6 ? { s: s6 } : {}) } };
}

/**
 * Whether the port's connections are tracked: Neutron looks at the first
 * rule of the port's first group (none, or a network-owned port: stateful).
 */
export function portIsStateful(port: HybridPort, groups: GroupsView): boolean {
  if (port.deviceOwner?.startsWith('network:') || port.deviceOwner?.startsWith('neutron:')) return true;
  const first = port.securityGroups[0];
  if (first === undefined || !groups.rules(first).length) return true;
  return groups.stateful(first);
}
