/**
 * The numbers Neutron's `openvswitch` firewall driver is built on
 * (docs/design.md#the-firewalls-tables). Kept in one table so the flow
 * builders read as intentions, not magic numbers.
 */
export const Table = {
  /** br-int T60: where the agent's pipeline hands every packet to the firewall. */
  TRANSIENT: 60,
  BASE_EGRESS: 71,
  RULES_EGRESS: 72,
  ACCEPT_OR_INGRESS: 73,
  BASE_INGRESS: 81,
  RULES_INGRESS: 82,
  ACCEPTED_EGRESS: 91,
  ACCEPTED_INGRESS: 92,
  DROPPED: 93,
  ACCEPTED_EGRESS_NORMAL: 94,
} as const;

/** Tables the driver owns on br-int (Neutron's OVS_FIREWALL_TABLES). */
export const FIREWALL_TABLES = [
  Table.BASE_EGRESS,
  Table.RULES_EGRESS,
  Table.ACCEPT_OR_INGRESS,
  Table.BASE_INGRESS,
  Table.RULES_INGRESS,
] as const;

/** reg5: ofport of the port being filtered; reg6: its local VLAN; reg7: the matched conjunction id. */
export const Reg = { PORT: 5, NET: 6, REMOTE_GROUP: 7 } as const;

/** The conntrack zone is the local VLAN, carried in reg6. */
export const CT_ZONE = 'NXM_NX_REG6[0..15]';

export const CtState = {
  TRACKED: '+trk',
  NOT_TRACKED: '-trk',
  ESTABLISHED: '+est',
  NOT_ESTABLISHED: '-est',
  RELATED: '-new-est+rel-inv',
  ESTABLISHED_NOT_REPLY: '+est-rel-rpl',
  ESTABLISHED_REPLY: '+est-rel+rpl',
  NEW_NOT_ESTABLISHED: '+new-est',
  INVALID: '+trk+inv',
} as const;

/** ct_mark 0x1 flags a connection that no rule allows any more, so its next packet is dropped. */
export const CtMark = { NORMAL: '0x0', INVALID: '0x1' } as const;

export const EtherType = { IPV4: '0x0800', IPV6: '0x86dd', ARP: '0x0806' } as const;

export const Proto = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

/** Neighbour discovery and MLD a VM may always send (MLD query, RS, NS)… */
export const ICMPV6_ALLOWED_EGRESS_TYPES = [130, 133, 135] as const;
/** …and NA, only for its own addresses (nd_target). */
export const ICMPV6_RESTRICTED_EGRESS_TYPES = [136] as const;
/** MLD query, NS, NA and RA are always delivered to a VM. */
export const ICMPV6_ALLOWED_INGRESS_TYPES = [130, 135, 136, 134] as const;
export const ICMPV6_TYPE_RA = 134;

/** Neutron's IANA protocol-name map (neutron-lib IP_PROTOCOL_MAP). */
export const IP_PROTOCOL_MAP: Readonly<Record<string, number>> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

/** Protocols whose rules match destination ports, and the ovs-ofctl field prefix. */
export const PORT_PROTOCOLS: Readonly<Record<number, string>> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** Conjunction ids come in blocks of 8: 4 priority offsets × (established, new). */
export const CONJ_ID_BLOCK_SIZE = 8;
export const MAX_CONJ_ID = 2 ** 32 - 8;
