import { expect } from 'chai';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

const NET = 'net-vx-1';
const base = {
  networks: [{ id: NET, type: 'vxlan', segmentationId: 1001 }],
  ports: [{ id: 'p1', mac: 'fa:16:3e:00:00:01', network: NET }],
};

describe('agent tunnels @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness | undefined;

  beforeEach(async () => { sb = await OvsSandbox.start(); });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await sb.stop();
  });

  it('follows tunnel endpoints: new endpoint → port named as Neutron does + flood flow; deleted endpoint → port and flows gone', async () => {
    h = new AgentHarness(sb, { overrides: { 'agent.tunnel_types': 'vxlan,gre', 'ovs.local_ip': '192.0.2.1', 'agent.vxlan_udp_port': 4790 } });
    h.writeState({ ...base, tunnelEndpoints: [{ ipAddress: '192.0.2.2', type: 'vxlan' }] });
    await h.start();
    await h.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await h.until(() => h!.portState('p1') === 'ACTIVE', 'p1 ACTIVE');
    const lvid = h.agent.status().localVlans[0].lvid;
    const t2 = await h.ofport('vxlan-c0000202');
    expect(await sb.vsctl('get', 'Interface', 'vxlan-c0000202', 'options')).to.include('dst_port="4790"');

    h.writeState({ ...base, tunnelEndpoints: [{ ipAddress: '192.0.2.2', type: 'vxlan' }, { ipAddress: '192.0.2.3', type: 'vxlan' }, { ipAddress: '192.0.2.9', type: 'gre' }] });
    await h.until(() => h!.agent.status().tunnels.length === 3 && h!.agent.status().tunnels.every((t) => t.ofport !== undefined), 'three tunnels');
    await h.agent.whenIdle();
    const t3 = await h.ofport('vxlan-c0000203');
    const gre = await h.ofport('gre-c0000209');
    expect((await sb.vsctl('get', 'Interface', 'gre-c0000209', 'type')).trim()).to.equal('gre');
    let flows = await h.flowTexts('br-tun');
    expect(flows).to.include(`table=0, priority=1,in_port=${t3} actions=goto_table:4`);
    expect(flows).to.include(`table=0, priority=1,in_port=${gre} actions=goto_table:3`);
    const outs = [t2, t3].sort((a, b) => a - b).map((p) => `output:${p}`).join(',');
    expect(flows).to.include(`table=22, priority=1,dl_vlan=${lvid} actions=pop_vlan,set_field:0x3e9->tun_id,${outs}`);

    h.writeState({ ...base, tunnelEndpoints: [{ ipAddress: '192.0.2.3', type: 'vxlan' }] });
    await h.until(() => h!.agent.status().tunnels.length === 1, 'one tunnel left');
    await h.agent.whenIdle();
    flows = await h.flowTexts('br-tun');
    expect(flows.some((f) => f.includes(`in_port=${t2} `)), 'old tunnel in_port flow gone').to.equal(false);
    expect(flows).to.include(`table=22, priority=1,dl_vlan=${lvid} actions=pop_vlan,set_field:0x3e9->tun_id,output:${t3}`);
    const ports = (await sb.vsctl('list-ports', 'br-tun')).trim().split('\n').sort();
    expect(ports).to.deep.equal(['patch-int', 'vxlan-c0000203']);
  });

  it('with l2population: tunnels, flood list and unicast flows come from fdb entries, not from tunnel_sync', async () => {
    h = new AgentHarness(sb, { overrides: { 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1', 'agent.l2_population': true } });
    h.writeState({
      ...base,
      tunnelEndpoints: [{ ipAddress: '192.0.2.7', type: 'vxlan' }],
      fdb: { [NET]: { segmentId: 1001, networkType: 'vxlan', ports: { '192.0.2.2': [['00:00:00:00:00:00', '0.0.0.0'], ['fa:16:3e:00:00:22', '10.0.0.22']] } } },
    });
    await h.start();
    await h.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await h.until(() => h!.portState('p1') === 'ACTIVE' && h!.agent.status().tunnels.some((t) => t.ofport !== undefined), 'p1 ACTIVE and a tunnel');
    await h.agent.whenIdle();
    const lvid = h.agent.status().localVlans[0].lvid;
    expect(h.agent.status().tunnels.map((t) => t.name)).to.deep.equal(['vxlan-c0000202']);
    const t2 = await h.ofport('vxlan-c0000202');
    const flows = await h.flowTexts('br-tun');
    expect(flows).to.include(`table=22, priority=1,dl_vlan=${lvid} actions=pop_vlan,set_field:0x3e9->tun_id,output:${t2}`);
    expect(flows).to.include(`table=20, priority=2,dl_vlan=${lvid},dl_dst=fa:16:3e:00:00:22 actions=pop_vlan,set_field:0x3e9->tun_id,output:${t2}`);
  });
});
