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
import { coverAddresses, nftRule } from './sg-rules.js';

/** The agent's table, in both families; nothing else of the host's is touched. */
export const NFT_TABLE = 'ovs_agent_hybrid';
/** The mark bit of frames sent by a filtered port's tap (cleared where it is read). */
export const EGRESS_MARK = 0x10000000;
const NOT_MARK = (~EGRESS_MARK >>> 0).toString(16);
const MARK = EGRESS_MARK.toString(16);

/** A remote group's set: its family, members (nft text), and whether it holds networks (an interval set) or hosts. */
export interface NftSet {
  family: 4 | 6;
  members: string[];
  interval: boolean;
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

/** One filtered port's elements of the shared sets and maps (nft text), per family where it applies. */
export interface PortElements {
  tap: string;
  zone?: string;
  stateless?: string;
  /** (qbr . MAC . host) pairs: a hash set. */
  spoof: Record<4 | 6, string[]>;
  /** (qbr . MAC . network) pairs, or the MAC from any address: an interval set. */
  spoofNet: Record<4 | 6, string[]>;
  /** The qbr when the family is not checked (no pair of it). */
  noSpoof: Record<4 | 6, string | undefined>;
  groups: string[];
  egress: string;
  ingress: string;
}

const isHost = (cidr: string): boolean => !cidr.includes('/');

function chainKey(sgs: readonly string[]): string {
  return [...new Set(sgs)].sort().join('+') || 'none';
}

/** A filtered port's elements: zone or notrack, spoof filter (Neutron's pairs: address pairs, fixed IPs, IPv6 link-local), chains. */
export function portElements(port: HybridPort, stateful: boolean, zone: number): PortElements {
  const qbr = deviceName('qbr', port.portId);
  const by: Record<4 | 6, Map<string, string[]>> = { 4: new Map(), 6: new Map() };
  const add = (fam: 4 | 6, mac: string, ip: string): void => {
    const l = by[fam].get(mac) ?? [];
    l.push(ip);
    by[fam].set(mac, l);
  };
  for (const [macText, ip] of [...port.allowedAddressPairs.map((p) => [p.macAddress || port.macAddress, p.ipAddress]), ...port.fixedIps.map((ip) => [port.macAddress, ip])]) {
    const mac = normalizeMac(macText);
    if (ipVersion(ip.split('/')[0]) === 4) add(4, mac, ip);
    else {
      add(6, mac, ip);
      add(6, mac, linkLocalFromMac(mac));
    }
  }
  const k = chainKey(port.securityGroups);
  const out: PortElements = {
    tap: `"${deviceName('tap', port.portId)}"`, spoof: { 4: [], 6: [] }, spoofNet: { 4: [], 6: [] }, noSpoof: { 4: undefined, 6: undefined },
    groups: [...new Set(port.securityGroups)].sort(), egress: `"${qbr}" : goto eg-${k}`, ingress: `"${qbr}" : goto in-${k}`,
  };
  if (stateful) out.zone = `"${qbr}" : ${zone}`;
  else out.stateless = `"${qbr}"`;
  for (const fam of [4, 6] as const) {
    for (const [m, ips] of by[fam]) for (const ip of coverAddresses(ips)) (isHost(ip) ? out.spoof : out.spoofNet)[fam].push(`"${qbr}" . ${m} . ${ip}`);
    // No fixed IP: the MAC alone (any source); no pair of this family but fixed IPs of the other: no spoof filter (as Neutron).
    if (!port.fixedIps.length) out.spoofNet[fam].push(`"${qbr}" . ${normalizeMac(port.macAddress)} . ${fam === 4 ? '0.0.0.0/0' : '::/0'}`);
    else if (!by[fam].size) out.noSpoof[fam] = `"${qbr}"`;
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
    if (line === undefined) continue;
    out.add(line);
    // Its members' networks are in a second set (an interval set), matched by the same rule.
    if (r.remoteGroupId) out.add(line.replace(/ @rg([46])-/, ' @rg$1n-'));
  }
  return [...out];
}

/**
 * The whole ruleset. `zoneOf` gives a filtered port's zone; `sets` the
 * remote-group members wanted (by set name); `held` ports of an earlier
 * ruleset no pass has named yet; `elementsOf` may hand back a port's
 * elements from a cache.
 */
export function buildNftRuleset(ports: Iterable<HybridPort>, groups: GroupsView, zoneOf: (portId: string) => number,
  sets: Map<string, NftSet>, held: readonly HeldPort[] = [],
  elementsOf: (p: HybridPort) => PortElements = (p) => portElements(p, portIsStateful(p, groups), zoneOf(p.portId))): NftRuleset {
  const filtered = [...ports].filter((p) => p.portSecurityEnabled).sort((a, b) => (a.portId < b.portId ? -1 : a.portId > b.portId ? 1 : 0));
  const taps: string[] = [];
  const zones: string[] = [];
  const notrack: string[] = [];
  const spoof: Record<'4' | '6' | '4n' | '6n', string[]> = { 4: [], 6: [], '4n': [], '6n': [] };
  const noSpoof: Record<4 | 6, string[]> = { 4: [], 6: [] };
  const egress: string[] = [];
  const ingress: string[] = [];
  const classes = new Map<string, string[]>();
  const named = new Set<string>();
  for (const p of filtered) {
    const e = elementsOf(p);
    named.add(e.tap);
    taps.push(e.tap);
    if (e.zone) zones.push(e.zone);
    if (e.stateless) notrack.push(e.stateless);
    for (const fam of [4, 6] as const) {
      for (const x of e.spoof[fam]) spoof[fam].push(x);
      for (const x of e.spoofNet[fam]) spoof[`${fam}n`].push(x);
      if (e.noSpoof[fam]) noSpoof[fam].push(e.noSpoof[fam]!);
    }
    classes.set(chainKey(e.groups), e.groups);
    egress.push(e.egress);
    ingress.push(e.ingress);
  }
  for (const h of held) {
    const qbr = `qbr${h.key}`;
    if (named.has(`"tap${h.key}"`)) continue;
    taps.push(`"tap${h.key}"`);
    if (h.zone !== undefined) zones.push(`"${qbr}" : ${h.zone}`);
    egress.push(`"${qbr}" : goto held_port`);
    ingress.push(`"${qbr}" : goto held_port`);
  }
  const L: string[] = [];
  L.push(`table inet ${NFT_TABLE} {`);
  for (const [name, s] of sets) L.push(`  set ${name} { type ${s.family === 4 ? 'ipv4_addr' : 'ipv6_addr'};${s.interval ? ' flags interval;' : ''} }`);
  L.push(`  map ct_zones { typeof iifname : ct zone;${elements(zones)} }`);
  L.push(`  set stateless { typeof iifname;${elements(notrack)} }`);
  // Hosts in hash sets, networks in interval sets: 1,000 ports' interval elements cost nft (and the kernel) far more.
  L.push(`  set spoof4 { typeof iifname . ether saddr . ip saddr;${elements(spoof[4])} }`);
  L.push(`  set spoof4n { typeof iifname . ether saddr . ip saddr; flags interval;${elements(spoof['4n'])} }`);
  L.push(`  set nospoof4 { typeof iifname;${elements(noSpoof[4])} }`);
  L.push(`  set spoof6 { typeof iifname . ether saddr . ip6 saddr;${elements(spoof[6])} }`);
  L.push(`  set spoof6n { typeof iifname . ether saddr . ip6 saddr; flags interval;${elements(spoof['6n'])} }`);
  L.push(`  set nospoof6 { typeof iifname;${elements(noSpoof[6])} }`);
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
    '    meta nfproto ipv4 iifname != @nospoof4 iifname . ether saddr . ip saddr != @spoof4 iifname . ether saddr . ip saddr != @spoof4n drop',
    '    meta nfproto ipv6 iifname != @nospoof6 iifname . ether saddr . ip6 saddr != @spoof6 iifname . ether saddr . ip6 saddr != @spoof6n drop',
    '    meta nfproto ipv4 udp sport 68 udp dport 67 accept',
    '    meta nfproto ipv4 udp sport 67 udp dport 68 drop',
    '    icmpv6 type 134 drop',
    '    meta l4proto 58 accept',
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
    // A frame coming in from br-int (through qvb) may carry the bit already, set by whatever marked it in the
    // same namespace (a veth keeps the mark): it would pass as the port's egress, past its ingress rules.
    `    iifname "qvb*" meta mark & 0x${MARK} == 0x${MARK} meta mark set meta mark & 0x${NOT_MARK}`,
    `    ether type { ip, ip6 } iifname @taps meta mark set meta mark | 0x${MARK}`, '  }', '}');
  return { structure: L.join('\n') + '\n', sets };
}
