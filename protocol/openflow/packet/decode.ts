/**
 * Frames into layers: `decodePacket(frame)` reads Ethernet, any 802.1Q/ad
 * tags, ARP/IPv4/IPv6 and ICMP/ICMPv6/TCP/UDP straight from the buffer it is
 * given (a packet-in's `data` view, say); byte fields are views, never
 * copies. A frame that ends inside a header throws PacketError.
 */
import { formatIpv4, formatIpv6, formatMac } from '../addr.js';
import { ETH_TYPE, IP_PROTO } from '../constants.js';
import { finish, onesSum, pseudoHeaderSum } from './checksum.js';
import { PacketError } from './errors.js';
import type { Arp, Ipv4, Ipv6, Packet, TransportLayer, VlanTag } from './types.js';

const ETH_LEN = 14;
const ARP_LEN = 28;
const IPV6_LEN = 40;

function need(frame: Buffer, at: number, n: number, what: string): void {
  if (at + n > frame.length) throw new PacketError('PKT_TRUNCATED', `truncated ${what}: need ${n} bytes, have ${Math.max(0, frame.length - at)}`, at);
}

/** Decodes one Ethernet frame (without its FCS, as packet-ins and pcaps carry it). */
export function decodePacket(frame: Buffer): Packet {
  need(frame, 0, ETH_LEN, 'Ethernet header');
  const eth = { dst: formatMac(frame, 0), src: formatMac(frame, 6) };
  let at = 12;
  let ethType = frame.readUInt16BE(at);
  const vlans: VlanTag[] = [];
  while (ethType === ETH_TYPE.VLAN_8021Q || ethType === ETH_TYPE.VLAN_8021AD) {
    need(frame, at + 2, 4, '802.1Q tag');
    const tci = frame.readUInt16BE(at + 2);
    vlans.push({ tpid: ethType, pcp: tci >>> 13, dei: (tci >>> 12) & 1, vid: tci & 0xfff });
    at += 4;
    ethType = frame.readUInt16BE(at);
  }
  at += 2;
  const packet: Packet = { eth, vlans, ethType, payload: frame.subarray(at), checksumsOk: true };
  if (ethType === ETH_TYPE.ARP) {
    packet.network = decodeArp(frame, at);
    packet.payload = frame.subarray(at + ARP_LEN);
  } else if (ethType === ETH_TYPE.IPV4) {
    decodeIpv4(frame, at, packet);
  } else if (ethType === ETH_TYPE.IPV6) {
    decodeIpv6(frame, at, packet);
  }
  return packet;
}

function decodeArp(frame: Buffer, at: number): Arp {
  need(frame, at, ARP_LEN, 'ARP packet');
  if (frame.readUInt16BE(at) !== 1 || frame.readUInt16BE(at + 2) !== ETH_TYPE.IPV4 || frame[at + 4] !== 6 || frame[at + 5] !== 4) {
    throw new PacketError('PKT_BAD_HEADER', 'ARP packet is not IPv4 over Ethernet', at);
  }
  return {
    proto: 'arp',
    op: frame.readUInt16BE(at + 6),
    sha: formatMac(frame, at + 8),
    spa: formatIpv4(frame, at + 14),
    tha: formatMac(frame, at + 18),
    tpa: formatIpv4(frame, at + 24),
  };
}

function decodeIpv4(frame: Buffer, at: number, packet: Packet): void {
  need(frame, at, 20, 'IPv4 header');
  const ihl = (frame[at] & 0x0f) * 4;
  if (frame[at] >>> 4 !== 4 || ihl < 20) throw new PacketError('PKT_BAD_HEADER', `IPv4 header with version ${frame[at] >>> 4} and length ${ihl}`, at);
  need(frame, at, ihl, 'IPv4 options');
  const total = frame.readUInt16BE(at + 2);
  if (total < ihl || at + total > frame.length) throw new PacketError('PKT_BAD_HEADER', `IPv4 total length ${total} beyond the frame`, at + 2);
  const fragWord = frame.readUInt16BE(at + 6);
  const ip: Ipv4 = {
    proto: 'ipv4',
    src: formatIpv4(frame, at + 12),
    dst: formatIpv4(frame, at + 16),
    protocol: frame[at + 9],
    ttl: frame[at + 8],
    tos: frame[at + 1],
    id: frame.readUInt16BE(at + 4),
    flags: fragWord >>> 13,
    fragmentOffset: fragWord & 0x1fff,
    options: frame.subarray(at + 20, at + ihl),
  };
  packet.network = ip;
  packet.checksumsOk = finish(onesSum(frame, at, at + ihl)) === 0;
  // Ethernet padding after the datagram is not payload.
  const end = at + total;
  packet.payload = frame.subarray(at + ihl, end);
  if (ip.fragmentOffset === 0) decodeTransport(frame, at, false, ip.protocol, at + ihl, end, packet);
}

function decodeIpv6(frame: Buffer, at: number, packet: Packet): void {
  need(frame, at, IPV6_LEN, 'IPv6 header');
  const word = frame.readUInt32BE(at);
  if (word >>> 28 !== 6) throw new PacketError('PKT_BAD_HEADER', `IPv6 header with version ${word >>> 28}`, at);
  const payloadLen = frame.readUInt16BE(at + 4);
  const end = at + IPV6_LEN + payloadLen;
  if (end > frame.length) throw new PacketError('PKT_BAD_HEADER', `IPv6 payload length ${payloadLen} beyond the frame`, at + 4);
  const ip: Ipv6 = {
    proto: 'ipv6',
    src: formatIpv6(frame, at + 8),
    dst: formatIpv6(frame, at + 24),
    nextHeader: frame[at + 6],
    hopLimit: frame[at + 7],
    trafficClass: (word >>> 20) & 0xff,
    flowLabel: word & 0xfffff,
  };
  packet.network = ip;
  packet.payload = frame.subarray(at + IPV6_LEN, end);
  decodeTransport(frame, at, true, ip.nextHeader, at + IPV6_LEN, end, packet);
}

function decodeTransport(frame: Buffer, ipAt: number, ipv6: boolean, protocol: number, at: number, end: number, packet: Packet): void {
  let t: TransportLayer;
  let headerLen: number;
  const segment = frame.subarray(0, end);
  let sum: number;
  switch (protocol) {
    case IP_PROTO.TCP: {
      need(segment, at, 20, 'TCP header');
      headerLen = (frame[at + 12] >>> 4) * 4;
      if (headerLen < 20) throw new PacketError('PKT_BAD_HEADER', `TCP data offset ${headerLen / 4}`, at + 12);
      need(segment, at, headerLen, 'TCP options');
      t = {
        proto: 'tcp',
        srcPort: frame.readUInt16BE(at),
        dstPort: frame.readUInt16BE(at + 2),
        seq: frame.readUInt32BE(at + 4),
        ack: frame.readUInt32BE(at + 8),
        flags: frame[at + 13],
        window: frame.readUInt16BE(at + 14),
        urgent: frame.readUInt16BE(at + 18),
        options: frame.subarray(at + 20, at + headerLen),
      };
      sum = pseudoHeaderSum(frame, ipAt, ipv6, protocol, end - at);
      break;
    }
    case IP_PROTO.UDP: {
      need(segment, at, 8, 'UDP header');
      headerLen = 8;
      t = { proto: 'udp', srcPort: frame.readUInt16BE(at), dstPort: frame.readUInt16BE(at + 2) };
      // Over IPv4 a zero checksum means the sender computed none.
      sum = !ipv6 && frame.readUInt16BE(at + 6) === 0 ? -1 : pseudoHeaderSum(frame, ipAt, ipv6, protocol, end - at);
      break;
    }
    case IP_PROTO.ICMP:
      if (ipv6) return;
      need(segment, at, 8, 'ICMP header');
      headerLen = 8;
      t = { proto: 'icmp', type: frame[at], code: frame[at + 1], identifier: frame.readUInt16BE(at + 4), sequence: frame.readUInt16BE(at + 6) };
      sum = 0;
      break;
    case IP_PROTO.ICMPV6:
      if (!ipv6) return;
      need(segment, at, 4, 'ICMPv6 header');
      // The body is the message's own fields: nothing of it is "payload".
      headerLen = end - at;
      t = { proto: 'icmpv6', type: frame[at], code: frame[at + 1], body: frame.subarray(at + 4, end) };
      sum = pseudoHeaderSum(frame, ipAt, ipv6, protocol, end - at);
      break;
    default:
      return;
  }
  packet.transport = t;
  packet.payload = frame.subarray(at + headerLen, end);
  if (sum >= 0 && finish(onesSum(frame, at, end, sum)) !== 0) packet.checksumsOk = false;
}
