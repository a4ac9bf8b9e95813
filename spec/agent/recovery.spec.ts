import { expect } from 'chai';
import { OvsSandbox } from '../../testing/sandbox.js';
import { createFirewall } from '../../lib/firewall/index.js';
import type { ControlPlane, ControlPlaneEvent, ControlPlaneListener } from '../../lib/control-plane/types.js';
import type { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { AgentHarness } from './support/harness.js';
import { FlowMonitors } from './support/flow-monitor.js';

const NET_VLAN = 'net-vlan-0001';
const NET_VX = 'net-vxlan-003';
const NET_VX2 = 'net-vxlan-004';
const baseState = {
  networks: [
    { id: NET_VLAN, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
    { id: NET_VX, type: 'vxlan', segmentationId: 1001 },
    { id: NET_VX2, type: 'vxlan', segmentationId: 1002 },
  ],
  ports: [
    { id: 'p-vlan', mac: 'fa:16:3e:00:00:01', network: NET_VLAN },
    { id: 'p-vx', mac: 'fa:16:3e:00:00:03', network: NET_VX },
    { id: 'p-vx2', mac: 'fa:16:3e:00:00:05', network: NET_VX2 },
    { id: 'p-gone', mac: 'fa:16:3e:00:00:06', network: NET_VX2 },
  ],
  tunnelEndpoints: [{ ipAddress: '192.0.2.2', type: 'vxlan' }],
};
const overrides = { 'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The control plane announcing `event` from inside its start(), which then
 * takes a while longer to return: as the Neutron one tells the agent to
 * resync once connected, then waits for the server's first answers.
 */
function eventDuringStart(cp: LocalControlPlane, event: ControlPlaneEvent): ControlPlane {
  const listeners: ControlPlaneListener[] = [];
  return new Proxy(cp, {
    get: (target, prop, receiver) => {
      if (prop === 'onEvent') {
        return (l: ControlPlaneListener) => {
          listeners.push(l);
          return target.onEvent(l);
        };
      }
      if (prop === 'start') {
        return async (...args: Parameters<ControlPlane['start']>) => {
          await target.start(...args);
          for (const l of listeners) l(event);
          await sleep(500);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Every flow of the three bridges, its text prefixed with its bridge: the same text on two bridges is two flows. */
async function dumpAll(h: AgentHarness) {
  const per = await Promise.all(['br-int', 'br-tun', 'br-eth1'].map(async (br) => (await h.flows(br)).map((f) => ({ ...f, text: `${br} ${f.text}` }))));
  return per.flat();
}

interface TimedDump {
  flows: Array<{ text: string; cookie: bigint; duration: number }>;
  /** Our clock (ms) before the first dump was asked for and after the last was answered. */
  askedAt: number;
  doneAt: number;
}

async function dumpTimed(h: AgentHarness): Promise<TimedDump> {
  const askedAt = Date.now();
  const flows = await dumpAll(h);
  return { flows, askedAt, doneAt: Date.now() };
}

/**
 * The switch as the oracle of "not re-added": a flow in both dumps is at
 * least as old in the later one as it was in the earlier one plus the time
 * between them (less dump-flows' millisecond rounding). A flow added again
 * in between is younger than that gap, however long the gap.
 */
function expectAged(earlier: TimedDump, later: TimedDump): number {
  const gap = (later.askedAt - earlier.doneAt) / 1000;
  const old = new Map(earlier.flows.map((f) => [f.text, f.duration]));
  let kept = 0;
  for (const f of later.flows) {
    const was = old.get(f.text);
    if (was === undefined) continue;
    kept++;
    expect(f.duration, `${f.text} was not re-added (${was} s then, ${gap.toFixed(3)} s ago)`).to.be.at.least(was + gap - 0.001);
  }
  return kept;
}

async function wired(h: AgentHarness, ids: string[]): Promise<void> {
  await h.until(() => ids.every((id) => h.portState(id) === 'ACTIVE'), `${ids.join(', ')} ACTIVE`);
  await h.agent.whenIdle();
}

describe('agent restarts and recovery @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;
  const harnesses: AgentHarness[] = [];
  const monitors: FlowMonitors[] = [];
  /** The switch's own account of the flow-mods on the three bridges from now on (support/flow-monitor.ts). */
  const monitor = async () => {
    const m = await FlowMonitors.start(sb, ['br-int', 'br-tun', 'br-eth1']);
    monitors.push(m);
    return m;
  };
  const harness = (stateFile?: string) => {
    const h = new AgentHarness(sb, { overrides, stateFile });
    harnesses.push(h);
    return h;
  };

  beforeEach(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
  });
  afterEach(async () => {
    for (const m of monitors.splice(0)) m.stop();
    for (const h of harnesses.splice(0).reverse()) await h.stop();
    await sb.stop();
  });
  /** An agent on the base state with p-vlan (tap1) and p-vx (tap2) plugged and ACTIVE. */
  const withTwoPortsWired = async () => {
    const a = harness();
    a.writeState(baseState);
    await a.start();
    await a.plug('tap1', 'p-vlan', 'fa:16:3e:00:00:01');
    await a.plug('tap2', 'p-vx', 'fa:16:3e:00:00:03');
    await wired(a, ['p-vlan', 'p-vx']);
    return a;
  };

  it('an agent restart keeps VLANs and leaves unchanged flows untouched; stale flows go after the first sync', async () => {
    const a = harness();
    a.writeState(baseState);
    await a.start();
    for (const [tap, id, mac] of [['tap1', 'p-vlan', '01'], ['tap2', 'p-vx', '03'], ['tap3', 'p-vx2', '05'], ['tap4', 'p-gone', '06']]) {
      await a.plug(tap, id, `fa:16:3e:00:00:${mac}`);
    }
    await wired(a, ['p-vlan', 'p-vx', 'p-vx2', 'p-gone']);
    const vlansBefore = Object.fromEntries(a.agent.status().localVlans.map((v) => [v.networkId, v.lvid]));
    await a.stopAgent();

    // While the agent is down: p-gone is unplugged (its network keeps p-vx2), p-vx too (its network
    // loses its last port), and a flow from some older agent generation lingers.
    await a.unplug('tap4');
    await a.unplug('tap2'); // p-vx was the last port of NET_VX: its flows are stale now
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br-int', 'cookie=0x1234,table=0,priority=7,in_port=999,actions=drop');
    const mon = await monitor();
    const dumpBefore = await dumpTimed(a);
    const flowsBefore = new Map<string, Map<string, { cookie: bigint; duration: number }>>();
    for (const br of ['br-int', 'br-tun', 'br-eth1']) {
      flowsBefore.set(br, new Map((await a.flows(br)).map((f) => [f.text, f])));
    }

    const b = harness(a.stateFile);
    await b.start();
    await b.until(() => b.agent.status().firstSyncDone, 'first full sync');
    await b.agent.whenIdle();
    await mon.sync();
    const dumpAfter = await dumpTimed(b);
    expect(expectAged(dumpBefore, dumpAfter), 'flows kept').to.be.greaterThan(10);
    // What the switch applied: deletions only (stale flows), one per flow gone; nothing added or modified.
    const changes = mon.changes();
    expect(changes.filter((l) => !/^\S+ event=DELETED /.test(l)), 'flows the restarted agent added or modified').to.deep.equal([]);
    expect(changes.length, 'flow deletions the switch applied').to.equal(dumpBefore.flows.length - dumpAfter.flows.length);
    const { [NET_VX]: _gone, ...stillUsed } = vlansBefore;
    expect(Object.fromEntries(b.agent.status().localVlans.map((v) => [v.networkId, v.lvid]))).to.deep.equal(stillUsed);
    expect((await sb.vsctl('get', 'Port', 'tap1', 'tag')).trim()).to.equal(String(vlansBefore[NET_VLAN]));

    for (const br of ['br-int', 'br-tun', 'br-eth1']) {
      const after = await b.flows(br);
      const before = flowsBefore.get(br)!;
      let kept = 0;
      for (const f of after) {
        const old = before.get(f.text);
        if (!old) continue;
        kept++;
        expect(f.cookie, `${br} ${f.text} cookie`).to.equal(old.cookie);
      }
      expect(kept, `${br} keeps its flows`).to.be.greaterThan(0);
      expect(after.some((f) => f.cookie === 0x1234n), `${br}: the old generation's flow is gone`).to.equal(false);
    }
    expect((await b.flowTexts('br-tun')).some((t) => t.includes('tun_id=0x3e9') || t.includes(`dl_vlan=${vlansBefore[NET_VX]} `)),
      'the flows of the network that lost its last port while the agent was down are gone').to.equal(false);
    expect(b.agent.status().localVlans.some((v) => v.networkId === NET_VX)).to.equal(false);
    expect(b.portState('p-vx2')).to.equal('ACTIVE');
  });

  it('with the openvswitch firewall, a restart recognises every firewall flow on the switch and re-sends none', async () => {
    const state = {
      ...baseState,
      ports: baseState.ports.map((p) => ({ ...p, securityGroups: ['sg-web'], portSecurityEnabled: true, fixedIps: [{ ipAddress: `10.0.0.${p.mac.slice(-1)}` }] })),
      securityGroups: { 'sg-web': { rules: [
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 81 },
        { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sg-web' },
        { direction: 'egress', ethertype: 'IPv6' },
      ] } },
    };
    const withFirewall = (stateFile?: string) => {
      const h = new AgentHarness(sb, { overrides, stateFile, firewall: () => createFirewall('openvswitch') });
      harnesses.push(h);
      return h;
    };
    const a = withFirewall();
    a.writeState(state);
    await a.start();
    for (const [tap, id, mac] of [['tap1', 'p-vlan', '01'], ['tap2', 'p-vx', '03'], ['tap4', 'p-gone', '06']]) {
      await a.plug(tap, id, `fa:16:3e:00:00:${mac}`);
    }
    await wired(a, ['p-vlan', 'p-vx', 'p-gone']);
    const before = new Map((await dumpAll(a)).map((f) => [f.text, f]));
    const goneOfport = await a.ofport('tap4');
    const goneLvid = a.agent.status().localVlans.find((v) => v.networkId === NET_VX2)!.lvid;
    expect([...before.keys()].filter((t) => t.includes(`reg5=0x${goneOfport.toString(16)},`)), 'the port\'s firewall flows').to.have.length.greaterThan(0);
    await a.stopAgent();
    await a.unplug('tap4');
    const mon = await monitor();
    const dumpBefore = await dumpTimed(a);

    const b = withFirewall(a.stateFile);
    await b.start();
    await b.until(() => b.agent.status().firstSyncDone, 'first full sync');
    await b.agent.whenIdle();
    await mon.sync();
    const dumpAfter = await dumpTimed(b);
    const after = dumpAfter.flows;
    expect(after.filter((f) => !before.has(f.text)).map((f) => f.text), 'flows the restart added').to.deep.equal([]);
    expect(expectAged(dumpBefore, dumpAfter), 'every flow left is one that was there').to.equal(after.length);
    const removed = [...before.keys()].filter((t) => !after.some((f) => f.text === t));
    expect(removed.filter((t) => t.includes(`reg5=0x${goneOfport.toString(16)},`)), 'the unplugged port\'s flows are gone').to.have.length.greaterThan(0);
    // p-gone was its network's only port, so that network's flows (and its remote-group address flows) go with it.
    const ofGone = new RegExp(`(in_port=${goneOfport}|reg5=0x${goneOfport.toString(16)}|reg6=0x${goneLvid.toString(16)}|dl_vlan=${goneLvid}|tun_id=0x3ea)[, ]|fa:16:3e:00:00:06|10\\.0\\.0\\.6 `);
    expect(removed.filter((t) => !ofGone.test(t)), 'flows removed that were not the unplugged port\'s').to.deep.equal([]);
    // The switch's count: one deletion per flow removed, nothing added or modified; the agent's own count agrees.
    const changes = mon.changes();
    expect(changes.filter((l) => !/^\S+ event=DELETED /.test(l)), 'flows the restarted agent added or modified').to.deep.equal([]);
    expect(changes.length, 'flow-mods the switch applied: the deletions only').to.equal(removed.length);
    expect(b.passes.reduce((n, p) => n + p.flowMods, 0), 'the agent\'s own count').to.equal(removed.length);
  });

  it('a control-plane event while the restarted agent starts does not end its first sync before it knows its ports', async () => {
    const a = await withTwoPortsWired();
    await a.stopAgent();
    const mon = await monitor();
    const dumpBefore = await dumpTimed(a);
    const before = new Map(dumpBefore.flows.map((f) => [f.text, f]));

    const b = new AgentHarness(sb, {
      overrides, stateFile: a.stateFile,
      wrapControlPlane: (cp) => eventDuringStart(cp, { type: 'resync', reason: 'connected' }),
    });
    harnesses.push(b);
    await b.start();
    await b.until(() => b.agent.status().firstSyncDone, 'first full sync');
    await b.agent.whenIdle();
    await mon.sync();
    const dumpAfter = await dumpTimed(b);
    const after = dumpAfter.flows;
    // A first sync concluded before the ports were known deletes their flows as stale, and the next pass
    // adds them back: the same flows in the end, but traffic cut in between and every duration reset.
    expect(mon.changes(), 'flow-mods the switch applied while the agent restarted').to.deep.equal([]);
    expect(b.passes.reduce((n, p) => n + p.flowMods, 0), 'the agent\'s own count').to.equal(0);
    expect(after.map((f) => f.text).sort()).to.deep.equal([...before.keys()].sort());
    expect(expectAged(dumpBefore, dumpAfter)).to.equal(after.length);
    expect(b.portState('p-vlan')).to.equal('ACTIVE');
    expect(b.portState('p-vx')).to.equal('ACTIVE');
  });

  it('ovs-vswitchd restarted: canary gone, bridges set up again and every port re-wired', async () => {
    const a = await withTwoPortsWired();
    const before = { int: await a.flowTexts('br-int'), tun: await a.flowTexts('br-tun'), eth: await a.flowTexts('br-eth1') };
    await sb.restartVswitchd();
    // The switch comes back with empty tables (secure fail mode); the OpenFlow channels reconnect by
    // themselves and the agent finds the canary gone.
    const deadline = Date.now() + 20_000;
    while ((await a.flowTexts('br-int')).length !== before.int.length || (await a.flowTexts('br-tun')).length !== before.tun.length) {
      if (Date.now() > deadline) throw new Error('flows not reinstalled');
      await sleep(100);
    }
    await a.agent.whenIdle();
    expect(await a.flowTexts('br-int')).to.deep.equal(before.int);
    expect(await a.flowTexts('br-tun')).to.deep.equal(before.tun);
    expect(await a.flowTexts('br-eth1')).to.deep.equal(before.eth);
    expect(a.portState('p-vlan')).to.equal('ACTIVE');
  });

  it('ovsdb-server restarted: the replica resyncs and nothing is re-wired', async () => {
    const a = await withTwoPortsWired();
    const passes = a.passes.length;
    const mon = await monitor();
    const dumpBefore = await dumpTimed(a);
    await sb.restartOvsdbServer();
    await a.until(() => a.db.replica.isConnected, 'replica reconnected');
    // A change made after the restart, seen by the replica: the resync before it has been handed to the agent.
    await sb.vsctl('set', 'Bridge', 'br-int', 'external_ids:test-mark=after-restart');
    await a.until(() => a.db.bridge('br-int')?.externalIds['test-mark'] === 'after-restart', 'the replica seeing a change made after the restart');
    await a.agent.whenIdle();
    await mon.sync();
    const wiringPasses = a.passes.slice(passes).filter((p) => p.up.length || p.flowMods);
    expect(wiringPasses, 'no port re-wired').to.deep.equal([]);
    expect(mon.changes(), 'flow-mods the switch applied').to.deep.equal([]);
    const dumpAfter = await dumpTimed(a);
    expect(expectAged(dumpBefore, dumpAfter)).to.equal(dumpBefore.flows.length);
    // And it still works afterwards.
    await a.plug('tap3', 'p-vx2', 'fa:16:3e:00:00:05');
    await wired(a, ['p-vx2']);
  });

  it('a port whose VLAN tag is changed outside the agent gets it back, a dead one too, with no flow touched', async () => {
    const a = await withTwoPortsWired();
    await a.plug('tap9', 'p-unknown', 'fa:16:3e:00:00:09');
    await a.until(() => a.portState('p-unknown') === 'DEAD', 'the unknown port dead');
    await a.agent.whenIdle();
    const tag = async (name: string) => (await sb.vsctl('get', 'Port', name, 'tag')).trim();
    const lvid = await tag('tap1');
    expect(Number(lvid)).to.be.within(1, 4094);
    expect(await tag('tap9')).to.equal('4095');
    const mon = await monitor();
    const dumpBefore = await dumpTimed(a);
    const flows = new Map(dumpBefore.flows.map((f) => [f.text, f.duration]));
    const spare = lvid === '7' ? '8' : '7';
    await sb.vsctl('set', 'Port', 'tap1', `tag=${spare}`, '--', 'set', 'Port', 'tap9', `tag=${spare}`);
    for (const [name, want] of [['tap1', lvid], ['tap9', '4095']]) {
      const deadline = Date.now() + 15_000;
      while ((await tag(name)) !== want) {
        if (Date.now() > deadline) throw new Error(`${name} still has tag ${await tag(name)}, not ${want}`);
        await sleep(50);
      }
    }
    await a.agent.whenIdle();
    await mon.sync();
    const dumpAfter = await dumpTimed(a);
    const after = dumpAfter.flows;
    expect(after.map((f) => f.text).sort()).to.deep.equal([...flows.keys()].sort());
    expect(mon.changes(), 'flow-mods the switch applied').to.deep.equal([]);
    expect(expectAged(dumpBefore, dumpAfter)).to.equal(after.length);
    expect(a.portState('p-vlan')).to.equal('ACTIVE');

    // The agent's own tag changes are not taken for someone else's: admin down then up, one pass each way.
    const ports = (admin: boolean) => baseState.ports.map((p) => (p.id === 'p-vlan' ? { ...p, adminStateUp: admin } : p));
    for (const [admin, want] of [[false, '4095'], [true, lvid]] as const) {
      const from = a.passes.length;
      a.writeState({ ...baseState, ports: ports(admin) });
      await a.until(() => a.portState('p-vlan') === (admin ? 'ACTIVE' : 'DEAD'), `p-vlan ${admin ? 'up' : 'down'}`);
      // The replica has the agent's own tag write: a pass it would wrongly start has been scheduled by now.
      await a.until(() => a.db.vif('tap1')?.tag === Number(want), `the replica seeing tag ${want} on tap1`);
      await a.agent.whenIdle();
      expect(await tag('tap1')).to.equal(want);
      const touching = a.passes.slice(from).filter((p) => [...p.up, ...p.down, ...p.dead].includes('p-vlan'));
      expect(touching, `passes that handled p-vlan after admin ${admin ? 'up' : 'down'}`).to.have.length(1);
    }
  });

  it('a port removed while it is being wired ends unwired and its network reclaimed', async () => {
    const a = harness();
    a.writeState(baseState);
    await a.start();
    await a.agent.whenIdle();
    await a.plug('tap3', 'p-vx2', 'fa:16:3e:00:00:05');
    await a.unplug('tap3');
    await a.until(() => a.db.vif('tap3') === undefined, 'the replica seeing tap3 unplugged');
    await a.agent.whenIdle();
    expect(a.portState('p-vx2'), 'not left ACTIVE').to.not.equal('ACTIVE');
    expect(a.agent.status().localVlans.some((v) => v.networkId === NET_VX2)).to.equal(false);
    expect((await a.flowTexts('br-tun')).some((t) => t.includes('tun_id=0x3ea'))).to.equal(false);
  });

  it('a port unplugged while its pass waits for the control plane is never reported up, gets no flows, and its VLAN is reclaimed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let asked = false;
    const up: string[] = [];
    const down: string[] = [];
    const a = new AgentHarness(sb, {
      overrides,
      // The control plane answers about p-vx2 only once the test has unplugged it.
      wrapControlPlane: (cp) => new Proxy(cp, {
        get(target, key) {
          if (key === 'getDevicesDetails') {
            return async (ids: string[]) => {
              if (ids.includes('p-vx2')) {
                asked = true;
                await gate;
              }
              return target.getDevicesDetails(ids);
            };
          }
          if (key === 'updateDeviceList') {
            return (u: string[], d: string[]) => {
              up.push(...u);
              down.push(...d);
              return target.updateDeviceList(u, d);
            };
          }
          const v: unknown = Reflect.get(target, key);
          return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
        },
      }),
    });
    harnesses.push(a);
    a.writeState(baseState);
    await a.start();
    await a.agent.whenIdle();
    await a.plug('tap3', 'p-vx2', 'fa:16:3e:00:00:05');
    await a.until(() => asked, 'the pass asking the control plane about p-vx2');
    await a.unplug('tap3');
    await a.until(() => a.db.vif('tap3') === undefined, 'the agent seeing the unplug');
    release();
    await a.until(() => down.includes('p-vx2'), 'p-vx2 reported down');
    await a.agent.whenIdle();
    expect(up, 'never reported up').to.not.include('p-vx2');
    expect(a.agent.port('p-vx2'), 'forgotten').to.equal(undefined);
    expect(a.agent.status().localVlans.some((v) => v.networkId === NET_VX2), 'VLAN reclaimed').to.equal(false);
    expect((await a.flowTexts('br-tun')).some((t) => t.includes('tun_id=0x3ea')), 'no flows of its network').to.equal(false);
  });

  it('an invalid control-plane file is reported and the current wiring kept', async () => {
    const a = harness();
    a.writeState(baseState);
    await a.start();
    await a.plug('tap1', 'p-vlan', 'fa:16:3e:00:00:01');
    await wired(a, ['p-vlan']);
    const flows = await a.flowTexts('br-int');
    a.writeState('{"networks": [ {"id": "x", "type": "vlan"} ], "ports": []}');
    await a.until(() => a.errors.length > 0, 'the error');
    expect(a.errors[0].message).to.include('networks[0].segmentationId');
    await sleep(100);
    await a.agent.whenIdle();
    expect(a.portState('p-vlan')).to.equal('ACTIVE');
    expect(await a.flowTexts('br-int')).to.deep.equal(flows);
    // A later good edit is applied: the port's network goes admin-down.
    a.writeState({ ...baseState, ports: [{ ...baseState.ports[0], adminStateUp: false }] });
    await a.until(() => a.portState('p-vlan') === 'DEAD', 'port dead after the good edit');
  });
});
