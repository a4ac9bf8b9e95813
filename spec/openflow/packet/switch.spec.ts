/**
 * Packet-in and packet-out through a real ovs-vswitchd, with typed
 * per-message handlers: frames Open vSwitch composes itself
 * (`netdev-dummy/receive` with a flow, its own checksums) reach our
 * `handle('packet_in')` and decode to those fields; frames we build and
 * packet-out leave the port byte for byte (the port's tx_pcap), and read as
 * meant in tshark.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import {
  buildPacket,
  connectSwitch,
  decodePacket,
  OFP_NO_BUFFER,
  OFPP,
  OFPR,
  parseFlow,
  type OpenFlowMessage,
  type OpenFlowSwitch,
  type PacketIn,
} from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { sandboxWithBridge, until } from '../connection/helpers.js';
import { readPcap, tsharkFields } from './pcap.js';

const A = 'fa:16:3e:00:00:01';
const B = 'fa:16:3e:00:00:02';

describe('packet-in / packet-out with typed handlers against ovs-vswitchd @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let sw: OpenFlowSwitch;
  let pcap: string;

  before(async () => {
    sb = await sandboxWithBridge();
    pcap = join(sb.dir, 'p2-tx.pcap');
    await sb.vsctl('set', 'interface', 'p2', `options:tx_pcap=${pcap}`);
    sw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: false });
    // A service connection (the .mgmt socket) gets no asynchronous messages until it asks.
    sw.send({ type: 'set_async', packetInMask: [0x7, 0x7], portStatusMask: [0x7, 0x7], flowRemovedMask: [0xf, 0xf] });
    sw.flowMod({ ...parseFlow('table=0,priority=10,in_port=1,actions=CONTROLLER:65535') });
    await sw.barrier();
  });
  after(async () => {
    await sw?.close();
    await sb?.stop();
  });

  it('handle("packet_in") gets typed packet-ins of frames OVS composed, which decode to the fields given; "message" still carries them', async () => {
    const typed: PacketIn[] = [];
    const all: OpenFlowMessage[] = [];
    const stop = sw.handle('packet_in', (pi) => typed.push(pi));
    const onMessage = (m: OpenFlowMessage): void => void all.push(m);
    sw.on('message', onMessage);
    try {
      const flows = [
        `in_port(1),eth(src=${A},dst=${B}),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1234,dst=80)`,
        `in_port(1),eth(src=${A},dst=${B}),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=9,frag=no),udp(src=53,dst=5353)`,
        `in_port(1),eth(src=${A},dst=${B}),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)`,
        `in_port(1),eth(src=${A},dst=${B}),eth_type(0x86dd),ipv6(src=fd00::1,dst=fd00::2,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=128,code=0)`,
        `in_port(1),eth(src=${A},dst=ff:ff:ff:ff:ff:ff),eth_type(0x8100),vlan(vid=5,pcp=2),encap(eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=${A},tha=00:00:00:00:00:00))`,
      ];
      for (const f of flows) await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'p1', f);
      await until(() => (typed.length >= flows.length ? true : undefined), 'five packet-ins');
      expect(all.filter((m) => m.type === 'packet_in')).to.have.length(flows.length);
      expect(typed.every((pi) => pi.reason === OFPR.ACTION && pi.match.in_port === 1)).to.equal(true);
      const decoded = typed.map((pi) => decodePacket(pi.data));
      expect(decoded.every((p) => p.checksumsOk)).to.equal(true);
      expect(decoded.map((p) => [p.eth.src, p.network?.proto, p.transport?.proto])).to.deep.equal([
        [A, 'ipv4', 'tcp'], [A, 'ipv4', 'udp'], [A, 'ipv4', 'icmp'], [A, 'ipv6', 'icmpv6'], [A, 'arp', undefined],
      ]);
      expect(decoded[0].transport).to.deep.include({ srcPort: 1234, dstPort: 80 });
      expect(decoded[1].network).to.deep.include({ src: '10.0.0.1', dst: '10.0.0.2', ttl: 9 });
      expect(decoded[1].transport).to.deep.include({ srcPort: 53, dstPort: 5353 });
      expect(decoded[2].transport).to.deep.include({ type: 8, code: 0 });
      expect(decoded[3].network).to.deep.include({ src: 'fd00::1', dst: 'fd00::2', hopLimit: 255 });
      expect(decoded[4].vlans.map((v) => [v.vid, v.pcp])).to.deep.equal([[5, 2]]);
      expect(decoded[4].network).to.deep.equal({ proto: 'arp', op: 1, sha: A, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' });

      // Removed: the handler hears nothing more, the union event still does.
      stop();
      await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'p1', flows[0]);
      await until(() => (all.filter((m) => m.type === 'packet_in').length > flows.length ? true : undefined), 'the sixth packet-in');
      expect(typed).to.have.length(flows.length);
    } finally {
      sw.off('message', onMessage);
      stop();
    }
  });

  it('a frame we build and packet-out leaves the port byte for byte, and echoes back through packet-in unchanged', async () => {
    const frames = [
      buildPacket({ eth: { dst: B, src: A }, vlans: [{ vid: 7, pcp: 1 }], network: { proto: 'ipv4', src: '10.9.0.1', dst: '10.9.0.2' }, transport: { proto: 'udp', srcPort: 7, dstPort: 9 }, payload: Buffer.from('out through p2') }),
      buildPacket({ eth: { dst: B, src: A }, network: { proto: 'ipv6', src: 'fd00::a', dst: 'fd00::b' }, transport: { proto: 'tcp', srcPort: 1, dstPort: 2, flags: 0x12 } }),
    ];
    for (const data of frames) {
      sw.send({ type: 'packet_out', bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [{ type: 'output', port: 2, maxLen: 0 }], data });
    }
    await sw.barrier();
    const sent = await until(() => { const f = readPcap(pcap); return f.length >= frames.length ? f : undefined; }, 'the frames in p2\'s tx_pcap');
    expect(sent.map((f) => f.toString('hex'))).to.deep.equal(frames.map((f) => f.toString('hex')));
    const rows = tsharkFields(pcap, ['vlan.id', 'udp.checksum.status', 'ip.checksum.status', 'tcp.checksum.status', 'ipv6.src']);
    expect(rows).to.deep.equal([
      { 'vlan.id': '7', 'udp.checksum.status': '1', 'ip.checksum.status': '1' },
      { 'tcp.checksum.status': '1', 'ipv6.src': 'fd00::a' },
    ]);

    // Our frame injected as raw hex comes back in a packet-in as the same bytes.
    const pi = new Promise<PacketIn>((resolve) => { const stop = sw.handle('packet_in', (m) => { stop(); resolve(m); }); });
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'p1', frames[1].toString('hex'));
    expect((await pi).data.toString('hex')).to.equal(frames[1].toString('hex'));
  });

  it('a handler stays across a reconnect of the switch; one that throws does not stop the others (handlerError)', async () => {
    const rsw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: { initialDelayMs: 50 } });
    try {
      const askAsync = (): void => void rsw.send({ type: 'set_async', packetInMask: [0x7, 0x7], portStatusMask: [0, 0], flowRemovedMask: [0, 0] });
      askAsync();
      rsw.on('connect', askAsync);
      const got: PacketIn[] = [];
      const errors: unknown[] = [];
      rsw.on('handlerError', (err: unknown) => errors.push(err));
      rsw.handle('packet_in', () => { throw new Error('a broken handler'); });
      rsw.handle('packet_in', (pi) => got.push(pi));
      const frame = buildPacket({ eth: { dst: B, src: A }, network: { proto: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, transport: { proto: 'udp', srcPort: 1, dstPort: 2 } });
      await rsw.barrier();
      await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'p1', frame.toString('hex'));
      await until(() => (got.length >= 1 ? true : undefined), 'the packet-in before the reconnect');
      const before = rsw.sessions;
      rsw.connection!.destroy(new Error('dropped by the test'));
      await until(() => (rsw.connected && rsw.sessions > before ? true : undefined), 'the reconnect');
      await rsw.barrier();
      await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'p1', frame.toString('hex'));
      await until(() => (got.length >= 2 ? true : undefined), 'the packet-in after the reconnect');
      expect(got.map((pi) => pi.data.toString('hex'))).to.deep.equal([frame.toString('hex'), frame.toString('hex')]);
      expect(errors.map((e) => (e as Error).message)).to.deep.equal(['a broken handler', 'a broken handler']);
    } finally {
      await rsw.close();
    }
  });
});
