/**
 * A VXLAN-encapsulated Ethernet frame as it arrives on the underlay (outer
 * Ethernet, IPv4, UDP to 4789, VXLAN header, the inner frame), in the hex
 * form `ovs-appctl netdev-dummy/receive` takes. The outer UDP checksum is 0,
 * which IPv4 allows.
 */
const mac = (m: string): Buffer => Buffer.from(m.split(':').join(''), 'hex');
const ip4 = (a: string): Buffer => Buffer.from(a.split('.').map(Number));

function ipv4Header(src: string, dst: string, proto: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 2);
  h.writeUInt16BE(0x4000, 6); // don't fragment
  h[8] = 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return h;
}

function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** An Ethernet frame carrying a small IPv4/UDP datagram. */
export function ethernetUdp(f: { srcMac: string; dstMac: string; srcIp: string; dstIp: string; dstPort?: number; payload?: Buffer }): Buffer {
  const l4 = udp(40_000, f.dstPort ?? 7, f.payload ?? Buffer.alloc(18));
  return Buffer.concat([mac(f.dstMac), mac(f.srcMac), Buffer.from([0x08, 0x00]), ipv4Header(f.srcIp, f.dstIp, 17, l4.length), l4]);
}

export function vxlanFrame(o: {
  outerSrcMac: string; outerDstMac: string; outerSrcIp: string; outerDstIp: string; vni: number; inner: Buffer; udpPort?: number;
}): string {
  const vxlan = Buffer.alloc(8);
  vxlan[0] = 0x08; // the VNI is valid
  vxlan.writeUIntBE(o.vni, 4, 3);
  return ethernetUdp({
    srcMac: o.outerSrcMac, dstMac: o.outerDstMac, srcIp: o.outerSrcIp, dstIp: o.outerDstIp, dstPort: o.udpPort ?? 4789,
    payload: Buffer.concat([vxlan, o.inner]),
  }).toString('hex');
}
