/**
 * A small packet library for packet-in and packet-out: Ethernet, 802.1Q
 * tags, ARP, IPv4, IPv6, ICMP, ICMPv6, TCP and UDP, decoded from slices and
 * encoded into preallocated buffers with their checksums.
 */
export * from './types.js';
export { PacketError, type PacketErrorCode } from './errors.js';
export { decodePacket } from './decode.js';
export { encodePacket, buildPacket, packetLength } from './encode.js';
