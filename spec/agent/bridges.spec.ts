/**
 * The bridge classes name intentions and own their flows (the flows
 * themselves are compared with ovs-ofctl's dump in pipeline.spec.ts, the
 * flow table's diffing in spec/flows); port names follow Neutron's.
 */
import { expect } from 'chai';
import { IntegrationBridge, TunnelBridge, intPatchName, physPatchName, tunnelPortName } from '../../lib/bridges/index.js';
import { flowText, priorityOf, tableOf } from '../../lib/flows/flow.js';

describe('bridge pipelines', () => {
  it('bridge classes name intentions and own their flows', () => {
    const br = new IntegrationBridge('br-int', 1n);
    br.setupDefaultTableFlows();
    br.installDeadPortDrop('p1', 9);
    br.provisionLocalVlan({ networkId: 'n', networkType: 'vlan', segmentationId: 100, lvid: 3, intPatchOfport: 4 });
    expect(br.flows.flowsOf('net:n').map((f) => flowText(f))).to.deep.equal(
      ['priority=3,in_port=4,dl_vlan=100 actions=set_field:4099->vlan_vid,goto_table:59']);
    br.removeDeadPortDrop('p1');
    br.reclaimLocalVlan('n');
    expect([...br.flows.desiredFlows()].some((f) => tableOf(f.key) === 0 && [2, 3].includes(priorityOf(f.key)))).to.equal(false);
    const tun = new TunnelBridge('br-tun', 1n);
    tun.provisionLocalVlan({ networkId: 'n', networkType: 'vxlan', segmentationId: 1000, lvid: 3 });
    tun.setFloodFlow('n', 3, 1000, [7, 5]);
    expect(tun.flows.flowsOf('flood:n').map((f) => flowText(f))).to.deep.equal(
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
