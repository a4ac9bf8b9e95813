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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/**
 * Real frames through a real VXLAN tunnel: two agents on one ovs-vswitchd,
 * each with its own br-int/br-tun standing for a hypervisor (local_ip
 * 10.1.0.1 and 10.2.0.1). A frame injected on a VM port of "hv1" is
 * encapsulated by ovs-vswitchd's native tunnelling (tnl_push), decapsulated
 * (tnl_pop) into hv2's tunnel port and delivered by hv2's pipeline.
 *
 * The wire: each tunnel IP sits on an underlay bridge's internal port (in the
 * sandbox's own network namespace), and an underlay flow hands VXLAN from
 * that port straight back to it, where ovs-vswitchd terminates the tunnel.
 * VM ports are netdev-dummy ports, so frames can be injected and counted.
 */
describe('agent traffic through a VXLAN tunnel between two hypervisors @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  const agents: AgentHarness[] = [];
  const state = (remoteIp: string) => ({
    networks: [{ id: NET_A, type: 'vxlan', segmentationId: 1001 }, { id: NET_B, type: 'vxlan', segmentationId: 1002 }],
    ports: [
      { id: 'a1', mac: 'fa:16:3e:00:0a:01', network: NET_A }, { id: 'a2', mac: 'fa:16:3e:00:0a:02', network: NET_A },
      { id: 'b1', mac: 'fa:16:3e:00:0b:01', network: NET_B }, { id: 'a3', mac: 'fa:16:3e:00:0a:03', network: NET_A },
      { id: 'b3', mac: 'fa:16:3e:00:0b:03', network: NET_B },
    ],
    tunnelEndpoints: [{ ipAddress: remoteIp, type: 'vxlan' }],
  });
  const plug = (bridge: string, tap: string, id: string, mac: string) => sb.vsctl('add-port', bridge, tap, '--', 'set', 'Interface', tap,
    'type=dummy', `external_ids:iface-id=${id}`, `external_ids:attached-mac=${mac}`);
  const txPackets = async (bridge: string, port: string): Promise<number> =>
    Number(/tx pkts=(\d+)/.exec(await sb.ofctl('-O', 'OpenFlow13', 'dump-ports', bridge, port))?.[1] ?? NaN);
  /** Frames sent out of each port since `before`, once the ports in `expected` got theirs (the datapath is asynchronous). */
  async function delivered(ports: ReadonlyArray<readonly [string, string]>, before: number[], expected: string[]): Promise<Record<string, number>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const after = await Promise.all(ports.map(([br, p]) => txPackets(br, p)));
      const got = Object.fromEntries(ports.map(([, p], i) => [p, after[i] - before[i]]));
      if (expected.every((p) => got[p] > 0) || Date.now() > deadline) return got;
      await sleep(20);
    }
  }

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns', vswitchdArgs: ['--enable-dummy'] });
    for (const [br, ip] of [['br-phy1', '10.1.0.1/24'], ['br-phy2', '10.2.0.1/24']]) {
      await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
      await sb.run('ip', ['addr', 'add', ip, 'dev', br]);
      await sb.run('ip', ['link', 'set', br, 'up']);
      await sb.ofctl('add-flow', br, 'priority=10,in_port=LOCAL,udp,tp_dst=4789,actions=in_port');
      const mac = (await sb.vsctl('get', 'Interface', br, 'mac_in_use')).trim().replace(/"/g, '');
      await sb.appctl('ovs-vswitchd', 'tnl/arp/set', br, ip.split('/')[0], mac);
    }
    const hv = (n: 1 | 2) => new AgentHarness(sb, {
      overrides: {
        'agent.tunnel_types': 'vxlan', 'ovs.local_ip': n === 1 ? '10.1.0.1' : '10.2.0.1', 'DEFAULT.host': `hv${n}`,
        'ovs.integration_bridge': n === 1 ? 'br-int' : 'br-int2', 'ovs.tunnel_bridge': n === 1 ? 'br-tun' : 'br-tun2',
        'ovs.int_peer_patch_port': n === 1 ? 'patch-tun' : 'patch-tun2', 'ovs.tun_peer_patch_port': n === 1 ? 'patch-int' : 'patch-int2',
      },
    });
    const [hv1, hv2] = [hv(1), hv(2)];
    agents.push(hv1, hv2);
    hv1.writeState(state('10.2.0.1'));
    hv2.writeState(state('10.1.0.1'));
    await hv1.start();
    await hv2.start();
    for (const [tap, id, mac] of [['tap-a1', 'a1', '0a:01'], ['tap-a2', 'a2', '0a:02'], ['tap-b1', 'b1', '0b:01']]) {
      await plug('br-int', tap, id, `fa:16:3e:00:${mac}`);
    }
    for (const [tap, id, mac] of [['tap-a3', 'a3', '0a:03'], ['tap-b3', 'b3', '0b:03']]) await plug('br-int2', tap, id, `fa:16:3e:00:${mac}`);
    await hv1.until(() => ['a1', 'a2', 'b1'].every((id) => hv1.portState(id) === 'ACTIVE'), 'hv1 ports');
    await hv2.until(() => ['a3', 'b3'].every((id) => hv2.portState(id) === 'ACTIVE'), 'hv2 ports');
    await hv1.agent.whenIdle();
    await hv2.agent.whenIdle();
  });
  after(async () => {
    for (const a of agents.splice(0).reverse()) await a.stop();
    await sb?.stop();
  });

  it('a broadcast of network A on hv1 reaches A\'s ports on both hypervisors and no port of network B', async () => {
    const ports = [['br-int', 'tap-a2'], ['br-int', 'tap-b1'], ['br-int2', 'tap-a3'], ['br-int2', 'tap-b3']] as const;
    const before = await Promise.all(ports.map(([br, p]) => txPackets(br, p)));
    const tunBefore = await txPackets('br-tun', 'vxlan-0a020001');
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'tap-a1',
      'eth(src=fa:16:3e:00:0a:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.255,proto=17,tos=0,ttl=64,frag=no),udp(src=68,dst=67)');
    const got = await delivered(ports, before, ['tap-a2', 'tap-a3']);
    expect(await txPackets('br-tun', 'vxlan-0a020001') - tunBefore, 'frames out of hv1\'s tunnel port').to.be.greaterThan(0);
    expect(got).to.deep.equal({ 'tap-a2': 1, 'tap-b1': 0, 'tap-a3': 1, 'tap-b3': 0 });
  });

  it('a broadcast of network B from hv2 reaches B on hv1 only', async () => {
    const ports = [['br-int', 'tap-a1'], ['br-int', 'tap-a2'], ['br-int', 'tap-b1'], ['br-int2', 'tap-a3']] as const;
    const before = await Promise.all(ports.map(([br, p]) => txPackets(br, p)));
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'tap-b3',
      'eth(src=fa:16:3e:00:0b:03,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800),ipv4(src=10.0.1.3,dst=10.0.1.255,proto=17,tos=0,ttl=64,frag=no),udp(src=68,dst=67)');
    expect(await delivered(ports, before, ['tap-b1'])).to.deep.equal({ 'tap-a1': 0, 'tap-a2': 0, 'tap-b1': 1, 'tap-a3': 0 });
  });
});
