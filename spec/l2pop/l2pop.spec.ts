import { expect } from 'chai';
import type { FdbEntries } from '../../lib/control-plane/types.js';
import { L2Population, type L2popAction } from '../../lib/l2pop/index.js';
import { parseFdbEntries } from '../../lib/control-plane/local/fdb.js';

const LOCAL = '192.0.2.1';
const R2 = '192.0.2.2';
const R3 = '192.0.2.3';
const FLOOD: [string, string] = ['00:00:00:00:00:00', '0.0.0.0'];
const NET = { networkId: 'net-a', lvid: 3, segmentationId: 1001, networkType: 'vxlan' as const };

const fdb = (ports: Record<string, Array<[string, string]>>, networkId = 'net-a', segmentId = 1001): FdbEntries => ({
  [networkId]: { segmentId, networkType: 'vxlan', ports },
});
const kinds = (a: L2popAction[]): string[] => a.map((x) => x.kind);

describe('l2population', () => {
  it('creates a tunnel on the first entry naming a remote IP and waits for its ofport before installing flows', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: true });
    l2.networkProvisioned(NET);
    const a = l2.fdbAdd(fdb({ [R2]: [FLOOD, ['fa:16:3e:00:00:05', '10.0.0.5']] }));
    expect(a).to.deep.equal([
      { kind: 'add_tunnel', name: 'vxlan-c0000202', tunnelType: 'vxlan', remoteIp: R2 },
      // The ARP answer does not need the tunnel.
      { kind: 'add_arp', networkId: 'net-a', lvid: 3, ip: '10.0.0.5', mac: 'fa:16:3e:00:00:05' },
    ]);
    expect(l2.tunnelPortReady('vxlan-c0000202', 9)).to.deep.equal([
      { kind: 'add_unicast', networkId: 'net-a', lvid: 3, segmentationId: 1001, mac: 'fa:16:3e:00:00:05', ofport: 9 },
      { kind: 'set_flood', networkId: 'net-a', lvid: 3, segmentationId: 1001, ofports: [9] },
    ]);
  });

  it('keeps one flood list per network over all tunnels with a flooding entry', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: false });
    l2.networkProvisioned(NET);
    l2.fdbAdd(fdb({ [R2]: [FLOOD], [R3]: [FLOOD] }));
    l2.tunnelPortReady('vxlan-c0000202', 9);
    const ready = l2.tunnelPortReady('vxlan-c0000203', 4);
    expect(ready).to.deep.equal([{ kind: 'set_flood', networkId: 'net-a', lvid: 3, segmentationId: 1001, ofports: [4, 9] }]);
    // R3 leaves: the flood list shrinks and its tunnel goes.
    expect(l2.fdbRemove(fdb({ [R3]: [FLOOD] }))).to.deep.equal([
      { kind: 'set_flood', networkId: 'net-a', lvid: 3, segmentationId: 1001, ofports: [9] },
      { kind: 'remove_tunnel', name: 'vxlan-c0000203', tunnelType: 'vxlan', remoteIp: R3 },
    ]);
  });

  it('shares a tunnel between networks and removes it only when no network refers to it', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: false });
    l2.networkProvisioned(NET);
    l2.networkProvisioned({ ...NET, networkId: 'net-b', lvid: 4, segmentationId: 1002 });
    expect(kinds(l2.fdbAdd(fdb({ [R2]: [FLOOD] })))).to.deep.equal(['add_tunnel']);
    l2.tunnelPortReady('vxlan-c0000202', 9);
    expect(kinds(l2.fdbAdd(fdb({ [R2]: [FLOOD] }, 'net-b', 1002)))).to.deep.equal(['set_flood']);
    expect(kinds(l2.fdbRemove(fdb({ [R2]: [FLOOD] })))).to.deep.equal(['set_flood']);
    expect(kinds(l2.networkReclaimed('net-b'))).to.deep.equal(['remove_tunnel']);
  });

  it('ignores its own endpoint, unknown networks, and another segment of the network', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: true });
    l2.networkProvisioned(NET);
    expect(l2.fdbAdd(fdb({ [LOCAL]: [FLOOD, ['fa:16:3e:00:00:01', '10.0.0.1']] }))).to.deep.equal([]);
    expect(l2.fdbAdd(fdb({ [R2]: [FLOOD] }, 'net-unknown'))).to.deep.equal([]);
    expect(l2.fdbAdd(fdb({ [R2]: [FLOOD] }, 'net-a', 2002))).to.deep.equal([]);
  });

  it('keeps entries that arrive before the network is provisioned and applies them when it is', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: true });
    expect(l2.fdbAdd(fdb({ [R2]: [FLOOD, ['fa:16:3e:00:00:05', '10.0.0.5']] }))).to.deep.equal([]);
    expect(kinds(l2.networkProvisioned(NET))).to.deep.equal(['add_tunnel', 'add_arp']);
    // …but not for another segment of the network, and not after the network was reclaimed.
    const other = new L2Population({ localIp: LOCAL, arpResponder: true });
    other.fdbAdd(fdb({ [R2]: [FLOOD] }, 'net-a', 2002));
    expect(other.networkProvisioned(NET)).to.deep.equal([]);
    expect(kinds(l2.networkReclaimed('net-a'))).to.deep.equal(['remove_tunnel']);
    expect(l2.networkProvisioned(NET)).to.deep.equal([]);
  });

  it('answers ARP only for IPv4, and follows chg_ip updates', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: true });
    l2.networkProvisioned(NET);
    const mac = 'fa:16:3e:00:00:05';
    l2.fdbAdd(fdb({ [R2]: [[mac, '10.0.0.5'], [mac, '2001:db8::5']] }));
    l2.tunnelPortReady('vxlan-c0000202', 9);
    const upd = l2.fdbUpdate({ 'net-a': { [R2]: { before: [[mac, '10.0.0.5']], after: [[mac, '10.0.0.6']] } } });
    expect(upd).to.deep.equal([
      { kind: 'add_arp', networkId: 'net-a', lvid: 3, ip: '10.0.0.6', mac },
      { kind: 'remove_arp', networkId: 'net-a', ip: '10.0.0.5' },
    ]);
  });

  it('removing one of two IPs of a MAC keeps the unicast flow; removing the last removes it', () => {
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: false });
    l2.networkProvisioned(NET);
    const mac = 'fa:16:3e:00:00:05';
    l2.fdbAdd(fdb({ [R2]: [FLOOD, [mac, '10.0.0.5'], [mac, '10.0.0.6']] }));
    l2.tunnelPortReady('vxlan-c0000202', 9);
    expect(l2.fdbRemove(fdb({ [R2]: [[mac, '10.0.0.5']] }))).to.deep.equal([]);
    expect(l2.fdbRemove(fdb({ [R2]: [[mac, '10.0.0.6']] }))).to.deep.equal([{ kind: 'remove_unicast', networkId: 'net-a', mac }]);
  });

  it('reports malformed entries instead of throwing', () => {
    const errors: string[] = [];
    const l2 = new L2Population({ localIp: LOCAL, arpResponder: true, onError: (e) => errors.push(e.message) });
    l2.networkProvisioned(NET);
    l2.fdbAdd(fdb({ [R2]: [['not-a-mac', '10.0.0.5'], ['fa:16:3e:00:00:05'] as unknown as [string, string]] }));
    expect(errors).to.have.length(2);
    expect(l2.fdbAdd(fdb({ '2001:db8::2': [FLOOD] }))).to.deep.equal([]);
    expect(errors[2]).to.match(/cannot tunnel vxlan from 192\.0\.2\.1 to 2001:db8::2/);
  });

  it('parses the desired-state fdb section and names the path of mistakes', () => {
    const json = { 'net-a': { segmentId: 1001, networkType: 'vxlan', ports: { [R2]: [FLOOD, ['FA:16:3E:00:00:05', '10.0.0.5']] } } };
    expect(parseFdbEntries(json, 'state.json')).to.deep.equal(fdb({ [R2]: [FLOOD, ['fa:16:3e:00:00:05', '10.0.0.5']] }));
    expect(() => parseFdbEntries({ 'net-a': { segmentId: 1, ports: { [R2]: [['x', '10.0.0.5']] } } }, 'state.json')).to.throw(/fdb\.net-a\.ports\.192\.0\.2\.2\[0\]\[0\]: "x" is not a MAC/);
    expect(() => parseFdbEntries({ 'net-a': { ports: {} } }, 'state.json')).to.throw(/fdb\.net-a\.segmentId/);
  });
});
