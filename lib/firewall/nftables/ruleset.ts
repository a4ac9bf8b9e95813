/**
 * The nftables ruleset of the hybrid driver's nftables backend, computed
 * from the ports and groups alone (no I/O): Neutron's iptables rules
 * (docs/firewall.md, "iptables_hybrid") in nft's own structures, so 1,000
 * ports cost a few thousand set elements instead of 20,000 rules:
 *
 * - table bridge: a frame a filtered port's tap sends gets one mark bit (the
 *   bridge hook knows the tap; the inet hooks br_netfilter runs next only
 *   see the port's own bridge qbr, for both directions);
 * - table inet: the port's conntrack zone by its qbr (a map), the spoof
 *   filter as ONE set of (qbr, MAC, source) for all ports, the ports'
 *   ingress and egress chains as verdict maps from the qbr to a chain shared
 *   by every port with the same groups, one chain per group and direction
 *   with its rules, remote groups' members as sets.
 */
import type { SecurityGroupRule } from '../../model/index.js';
import { ipVersion, linkLocalFromMac, normalizeMac } from '../addresses.js';
import { deviceName } from '../iptables/names.js';
import { portIsStateful, type GroupsView, type HybridPort } from '../iptables/port-chains.js';
import { coverAddresses, nftAddress, nftRule } from './sg-rules.js';

/** The agent's table, in both families; nothing else of the host's is touched. */
export const NFT_TABLE = 'ovs_agent_hybrid';
/** The mark bit of frames sent by a filtered port's tap (cleared where it is read). */
export const EGRESS_MARK = 0x10000000;
const NOT_MARK = (~EGRESS_MARK >>> 0).toString(16);
const MARK = EGRESS_MARK.toString(16);

/** A remote group's set: its type and members (nft text). */
export interface NftSet {
  family: 4 | 6;
  members: string[];
}

export interface NftRuleset {
  /** Everything but the remote groups' members, as `nft -f` text defining both tables. */
  structure: string;
  /** Remote-group sets by name. */
  sets: Map<string, NftSet>;
}

/** A port the backend no pass has named yet (agent restart): its zone and taps kept, its established connections only. */
export interface HeldPort {
  key: string;
  zone?: number;
}

const ANY_MAC = '00:00:00:00:00:00-ff:ff:ff:ff:ff:ff';

function chainKey(sgs: readonly string[]): string {
  return [...new Set(sgs)].sort().join('+') || 'none';
}

/** The (qbr . MAC . source) elements of a port's spoof filter, per family (Neutron's pairs: address pairs, fixed IPs, IPv6 link-local). */
function pairElements(port: HybridPort, qbr: string): { v4: string[]; v6: string[] } {
  const by = { v4: new Map<string, string[]>(), v6: new Map<string, string[]>() };
  const add = (fam: 'v4' | 'v6', mac: string, ip: string): void => {
    const l = by[fam].get(mac) ?? [];
    l.push(ip);
    by[fam].set(mac, l);
  };
  for (const [macText, ip] of [...port.allowedAddressPairs.map((p) => [p.macAddress || port.macAddress, p.ipAddress]), ...port.fixedIps.map((ip) => [port.macAddress, ip])]) {
    const mac = normalizeMac(macText);
    if (ipVersion(ip.split('/')[0]) === 4) add('v4', mac, ip);
    else {
      add('v6', mac, ip);
      add('v6', mac, linkLocalFromMac(mac));
    }
  }
  const mac = normalizeMac(port.macAddress);
  const out = { v4: [] as string[], v6: [] as string[] };
  for (const fam of ['v4', 'v6'] as const) {
    for (const [m, ips] of by[fam]) for (const ip of coverAddresses(ips)) out[fam].push(`"${qbr}" . ${m} . ${nftAddress(ip)}`);
    // No fixed IP: the MAC alone (any source); no pair of this family but fixed IPs of the other: no spoof filter (as Neutron).
    if (!port.fixedIps.length) out[fam].push(`"${qbr}" . ${mac} . ${fam === 'v4' ? '0.0.0.0/0' : '::/0'}`);
    else if (!out[fam].length) out[fam].push(`"${qbr}" . ${ANY_MAC} . ${fam === 'v4' ? '0.0.0.0/0' : '::/0'}`);
  }
  return out;
}

const elements = (items: readonly string[]): string => (items.length ? ` elements = { ${items.join(', ')} };` : '');

/** The group's rules of one direction, each once, as nft rules. */
function groupRules(rules: readonly SecurityGroupRule[], direction: 'ingress' | 'egress', groups: GroupsView): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    if (r.direction !== direction) continue;
    const line = nftRule(r, (sg) => groups.ipset(sg, r.ethertype));
    if (line !== undefined) out.add(line);
  }
  return [...out];
}

/**
 * The whole ruleset. `zoneOf` gives a filtered port's zone; `sets` the
 * remote-group members wanted (by set name); `held` ports of an earlier
 * ruleset no pass has named yet.
 */
export function buildNftRuleset(ports: Iterable<HybridPort>, groups: GroupsView, zoneOf: (portId: string) => number,
  sets: Map<string, NftSet>, held: readonly HeldPort[] = []): NftRuleset {
  const filtered = [...ports].filter((p) => p.portSecurityEnabled).sort((a, b) => (a.portId < b.portId ? -1 : a.portId > b.portId ? 1 : 0));
  const taps: string[] = [];
  const zones: string[] = [];
  const notrack: string[] = [];
  const pairs4: string[] = [];
  const pairs6: string[] = [];
  const egress: string[] = [];
  const ingress: string[] = [];
  const classes = new Map<string, string[]>();
  for (const p of filtered) {
    const qbr = deviceName('qbr', p.portId);
    taps.push(`"${deviceName('tap', p.portId)}"`);
    if (portIsStateful(p, groups)) zones.push(`"${qbr}" : ${zoneOf(p.portId)}`);
    else notrack.push(`"${qbr}"`);
    const pe = pairElements(p, qbr);
    pairs4.push(...pe.v4);
    pairs6.push(...pe.v6);
    const k = chainKey(p.securityGroups);
    classes.set(k, [...new Set(p.securityGroups)].sort());
    egress.push(`"${qbr}" : goto eg-${k}`);
    ingress.push(`"${qbr}" : goto in-${k}`);
  }
  for (const h of held) {
    const qbr = `qbr${h.key}`;
    if (filtered.some((p) => deviceName('qbr', p.portId) === qbr)) continue;
    taps.push(`"tap${h.key}"`);
    if (h.zone !== undefined) zones.push(`"${qbr}" : ${h.zone}`);
    egress.push(`"${qbr}" : goto held_port`);
    ingress.push(`"${qbr}" : goto held_port`);
  }
  const L: string[] = [];
  L.push(`table inet ${NFT_TABLE} {`);
  for (const [name, s] of sets) L.push(`  set ${name} { type ${s.family === 4 ? 'ipv4_addr' : 'ipv6_addr'}; flags interval; }`);
  L.push(`  map ct_zones { typeof iifname : ct zone;${elements(zones)} }`);
  L.push(`  set stateless { typeof iifname;${elements(notrack)} }`);
  L.push(`  set spoof4 { typeof iifname . ether saddr . ip saddr; flags interval;${elements(pairs4)} }`);
  L.push(`  set spoof6 { typeof iifname . ether saddr . ip6 saddr; flags interval;${elements(pairs6)} }`);
  L.push(`  map port_eg { typeof iifname : verdict;${elements(egress)} }`);
  L.push(`  map port_in { typeof iifname : verdict;${elements(ingress)} }`);
  L.push('  chain set_zone { type filter hook prerouting priority raw; policy accept;', '    iifname @stateless notrack', '    ct zone set iifname map @ct_zones', '  }');
  // A frame from a filtered tap: its mark bit cleared, then its port's egress chain; any other frame on a qbr of ours: the ingress chain.
  L.push('  chain filter_forward { type filter hook forward priority filter; policy accept;',
    `    meta mark & 0x${MARK} == 0x${MARK} meta mark set meta mark & 0x${NOT_MARK} iifname vmap @port_eg`,
    '    iifname vmap @port_in', '  }');
  L.push('  chain filter_input { type filter hook input priority filter; policy accept;',
    `    meta mark & 0x${MARK} == 0x${MARK} meta mark set meta mark & 0x${NOT_MARK} iifname vmap @port_eg`, '  }');
  L.push('  chain held_port {', '    ct state established,related accept', '    drop', '  }');
  L.push('  chain egress-pre {',
    '    ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept',
    '    ip6 saddr :: ip6 daddr ff02::/16 icmpv6 type { 131, 135, 143 } accept',
    '    meta nfproto ipv4 iifname . ether saddr . ip saddr != @spoof4 drop',
    '    meta nfproto ipv6 iifname . ether saddr . ip6 saddr != @spoof6 drop',
    '    meta nfproto ipv4 udp sport 68 udp dport 67 accept',
    '    meta nfproto ipv4 udp sport 67 udp dport 68 drop',
    '    icmpv6 type 134 drop',
    '    meta l4proto ipv6-icmp accept',
    '    meta nfproto ipv6 udp sport 546 udp dport 547 accept',
    '    meta nfproto ipv6 udp sport 547 udp dport 546 drop',
    '  }');
  const used = new Set<string>();
  for (const [k, sgs] of classes) {
    L.push(`  chain eg-${k} {`, '    jump egress-pre', '    ct state established,related accept');
    for (const sg of sgs) L.push(`    jump sg-e-${sg}`);
    L.push('    ct state invalid drop', '    drop', '  }');
    L.push(`  chain in-${k} {`, '    icmpv6 type { 130, 135, 136 } accept', '    ct state established,related accept');
    for (const sg of sgs) L.push(`    jump sg-i-${sg}`);
    L.push('    ct state invalid drop', '    drop', '  }');
    for (const sg of sgs) used.add(sg);
  }
  for (const sg of [...used].sort()) {
    const rules = groups.rules(sg);
    L.push(`  chain sg-e-${sg} {`, ...groupRules(rules, 'egress', groups).map((r) => `    ${r}`), '  }');
    L.push(`  chain sg-i-${sg} {`, ...groupRules(rules, 'ingress', groups).map((r) => `    ${r}`), '  }');
  }
  L.push('}');
  L.push(`table bridge ${NFT_TABLE} {`, `  set taps { typeof iifname;${elements([...new Set(taps)])} }`,
    '  chain mark_tap { type filter hook prerouting priority filter; policy accept;',
    `    ether type { ip, ip6 } iifname @taps meta mark set meta mark | 0x${MARK}`, '  }', '}');
  return { structure: L.join('\n') + '\n', sets };
}
