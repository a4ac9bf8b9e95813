/**
 * OVS restarts and reconnects detected by the OpenFlow session events, not
 * by the periodic canary check: `polling_interval` is an hour in every test
 * here, so only the session drop and the reconnect can bring flows back.
 * Both ways of reaching the bridges: their management sockets (the agent
 * dials, the socket drops when ovs-vswitchd goes) and the controller
 * arrangement (the agent listens, the switch dials back when it is up).
 * The bridges' flows are read with ovs-ofctl, the oracle.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenFlowBridgeChannel } from '../../lib/agent/ovs/openflow-channel.js';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { flowText, parseDumpLine } from '../support/dump-lines.js';
import { loadConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import type { OpenFlowSwitch } from '@ovs-agent/openflow';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';
import { waiter } from '../../testing/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BRIDGES = ['br-int', 'br-tun', 'br-eth1'];
const state = {
  networks: [
    { id: 'net-vlan', type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
    { id: 'net-vx', type: 'vxlan', segmentationId: 1001 },
  ],
  ports: [
    { id: 'p-vlan', mac: 'fa:16:3e:00:00:01', network: 'net-vlan' },
    { id: 'p-vx', mac: 'fa:16:3e:00:00:03', network: 'net-vx' },
  ],
  tunnelEndpoints: [{ ipAddress: '192.0.2.2', type: 'vxlan' }],
};
const overrides = {
  'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1',
  'agent.polling_interval': 3600,
};

interface DumpedFlow { text: string; cookie: bigint; duration: number }

async function dump(sb: OvsSandbox, bridge: string): Promise<DumpedFlow[]> {
  const out = await sb.ofctl('-O', 'OpenFlow13', '--no-names', 'dump-flows', bridge);
  return out.split('\n').flatMap((line) => {
    const d = parseDumpLine(line);
    return d ? [{ text: `${bridge} ${flowText(d.flow)}`, cookie: d.cookie, duration: Number(/duration=([\d.]+)s/.exec(line)?.[1]) }] : [];
  });
}

async function dumpAll(sb: OvsSandbox): Promise<DumpedFlow[]> {
  return (await Promise.all(BRIDGES.map((b) => dump(sb, b)))).flat();
}

const texts = (flows: DumpedFlow[]) => flows.map((f) => f.text).sort();

const until = waiter(15_000, 20);

/** Until the three bridges hold exactly `want` (same texts). */
async function untilFlows(sb: OvsSandbox, want: string[], what: string): Promise<void> {
  let last: string[] = [];
  try {
    await until(async () => JSON.stringify(last = texts(await dumpAll(sb))) === JSON.stringify(want), what, 15_000);
  } catch (err) {
    expect(last, (err as Error).message).to.deep.equal(want);
  }
}

/**
 * A reconnect that is not a restart: behind the agent's back one of its flows
 * is deleted and a foreign one added, then the session to br-int drops (from
 * our side; the management socket is redialled, a switch in controller mode
 * dials back). The agent dumps and diffs the bridge: the missing flow comes
 * back, the foreign one goes, and nothing else is sent again (every other
 * flow keeps ageing).
 */
async function reconnectWithoutRestart(sb: OvsSandbox, sw: OpenFlowSwitch): Promise<void> {
  const before = await dumpAll(sb);
  const victim = before.find((f) => f.text.startsWith('br-int table=60,'))!;
  expect(victim, 'a table 60 flow on br-int').to.not.equal(undefined);
  const match = victim.text.slice('br-int '.length, victim.text.indexOf(' actions='));
  await sb.ofctl('-O', 'OpenFlow13', '--strict', 'del-flows', 'br-int', match.replace(', ', ','));
  await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br-int', 'cookie=0x1234,table=0,priority=7,in_port=999,actions=drop');
  expect(texts(await dumpAll(sb))).to.not.deep.equal(texts(before));
  await sleep(1100);
  const sessions = sw.sessions;
  sw.connection!.destroy();
  await until(() => sw.sessions > sessions, 'the new session', 15_000);
  await untilFlows(sb, texts(before), 'br-int reconciled');
  const after = await dumpAll(sb);
  for (const f of after) {
    if (f.text === victim.text) continue;
    expect(f.duration, `${f.text} was not sent again`).to.be.greaterThan(before.find((b) => b.text === f.text)!.duration);
  }
}

describe('OVS restarts and reconnects, detected by the session events @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;

  beforeEach(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
  });
  afterEach(async () => {
    await sb.stop();
  });

  describe('management sockets', () => {
    let h: AgentHarness;
    beforeEach(async () => {
      h = new AgentHarness(sb, { overrides });
      h.writeState(state);
      await h.start();
      await h.plug('tap1', 'p-vlan', 'fa:16:3e:00:00:01');
      await h.plug('tap2', 'p-vx', 'fa:16:3e:00:00:03');
      await h.until(() => ['p-vlan', 'p-vx'].every((id) => h.portState(id) === 'ACTIVE'), 'ports ACTIVE');
      await h.agent.whenIdle();
    });
    afterEach(async () => {
      await h.stop();
    });

    it('ovs-vswitchd restarted: the socket drops, the agent redials and reinstalls every bridge', async () => {
      const before = texts(await dumpAll(sb));
      await sb.restartVswitchd();
      await untilFlows(sb, before, 'every flow back after the restart');
      await h.agent.whenIdle();
      expect(h.portState('p-vlan')).to.equal('ACTIVE');
      expect(h.portState('p-vx')).to.equal('ACTIVE');
    });

    it('while ovs-vswitchd is down the status says DEAD (not NORMAL), and NORMAL once it is back and reconciled', async () => {
      expect(h.agent.status().ovsState).to.equal('NORMAL');
      const before = texts(await dumpAll(sb));
      await sb.stopVswitchd();
      await h.until(() => h.agent.status().ovsState === 'DEAD', 'status DEAD with ovs-vswitchd stopped');
      await sb.startVswitchd();
      await untilFlows(sb, before, 'every flow back after the restart');
      await h.until(() => h.agent.status().ovsState === 'NORMAL', 'status NORMAL again');
    });

    it('a reconnect without a restart reconciles the bridge (dump and diff) and sends nothing else', async () => {
      await reconnectWithoutRestart(sb, (h.channels.get('br-int') as OpenFlowBridgeChannel).switch);
    });
  });

  describe('controller arrangement', () => {
    let dir: string;
    let running: RunningAgent;
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'agent-events-'));
      const stateFile = join(dir, 'state.json');
      writeFileSync(stateFile, JSON.stringify(state));
      const config = loadConfig({ env: {}, overrides: {
        ...overrides, 'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.of_listen_port': 0,
        'ovs_agent.openflow_channel': 'controller', 'ovs_agent.state_file': stateFile, 'ovs_agent.ovs_rundir': sb.rundir,
        'agent.report_interval': 0,
      } }).config;
      running = await runAgent({ config, logger: silentLogger, statusSocket: false });
      for (const [tap, id, mac] of [['tap1', 'p-vlan', '01'], ['tap2', 'p-vx', '03']]) {
        await sb.vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap, `external_ids:iface-id=${id}`,
          `external_ids:attached-mac=fa:16:3e:00:00:${mac}`);
      }
      await until(() => ['p-vlan', 'p-vx'].every((id) => running.agent.port(id)?.state === 'ACTIVE'), 'ports ACTIVE');
      await running.agent.whenIdle();
    });
    afterEach(async () => {
      await running?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('ovs-vswitchd restarted: the switch dials back and the agent reinstalls every bridge', async () => {
      const before = texts(await dumpAll(sb));
      await sb.restartVswitchd();
      await untilFlows(sb, before, 'every flow back after the restart');
      await running.agent.whenIdle();
      expect(running.agent.port('p-vlan')?.state).to.equal('ACTIVE');
    });

    it('a reconnect without a restart reconciles the bridge (dump and diff) and sends nothing else', async () => {
      const dpid = BigInt(`0x${(await sb.vsctl('get', 'Bridge', 'br-int', 'datapath_id')).trim().replace(/"/g, '')}`);
      await reconnectWithoutRestart(sb, running.controller!.switch(dpid)!);
    });
  });
});
