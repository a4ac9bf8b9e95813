import { expect } from 'chai';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

/**
 * Traffic, traced by ovs-vswitchd itself (ofproto/trace through the real
 * tables, across patch ports): where a VM's broadcast frame is delivered.
 */
const NET_A = 'net-vx-a';
const NET_B = 'net-vx-b';
const NET_V = 'net-vlan-v';

function hostState(remoteIp: string) {
  return {
    networks: [
      { id: NET_A, type: 'vxlan', segmentationId: 1001 },
      { id: NET_B, type: 'vxlan', segmentationId: 1002 },
      { id: NET_V, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
    ],
    ports: [
      { id: 'a1', mac: 'fa:16:3e:00:0a:01', network: NET_A },
      { id: 'a2', mac: 'fa:16:3e:00:0a:02', network: NET_A },
      { id: 'b1', mac: 'fa:16:3e:00:0b:01', network: NET_B },
      { id: 'v1', mac: 'fa:16:3e:00:0c:01', network: NET_V },
      { id: 'a3', mac: 'fa:16:3e:00:0a:03', network: NET_A },
      { id: 'b3', mac: 'fa:16:3e:00:0b:03', network: NET_B },
    ],
    tunnelEndpoints: [{ ipAddress: remoteIp, type: 'vxlan' }],
  };
}

/** Interface name → datapath port number, from dpif/show. */
async function odpPorts(sb: OvsSandbox): Promise<Map<string, number>> {
  const out = await sb.appctl('ovs-vswitchd', 'dpif/show');
  const m = new Map<string, number>();
  for (const [, name, odp] of out.matchAll(/^\s+(\S+) \d+\/(\d+):/gm)) m.set(name, Number(odp));
  return m;
}

/** The datapath ports a traced packet is output to. */
async function trace(sb: OvsSandbox, bridge: string, flow: string): Promise<{ text: string; outputs: Set<number> }> {
  const text = await sb.appctl('ovs-vswitchd', 'ofproto/trace', bridge, flow);
  const actions = /^Datapath actions: (.*)$/m.exec(text)?.[1] ?? '';
  const outputs = new Set(actions.split(',').filter((a) => /^\d+$/.test(a.trim())).map(Number));
  return { text, outputs };
}

describe('agent traffic (ofproto/trace) @integration', function () {
  this.timeout(60_000);
  let hv1: OvsSandbox;
  let hv2: OvsSandbox;
  let h1: AgentHarness;
  let h2: AgentHarness;

  before(async () => {
    hv1 = await OvsSandbox.start();
    hv2 = await OvsSandbox.start();
    for (const sb of [hv1, hv2]) {
      await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev',
        '--', 'add-port', 'br-eth1', 'eth1');
    }
    const common = { 'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.tunnel_types': 'vxlan' };
    h1 = new AgentHarness(hv1, { overrides: { ...common, 'ovs.local_ip': '192.0.2.1' } });
    h2 = new AgentHarness(hv2, { overrides: { ...common, 'ovs.local_ip': '192.0.2.2' } });
    h1.writeState(hostState('192.0.2.2'));
    h2.writeState(hostState('192.0.2.1'));
    await h1.start();
    await h2.start();
    // Hypervisor 1: a1, a2 (net A), b1 (net B), v1 (VLAN net). Hypervisor 2: a3 (net A), b3 (net B).
    for (const [tap, id, mac] of [['tap-a1', 'a1', '0a:01'], ['tap-a2', 'a2', '0a:02'], ['tap-b1', 'b1', '0b:01'], ['tap-v1', 'v1', '0c:01']]) {
      await h1.plug(tap, id, `fa:16:3e:00:${mac}`);
    }
    for (const [tap, id, mac] of [['tap-a3', 'a3', '0a:03'], ['tap-b3', 'b3', '0b:03']]) await h2.plug(tap, id, `fa:16:3e:00:${mac}`);
    await h1.until(() => ['a1', 'a2', 'b1', 'v1'].every((id) => h1.portState(id) === 'ACTIVE'), 'hv1 ports');
    await h2.until(() => ['a3', 'b3'].every((id) => h2.portState(id) === 'ACTIVE'), 'hv2 ports');
  });
  after(async () => {
    await h1?.stop();
    await h2?.stop();
    await hv1?.stop();
    await hv2?.stop();
  });

  it('two ports of one network reach each other; a port of another network does not', async () => {
    const odp = await odpPorts(hv1);
    const { outputs } = await trace(hv1, 'br-int', 'in_port=tap-a1,dl_src=fa:16:3e:00:0a:01,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(outputs.has(odp.get('tap-a2')!), 'a1 → a2').to.equal(true);
    expect(outputs.has(odp.get('tap-b1')!), 'a1 ↛ b1').to.equal(false);
    expect(outputs.has(odp.get('tap-v1')!), 'a1 ↛ v1').to.equal(false);
    const fromB = await trace(hv1, 'br-int', 'in_port=tap-b1,dl_src=fa:16:3e:00:0b:01,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(fromB.outputs.has(odp.get('tap-a1')!) || fromB.outputs.has(odp.get('tap-a2')!), 'b1 ↛ net A').to.equal(false);
  });

  it('a VLAN network leaves on the physical bridge with its segmentation id', async () => {
    const odp = await odpPorts(hv1);
    const { text, outputs } = await trace(hv1, 'br-int', 'in_port=tap-v1,dl_src=fa:16:3e:00:0c:01,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(outputs.has(odp.get('eth1')!), 'v1 → eth1').to.equal(true);
    expect(/^Datapath actions: .*push_vlan\(vid=100,/m.test(text), 'tagged 100 on the wire').to.equal(true);
    const odp2 = await odpPorts(hv1);
    const inbound = await trace(hv1, 'br-eth1', 'in_port=eth1,dl_vlan=100,dl_src=fa:16:3e:00:99:99,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(inbound.outputs.has(odp2.get('tap-v1')!), 'VLAN 100 from the wire reaches v1').to.equal(true);
    expect(inbound.outputs.has(odp2.get('tap-a1')!), 'but not net A').to.equal(false);
  });

  it('across two hypervisors joined by a VXLAN tunnel: out with the VNI, in to the same network only', async () => {
    const odp1 = await odpPorts(hv1);
    const out = await trace(hv1, 'br-int', 'in_port=tap-a1,dl_src=fa:16:3e:00:0a:01,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(out.text).to.include('set_field:0x3e9->tun_id');
    expect(out.outputs.has(odp1.get('vxlan-c0000202')!), 'hv1 sends net A on the tunnel to hv2').to.equal(true);

    const odp2 = await odpPorts(hv2);
    const tunOfport = await h2.ofport('vxlan-c0000201');
    const into = await trace(hv2, 'br-tun',
      `in_port=${tunOfport},tun_id=0x3e9,tun_src=192.0.2.1,tun_dst=192.0.2.2,dl_src=fa:16:3e:00:0a:01,dl_dst=ff:ff:ff:ff:ff:ff`);
    expect(into.outputs.has(odp2.get('tap-a3')!), 'VNI 1001 reaches a3 on hv2').to.equal(true);
    expect(into.outputs.has(odp2.get('tap-b3')!), 'but not b3').to.equal(false);
    const other = await trace(hv2, 'br-tun',
      `in_port=${tunOfport},tun_id=0x3ea,tun_src=192.0.2.1,tun_dst=192.0.2.2,dl_src=fa:16:3e:00:0b:01,dl_dst=ff:ff:ff:ff:ff:ff`);
    expect(other.outputs.has(odp2.get('tap-b3')!), 'VNI 1002 reaches b3').to.equal(true);
    expect(other.outputs.has(odp2.get('tap-a3')!), 'but not a3').to.equal(false);
    const unknown = await trace(hv2, 'br-tun',
      `in_port=${tunOfport},tun_id=0x999,tun_src=192.0.2.1,tun_dst=192.0.2.2,dl_src=fa:16:3e:00:0b:01,dl_dst=ff:ff:ff:ff:ff:ff`);
    expect(unknown.outputs.size, 'an unknown VNI is dropped').to.equal(0);
  });
});
