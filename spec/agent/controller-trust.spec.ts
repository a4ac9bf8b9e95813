/**
 * The controller arrangement against peers that are not the switch
 * (`openflow_channel = controller`: the agent listens, the bridges'
 * Controller rows point at it, as Neutron's agent does). Impostors are real
 * TCP clients speaking OpenFlow 1.3 (spec/support/fake-switch.ts); the real bridge's
 * flows are read with ovs-ofctl, the oracle.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import type { Logger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { freePort } from '../openflow/connection/helpers.js';
import { FakeSwitch } from '../support/fake-switch.js';
import { waiter } from '../../testing/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NET = 'net-local-1';
const SG = { 'sg-1': { rules: [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }, { direction: 'egress', ethertype: 'IPv4' }] } };
const port = (i: number) => ({
  id: `port-${i}`, mac: `fa:16:3e:00:00:0${i}`, network: NET, securityGroups: ['sg-1'], portSecurityEnabled: true,
  fixedIps: [{ ipAddress: `10.0.0.${i}` }],
});

interface LogLine { level: string; message: string; meta: unknown }

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = {} as Record<string, unknown>;
  for (const level of ['error', 'warn', 'info', 'debug']) {
    logger[level] = (message: unknown, meta?: unknown) => {
      lines.push({ level, message: String(message), meta });
      return logger;
    };
  }
  return { logger: logger as unknown as Logger, lines };
}

const until = waiter(15_000, 20);

describe('agent as OpenFlow controller: peers that are not the switch @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;
  let dir: string;
  let running: RunningAgent | undefined;
  let log: ReturnType<typeof capturingLogger>;
  const cleanups: Array<() => void | Promise<void>> = [];

  beforeEach(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-trust-'));
    log = capturingLogger();
    // br-int exists before the agent starts (an impostor may read its datapath id from anywhere).
    await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await running?.stop();
    running = undefined;
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(overrides: Record<string, string | number | boolean> = {}): Promise<RunningAgent> {
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({ networks: [{ id: NET, type: 'local' }], ports: [1, 2, 3].map(port), securityGroups: SG }));
    const config = loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.of_listen_port': 0,
      'ovs_agent.openflow_channel': 'controller', 'ovs_agent.state_file': state, 'ovs_agent.ovs_rundir': sb.rundir,
      'agent.report_interval': 0, 'securitygroup.firewall_driver': 'openvswitch',
      // The canary poll must not be what repairs anything here.
      'agent.polling_interval': 3600,
      ...overrides,
    } }).config;
    running = await runAgent({ config, logger: log.logger, statusSocket: false });
    return running;
  }

  const dpidOf = async (bridge: string) => BigInt(`0x${(await sb.vsctl('get', 'Bridge', bridge, 'datapath_id')).trim().replace(/"/g, '')}`);
  const ofport = async (name: string) => {
    let v = '';
    await until(async () => /^[1-9]\d*$/.test(v = (await sb.vsctl('get', 'Interface', name, 'ofport')).trim()), `ofport of ${name}`);
    return Number(v);
  };
  const plug = (tap: string, i: number) => sb.vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap,
    `external_ids:iface-id=port-${i}`, `external_ids:attached-mac=fa:16:3e:00:00:0${i}`);
  const flowsOnBridge = async () => (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br-int'))
    .split('\n').filter((l) => l.includes('actions='));

  /** The port is ACTIVE and the real bridge holds every flow the agent wants on br-int, its own included. */
  async function expectWiredOnRealBridge(r: RunningAgent, i: number, tap: string): Promise<void> {
    await until(() => r.agent.port(`port-${i}`)?.state === 'ACTIVE', `port-${i} ACTIVE`);
    await r.agent.whenIdle();
    const flows = await flowsOnBridge();
    const reg5 = `reg5=0x${(await ofport(tap)).toString(16)},`;
    expect(flows.filter((f) => f.includes(reg5)), `port-${i}'s firewall flows on the real br-int`).to.have.length.greaterThan(0);
    expect(flows.some((f) => f.includes('table=23')), 'the canary on the real br-int').to.equal(true);
    const desired = r.agent.status().bridges.find((b) => b.name === 'br-int')!.flows;
    expect(flows.length, 'every flow the agent wants is on the real br-int').to.equal(desired);
  }

  const refusals = () => log.lines.filter((l) => l.level === 'warn' && /refused/i.test(l.message));

  it('a second connection claiming br-int\'s datapath id does not displace the switch; a port plugged meanwhile is wired on the real bridge', async () => {
    const r = await start();
    const dpid = await dpidOf('br-int');
    const real = r.controller!.switch(dpid)!;
    const sessions = real.sessions;

    const impostor = await FakeSwitch.dial(r.agent.config.ovs.of_listen_port, dpid);
    cleanups.push(() => impostor.close());
    await until(() => impostor.handshaken, 'the impostor\'s handshake');
    await plug('tap1', 1);
    await expectWiredOnRealBridge(r, 1, 'tap1');

    expect(impostor.flowMods, 'flow-mods the impostor got').to.equal(0);
    expect(real.sessions, 'the real switch\'s session was never replaced').to.equal(sessions);
    expect(real.connected).to.equal(true);
    await until(() => !impostor.isOpen, 'the impostor dropped');
    expect(refusals().map((l) => l.message).join('\n')).to.match(new RegExp(`datapath ${dpid.toString(16).padStart(16, '0')}`));
  });

  it('an impostor that connects before the real switch, right at agent start, gets nothing; the real bridge is wired', async () => {
    const listenPort = await freePort();
    const dpid = await dpidOf('br-int');
    let stop = false;
    const impostors: FakeSwitch[] = [];
    // Keeps claiming br-int, from before the agent listens until the test ends.
    const loop = (async () => {
      while (!stop) {
        const imp = await FakeSwitch.dial(listenPort, dpid).catch(() => undefined);
        if (!imp) {
          await sleep(2);
          continue;
        }
        impostors.push(imp);
        await Promise.race([imp.closed, until(() => stop, 'stop', 60_000)]);
        imp.close();
      }
    })();
    cleanups.push(async () => {
      stop = true;
      await loop;
    });
    await sleep(50);
    const r = await start({ 'ovs.of_listen_port': listenPort });
    await plug('tap2', 2);
    await expectWiredOnRealBridge(r, 2, 'tap2');
    expect(impostors.length, 'impostor connections made').to.be.greaterThan(0);
    expect(impostors.reduce((n, i) => n + i.flowMods, 0), 'flow-mods the impostors got').to.equal(0);
    expect(r.controller!.switch(dpid)!.connected).to.equal(true);
    await until(() => refusals().length > 0, 'a refusal logged');
  });

  it('3,000 connections claiming made-up datapath ids leave no trace in the controller; the agent keeps wiring', async () => {
    const r = await start();
    const ctl = r.controller!;
    const before = ctl.switches().length;
    for (let batch = 0; batch < 60; batch++) {
      await Promise.all(Array.from({ length: 50 }, async (_, j) => {
        const imp = await FakeSwitch.dial(r.agent.config.ovs.of_listen_port, 0xdead_0000_0000n + BigInt(batch * 50 + j));
        await Promise.race([imp.closed, until(() => imp.handshaken, 'handshake', 10_000).then(() => sleep(20))]);
        imp.close();
      }));
    }
    expect(ctl.switches().length, 'datapaths the controller remembers').to.equal(before);
    await plug('tap3', 3);
    await expectWiredOnRealBridge(r, 3, 'tap3');
  });

  it('silent connections are bounded and timed out; the switch still gets in and recovers after an ovs-vswitchd restart', async () => {
    const r = await start();
    const sockets: Socket[] = [];
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    let closed = 0;
    for (let i = 0; i < 200; i++) {
      const s = connect(r.agent.config.ovs.of_listen_port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      // It reads what it is sent (so it sees the close), and never answers.
      s.resume();
      sockets.push(s);
      await new Promise((resolve) => s.once('connect', resolve));
    }
    // Past the bound of pending handshakes, the oldest are dropped at once.
    await until(() => closed >= 100, 'most of 200 silent connections dropped', 3000);
    // The switch connecting now (it restarted) is not locked out by the silent ones that remain.
    const before = await flowsOnBridge();
    await sb.restartVswitchd();
    await until(async () => (await flowsOnBridge()).length === before.length, 'br-int\'s flows back after the restart', 20_000);
    // And the rest time out.
    await until(() => closed === 200, 'every silent connection dropped', 15_000);
    await plug('tap1', 1);
    await expectWiredOnRealBridge(r, 1, 'tap1');
  });

  it('of_listen_address other than loopback: a warning at start names the risk', async () => {
    await start({ 'ovs.of_listen_address': '0.0.0.0' });
    const warned = log.lines.filter((l) => l.level === 'warn' && l.message.includes('0.0.0.0'));
    expect(warned.map((l) => l.message).join('\n')).to.match(/no authentication/i).and.to.match(/TLS|encrypt/i);
  });
});
