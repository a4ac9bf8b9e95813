/**
 * The local VLAN pool exhausted at agent level: all 4094 local VLANs taken
 * by 4094 networks, one port each, on the agent's real stack (OVSDB replica,
 * OpenFlow channels, local control plane).
 *
 * 4094 real interfaces are more than the userspace datapath reconfigures in
 * reasonable time here, so ovs-vswitchd's OVSDB part is played by
 * testing/simulated-vswitchd.ts in an ovsdb-server of its own (it gives each
 * Interface an ofport); the flows go over OpenFlow to a real ovs-vswitchd in a
 * second sandbox, whose dumps are the oracle for what the agent installed.
 */
import { expect } from 'chai';
import { OpenFlowBridgeChannel } from '../../lib/agent/ovs/openflow-channel.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { SimulatedVswitchd } from '../../testing/simulated-vswitchd.js';
import { AgentHarness } from './support/harness.js';

const VLANS = 4094;
const DEAD_VLAN = 4095;
const mac = (i: number): string => `fa:16:3e:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const vif = (name: string, port: string, i: number) => ({ name, externalIds: { 'iface-id': port, 'attached-mac': mac(i), 'iface-status': 'active' } });

/** Waits for `cond`; on timeout names the ports of interest only (the harness would print all 4,096). */
async function until(h: AgentHarness, cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      const shown = ['p-flat', 'p-more', 'p5'].map((id) => h.agent.port(id));
      throw new Error(`timed out waiting for ${what}; ACTIVE ${h.agent.portCounts().ACTIVE}; ${JSON.stringify(shown)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent with every local VLAN in use @integration', function () {
  this.timeout(180_000);
  let dbSb: OvsSandbox | undefined;
  let flowsSb: OvsSandbox | undefined;
  let sim: SimulatedVswitchd | undefined;
  let h: AgentHarness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await sim?.stop();
    sim = undefined;
    await dbSb?.stop();
    await flowsSb?.stop();
    dbSb = flowsSb = undefined;
  });

  it('fails the next network\'s port naming the exhausted pool, keeps wiring ports of existing networks, and wires it once a network is reclaimed', async () => {
    flowsSb = await OvsSandbox.start();
    dbSb = await OvsSandbox.start();
    for (const br of ['br-int', 'br-eth1']) await flowsSb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure');
    await dbSb.stopVswitchd();
    for (const br of ['br-int', 'br-eth1']) await dbSb.vsctl('--no-wait', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
    sim = await SimulatedVswitchd.start(dbSb.dbRemote);

    // Networks n0..n4093: VLAN 1..4094 on physnet1, port p<i> each; "flat": one more network, its port p-flat.
    const fsb = flowsSb;
    h = new AgentHarness(dbSb, {
      overrides: { 'ovs.bridge_mappings': 'physnet1:br-eth1', 'ovs_agent.ovs_rundir': fsb.rundir },
      channel: (_sb, bridge) => OpenFlowBridgeChannel.connect(bridge, `unix:${fsb.mgmtSocket(bridge)}`),
    });
    h.writeState({
      networks: [
        ...Array.from({ length: VLANS }, (_, i) => ({ id: `n${i}`, type: 'vlan', physicalNetwork: 'physnet1', segmentationId: i + 1 })),
        { id: 'flat', type: 'flat', physicalNetwork: 'physnet1' },
      ],
      ports: [
        ...Array.from({ length: VLANS }, (_, i) => ({ id: `p${i}`, mac: mac(i), network: `n${i}` })),
        { id: 'p-flat', mac: mac(VLANS), network: 'flat' },
        { id: 'p-more', mac: mac(VLANS + 1), network: 'n7' },
      ],
    });
    await h.start();
    const agent = h.agent;
    for (let i = 0; i < VLANS; i += 1000) {
      await sim.plug('br-int', Array.from({ length: Math.min(VLANS, i + 1000) - i }, (_, k) => vif(`t${i + k}`, `p${i + k}`, i + k)));
    }
    await until(h, () => agent.portCounts().ACTIVE === VLANS, `${VLANS} ports ACTIVE`, 120_000);
    const lvids = agent.status().localVlans.map((v) => v.lvid).sort((a, b) => a - b);
    expect(lvids, 'every local VLAN 1..4094 in use, once').to.deep.equal(Array.from({ length: VLANS }, (_, i) => i + 1));

    const dump = async (bridge: string): Promise<string[]> =>
      (await fsb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', bridge)).split('\n').filter((l) => l.includes('actions='));
    const tag = async (name: string): Promise<number> => Number((await dbSb!.vsctl('get', 'Port', name, 'tag')).trim());
    const flatOnInt = (flows: string[]) => flows.filter((l) => l.includes('vlan_tci=0x0000/0x1fff'));
    const toWire = (flows: string[]) => flows.filter((l) => /dl_vlan=\d+ actions=/.test(l));
    expect(toWire(await dump('br-eth1')), 'one wire translation per network on the physical bridge').to.have.length(VLANS);

    // Network 4095 finds the pool empty; a port of a network that has its VLAN, plugged in the same
    // transaction (so in the same pass), is wired as usual.
    const n7 = agent.status().localVlans.find((v) => v.networkId === 'n7')!.lvid;
    await sim.plug('br-int', [vif('t-flat', 'p-flat', VLANS), vif('t-more', 'p-more', VLANS + 1)]);
    await until(h, () => h!.portState('p-more') === 'ACTIVE', 'p-more ACTIVE');
    const pass = h.passes.find((s) => s.up.includes('p-more'))!;
    expect(pass.dead, 'p-flat failed in the pass that wired p-more').to.include('p-flat');
    expect(await tag('t-more')).to.equal(n7);

    // The port that found no VLAN fails, visibly, and stays closed.
    await until(h, () => h!.portState('p-flat') === 'FAILED', 'p-flat FAILED');
    const failed = agent.port('p-flat')!;
    expect(failed.error).to.match(/no local VLAN left/).and.match(/4094/).and.match(/flat/);
    await agent.whenIdle();
    expect(await tag('t-flat'), 'the failed port on the dead VLAN').to.equal(DEAD_VLAN);
    const flatOfport = Number((await dbSb.vsctl('get', 'Interface', 't-flat', 'ofport')).trim());
    let intFlows = await dump('br-int');
    expect(intFlows.some((l) => l.includes(`priority=2,in_port=${flatOfport} actions=drop`)), 'its traffic dropped on br-int').to.equal(true);
    expect(flatOnInt(intFlows), 'no translation for the network without a VLAN').to.deep.equal([]);
    expect(toWire(await dump('br-eth1'))).to.have.length(VLANS);
    expect(h.cp.portStatus('p-flat'), 'never reported up').to.not.equal('ACTIVE');

    // n5's only port goes: its VLAN returns to the pool and the waiting network takes it.
    const n5 = agent.status().localVlans.find((v) => v.networkId === 'n5')!.lvid;
    await dbSb.vsctl('--no-wait', 'del-port', 'br-int', 't5');
    await until(h, () => h!.portState('p-flat') === 'ACTIVE', 'p-flat ACTIVE once n5 is reclaimed');
    expect(agent.status().localVlans.find((v) => v.networkId === 'n5'), 'n5 reclaimed').to.equal(undefined);
    expect(agent.port('p-flat')).to.include({ lvid: n5, error: undefined });
    await agent.whenIdle();
    expect(await tag('t-flat')).to.equal(n5);
    intFlows = await dump('br-int');
    expect(intFlows.some((l) => l.includes(`in_port=${flatOfport} actions=drop`)), 'its drop flow gone').to.equal(false);
    expect(flatOnInt(intFlows), 'the flat network translated to the VLAN n5 had').to.have.length(1);
    expect(flatOnInt(intFlows)[0]).to.match(new RegExp(`set_field:${4096 + n5}->vlan_vid|mod_vlan_vid:${n5}[,\\s]`));
    const wire = toWire(await dump('br-eth1'));
    expect(wire).to.have.length(VLANS);
    expect(wire.filter((l) => l.includes(`dl_vlan=${n5} `)).map((l) => /actions=(.*)$/.exec(l)![1]), 'VLAN n5 now leaves untagged')
      .to.deep.equal(['pop_vlan,NORMAL']);
  });
});
