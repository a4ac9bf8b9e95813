/**
 * The packet library against tshark's dissectors: frames we build, written
 * to a pcap, must read as what we meant (every field, every checksum
 * "good"), and decoding them gives the layers back.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPacket, decodePacket, encodePacket, packetLength, ICMP_TYPE, ICMPV6_TYPE, TCP_FLAG, VLAN_TPID, type PacketSpec } from '@ovs-agent/openflow';
import { tsharkFields, writePcap } from './pcap.js';

const A = 'fa:16:3e:00:00:01';
const B = 'fa:16:3e:00:00:02';

const SPECS: { name: string; spec: PacketSpec; tshark: Record<string, string> }[] = [
  {
    name: 'ARP request in VLAN 5, priority 3',
    spec: { eth: { dst: 'ff:ff:ff:ff:ff:ff', src: A }, vlans: [{ vid: 5, pcp: 3 }], network: { proto: 'arp', op: 1, sha: A, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' } },
    tshark: { 'eth.src': A, 'eth.dst': 'ff:ff:ff:ff:ff:ff', 'vlan.id': '5', 'vlan.priority': '3', 'arp.opcode': '1', 'arp.src.proto_ipv4': '10.0.0.1', 'arp.dst.proto_ipv4': '10.0.0.2', 'arp.src.hw_mac': A },
  },
  {
    name: 'ICMP echo request with a payload',
    spec: { eth: { dst: B, src: A }, network: { proto: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', ttl: 63, id: 0x1234, flags: 2 }, transport: { proto: 'icmp', type: ICMP_TYPE.ECHO_REQUEST, identifier: 0x77, sequence: 3 }, payload: Buffer.from('abcdefghijklmnopqrstuvwxyz0123') },
    tshark: { 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2', 'ip.ttl': '63', 'ip.id': '0x1234', 'ip.flags.df': '1', 'icmp.type': '8', 'icmp.ident': '119', 'icmp.seq': '3', 'ip.checksum.status': 'good', 'icmp.checksum.status': 'good', 'data.len': '30' },
  },
  {
    name: 'TCP SYN with an MSS option, odd payload length',
    spec: { eth: { dst: B, src: A }, network: { proto: 'ipv4', src: '192.168.1.10', dst: '192.168.1.20', tos: 0xb8 }, transport: { proto: 'tcp', srcPort: 40000, dstPort: 80, seq: 0xdeadbeef, flags: TCP_FLAG.SYN, window: 29200, options: Buffer.from('020405b4', 'hex') }, payload: Buffer.from('hello') },
    tshark: { 'ip.dsfield.dscp': '46', 'tcp.srcport': '40000', 'tcp.dstport': '80', 'tcp.seq_raw': String(0xdeadbeef), 'tcp.flags.syn': '1', 'tcp.window_size_value': '29200', 'tcp.options.mss_val': '1460', 'tcp.checksum.status': 'good', 'ip.checksum.status': 'good', 'tcp.len': '5' },
  },
  {
    name: 'UDP over IPv4 in 802.1ad + 802.1Q tags',
    spec: { eth: { dst: B, src: A }, vlans: [{ tpid: VLAN_TPID.S_TAG, vid: 100 }, { vid: 200, pcp: 7, dei: 1 }], network: { proto: 'ipv4', src: '10.1.0.1', dst: '10.1.0.2' }, transport: { proto: 'udp', srcPort: 5353, dstPort: 53 }, payload: Buffer.from('0123456789abc') },
    tshark: { 'ieee8021ad.id': '100', 'vlan.id': '200', 'vlan.priority': '7', 'vlan.dei': '1', 'udp.srcport': '5353', 'udp.dstport': '53', 'udp.length': '21', 'udp.checksum.status': 'good', 'ip.checksum.status': 'good' },
  },
  {
    name: 'ICMPv6 echo request',
    spec: { eth: { dst: B, src: A }, network: { proto: 'ipv6', src: 'fd00::1', dst: 'fd00::2', hopLimit: 255, flowLabel: 0x12345, trafficClass: 0x20 }, transport: { proto: 'icmpv6', type: ICMPV6_TYPE.ECHO_REQUEST, body: Buffer.from('0042000168656c6c6f', 'hex') } },
    tshark: { 'ipv6.src': 'fd00::1', 'ipv6.dst': 'fd00::2', 'ipv6.hlim': '255', 'ipv6.flow': '0x012345', 'ipv6.tclass': '0x00000020', 'icmpv6.type': '128', 'icmpv6.echo.identifier': '0x0042', 'icmpv6.echo.sequence_number': '1', 'icmpv6.checksum.status': 'good' },
  },
  {
    name: 'TCP and UDP over IPv6',
    spec: { eth: { dst: B, src: A }, network: { proto: 'ipv6', src: '2001:db8::a', dst: '2001:db8::b' }, transport: { proto: 'tcp', srcPort: 443, dstPort: 51000, seq: 1, ack: 2, flags: TCP_FLAG.ACK | TCP_FLAG.PSH }, payload: Buffer.from('x') },
    tshark: { 'ipv6.nxt': '6', 'tcp.srcport': '443', 'tcp.flags.ack': '1', 'tcp.flags.push': '1', 'tcp.checksum.status': 'good' },
  },
  {
    name: 'UDP over IPv6',
    spec: { eth: { dst: B, src: A }, network: { proto: 'ipv6', src: '2001:db8::a', dst: '2001:db8::b' }, transport: { proto: 'udp', srcPort: 546, dstPort: 547 }, payload: Buffer.from('dhcp') },
    tshark: { 'ipv6.plen': '12', 'udp.srcport': '546', 'udp.checksum.status': 'good' },
  },
];

describe('packet library against tshark', function () {
  // Child processes (ovs-ofctl, tshark, Python): slow to start on a loaded machine.
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('frames we build read in tshark as what we meant, every checksum good', () => {
    const file = join(dir, 'built.pcap');
    writePcap(file, SPECS.map((s) => buildPacket(s.spec)));
    const fields = [...new Set(SPECS.flatMap((s) => Object.keys(s.tshark)))];
    // tshark prints statuses as numbers (-T fields): 1 is "Good" (0 bad, 2 unverified).
    const rows = tsharkFields(file, fields);
    expect(rows).to.have.length(SPECS.length);
    SPECS.forEach((s, i) => {
      const want = Object.fromEntries(Object.entries(s.tshark).map(([k, v]) => [k, v === 'good' ? '1' : v]));
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, rows[i][k]]));
      expect(got, s.name).to.deep.equal(want);
    });
  });

  it('decodes what it builds back into the same layers, with valid checksums, payload as a view', () => {
    for (const { name, spec } of SPECS) {
      const frame = buildPacket(spec);
      const p = decodePacket(frame);
      expect(p.checksumsOk, name).to.equal(true);
      expect(p.eth).to.deep.equal(spec.eth);
      expect(p.vlans.map((v) => v.vid)).to.deep.equal((spec.vlans ?? []).map((v) => v.vid));
      expect(p.network?.proto).to.equal(spec.network?.proto);
      if (spec.network) expect(p.network).to.deep.include(spec.network.proto === 'arp' ? spec.network : { src: spec.network.src, dst: spec.network.dst });
      if (spec.transport) expect(p.transport).to.deep.include(spec.transport.proto === 'icmpv6' ? { type: spec.transport.type } : spec.transport);
      expect(Buffer.compare(p.payload, Buffer.from(spec.payload ?? []))).to.equal(0);
      if (p.payload.length > 0) expect(p.payload.buffer).to.equal(frame.buffer);
    }
  });

  it('a corrupted byte makes the checksums fail', () => {
    const frame = buildPacket(SPECS[2].spec);
    frame[frame.length - 1] ^= 0xff;
    expect(decodePacket(frame).checksumsOk).to.equal(false);
  });

  it('encodes into a preallocated buffer at an offset, and refuses one too small, writing nothing', () => {
    const spec = SPECS[1].spec;
    const out = Buffer.alloc(200, 0xee);
    expect(encodePacket(spec, out, 10)).to.equal(packetLength(spec));
    expect(out[9]).to.equal(0xee);
    expect(Buffer.compare(out.subarray(10, 10 + packetLength(spec)), buildPacket(spec))).to.equal(0);
    const small = Buffer.alloc(packetLength(spec) - 1, 0xee);
    expect(() => encodePacket(spec, small)).to.throw().with.property('code', 'PKT_BUFFER_TOO_SMALL');
    expect(small.every((b) => b === 0xee)).to.equal(true);
  });

  it('refuses bad values and truncated or inconsistent frames with typed errors', () => {
    const bad: PacketSpec[] = [
      { eth: { dst: B, src: 'not-a-mac' } },
      { eth: { dst: B, src: A }, vlans: [{ vid: 4096 }] },
      { eth: { dst: B, src: A }, network: { proto: 'ipv4', src: '10.0.0.1', dst: '10.0.0.300' } },
      { eth: { dst: B, src: A }, network: { proto: 'ipv6', src: '::1', dst: '::2' }, transport: { proto: 'icmp', type: 8 } },
      { eth: { dst: B, src: A }, network: { proto: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, transport: { proto: 'tcp', srcPort: 70000, dstPort: 1 } },
    ];
    for (const spec of bad) expect(() => buildPacket(spec), JSON.stringify(spec)).to.throw().with.property('code', 'PKT_BAD_VALUE');
    const frame = buildPacket(SPECS[2].spec);
    for (const cut of [10, 20, 40, 50]) expect(() => decodePacket(frame.subarray(0, cut)), `cut at ${cut}`).to.throw().with.property('code').that.matches(/^PKT_(TRUNCATED|BAD_HEADER)$/);
    const lying = Buffer.from(frame);
    lying.writeUInt16BE(1500, 16); // IPv4 total length beyond the frame
    expect(() => decodePacket(lying)).to.throw().with.property('code', 'PKT_BAD_HEADER');
  });
});
