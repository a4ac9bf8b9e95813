import { expect } from 'chai';
import { FlowTable, IntegrationBridge, TunnelBridge, flow, flowText, intPatchName, parseDumpLine, physPatchName, tunnelPortName } from '../../lib/bridges/index.js';

const texts = (fs: ReturnType<FlowTable['takeChanges']>['adds']) => fs.map(flowText).sort();

describe('agent desired-flow table', () => {
  it('sends only what changed and nothing twice', () => {
    const t = new FlowTable('br', 1n);
    t.replace('a', [flow(0, 2, 'in_port=5', 'drop'), flow(0, 1, '', 'NORMAL')]);
    let c = t.takeChanges();
    expect(texts(c.adds)).to.deep.equal(['table=0, priority=1 actions=NORMAL', 'table=0, priority=2,in_port=5 actions=drop']);
    t.commit(c);
    expect(t.takeChanges()).to.deep.equal({ adds: [], deletes: [] });
    t.replace('a', [flow(0, 2, 'in_port=5', 'drop')]);
    c = t.takeChanges();
    expect(c.adds).to.deep.equal([]);
    expect(c.deletes.map(flowText)).to.deep.equal(['table=0, priority=1 actions=NORMAL']);
    t.commit(c);
    expect(t.size).to.equal(1);
  });

  it('keeps uncommitted changes for the next try', () => {
    const t = new FlowTable('br', 1n);
    t.replace('a', [flow(1, 1, '', 'drop')]);
    expect(t.takeChanges().adds).to.have.length(1);
    expect(t.takeChanges().adds, 'not committed: still pending').to.have.length(1);
  });

  it('keeps a flow two owners want until both let go', () => {
    const t = new FlowTable('br', 1n);
    t.replace('a', [flow(0, 2, 'in_port=5', 'drop')]);
    t.replace('b', [flow(0, 2, 'in_port=5', 'drop')]);
    t.commit(t.takeChanges());
    t.remove('a');
    expect(t.takeChanges()).to.deep.equal({ adds: [], deletes: [] });
    t.remove('b');
    expect(t.takeChanges().deletes).to.have.length(1);
  });

  it('adopts what the switch has: identical flows are not re-sent, others replaced, unwanted deleted only when asked', () => {
    const t = new FlowTable('br', 0xabcn);
    t.replace('x', [flow(0, 3, 'in_port=1', 'drop'), flow(0, 4, 'in_port=2', 'drop'), flow(0, 5, 'in_port=3', 'drop')]);
    const dump = [
      ' cookie=0xabc, duration=5.1s, table=0, n_packets=0, n_bytes=0, priority=3,in_port=1 actions=drop',
      ' cookie=0x999, duration=5.1s, table=0, n_packets=0, n_bytes=0, priority=4,in_port=2 actions=drop',
      ' cookie=0xabc, duration=5.1s, table=0, n_packets=0, n_bytes=0, priority=5,in_port=3 actions=NORMAL',
      ' cookie=0x999, duration=5.1s, table=7, n_packets=0, n_bytes=0, priority=1 actions=drop',
    ].map((l) => parseDumpLine(l)!);
    t.adoptInstalled(dump, { deleteUnwanted: false });
    let c = t.takeChanges();
    expect(texts(c.adds)).to.deep.equal(['table=0, priority=4,in_port=2 actions=drop', 'table=0, priority=5,in_port=3 actions=drop']);
    expect(c.deletes).to.deep.equal([]);
    t.commit(c);
    t.adoptInstalled(dump.map((d) => ({ ...d, cookie: 0xabcn })), { deleteUnwanted: true });
    c = t.takeChanges();
    expect(c.deletes.map(flowText)).to.deep.equal(['table=7, priority=1 actions=drop']);
  });

  it('bridge classes name intentions and own their flows', () => {
    const br = new IntegrationBridge('br-int', 1n);
    br.setupDefaultTableFlows();
    br.installDeadPortDrop('p1', 9);
    br.provisionLocalVlan({ networkId: 'n', networkType: 'vlan', segmentationId: 100, lvid: 3, intPatchOfport: 4 });
    expect(br.flows.flowsOf('net:n').map(flowText)).to.deep.equal(
      ['table=0, priority=3,in_port=4,dl_vlan=100 actions=set_field:4099->vlan_vid,goto_table:59']);
    br.removeDeadPortDrop('p1');
    br.reclaimLocalVlan('n');
    expect(br.flows.desiredFlows().some((f) => f.table === 0 && (f.priority === 2 || f.priority === 3))).to.equal(false);
    const tun = new TunnelBridge('br-tun', 1n);
    tun.provisionLocalVlan({ networkId: 'n', networkType: 'vxlan', segmentationId: 1000, lvid: 3 });
    tun.setFloodFlow('n', 3, 1000, [7, 5]);
    expect(tun.flows.flowsOf('flood:n').map(flowText)).to.deep.equal(
      ['table=22, priority=1,dl_vlan=3 actions=pop_vlan,set_field:0x3e8->tun_id,output:5,output:7']);
    tun.reclaimLocalVlan('n');
    expect(tun.flows.size).to.equal(0);
  });

  it('names ports as Neutron does', () => {
    expect(tunnelPortName('vxlan', '10.0.0.2')).to.equal('vxlan-0a000002');
    expect(tunnelPortName('gre', '192.168.1.254')).to.equal('gre-c0a801fe');
    expect(tunnelPortName('vxlan', '2001:db8::1')).to.match(/^vxlan-[a-z2-7]{9}$/);
    expect(intPatchName('br-eth1')).to.equal('int-br-eth1');
    expect(physPatchName('br-eth1')).to.equal('phy-br-eth1');
    const long = intPatchName('br-very-long-name');
    expect(long).to.have.length(15);
    expect(long.startsWith('int-br-ve')).to.equal(true);
  });
});
