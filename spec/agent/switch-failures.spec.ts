/**
 * Failures on the switch's side, made by the real daemons: ovs-vswitchd
 * refusing a bundle (it carries a flow the switch rejects, so the bundle is
 * rolled back whole) and ovsdb-server refusing the tag transaction (a tag out
 * of the column's range). The agent must not report the port up, must retry
 * it, give up after its retries, and keep wiring other ports meanwhile.
 */
import { expect } from 'chai';
import { MAX_DEVICE_RETRIES } from '../../lib/agent/agent.js';
import type { FlowChannel, PortTagUpdate, SwitchDatabase } from '../../lib/agent/switch.js';
import { OpenFlowBridgeChannel } from '../../lib/agent/ovs/openflow-channel.js';
import type { ReplicaDatabase } from '../../lib/agent/ovs/replica-database.js';
import { gotoTable } from '../../lib/flows/actions.js';
import { addOf, flow } from '../../lib/flows/flow.js';
import type { FlowMod } from '@ovs-agent/openflow';
import { createFirewall } from '../../lib/firewall/index.js';
import type { ControlPlane } from '../../lib/control-plane/types.js';
import type { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

/** A goto_table backwards: ovs-vswitchd refuses it, and with it the whole atomic bundle. */
const REFUSED_FLOW = addOf(flow(10, 1, [], gotoTable(5)), 0n);

/** br-int's channel, whose bundles carrying `target` get a flow the switch refuses added while `on`. */
class RefusingChannel implements FlowChannel {
  on = true;
  /** Bundles the switch refused, and how many of them carried the target. */
  refused = 0;
  errors: string[] = [];

  constructor(private readonly inner: FlowChannel, private readonly target: (mods: readonly FlowMod[]) => boolean) {}

  get bridge(): string {
    return this.inner.bridge;
  }

  async sendBundle(bundle: Iterable<FlowMod>): Promise<void> {
    const mods = [...bundle];
    if (!this.on || !this.target(mods)) return this.inner.sendBundle(mods);
    try {
      await this.inner.sendBundle([...mods, REFUSED_FLOW]);
    } catch (err) {
      this.refused++;
      this.errors.push((err as Error).message);
      throw err;
    }
    throw new Error('the switch accepted a bundle with a backward goto_table: the injection is broken');
  }

  dumpFlows(table?: number): ReturnType<FlowChannel['dumpFlows']> {
    return this.inner.dumpFlows(table);
  }

  onEvent(listener: Parameters<FlowChannel['onEvent']>[0]): () => void {
    return this.inner.onEvent(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The agent's OVSDB, whose tag transactions naming `port` carry a tag ovsdb-server refuses (4096) while `on`. */
function refusingTags(db: ReplicaDatabase, port: string, state: { on: boolean; refused: number; errors: string[] }): SwitchDatabase {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'setPortTags') {
        return async (updates: PortTagUpdate[]) => {
          if (!state.on || !updates.some((u) => u.name === port)) return target.setPortTags(updates);
          try {
            await target.setPortTags(updates.map((u) => (u.name === port ? { ...u, tag: 4096 } : u)));
          } catch (err) {
            state.refused++;
            state.errors.push((err as Error).message);
            throw err;
          }
          throw new Error('ovsdb-server accepted tag 4096: the injection is broken');
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The local control plane, recording every port reported up. */
function recordingUp(cp: LocalControlPlane, up: string[]): ControlPlane {
  return new Proxy(cp, {
    get(target, prop, receiver) {
      if (prop === 'updateDeviceList') {
        return (u: string[], d: string[]) => {
          up.push(...u);
          return target.updateDeviceList(u, d);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const state = {
  networks: [
    { id: 'net-a', type: 'vlan', segmentationId: 101, physicalNetwork: 'physnet1' },
    { id: 'net-b', type: 'vlan', segmentationId: 102, physicalNetwork: 'physnet1' },
    { id: 'net-c', type: 'vlan', segmentationId: 103, physicalNetwork: 'physnet1' },
  ],
  ports: [
    { id: 'p1', mac: 'fa:16:3e:00:00:01', network: 'net-a' },
    { id: 'p2', mac: 'fa:16:3e:00:00:02', network: 'net-b' },
    { id: 'p3', mac: 'fa:16:3e:00:00:03', network: 'net-c' },
  ],
};
const withSecurityGroups = {
  ...state,
  ports: state.ports.map((p, i) => ({ ...p, securityGroups: ['sg'], portSecurityEnabled: true, fixedIps: [{ ipAddress: `10.0.0.${i + 1}` }] })),
  securityGroups: { sg: { rules: [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }, { direction: 'egress', ethertype: 'IPv4' }] } },
};
/** net-a's flow on br-int: what p1's wiring adds there. */
const carriesNetA = (mods: readonly FlowMod[]) => mods.some((m) => m.command === 'add' && m.match.vlan_vid === (0x1000 | 101));

describe('agent with a switch that refuses its changes @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness | undefined;
  let reportedUp: string[];

  beforeEach(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    reportedUp = [];
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await sb.stop();
  });

  const start = async (opts: { channel?: (inner: FlowChannel) => FlowChannel; wrapDb?: (db: ReplicaDatabase) => SwitchDatabase; firewall?: boolean }) => {
    h = new AgentHarness(sb, {
      firewall: opts.firewall ? () => createFirewall('openvswitch') : undefined,
      overrides: { 'ovs.bridge_mappings': 'physnet1:br-eth1' },
      wrapControlPlane: (cp) => recordingUp(cp, reportedUp),
      wrapDb: opts.wrapDb,
      channel: async (s, bridge) => {
        const ch = await OpenFlowBridgeChannel.connect(bridge, `unix:${s.mgmtSocket(bridge)}`);
        return bridge === 'br-int' && opts.channel ? opts.channel(ch) : ch;
      },
    });
    h.writeState(opts.firewall ? withSecurityGroups : state);
    await h.start();
    await h.agent.whenIdle();
    return h;
  };
  const tag = async (name: string) => (await sb.vsctl('get', 'Port', name, 'tag')).trim();
  const failedPasses = (id: string) => h!.passes.filter((p) => p.failed.includes(id)).length;

  it('a bundle ovs-vswitchd refuses: the port is not reported up, retried, other ports are wired meanwhile, and it is wired once the switch accepts', async () => {
    let refusing: RefusingChannel | undefined;
    const a = await start({ channel: (inner) => (refusing = new RefusingChannel(inner, carriesNetA)) });
    await a.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await a.until(() => failedPasses('p1') >= 2, 'p1 retried after the switch refused its bundle');
    expect(refusing!.errors[0], 'the switch\'s own error').to.match(/OFPBIC_BAD_TABLE_ID|bad.*table|error/i);

    // Meanwhile another port is wired as usual.
    await a.plug('tap2', 'p2', 'fa:16:3e:00:00:02');
    await a.until(() => a.portState('p2') === 'ACTIVE', 'p2 ACTIVE while p1 is refused');
    expect(a.portState('p1'), 'p1 still waiting').to.equal('WAITING');
    expect(reportedUp, 'reported up').to.deep.equal(['p2']);
    expect(await tag('tap1'), 'no tag for a port whose flows the switch refused').to.equal('[]');
    const int = await a.flowTexts('br-int');
    expect(int.filter((t) => t.includes('dl_vlan=101') || t === 'table=10, priority=1 actions=goto_table:5'), 'nothing of the refused bundles on the switch').to.deep.equal([]);
    expect(int.filter((t) => t.includes('dl_vlan=102')), 'p2\'s network').to.have.length(1);

    refusing!.on = false;
    await a.until(() => a.portState('p1') === 'ACTIVE', 'p1 ACTIVE once the switch accepts');
    expect(reportedUp).to.deep.equal(['p2', 'p1']);
    expect((await a.flowTexts('br-int')).filter((t) => t.includes('dl_vlan=101'))).to.have.length(1);
    expect(Number(await tag('tap1'))).to.be.within(1, 4094);
  });

  it('a bundle ovs-vswitchd always refuses: the port is given up after its retries, never reported up, and the agent goes on wiring', async () => {
    let refusing: RefusingChannel | undefined;
    const a = await start({ channel: (inner) => (refusing = new RefusingChannel(inner, carriesNetA)) });
    await a.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await a.until(() => a.portState('p1') === 'FAILED', 'p1 given up', 30_000);
    await a.agent.whenIdle();
    expect(refusing!.refused, 'the first try and every retry, each refused by the switch').to.equal(1 + MAX_DEVICE_RETRIES);
    expect(failedPasses('p1'), 'retries scheduled').to.equal(MAX_DEVICE_RETRIES);
    expect(reportedUp, 'never reported up').to.deep.equal([]);
    expect(await tag('tap1')).to.equal('[]');

    await a.plug('tap3', 'p3', 'fa:16:3e:00:00:03');
    await a.until(() => a.portState('p3') === 'ACTIVE', 'p3 ACTIVE after p1 was given up');
    expect(reportedUp).to.deep.equal(['p3']);
    expect(refusing!.refused, 'p1 not tried again').to.equal(1 + MAX_DEVICE_RETRIES);
    expect(a.portState('p1')).to.equal('FAILED');
  });

  it('with the openvswitch firewall, a bundle refused for a port\'s filter flows: not reported up, other ports wired meanwhile, wired once accepted', async () => {
    let refusing: RefusingChannel | undefined;
    // p1's filter flows (reg5=<its ofport>), as the agent sends them.
    const carriesP1Filter = (mods: readonly FlowMod[]) => {
      const ofport = h?.db.vif('tap1')?.ofport;
      return ofport !== undefined && mods.some((m) => m.command === 'add' && m.match.reg5 === ofport);
    };
    const a = await start({ firewall: true, channel: (inner) => (refusing = new RefusingChannel(inner, carriesP1Filter)) });
    await a.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    const p1Reg = `reg5=0x${(await a.ofport('tap1')).toString(16)},`;
    await a.until(() => failedPasses('p1') >= 2, 'p1 retried after the switch refused its filter');
    await a.plug('tap2', 'p2', 'fa:16:3e:00:00:02');
    await a.until(() => a.portState('p2') === 'ACTIVE', 'p2 ACTIVE while p1\'s filter is refused');
    expect(reportedUp).to.deep.equal(['p2']);
    const int = await a.flowTexts('br-int');
    expect(int.filter((t) => t.includes(p1Reg) || t.includes('dl_vlan=101')), 'nothing of p1 on the switch').to.deep.equal([]);
    const p2Reg = `reg5=0x${(await a.ofport('tap2')).toString(16)},`;
    expect(int.filter((t) => t.includes(p2Reg)), 'p2\'s filter').to.have.length.greaterThan(5);

    refusing!.on = false;
    await a.until(() => a.portState('p1') === 'ACTIVE', 'p1 ACTIVE once the switch accepts');
    expect(reportedUp).to.deep.equal(['p2', 'p1']);
    expect((await a.flowTexts('br-int')).filter((t) => t.includes(p1Reg))).to.have.length.greaterThan(5);
  });

  it('a tag transaction ovsdb-server refuses: the port is not reported up, retried, other ports are wired meanwhile, and wired once it is accepted', async () => {
    const tags = { on: true, refused: 0, errors: [] as string[] };
    const a = await start({ wrapDb: (db) => refusingTags(db, 'tap1', tags) });
    await a.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await a.until(() => failedPasses('p1') >= 2, 'p1 retried after ovsdb-server refused its tag');
    expect(tags.errors[0], 'ovsdb-server\'s own error').to.match(/constraint|4096|range/i);

    await a.plug('tap2', 'p2', 'fa:16:3e:00:00:02');
    await a.until(() => a.portState('p2') === 'ACTIVE', 'p2 ACTIVE while p1\'s tag is refused');
    expect(a.portState('p1')).to.equal('WAITING');
    expect(reportedUp).to.deep.equal(['p2']);
    expect(await tag('tap1')).to.equal('[]');
    expect(Number(await tag('tap2'))).to.be.within(1, 4094);

    tags.on = false;
    await a.until(() => a.portState('p1') === 'ACTIVE', 'p1 ACTIVE once its tag is accepted');
    expect(reportedUp).to.deep.equal(['p2', 'p1']);
    expect(Number(await tag('tap1'))).to.be.within(1, 4094);
  });

  it('a tag transaction ovsdb-server always refuses: the port is given up after its retries and never reported up', async () => {
    const tags = { on: true, refused: 0, errors: [] as string[] };
    const a = await start({ wrapDb: (db) => refusingTags(db, 'tap1', tags) });
    await a.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await a.until(() => a.portState('p1') === 'FAILED', 'p1 given up', 30_000);
    await a.agent.whenIdle();
    expect(tags.refused).to.equal(1 + MAX_DEVICE_RETRIES);
    expect(reportedUp).to.deep.equal([]);
    expect(await tag('tap1')).to.equal('[]');
    await a.plug('tap3', 'p3', 'fa:16:3e:00:00:03');
    await a.until(() => a.portState('p3') === 'ACTIVE', 'p3 ACTIVE after p1 was given up');
    expect(tags.refused).to.equal(1 + MAX_DEVICE_RETRIES);
  });
});
