import { expect } from 'chai';
import { createFirewall } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';
import { ethernetUdp, vxlanFrame } from './support/vxlan-frame.js';

/** OVSDB's JSON notation (RFC 7047 5.1) as plain values: a map an object, a set an array. */
function ovsdbValue(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const [kind, data] = v as [string, unknown];
  if (kind === 'map') return Object.fromEntries((data as Array<[unknown, unknown]>).map(([k, x]) => [ovsdbValue(k), ovsdbValue(x)]));
  if (kind === 'set') return (data as unknown[]).map(ovsdbValue);
  if (kind === 'uuid' || kind === 'named-uuid') return data;
  return v;
}

/** One column of one row, as ovsdb-server holds it (the oracle: ovs-vsctl's JSON output). */
async function column(sb: OvsSandbox, table: string, record: string, col: string): Promise<unknown> {
  const out = JSON.parse(await sb.vsctl('--format=json', '--data=json', `--columns=${col}`, 'list', table, record)) as { data: unknown[][] };
  const value = ovsdbValue(out.data[0][0]);
  // A set of one is written as the bare atom.
  return col === 'protocols' && !Array.isArray(value) ? [value] : value;
}

const MCAST_PORT_KEYS = ['mcast-snooping-flood', 'mcast-snooping-flood-reports'];
const pick = (o: unknown, keys: readonly string[]) =>
  Object.fromEntries(Object.entries(o as Record<string, string>).filter(([k]) => keys.includes(k)));

const NET_VLAN = 'net-vlan-0001';
const NET_FLAT = 'net-flat-0002';
const NET_VX = 'net-vxlan-003';
const NET_GRE = 'net-gre-0005';
const NET_GENEVE = 'net-geneve-06';
const state = {
  networks: [
    { id: NET_VLAN, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
    { id: NET_FLAT, type: 'flat', physicalNetwork: 'physnet1' },
    { id: NET_VX, type: 'vxlan', segmentationId: 1001 },
    { id: NET_GRE, type: 'gre', segmentationId: 2001 },
    { id: NET_GENEVE, type: 'geneve', segmentationId: 3001 },
  ],
  ports: [
    { id: 'port-vlan-1', mac: 'fa:16:3e:00:00:01', network: NET_VLAN },
    { id: 'port-flat-1', mac: 'fa:16:3e:00:00:02', network: NET_FLAT },
    { id: 'port-vx-1', mac: 'fa:16:3e:00:00:03', network: NET_VX },
    { id: 'port-down-1', mac: 'fa:16:3e:00:00:04', network: NET_VX, adminStateUp: false },
    { id: 'port-gre-1', mac: 'fa:16:3e:00:00:05', network: NET_GRE },
    { id: 'port-geneve-1', mac: 'fa:16:3e:00:00:06', network: NET_GENEVE },
  ],
  tunnelEndpoints: [
    { ipAddress: '192.0.2.2', type: 'vxlan' }, { ipAddress: '192.0.2.3', type: 'gre' }, { ipAddress: '192.0.2.4', type: 'geneve' },
  ],
};

describe('agent pipeline on a real switch @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness;
  let first: AgentHarness | undefined;
  const overrides = { 'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.tunnel_types': 'vxlan,gre,geneve', 'ovs.local_ip': '192.0.2.1' };

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    h = first = new AgentHarness(sb, { overrides });
    h.writeState(state);
    await h.start();
    await h.agent.whenIdle();
  });
  after(async () => {
    if (h !== first) await h?.stopAgent();
    await first?.stop();
    await sb?.stop();
  });
  const tunCookie = async () => (await sb.vsctl('get', 'Bridge', 'br-tun', 'external_ids:ovs-agent-cookie')).trim().replace(/"/g, '');

  /** The flows a bridge has, exactly: a flow too many fails as surely as one missing. */
  const expectFlows = async (br: string, want: string[]) => {
    expect(await h.flowTexts(br), `${br}: exactly these flows`).to.deep.equal([...want].sort());
  };
  /** The base pipeline as the first test finds it: no network provisioned yet, the three tunnels up. */
  const base = { int: [] as string[], eth: [] as string[], tun: [] as string[] };

  it("sets br-int, br-eth1 and br-tun up with Neutron's tables, OVSDB settings and patch ports", async () => {
    const intPatch = await h.ofport('int-br-eth1');
    const phyPatch = await h.ofport('phy-br-eth1');
    const patchInt = await h.ofport('patch-int');
    const [vxlan, gre, geneve] = [await h.ofport('vxlan-c0000202'), await h.ofport('gre-c0000203'), await h.ofport('geneve-c0000204')];
    base.int = [
      'table=0, priority=0 actions=goto_table:59',
      'table=0, priority=65535,dl_vlan=4095 actions=drop',
      `table=0, priority=2,in_port=${intPatch} actions=drop`,
      'table=23, priority=0 actions=drop',
      'table=24, priority=0 actions=drop',
      'table=30, priority=0 actions=goto_table:59',
      'table=31, priority=0 actions=goto_table:59',
      'table=59, priority=0 actions=goto_table:60',
      'table=60, priority=3 actions=NORMAL',
      'table=62, priority=3 actions=NORMAL',
    ];
    base.eth = [
      'table=0, priority=0 actions=NORMAL',
      `table=0, priority=2,in_port=${phyPatch} actions=drop`,
    ];
    base.tun = [
      `table=0, priority=1,in_port=${patchInt} actions=goto_table:2`,
      `table=0, priority=1,in_port=${vxlan} actions=goto_table:4`,
      `table=0, priority=1,in_port=${gre} actions=goto_table:3`,
      `table=0, priority=1,in_port=${geneve} actions=goto_table:6`,
      'table=0, priority=0 actions=drop',
      'table=2, priority=0,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 actions=goto_table:20',
      'table=2, priority=0,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=goto_table:22',
      'table=3, priority=0 actions=drop',
      'table=4, priority=0 actions=drop',
      'table=6, priority=0 actions=drop',
      // What it learns into table 20 carries br-tun's cookie, as Neutron's learn action sets it.
      `table=10, priority=1 actions=learn(table=20,hard_timeout=300,priority=1,cookie=${await tunCookie()},NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:${patchInt}`,
      'table=20, priority=0 actions=goto_table:22',
      'table=22, priority=0 actions=drop',
    ];
    await expectFlows('br-int', base.int);
    await expectFlows('br-eth1', base.eth);
    await expectFlows('br-tun', base.tun);
    expect((await sb.vsctl('get', 'Bridge', 'br-int', 'fail_mode')).trim()).to.equal('secure');
    // Neutron's create(): OpenFlow10, 13 and 14 on every bridge; 11 and 12 only with the openvswitch firewall (below).
    for (const br of ['br-int', 'br-tun', 'br-eth1']) {
      expect(await column(sb, 'Bridge', br, 'protocols'), `${br} protocols`).to.deep.equal(['OpenFlow10', 'OpenFlow13', 'OpenFlow14']);
    }
    // IGMP snooping (igmp_snooping_enable = false): written on br-int and its patch ports all the same, as Neutron does.
    expect(await column(sb, 'Bridge', 'br-int', 'mcast_snooping_enable')).to.equal(false);
    expect((await column(sb, 'Bridge', 'br-int', 'other_config') as Record<string, string>)['mcast-snooping-disable-flood-unregistered'])
      .to.equal('false');
    for (const port of ['patch-tun', 'int-br-eth1']) {
      expect(pick(await column(sb, 'Port', port, 'other_config'), MCAST_PORT_KEYS), port)
        .to.deep.equal({ 'mcast-snooping-flood': 'False', 'mcast-snooping-flood-reports': 'False' });
    }
    for (const port of ['patch-int', 'phy-br-eth1']) expect(pick(await column(sb, 'Port', port, 'other_config'), MCAST_PORT_KEYS), port).to.deep.equal({});
    for (const br of ['br-tun', 'br-eth1']) {
      expect(await column(sb, 'Bridge', br, 'mcast_snooping_enable'), br).to.equal(false);
      expect(await column(sb, 'Bridge', br, 'other_config'), br).to.not.have.property('mcast-snooping-disable-flood-unregistered');
    }
    expect((await sb.vsctl('get', 'Interface', 'int-br-eth1', 'options:peer')).trim()).to.equal('phy-br-eth1');
    expect((await sb.vsctl('get', 'Interface', 'patch-tun', 'options:peer')).trim()).to.equal('patch-int');
    const tunOpts = await sb.vsctl('get', 'Interface', 'vxlan-c0000202', 'options');
    expect(tunOpts).to.include('remote_ip="192.0.2.2"').and.include('local_ip="192.0.2.1"').and.include('in_key=flow');
    // Every flow carries the bridge's cookie, which the agent keeps in the bridge's external_ids.
    for (const br of ['br-int', 'br-tun', 'br-eth1']) {
      const cookie = BigInt((await sb.vsctl('get', 'Bridge', br, 'external_ids:ovs-agent-cookie')).trim().replace(/"/g, ''));
      const flows = await h.flows(br);
      expect(flows.every((f) => f.cookie === cookie), `${br} cookies`).to.equal(true);
    }
  });

  it('wires a VLAN, a flat and a VXLAN port: tag, other_config, and exactly the provisioning flows', async () => {
    await h.plug('tap-vlan', 'port-vlan-1', 'fa:16:3e:00:00:01');
    await h.plug('tap-flat', 'port-flat-1', 'fa:16:3e:00:00:02');
    await h.plug('tap-vx', 'port-vx-1', 'fa:16:3e:00:00:03');
    await h.until(() => ['port-vlan-1', 'port-flat-1', 'port-vx-1'].every((id) => h.portState(id) === 'ACTIVE'), 'three ports ACTIVE');
    expect(h.cp.portStatus('port-vlan-1')).to.equal('ACTIVE');
    const lvid = (net: string) => h.agent.status().localVlans.find((v) => v.networkId === net)!.lvid;
    const [vVlan, vFlat, vVx] = [lvid(NET_VLAN), lvid(NET_FLAT), lvid(NET_VX)];
    expect(new Set([vVlan, vFlat, vVx]).size).to.equal(3);
    expect(Number((await sb.vsctl('get', 'Port', 'tap-vlan', 'tag')).trim())).to.equal(vVlan);
    expect(Number((await sb.vsctl('get', 'Port', 'tap-vx', 'tag')).trim())).to.equal(vVx);
    const oc = await sb.vsctl('get', 'Port', 'tap-vlan', 'other_config');
    expect(oc).to.include(`net_uuid=${NET_VLAN}`).and.include('segmentation_id="100"').and.include('network_type=vlan')
      .and.include('physical_network=physnet1').and.include(`tag="${vVlan}"`);
    expect(await sb.vsctl('get', 'Port', 'tap-vx', 'other_config')).to.include('physical_network=None');

    const intPatch = await h.ofport('int-br-eth1');
    const phyPatch = await h.ofport('phy-br-eth1');
    const tun = await h.ofport('vxlan-c0000202');
    // Bound ports get no dead-port drop: the provisioning flows are all a network adds.
    await expectFlows('br-int', [
      ...base.int,
      `table=0, priority=3,in_port=${intPatch},dl_vlan=100 actions=set_field:${4096 + vVlan}->vlan_vid,goto_table:59`,
      `table=0, priority=3,in_port=${intPatch},vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,set_field:${4096 + vFlat}->vlan_vid,goto_table:59`,
    ]);
    await expectFlows('br-eth1', [
      ...base.eth,
      `table=0, priority=4,in_port=${phyPatch},dl_vlan=${vVlan} actions=set_field:4196->vlan_vid,NORMAL`,
      `table=0, priority=4,in_port=${phyPatch},dl_vlan=${vFlat} actions=pop_vlan,NORMAL`,
    ]);
    await expectFlows('br-tun', [
      ...base.tun,
      `table=4, priority=1,tun_id=0x3e9 actions=push_vlan:0x8100,set_field:${4096 + vVx}->vlan_vid,goto_table:10`,
      `table=22, priority=1,dl_vlan=${vVx} actions=pop_vlan,set_field:0x3e9->tun_id,output:${tun}`,
    ]);
  });

  it('wires a GRE and a Geneve port: tunnel ports named as Neutron does, their tables, exactly the provisioning flows', async () => {
    await h.plug('tap-gre', 'port-gre-1', 'fa:16:3e:00:00:05');
    await h.plug('tap-geneve', 'port-geneve-1', 'fa:16:3e:00:00:06');
    await h.until(() => ['port-gre-1', 'port-geneve-1'].every((id) => h.portState(id) === 'ACTIVE'), 'GRE and Geneve ports ACTIVE');
    await h.agent.whenIdle();
    const lvid = (net: string) => h.agent.status().localVlans.find((v) => v.networkId === net)!.lvid;
    const [vVx, vGre, vGeneve] = [lvid(NET_VX), lvid(NET_GRE), lvid(NET_GENEVE)];
    expect(Number((await sb.vsctl('get', 'Port', 'tap-gre', 'tag')).trim())).to.equal(vGre);
    expect(await sb.vsctl('get', 'Port', 'tap-geneve', 'other_config')).to.include('network_type=geneve').and.include('segmentation_id="3001"');
    expect((await sb.vsctl('get', 'Interface', 'gre-c0000203', 'type')).trim()).to.equal('gre');
    expect((await sb.vsctl('get', 'Interface', 'geneve-c0000204', 'type')).trim()).to.equal('geneve');
    const vxlan = await h.ofport('vxlan-c0000202');
    const gre = await h.ofport('gre-c0000203');
    const geneve = await h.ofport('geneve-c0000204');
    // Each network floods only to the tunnels of its own type; br-int and br-eth1 gain nothing.
    await expectFlows('br-tun', [
      ...base.tun,
      `table=4, priority=1,tun_id=0x3e9 actions=push_vlan:0x8100,set_field:${4096 + vVx}->vlan_vid,goto_table:10`,
      `table=22, priority=1,dl_vlan=${vVx} actions=pop_vlan,set_field:0x3e9->tun_id,output:${vxlan}`,
      `table=3, priority=1,tun_id=0x7d1 actions=push_vlan:0x8100,set_field:${4096 + vGre}->vlan_vid,goto_table:10`,
      `table=6, priority=1,tun_id=0xbb9 actions=push_vlan:0x8100,set_field:${4096 + vGeneve}->vlan_vid,goto_table:10`,
      `table=22, priority=1,dl_vlan=${vGre} actions=pop_vlan,set_field:0x7d1->tun_id,output:${gre}`,
      `table=22, priority=1,dl_vlan=${vGeneve} actions=pop_vlan,set_field:0xbb9->tun_id,output:${geneve}`,
    ]);
    expect((await h.flowTexts('br-int')).length, 'br-int: the two physical networks\' flows only').to.equal(base.int.length + 2);
    expect((await h.flowTexts('br-eth1')).length, 'br-eth1: the two physical networks\' flows only').to.equal(base.eth.length + 2);
  });

  it('puts an admin-down port and a port the control plane does not know on the dead VLAN with a drop flow', async () => {
    const before = { int: await h.flowTexts('br-int'), eth: await h.flowTexts('br-eth1'), tun: await h.flowTexts('br-tun') };
    await h.plug('tap-down', 'port-down-1', 'fa:16:3e:00:00:04');
    await h.plug('tap-unknown', 'port-nobody', 'fa:16:3e:00:00:99');
    await h.until(() => h.portState('port-down-1') === 'DEAD' && h.portState('port-nobody') === 'DEAD', 'dead ports');
    await h.agent.whenIdle();
    const drops: string[] = [];
    for (const name of ['tap-down', 'tap-unknown']) {
      expect((await sb.vsctl('get', 'Port', name, 'tag')).trim()).to.equal('4095');
      drops.push(`table=0, priority=2,in_port=${await h.ofport(name)} actions=drop`);
    }
    await expectFlows('br-int', [...before.int, ...drops]);
    await expectFlows('br-eth1', before.eth);
    await expectFlows('br-tun', before.tun);
    expect(h.cp.portStatus('port-down-1')).to.equal('DOWN');
  });

  it('removes a network’s flows and reclaims its VLAN with its last port', async () => {
    const lvid = h.agent.status().localVlans.find((v) => v.networkId === NET_VLAN)!.lvid;
    const before = { int: await h.flowTexts('br-int'), eth: await h.flowTexts('br-eth1'), tun: await h.flowTexts('br-tun') };
    await h.unplug('tap-vlan');
    await h.until(() => !h.agent.status().localVlans.some((v) => v.networkId === NET_VLAN), 'VLAN reclaimed');
    await h.agent.whenIdle();
    expect(h.cp.portStatus('port-vlan-1')).to.equal('DOWN');
    // Exactly the network's two provisioning flows go; nothing else is touched.
    await expectFlows('br-int', before.int.filter((t) => !t.includes(',dl_vlan=100 ')));
    await expectFlows('br-eth1', before.eth.filter((t) => !t.includes(`,dl_vlan=${lvid} `)));
    await expectFlows('br-tun', before.tun);
    expect(before.int.length - (await h.flowTexts('br-int')).length).to.equal(1);
    expect(before.eth.length - (await h.flowTexts('br-eth1')).length).to.equal(1);
  });

  it("replaces an older agent's learn flow (no cookie in learn()) on restart instead of keeping both", async () => {
    const patchInt = await h.ofport('patch-int');
    const cookie = await tunCookie();
    const learn = (c: string) => `learn(table=20,hard_timeout=300,priority=1,${c}NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],` +
      `load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:${patchInt}`;
    await h.stopAgent();
    // What an agent before this change left on br-tun, under the cookie the next one adopts.
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br-tun', `cookie=${cookie},table=10,priority=1,actions=${learn('')}`);
    expect((await h.flowTexts('br-tun')).filter((t) => t.startsWith('table=10,'))).to.deep.equal([`table=10, priority=1 actions=${learn('')}`]);
    const othersBefore = (await h.flowTexts('br-tun')).filter((t) => !t.startsWith('table=10,'));

    h = new AgentHarness(sb, { overrides, stateFile: first!.stateFile });
    await h.start();
    await h.until(() => h.agent.status().firstSyncDone, 'first full sync');
    await h.agent.whenIdle();
    const after = await h.flows('br-tun');
    expect(after.filter((f) => f.text.startsWith('table=10,')).map((f) => [f.text, f.cookie.toString(16)])).to.deep.equal([
      [`table=10, priority=1 actions=${learn(`cookie=${cookie},`)}`, cookie.slice(2)],
    ]);
    expect(after.map((f) => f.text).filter((t) => !t.startsWith('table=10,')).sort()).to.deep.equal(othersBefore);
  });
});

describe('agent pipeline with igmp_snooping_enable and the openvswitch firewall @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness;

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    h = new AgentHarness(sb, {
      overrides: {
        'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1',
        'ovs.igmp_snooping_enable': true, 'securitygroup.firewall_driver': 'openvswitch',
      },
      firewall: () => createFirewall('openvswitch', {}),
    });
    h.writeState({ networks: [], ports: [] });
    await h.start();
    await h.agent.whenIdle();
  });
  after(async () => {
    await h?.stop();
    await sb?.stop();
  });

  it('turns IGMP snooping on on br-int, floods multicast and reports to the patch ports, and adds OpenFlow11/12 to br-int', async () => {
    expect(await column(sb, 'Bridge', 'br-int', 'mcast_snooping_enable')).to.equal(true);
    expect((await column(sb, 'Bridge', 'br-int', 'other_config') as Record<string, string>)['mcast-snooping-disable-flood-unregistered'])
      .to.equal('false');
    for (const port of ['patch-tun', 'int-br-eth1']) {
      expect(pick(await column(sb, 'Port', port, 'other_config'), MCAST_PORT_KEYS), port)
        .to.deep.equal({ 'mcast-snooping-flood': 'True', 'mcast-snooping-flood-reports': 'True' });
    }
    for (const port of ['patch-int', 'phy-br-eth1']) expect(pick(await column(sb, 'Port', port, 'other_config'), MCAST_PORT_KEYS), port).to.deep.equal({});
    for (const br of ['br-tun', 'br-eth1']) expect(await column(sb, 'Bridge', br, 'mcast_snooping_enable'), br).to.equal(false);
    // The openvswitch firewall's initialize_bridge: OpenFlow10 to 14 on br-int; the other bridges as created.
    expect(await column(sb, 'Bridge', 'br-int', 'protocols')).to.deep.equal(['OpenFlow10', 'OpenFlow11', 'OpenFlow12', 'OpenFlow13', 'OpenFlow14']);
    for (const br of ['br-tun', 'br-eth1']) {
      expect(await column(sb, 'Bridge', br, 'protocols'), `${br} protocols`).to.deep.equal(['OpenFlow10', 'OpenFlow13', 'OpenFlow14']);
    }
  });
});

/**
 * br-tun learning from real frames: a netns sandbox with native tunnelling,
 * the agent's VXLAN port terminating on an underlay bridge that holds its
 * local_ip, and a VXLAN frame from the remote endpoint injected on the
 * underlay's wire (a dummy port).
 */
describe('br-tun learns from real VXLAN frames with its own cookie @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness;
  const LOCAL_MAC = 'fa:16:3e:00:0a:01';
  const REMOTE_MAC = 'fa:16:3e:00:0a:03';

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns', vswitchdArgs: ['--enable-dummy'] });
    await sb.vsctl('add-br', 'br-phy', '--', 'set', 'bridge', 'br-phy', 'datapath_type=netdev',
      '--', 'add-port', 'br-phy', 'wire0', '--', 'set', 'Interface', 'wire0', 'type=dummy');
    await sb.run('ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'br-phy']);
    await sb.run('ip', ['link', 'set', 'br-phy', 'up']);
    await sb.ofctl('add-flow', 'br-phy', 'actions=NORMAL');
    h = new AgentHarness(sb, { overrides: { 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1' } });
    h.writeState({
      networks: [{ id: NET_VX, type: 'vxlan', segmentationId: 1001 }],
      ports: [{ id: 'port-vx-1', mac: LOCAL_MAC, network: NET_VX }],
      tunnelEndpoints: [{ ipAddress: '192.0.2.2', type: 'vxlan' }],
    });
    await h.start();
    await sb.vsctl('add-port', 'br-int', 'tap-vx', '--', 'set', 'Interface', 'tap-vx', 'type=dummy',
      'external_ids:iface-id=port-vx-1', `external_ids:attached-mac=${LOCAL_MAC}`);
    await h.until(() => h.portState('port-vx-1') === 'ACTIVE', 'port ACTIVE');
    await h.agent.whenIdle();
  });
  after(async () => {
    await h?.stop();
    await sb?.stop();
  });

  it("a frame from the remote endpoint makes table 20 learn the sender's MAC under br-tun's cookie", async () => {
    const cookie = BigInt((await sb.vsctl('get', 'Bridge', 'br-tun', 'external_ids:ovs-agent-cookie')).trim().replace(/"/g, ''));
    const tun = await h.ofport('vxlan-c0000202');
    const lvid = h.agent.status().localVlans.find((v) => v.networkId === NET_VX)!.lvid;
    const phyMac = (await sb.vsctl('get', 'Interface', 'br-phy', 'mac_in_use')).trim().replace(/"/g, '');
    const inner = ethernetUdp({ srcMac: REMOTE_MAC, dstMac: LOCAL_MAC, srcIp: '10.0.0.3', dstIp: '10.0.0.1' });
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'wire0',
      vxlanFrame({ outerSrcMac: 'aa:55:aa:55:00:02', outerDstMac: phyMac, outerSrcIp: '192.0.2.2', outerDstIp: '192.0.2.1', vni: 1001, inner }));
    const learnt = async () => (await h.flows('br-tun')).filter((f) => f.text.startsWith('table=20, priority=1,'));
    const deadline = Date.now() + 10_000;
    while ((await learnt()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await learnt()).map((f) => [f.text, f.cookie])).to.deep.equal([[
      `table=20, priority=1,vlan_tci=0x${lvid.toString(16).padStart(4, '0')}/0x0fff,dl_dst=${REMOTE_MAC} ` +
        `actions=load:0->NXM_OF_VLAN_TCI[],load:0x3e9->NXM_NX_TUN_ID[],output:${tun}`,
      cookie,
    ]]);
    const raw = (await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br-tun', 'table=20')).split('\n').filter((l) => l.includes('priority=1,'));
    expect(raw).to.have.length(1);
    expect(raw[0]).to.include('hard_timeout=300');
    // The frame itself went on to the VM port.
    expect(/tx pkts=(\d+)/.exec(await sb.ofctl('-O', 'OpenFlow13', 'dump-ports', 'br-int', 'tap-vx'))?.[1]).to.equal('1');
  });
});
