/**
 * Protocol names as iptables wants them, as Neutron's driver picks them:
 * neutron-lib's table, overridden by the host's /etc/protocols (read once),
 * numbers looked up by their text.
 */
import { readFileSync } from 'node:fs';

/** neutron-lib's IPTABLES_PROTOCOL_NAME_MAP. */
const NEUTRON_LIB: Record<string, string> = {
  'ipv6-encap': 'ipv6', icmpv6: 'ipv6-icmp', pgm: '113', 1: 'icmp', 2: 'igmp', 3: 'ggp', 4: 'ipencap', 5: 'st', 6: 'tcp',
  8: 'egp', 9: 'igp', 12: 'pup', 17: 'udp', 20: 'hmp', 22: 'xns-idp', 27: 'rdp', 29: 'iso-tp4', 33: 'dccp', 36: 'xtp',
  37: 'ddp', 38: 'idpr-cmtp', 41: 'ipv6', 43: 'ipv6-route', 44: 'ipv6-frag', 45: 'idrp', 46: 'rsvp', 47: 'gre',
  50: 'esp', 51: 'ah', 57: 'skip', 58: 'ipv6-icmp', 59: 'ipv6-nonxt', 60: 'ipv6-opts', 73: 'rspf', 81: 'vmtp',
  88: 'eigrp', 89: 'ospf', 93: 'ax.25', 94: 'ipip', 97: 'etherip', 98: 'encap', 103: 'pim', 108: 'ipcomp',
  112: 'vrrp', 115: 'l2tp', 124: 'isis', 132: 'sctp', 133: 'fc', 135: 'mobility-header', 136: 'udplite',
  137: 'mpls-in-ip', 138: 'manet', 139: 'hip', 140: 'shim6', 141: 'wesp', 142: 'rohc',
};

/** The `-m` module iptables adds for a protocol given with ports (neutron-lib's IPTABLES_PROTOCOL_MAP). */
export const PROTOCOL_MODULE: Readonly<Record<string, string>> = {
  dccp: 'dccp', icmp: 'icmp', 'ipv6-icmp': 'icmp6', sctp: 'sctp', tcp: 'tcp', udp: 'udp',
};
/** Protocols with --sport/--dport and multiport. */
export const PORT_PROTOCOLS: ReadonlySet<string> = new Set(['dccp', 'sctp', 'tcp', 'udp', 'udplite']);
/** Protocols whose single port still takes `-m multiport`. */
export const MULTIPORT_ONLY: ReadonlySet<string> = new Set(['udplite']);

let names: Map<string, string> | undefined;

/** `/etc/protocols`'s "name number" lines as number → name (a missing file gives none, as Neutron's getprotoent would). */
export function parseEtcProtocols(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, num] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (name && num && /^\d+$/.test(num)) out.set(num, name);
  }
  return out;
}

function nameMap(): Map<string, string> {
  if (names) return names;
  names = new Map(Object.entries(NEUTRON_LIB));
  let local = new Map<string, string>();
  try {
    local = parseEtcProtocols(readFileSync('/etc/protocols', 'utf8'));
  } catch {
    // As Neutron: without the file only neutron-lib's table is used.
  }
  for (const [k, v] of local) names.set(k, v);
  return names;
}

/** The `-p` value for a rule's protocol, or undefined for "any" (unset, empty or 0). */
export function iptablesProtocol(protocol: string | undefined): string | undefined {
  if (!protocol || protocol === '0') return undefined;
  return nameMap().get(protocol) ?? protocol;
}
