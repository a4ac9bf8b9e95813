/**
 * `npm run bench -- recovery [--quick]`: how long traffic stops when
 * ovs-vswitchd restarts under the agent.
 *
 * Real traffic: two VMs stand as network namespaces, each on a veth whose
 * other end is a port of br-int in a real ovs-vswitchd (OvsSandbox with
 * `netns` devices, userspace datapath), both on one VLAN network, and one
 * pings the other every 10 ms. 100 ports are wired on br-int (the two VMs'
 * and 98 dummy ones), with the noop firewall and with the openvswitch one
 * (a security group allowing ICMP in), over the management sockets and in
 * the controller arrangement. ovs-vswitchd is restarted (SIGTERM, then
 * started again) while the ping runs.
 *
 * Per restart:
 * - outage: the longest gap between two consecutive ping replies around the
 *   restart (10 ms resolution: the ping interval);
 * - the switch's own time to come back: from the restart's start to the
 *   moment br-int's management socket completes an OpenFlow handshake again
 *   (its ports are configured by then), probed every 2 ms in the same run.
 *
 * Ours (the agent noticing the restart on its OpenFlow session events) and
 * the peer (the same agent with `restartDetection: 'poll'`: only the
 * canary check every `polling_interval` = 2 s, Neutron's default, notices
 * it) alternate restart by restart on the same sandbox; the agent process
 * is swapped in between (it adopts the flows, traffic is not disturbed).
 * The agent runs as a process of its own inside the sandbox's network
 * namespace (bench/_recovery-agent.ts), where ovs-vswitchd reaches its
 * controller listener on 127.0.0.1.
 *
 * Target: outage <= the switch's own time to come back + 100 ms.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectSwitch } from '@ovs-agent/openflow';
import { parseFlow } from '@ovs-agent/openflow';
import { OvsSandbox } from '../testing/sandbox.js';
import type { BenchSuite, Metric } from './report.js';
import { metric, newResult, round } from './report.js';

const execFileAsync = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const AGENT = join(ROOT, 'bench/_recovery-agent.ts');
const NET = 'bench-net-vlan';
const PING_INTERVAL_MS = 10;
/** Neutron's default polling_interval, the peer's only way to notice. */
const POLL_S = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Mode = 'mgmt' | 'controller';
type Detection = 'events' | 'poll';
interface Setup { mode: Mode; firewall: boolean }
interface Sample { outageMs: number; backMs: number }
interface Measured { events: Sample[]; poll: Sample[]; loadMs: number[]; flows: number }

const portId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const mac = (i: number) => `fa:16:3e:00:${(((i + 1) >> 8) & 255).toString(16).padStart(2, '0')}:${((i + 1) & 255).toString(16).padStart(2, '0')}`;
const ip = (i: number) => `10.0.${(i + 1) >> 8}.${(i + 1) & 255}`;

/** Until `probe` gives something other than false or undefined; that. */
async function until<T>(probe: () => T | false | undefined | Promise<T | false | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== false && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function ipCmd(...args: string[]): Promise<unknown> {
  return execFileAsync('ip', args);
}

/** The agent process, inside the sandbox's namespace. */
class AgentProcess {
  private readonly child: ChildProcess;
  private exited: string | undefined;
  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('exit', (code, signal) => (this.exited = `exited with ${code ?? signal}`));
  }

  static async start(sb: OvsSandbox, args: Record<string, unknown>): Promise<AgentProcess> {
    const child = spawn('ip', ['netns', 'exec', sb.netns!, process.execPath, '--import', 'tsx', AGENT, JSON.stringify(args)],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const p = new AgentProcess(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the agent process exited with ${code} before starting`)));
    });
    return p;
  }

  status(): Promise<{ active: number; firstSyncDone: boolean; idle: boolean }> {
    if (this.exited) return Promise.reject(new Error(`the agent process ${this.exited}`));
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as { active: number; firstSyncDone: boolean; idle: boolean }));
      this.child.send('status');
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.send('stop');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

/** `ping -D -i 0.01` from one VM to the other; the replies' times (s since the epoch). */
class Ping {
  readonly replies: number[] = [];
  private readonly child: ChildProcess;
  constructor(vm: string, target: string) {
    this.child = spawn('ip', ['netns', 'exec', vm, 'ping', '-D', '-n', '-i', String(PING_INTERVAL_MS / 1000), target], { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(line);
      if (m) this.replies.push(Number(m[1]) * 1000);
    });
  }

  /** For error messages. */
  describe(): string {
    const last = this.replies[this.replies.length - 1];
    return `${this.replies.length} replies so far, the last ${last === undefined ? 'never' : `${Date.now() - last} ms ago`}`;
  }

  /** Replies keep coming: the last `ms` have no gap above 3 intervals. */
  flowing(ms: number): boolean {
    const now = Date.now();
    const recent = this.replies.filter((t) => t >= now - ms);
    if (recent.length < ms / PING_INTERVAL_MS / 2 || now - recent[recent.length - 1] > 3 * PING_INTERVAL_MS) return false;
    return recent.every((t, i) => i === 0 || t - recent[i - 1] <= 3 * PING_INTERVAL_MS);
  }

  /** The longest gap between consecutive replies received from `fromMs` on. */
  longestGap(fromMs: number): number {
    const r = this.replies.filter((t) => t >= fromMs);
    let gap = 0;
    for (let i = 1; i < r.length; i++) gap = Math.max(gap, r[i] - r[i - 1]);
    return gap;
  }

  stop(): void {
    this.child.kill('SIGINT');
  }
}

/**
 * Until br-int's management socket completes an OpenFlow handshake; the time
 * it did (Date.now()). Dialled when the socket file appears (as the agent
 * does) and every 2 ms besides, so the probe lags the switch by no more
 * than the agent's own dial would.
 */
function switchBack(sb: OvsSandbox): Promise<number> {
  const path = sb.mgmtSocket('br-int');
  return new Promise((resolve, reject) => {
    let done = false;
    let inFlight = 0;
    const finish = (err: Error | undefined, at = 0): void => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(deadline);
      watcher.close();
      if (err) reject(err);
      else resolve(at);
    };
    const attempt = (): void => {
      // A watch event dials even with a poll's attempt in flight: that one may predate the socket.
      if (done || inFlight > 4) return;
      inFlight++;
      connectSwitch(`unix:${path}`, { reconnect: false, connectTimeoutMs: 1000 }).then((sw) => {
        finish(undefined, Date.now());
        void sw.close();
      }, () => undefined).finally(() => inFlight--);
    };
    const watcher = watch(dirname(path), (_event, name) => {
      if (name === basename(path)) attempt();
    });
    const poll = setInterval(attempt, 2);
    const deadline = setTimeout(() => finish(new Error('br-int\'s management socket did not come back within 30 s')), 30_000);
  });
}

/**
 * The switch alone taking br-int's flows: what br-int holds after the
 * restarts, parsed beforehand, sent to a spare bridge of the same
 * ovs-vswitchd as one atomic bundle over protocol/openflow (no agent logic),
 * `runs` times. The share of an outage no agent can avoid once it must
 * reinstall that many flows.
 */
async function switchLoad(sb: OvsSandbox, runs: number): Promise<{ ms: number[]; flows: number }> {
  const mods = (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', '--no-names', 'dump-flows', 'br-int'))
    .split('\n').map((l) => l.trim()).filter((l) => l.includes('actions=')).map((l) => parseFlow(l));
  await sb.vsctl('add-br', 'br-floor', '--', 'set', 'bridge', 'br-floor', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13');
  const sw = await until(() => connectSwitch(`unix:${sb.mgmtSocket('br-floor')}`, { reconnect: false }).catch(() => undefined), 'br-floor', 10_000);
  const ms: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      const txn = sw.bundle({ atomic: true, ordered: true });
      await txn.addAll(mods);
      await txn.commit();
      ms.push(round(performance.now() - t, 1));
      sw.deleteFlows();
      await sw.barrier();
      await sleep(200);
    }
  } finally {
    await sw.close();
  }
  return { ms, flows: mods.length };
}

async function measure(setup: Setup, ports: number, restarts: number, notes: string[]): Promise<Measured> {
  const sb = await OvsSandbox.start({ devices: 'netns', vswitchdArgs: ['--enable-dummy'] });
  const dir = mkdtempSync(join(tmpdir(), 'bench-recovery-'));
  const vms = [`${sb.netns}-vm1`, `${sb.netns}-vm2`];
  // The sandbox reaps its own namespace on exit; the VMs' are the benchmark's.
  const dropVms = (): void => {
    for (const vm of vms) {
      try {
        execFileSync('ip', ['netns', 'del', vm], { stdio: 'ignore' });
      } catch {
        // never made, or gone
      }
    }
  };
  process.once('exit', dropVms);
  let agent: AgentProcess | undefined;
  let ping: Ping | undefined;
  try {
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({
      networks: [{ id: NET, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
      ports: Array.from({ length: ports }, (_, i) => ({
        id: portId(i), mac: mac(i), network: NET, fixedIps: [{ ipAddress: ip(i) }],
        securityGroups: setup.firewall ? ['sg-ping'] : [], portSecurityEnabled: setup.firewall,
      })),
      securityGroups: setup.firewall ? { 'sg-ping': { rules: [
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }, { direction: 'egress', ethertype: 'IPv4' },
      ] } } : {},
    }));
    // br-int as nova finds it before the agent sets it up; br-eth1 as the operator creates it.
    for (const br of ['br-int', 'br-eth1']) await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
    // The two VMs: a namespace each, on a veth whose other end becomes a port of br-int.
    for (const [k, vm] of vms.entries()) {
      await ipCmd('netns', 'add', vm);
      await ipCmd('-n', sb.netns!, 'link', 'add', `vh${k}`, 'type', 'veth', 'peer', 'name', `vg${k}`, 'netns', vm);
      await ipCmd('-n', vm, 'link', 'set', `vg${k}`, 'address', mac(k));
      await ipCmd('-n', vm, 'addr', 'add', `${ip(k)}/16`, 'dev', `vg${k}`);
      await ipCmd('-n', vm, 'link', 'set', `vg${k}`, 'up');
      await ipCmd('-n', vm, 'link', 'set', 'lo', 'up');
      await ipCmd('-n', sb.netns!, 'link', 'set', `vh${k}`, 'up');
      await sb.vsctl('add-port', 'br-int', `vh${k}`, '--', 'set', 'Interface', `vh${k}`,
        `external_ids:iface-id=${portId(k)}`, `external_ids:attached-mac=${mac(k)}`);
    }
    const rest: string[] = [];
    for (let i = 2; i < ports; i++) {
      rest.push('--', 'add-port', 'br-int', `dp${i}`, '--', 'set', 'Interface', `dp${i}`, 'type=dummy',
        `external_ids:iface-id=${portId(i)}`, `external_ids:attached-mac=${mac(i)}`);
    }
    if (rest.length) await sb.vsctl(...rest);

    const args = (detection: Detection) => ({
      db: sb.dbRemote, rundir: sb.rundir, state, mode: setup.mode, firewall: setup.firewall, detection, listenPort: 6633,
    });
    const wired = async (a: AgentProcess): Promise<void> => {
      await until(async () => {
        const s = await a.status();
        return s.active === ports && s.firstSyncDone && s.idle;
      }, `${ports} ports ACTIVE`, 120_000);
    };
    let running: Detection = 'events';
    agent = await AgentProcess.start(sb, args(running));
    await wired(agent);
    ping = new Ping(vms[0], ip(1));
    const p = ping;
    await until(() => p.flowing(1000), 'ping replies between the two VMs', 30_000);

    const out: Measured = { events: [], poll: [], loadMs: [], flows: 0 };
    for (let r = 0; r < restarts * 2; r++) {
      const detection: Detection = r % 2 === 0 ? 'events' : 'poll';
      if (detection !== running) {
        await agent.stop();
        agent = await AgentProcess.start(sb, args(detection));
        running = detection;
      }
      await wired(agent);
      await until(() => p.flowing(1000), `steady ping before restart ${r + 1} (${detection})`, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${p.describe()}`);
      });
      const t0 = Date.now();
      await sb.stopVswitchd();
      const [back] = await Promise.all([switchBack(sb), sb.startVswitchd()]);
      await until(() => p.replies[p.replies.length - 1] > back, 'ping replies after the restart', 30_000);
      await until(() => p.flowing(500), 'steady ping after the restart', 30_000);
      const sample = { outageMs: round(p.longestGap(t0 - 1000), 1), backMs: back - t0 };
      out[detection].push(sample);
      const line = `${setup.mode}/${setup.firewall ? 'openvswitch' : 'noop'} restart ${r + 1} (${detection}): outage ${sample.outageMs} ms, switch back after ${sample.backMs} ms`;
      console.error(line);
      notes.push(line);
    }
    ping.stop();
    await agent.stop();
    const load = await switchLoad(sb, restarts);
    out.loadMs = load.ms;
    out.flows = load.flows;
    return out;
  } finally {
    ping?.stop();
    await agent?.stop().catch(() => undefined);
    await sb.stop();
    dropVms();
    process.off('exit', dropVms);
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  async run({ quick }) {
    const ports = quick ? 20 : 100;
    const restarts = 3;
    const setups: Setup[] = quick
      ? [{ mode: 'mgmt', firewall: false }]
      : [{ mode: 'mgmt', firewall: false }, { mode: 'mgmt', firewall: true }, { mode: 'controller', firewall: false }, { mode: 'controller', firewall: true }];
    const notes: string[] = [
      `${ports} ports wired on br-int; ping every ${PING_INTERVAL_MS} ms between two VMs (namespaces on veths); ovs-vswitchd restarted ${restarts} times per detection, events and poll alternating`,
    ];
    const metrics: Metric[] = [];
    for (const setup of setups) {
      const tag = `${setup.mode}_${setup.firewall ? 'fw' : 'noop'}`;
      const { events, poll, loadMs, flows } = await measure(setup, ports, restarts, notes);
      metrics.push(
        metric({
          metric: `restart_outage_${tag}`, unit: 'ms', ours: events.map((s) => s.outageMs),
          peer: { name: `the same agent, the canary poll alone (polling_interval ${POLL_S} s)`, samples: poll.map((s) => s.outageMs) },
          target: '< 1',
        }),
        metric({
          metric: `restart_outage_beyond_switch_back_${tag}`, unit: 'ms', ours: events.map((s) => s.outageMs - s.backMs), target: '<= 100',
          note: 'per restart: outage minus the switch\'s own time to come back, measured in the same restart',
        }),
        metric({
          metric: `restart_switch_back_${tag}`, unit: 'ms', ours: [...events, ...poll].map((s) => s.backMs),
          note: 'from the restart\'s start to br-int\'s management socket completing an OpenFlow handshake (all restarts of this setup)',
        }),
        metric({
          metric: `switch_alone_loads_br_int_${tag}`, unit: 'ms', ours: loadMs,
          note: `br-int's ${flows} flows, parsed beforehand, as one bundle onto a spare bridge of the same ovs-vswitchd, no agent: ` +
            'what the switch itself takes for the flows every restart must reinstall',
        }),
      );
    }
    return newResult('recovery', metrics, notes);
  },
};
export default suite;
