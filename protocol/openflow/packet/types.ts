/**
 * The shapes of the packet library: a frame as layers (Ethernet, 802.1Q
 * tags, then ARP, IPv4 or IPv6, then ICMP, ICMPv6, TCP or UDP), each layer
 * a discriminated union on `proto`. Addresses are strings (MAC
 * "aa:bb:cc:dd:ee:ff", dotted-quad IPv4, RFC 5952 IPv6), numbers otherwise.
 */

/** ARP operations. */
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;
/** ICMP types the examples and tests use. */
export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
/** ICMPv6 types the examples and tests use. */
export const ICMPV6_TYPE = { ECHO_REQUEST: 128, ECHO_REPLY: 129, ROUTER_SOLICIT: 133, NEIGHBOR_SOLICIT: 135, NEIGHBOR_ADVERT: 136 } as const;
/** TCP header flag bits. */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;
/** The 802.1Q tag protocol identifiers. */
export const VLAN_TPID = { C_TAG: 0x8100, S_TAG: 0x88a8 } as const;

/** The Ethernet header's addresses. */
export interface Ethernet {
  dst: string;
  src: string;
}

/** One 802.1Q (or 802.1ad) tag. */
export interface VlanTag {
  /** VLAN_TPID.C_TAG (0x8100) by default; S_TAG (0x88a8) for an outer 802.1ad tag. */
  tpid: number;
  /** Priority code point, 0-7. */
  pcp: number;
  /** Drop eligible indicator, 0 or 1. */
  dei: number;
  /** VLAN id, 0-4095. */
  vid: number;
}

/** An ARP packet for IPv4 over Ethernet. */
export interface Arp {
  proto: 'arp';
  /** ARP_OP: 1 request, 2 reply. */
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

/** An IPv4 header (options kept as bytes). */
export interface Ipv4 {
  proto: 'ipv4';
  src: string;
  dst: string;
  /** The IP protocol of what follows (IP_PROTO). */
  protocol: number;
  ttl: number;
  /** DSCP and ECN, the former type-of-service byte. */
  tos: number;
  id: number;
  /** The three flag bits (0x2 don't fragment, 0x1 more fragments). */
  flags: number;
  /** In 8-byte units. */
  fragmentOffset: number;
  options: Buffer;
}

/** An IPv6 header (extension headers are not walked: `nextHeader` is the first one). */
export interface Ipv6 {
  proto: 'ipv6';
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
}

/** An ICMP header; `identifier`/`sequence` are the header's second word as echo messages use it. */
export interface Icmp {
  proto: 'icmp';
  type: number;
  code: number;
  identifier: number;
  sequence: number;
}

/** An ICMPv6 header; `body` is everything after the checksum (the message's own fields and options). */
export interface Icmpv6 {
  proto: 'icmpv6';
  type: number;
  code: number;
  body: Buffer;
}

/** A TCP header (options kept as bytes). */
export interface Tcp {
  proto: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TCP_FLAG bits. */
  flags: number;
  window: number;
  urgent: number;
  options: Buffer;
}

/** A UDP header. */
export interface Udp {
  proto: 'udp';
  srcPort: number;
  dstPort: number;
}

/** What follows the Ethernet header and tags, discriminated by `proto`. */
export type NetworkLayer = Arp | Ipv4 | Ipv6;
/** What follows the IP header, discriminated by `proto`. */
export type TransportLayer = Icmp | Icmpv6 | Tcp | Udp;

/** A decoded frame: its layers, the bytes after the last one, and whether its checksums hold. */
export interface Packet {
  eth: Ethernet;
  /** Outermost first. */
  vlans: VlanTag[];
  /** The ethertype after the tags. */
  ethType: number;
  /** Absent for an ethertype the library does not decode. */
  network?: NetworkLayer;
  /** Absent for a protocol the library does not decode, or a fragment other than the first. */
  transport?: TransportLayer;
  /** What follows the last decoded layer: a view into the frame, not a copy. */
  payload: Buffer;
  /**
   * Whether every checksum of the decoded layers holds (IPv4 header, ICMP,
   * and TCP/UDP/ICMPv6 with their pseudo-header); a UDP checksum of 0 over
   * IPv4 means "none" and holds.
   */
  checksumsOk: boolean;
}

/** A frame to build: layers as in `Packet`, tag fields optional, and the payload after the last layer. */
export interface PacketSpec {
  eth: Ethernet;
  vlans?: (Partial<VlanTag> & { vid: number })[];
  /** The ethertype when there is no `network` layer. */
  ethType?: number;
  network?: ArpSpec | Ipv4Spec | Ipv6Spec;
  transport?: IcmpSpec | Icmpv6Spec | TcpSpec | UdpSpec;
  payload?: Uint8Array;
}
/** An ARP packet to build. */
export type ArpSpec = Arp;
/** An IPv4 header to build: `protocol` defaults to the transport's, TTL 64, the rest 0. */
export type Ipv4Spec = Pick<Ipv4, 'proto' | 'src' | 'dst'> & Partial<Omit<Ipv4, 'proto' | 'src' | 'dst'>>;
/** An IPv6 header to build: `nextHeader` defaults to the transport's, hop limit 64, the rest 0. */
export type Ipv6Spec = Pick<Ipv6, 'proto' | 'src' | 'dst'> & Partial<Omit<Ipv6, 'proto' | 'src' | 'dst'>>;
/** An ICMP header to build (identifier and sequence default to 0). */
export type IcmpSpec = Pick<Icmp, 'proto' | 'type'> & Partial<Omit<Icmp, 'proto' | 'type'>>;
/** An ICMPv6 message to build (body defaults to empty). */
export type Icmpv6Spec = Pick<Icmpv6, 'proto' | 'type'> & Partial<Omit<Icmpv6, 'proto' | 'type'>>;
/** A TCP header to build: window 65535, the rest 0 by default. */
export type TcpSpec = Pick<Tcp, 'proto' | 'srcPort' | 'dstPort'> & Partial<Omit<Tcp, 'proto' | 'srcPort' | 'dstPort'>>;
/** A UDP header to build. */
export type UdpSpec = Udp;
