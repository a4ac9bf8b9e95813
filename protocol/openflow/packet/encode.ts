/**
 * Layers into a frame: `encodePacket(spec, out)` writes into a buffer the
 * caller allocated (and reuses), filling in every length, protocol number
 * and checksum; `packetLength(spec)` says how much room it needs, and
 * `buildPacket(spec)` allocates exactly that.
 */
import { writeIpv4, writeIpv6, writeMac } from '../addr.js';
import { ETH_TYPE, IP_PROTO } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import { finish, onesSum, pseudoHeaderSum } from './checksum.js';
import { PacketError } from './errors.js';
import { VLAN_TPID } from './types.js';
import type { PacketSpec } from './types.js';

const TRANSPORT_PROTO = { icmp: IP_PROTO.ICMP, icmpv6: IP_PROTO.ICMPV6, tcp: IP_PROTO.TCP, udp: IP_PROTO.UDP } as const;
const NETWORK_TYPE = { arp: ETH_TYPE.ARP, ipv4: ETH_TYPE.IPV4, ipv6: ETH_TYPE.IPV6 } as const;

/** The frame's length in bytes (no FCS, no padding to 60). */
export function packetLength(spec: PacketSpec): number {
  let n = 14 + 4 * (spec.vlans?.length ?? 0);
  const net = spec.network;
  if (net?.proto === 'arp') return n + 28 + (spec.payload?.length ?? 0);
  if (net?.proto === 'ipv4') n += 20 + (net.options?.length ?? 0);
  else if (net?.proto === 'ipv6') n += 40;
  const t = spec.transport;
  if (t) {
    if (t.proto === 'tcp') n += 20 + (t.options?.length ?? 0);
    else if (t.proto === 'udp' || t.proto === 'icmp') n += 8;
    else n += 4 + (t.body?.length ?? 0);
  }
  return n + (spec.payload?.length ?? 0);
}

/** Builds a frame into a buffer of its exact length. */
export function buildPacket(spec: PacketSpec): Buffer {
  const out = Buffer.allocUnsafe(packetLength(spec));
  encodePacket(spec, out);
  return out;
}

function range(v: number | undefined, max: number, what: string, dflt = 0): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 0 || x > max) throw new PacketError('PKT_BAD_VALUE', `${what} ${x} is not an integer within 0..${max}`);
  return x;
}

/** Address writers throw the codec's encode error; the packet library's callers expect its own. */
function address(write: () => void): void {
  try {
    write();
  } catch (err) {
    if (err instanceof OpenFlowEncodeError) throw new PacketError('PKT_BAD_VALUE', err.message);
    throw err;
  }
}

/**
 * Writes the frame at `out[offset]` and returns its length. Throws
 * PacketError: PKT_BUFFER_TOO_SMALL (nothing written) or PKT_BAD_VALUE.
 */
export function encodePacket(spec: PacketSpec, out: Buffer, offset = 0): number {
  const length = packetLength(spec);
  if (offset + length > out.length) throw new PacketError('PKT_BUFFER_TOO_SMALL', `frame of ${length} bytes does not fit in ${out.length - offset}`);
  const net = spec.network;
  const t = spec.transport;
  if (t && net?.proto !== (t.proto === 'icmpv6' ? 'ipv6' : t.proto === 'icmp' ? 'ipv4' : net?.proto === 'ipv6' ? 'ipv6' : 'ipv4')) {
    throw new PacketError('PKT_BAD_VALUE', `${t.proto} needs ${t.proto === 'icmpv6' ? 'IPv6' : t.proto === 'icmp' ? 'IPv4' : 'IPv4 or IPv6'} under it, not ${net?.proto ?? 'nothing'}`);
  }
  let at = offset;
  address(() => writeMac(out, at, spec.eth.dst, 'eth.dst'));
  address(() => writeMac(out, at + 6, spec.eth.src, 'eth.src'));
  at += 12;
  for (const v of spec.vlans ?? []) {
    out.writeUInt16BE(range(v.tpid, 0xffff, 'VLAN TPID', VLAN_TPID.C_TAG), at);
    out.writeUInt16BE((range(v.pcp, 7, 'VLAN PCP') << 13) | (range(v.dei, 1, 'VLAN DEI') << 12) | range(v.vid, 4095, 'VLAN id'), at + 2);
    at += 4;
  }
  out.writeUInt16BE(net ? NETWORK_TYPE[net.proto] : range(spec.ethType, 0xffff, 'ethertype'), at);
  at += 2;
  const end = offset + length;
  const payload = spec.payload;
  if (payload) out.set(payload, end - payload.length);
  if (!net) return length;
  if (net.proto === 'arp') {
    out.writeUInt32BE(0x00010800, at); // Ethernet, IPv4
    out[at + 4] = 6;
    out[at + 5] = 4;
    out.writeUInt16BE(range(net.op, 0xffff, 'ARP op'), at + 6);
    address(() => writeMac(out, at + 8, net.sha, 'arp.sha'));
    address(() => writeIpv4(out, at + 14, net.spa, 'arp.spa'));
    address(() => writeMac(out, at + 18, net.tha, 'arp.tha'));
    address(() => writeIpv4(out, at + 24, net.tpa, 'arp.tpa'));
    return length;
  }
  const ipAt = at;
  const ipv6 = net.proto === 'ipv6';
  let l4At: number;
  if (net.proto === 'ipv4') {
    const options = net.options ?? Buffer.alloc(0);
    if (options.length % 4 !== 0 || options.length > 40) throw new PacketError('PKT_BAD_VALUE', `IPv4 options of ${options.length} bytes (a multiple of 4, at most 40)`);
    const ihl = 20 + options.length;
    out[at] = 0x40 | (ihl >>> 2);
    out[at + 1] = range(net.tos, 255, 'IPv4 TOS');
    out.writeUInt16BE(range(end - at, 0xffff, 'IPv4 total length'), at + 2);
    out.writeUInt16BE(range(net.id, 0xffff, 'IPv4 id'), at + 4);
    out.writeUInt16BE((range(net.flags, 7, 'IPv4 flags') << 13) | range(net.fragmentOffset, 0x1fff, 'IPv4 fragment offset'), at + 6);
    out[at + 8] = range(net.ttl, 255, 'IPv4 TTL', 64);
    out[at + 9] = range(net.protocol ?? (t ? TRANSPORT_PROTO[t.proto] : undefined), 255, 'IPv4 protocol');
    out.writeUInt16BE(0, at + 10);
    address(() => writeIpv4(out, at + 12, net.src, 'ipv4.src'));
    address(() => writeIpv4(out, at + 16, net.dst, 'ipv4.dst'));
    out.set(options, at + 20);
    out.writeUInt16BE(finish(onesSum(out, at, at + ihl)), at + 10);
    l4At = at + ihl;
  } else {
    out.writeUInt32BE(((6 << 28) | (range(net.trafficClass, 255, 'IPv6 traffic class') << 20) | range(net.flowLabel, 0xfffff, 'IPv6 flow label')) >>> 0, at);
    out.writeUInt16BE(range(end - at - 40, 0xffff, 'IPv6 payload length'), at + 4);
    out[at + 6] = range(net.nextHeader ?? (t ? TRANSPORT_PROTO[t.proto] : undefined), 255, 'IPv6 next header');
    out[at + 7] = range(net.hopLimit, 255, 'IPv6 hop limit', 64);
    address(() => writeIpv6(out, at + 8, net.src, 'ipv6.src'));
    address(() => writeIpv6(out, at + 24, net.dst, 'ipv6.dst'));
    l4At = at + 40;
  }
  if (!t) return length;
  at = l4At;
  const protocol = TRANSPORT_PROTO[t.proto];
  let csumAt: number;
  switch (t.proto) {
    case 'tcp': {
      const options = t.options ?? Buffer.alloc(0);
      if (options.length % 4 !== 0 || options.length > 40) throw new PacketError('PKT_BAD_VALUE', `TCP options of ${options.length} bytes (a multiple of 4, at most 40)`);
      out.writeUInt16BE(range(t.srcPort, 0xffff, 'TCP source port'), at);
      out.writeUInt16BE(range(t.dstPort, 0xffff, 'TCP destination port'), at + 2);
      out.writeUInt32BE(range(t.seq, 0xffffffff, 'TCP sequence number'), at + 4);
      out.writeUInt32BE(range(t.ack, 0xffffffff, 'TCP acknowledgment number'), at + 8);
      out[at + 12] = ((20 + options.length) / 4) << 4;
      out[at + 13] = range(t.flags, 255, 'TCP flags');
      out.writeUInt16BE(range(t.window, 0xffff, 'TCP window', 0xffff), at + 14);
      out.writeUInt16BE(0, at + 16);
      out.writeUInt16BE(range(t.urgent, 0xffff, 'TCP urgent pointer'), at + 18);
      out.set(options, at + 20);
      csumAt = at + 16;
      break;
    }
    case 'udp':
      out.writeUInt16BE(range(t.srcPort, 0xffff, 'UDP source port'), at);
      out.writeUInt16BE(range(t.dstPort, 0xffff, 'UDP destination port'), at + 2);
      out.writeUInt16BE(range(end - at, 0xffff, 'UDP length'), at + 4);
      out.writeUInt16BE(0, at + 6);
      csumAt = at + 6;
      break;
    case 'icmp':
      out[at] = range(t.type, 255, 'ICMP type');
      out[at + 1] = range(t.code, 255, 'ICMP code');
      out.writeUInt16BE(0, at + 2);
      out.writeUInt16BE(range(t.identifier, 0xffff, 'ICMP identifier'), at + 4);
      out.writeUInt16BE(range(t.sequence, 0xffff, 'ICMP sequence'), at + 6);
      out.writeUInt16BE(finish(onesSum(out, at, end)), at + 2);
      return length;
    case 'icmpv6':
      out[at] = range(t.type, 255, 'ICMPv6 type');
      out[at + 1] = range(t.code, 255, 'ICMPv6 code');
      out.writeUInt16BE(0, at + 2);
      if (t.body) out.set(t.body, at + 4);
      csumAt = at + 2;
      break;
  }
  let csum = finish(onesSum(out, at, end, pseudoHeaderSum(out, ipAt, ipv6, protocol, end - at)));
  // A computed UDP checksum of 0 is sent as all ones (0 means "none").
  if (t.proto === 'udp' && csum === 0) csum = 0xffff;
  out.writeUInt16BE(csum, csumAt);
  return length;
}
