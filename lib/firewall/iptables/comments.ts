/**
 * The comments Neutron's driver puts on its rules (`[AGENT]
 * comment_iptables_rules`, on by default), word for word: iptables-save
 * prints them back, and a rule is only the same rule with the same comment.
 */
export const C = {
  UNMATCH_DROP: 'Default drop rule for unmatched traffic.',
  VM_INT_SG: 'Direct traffic from the VM interface to the security group chain.',
  SG_TO_VM_SG: 'Jump to the VM specific chain.',
  INPUT_TO_SG: 'Direct incoming traffic from VM to the security group chain.',
  PAIR_ALLOW: 'Allow traffic from defined IP/MAC pairs.',
  PAIR_DROP: 'Drop traffic without an IP/MAC allow rule.',
  DHCP_CLIENT: 'Allow DHCP client traffic.',
  DHCP_SPOOF: 'Prevent DHCP Spoofing by VM.',
  UNMATCHED: 'Send unmatched traffic to the fallback chain.',
  INVALID_DROP: 'Drop packets that appear related to an existing connection (e.g. TCP ACK/FIN) but do not have an entry in conntrack.',
  ALLOW_ASSOC: 'Direct packets associated with a known session to the RETURN chain.',
  PORT_SEC_ACCEPT: 'Accept all packets when port security is disabled.',
  IPV6_RA_DROP: 'Drop IPv6 Router Advts from VM Instance.',
  IPV6_ICMP_ALLOW: 'Allow IPv6 ICMP traffic.',
} as const;

/** The comment goes before the jump, where iptables-save prints it. */
export function commented(rule: string, comment: string): string {
  if (rule.startsWith('-j')) return `-m comment --comment "${comment}" ${rule}`;
  const j = rule.indexOf(' -j ');
  return j < 0 ? `${rule} -m comment --comment "${comment}"` : `${rule.slice(0, j)} -m comment --comment "${comment}" ${rule.slice(j + 1)}`;
}
