/**
 * `npm run bench -- agent [--quick]`: how fast the agent wires ports.
 *
 * 1. Wiring latency on a real ovs-vswitchd with 1,000 ports already wired
 *    (VLAN network; `l2_*` with the noop firewall: tag + report only, as a
 *    VLAN port has no flows of its own; `fw_*` with the openvswitch firewall
 *    and a security group, ~47 flows per port): from the
 *    OVSDB update that makes an interface ready (ofport assigned, iface-id
 *    set) as the agent receives it, to its flows confirmed by the switch
 *    (bundle + barrier), its tag written and the port reported up. Ports
 *    plugged one at a time, and a burst of 200 plugged in one transaction
 *    (time from the last one ready to the last one reported up).
 *    The same ports are also timed independently of the agent's clock
 *    (`*_independent`): bench/_wire-watch.ts, a process of its own, stamps
 *    what the switch reports, from the interface's ofport in OVSDB to its
 *    tag in OVSDB (noop firewall) or to its first flow on br-int and its tag
 *    (firewall); a burst from its last ofport to its last tag.
 *    With the firewall, the switch's own share is measured next to it: the
 *    same number of firewall flows of the same shapes installed by
 *    `ovs-ofctl --bundle add-flows` (no agent at all), for one port and for
 *    a burst of 200.
 * 2. Resync of 10,000 ports after an agent restart. The userspace datapath
 *    cannot hold 10,000 real interfaces on this machine (its reconfiguration
 *    grows quadratically), so this part is SIMULATED on the OVSDB side: the
 *    agent's database is an ovsdb-server of its own with no ovs-vswitchd, in
 *    which the benchmark plays ovs-vswitchd's part of assigning ofports
 *    (testing/simulated-vswitchd.ts); the
 *    agent's flows go to a real ovs-vswitchd (another sandbox) over OpenFlow.
 *    The agent runs as its own process (the compiled `dist/bin/ovs-agent.js`,
 *    built first, executed through its interpreter line as an installed
 *    `ovs-agent` is), so its RSS is the agent's alone; the time runs from
 *    spawning it to its "first full sync done" log line (every port reported
 *    ACTIVE, stale-flow cleanup done).
 *
 * No peer here: Debian's neutron-openvswitch-agent needs its own control
 * plane, and is measured in the Neutron suite (bench/neutron.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PassSummary } from '../lib/agent/agent.js';
import { flowText } from '../lib/flows/flow.js';
import { FlowTable } from '../lib/flows/flow-table.js';
import { runAgent, type RunningAgent } from '../lib/agent/run.js';
import { loadConfig, type AgentConfig } from '../lib/config/index.js';
import { LocalControlPlane } from '../lib/control-plane/local/index.js';
import { createFirewall, type FirewallPort } from '../lib/firewall/index.js';
import { silentLogger } from '../lib/log.js';
import { OpenFlowSwitch } from '@ovs-agent/openflow';
import { parseFlow } from '@ovs-agent/openflow';
import { OvsSandbox } from '../testing/sandbox.js';
import { SimulatedVswitchd } from '../testing/simulated-vswitchd.js';
import type { BenchSuite, Metric } from './report.js';
import { metric, newResult, percentile, round } from './report.js';

const NET = 'bench-net-vlan';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const AGENT_BIN = join(ROOT, 'dist/bin/ovs-agent.js');
const SG_RULES = [
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' },
  { direction: 'egress', ethertype: 'IPv4' },
] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portId(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}
function mac(i: number): string {
  const h = i.toString(16).padStart(6, '0');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}
function ifname(i: number): string {
  return `tap${i.toString(16).padStart(8, '0')}`;
}

function stateFile(dir: string, count: number, firewall: boolean): string {
  const file = join(dir, 'state.json');
  const sg = firewall ? ['sg-bench'] : [];
  writeFileSync(file, JSON.stringify({
    networks: [{ id: NET, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
    ports: Array.from({ length: count }, (_, i) => ({
      id: portId(i), mac: mac(i), network: NET, securityGroups: sg, portSecurityEnabled: firewall,
      fixedIps: [{ ipAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
    })),
    securityGroups: firewall ? { 'sg-bench': { rules: SG_RULES } } : {},
  }));
  return file;
}

function agentConfig(o: { db: string; rundir: string; state: string; firewall: boolean }): AgentConfig {
  return loadConfig({
    env: {},
    overrides: {
      'ovs.ovsdb_connection': o.db, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs_agent.state_file': o.state, 'ovs_agent.ovs_rundir': o.rundir, 'agent.report_interval': 0,
      'securitygroup.firewall_driver': o.firewall ? 'openvswitch' : 'noop', 'DEFAULT.host': 'bench',
    },
  }).config;
}

async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Median time per phase of these passes (ms), e.g. `firewall 1.2, flows 9.8, tags 1.1`. */
function phaseNote(passes: PassSummary[]): string {
  if (!passes.length) return 'none';
  const keys = Object.keys(passes[0].phases) as Array<keyof PassSummary['phases']>;
  return `median of ${passes.length}: ` + keys.map((k) => `${k} ${round(percentile(passes.map((p) => p.phases[k]), 50), 2)}`).join(', ') + ' ms';
}

function activeCount(a: RunningAgent): number {
  return a.agent.portCounts().ACTIVE;
}

/** ovs-vsctl with many add-port commands in one transaction. */
function plugArgs(from: number, to: number): string[] {
  const args: string[] = [];
  for (let i = from; i < to; i++) {
    const n = ifname(i);
    args.push('--', '--may-exist', 'add-port', 'br-int', n, '--', 'set', 'Interface', n,
      `external_ids:iface-id=${portId(i)}`, `external_ids:attached-mac=${mac(i)}`);
  }
  return args;
}

const FLOOR_COOKIE = 0xf100dn;

/** The firewall's flows for `count` ports of the benchmark's shape (its own ofports and VLAN, so nothing collides). */
function firewallFlowFile(dir: string, count: number, name: string): string {
  const table = new FlowTable('br-int', FLOOR_COOKIE);
  const fw = createFirewall('openvswitch', { flows: table });
  fw.updateSecurityGroupInfo({
    rules: { 'sg-bench': SG_RULES.map((r) => ({ ...r, securityGroupId: 'sg-bench' })) }, stateful: { 'sg-bench': true }, members: {},
  });
  const ports: FirewallPort[] = Array.from({ length: count }, (_, i) => ({
    portId: `floor-${i}`, ofport: 50_000 + i, lvid: 4000, macAddress: mac(0xf00000 + i), fixedIps: [`172.16.${i >> 8}.${i & 255}`],
    allowedAddressPairs: [], portSecurityEnabled: true, securityGroups: ['sg-bench'], networkType: 'vlan', segmentationId: 100,
  }));
  fw.setupPortFilters(ports);
  const file = join(dir, name);
  fw.flush();
  const cookie = `cookie=0x${FLOOR_COOKIE.toString(16)},`;
  writeFileSync(file, table.takeChanges().adds.map((f) => `add ${cookie}${flowText(f)}\n`).join(''));
  return file;
}

/**
 * What ovs-vswitchd alone needs for the firewall flows of one port and of 200,
 * on the same bridge with its ~1,000 ports' flows, then removed again:
 * one port's flows as one atomic bundle sent over protocol/openflow with the
 * flow-mods parsed beforehand (no agent logic at all); the 200 ports' flows
 * with `ovs-ofctl --bundle add-flows` (ovs-ofctl's own parse and start included).
 */
async function switchFloor(sb: OvsSandbox, dir: string, runs: number): Promise<{ one: number[]; burst: number[]; flows: [number, number] }> {
  const files = { one: firewallFlowFile(dir, 1, 'one.flows'), burst: firewallFlowFile(dir, 200, 'burst.flows') };
  const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.replace(/^add /, ''));
  const one = lines(files.one).map((l) => parseFlow(l));
  const out = { one: [] as number[], burst: [] as number[], flows: [one.length, lines(files.burst).length] as [number, number] };
  const sw = await OpenFlowSwitch.connect(`unix:${sb.mgmtSocket('br-int')}`);
  try {
    for (let r = 0; r < runs * 10; r++) {
      const t = performance.now();
      const txn = sw.bundle({ atomic: true, ordered: true });
      await txn.addAll(one);
      await txn.commit();
      out.one.push(performance.now() - t);
      sw.deleteFlows({ cookie: FLOOR_COOKIE, cookieMask: 0xffffffffffffffffn });
      await sw.barrier();
      await sleep(100);
    }
  } finally {
    await sw.close();
  }
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await sb.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', 'br-int', files.burst);
    out.burst.push(performance.now() - t);
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br-int', `cookie=0x${FLOOR_COOKIE.toString(16)}/-1`);
    await sleep(500);
  }
  return out;
}

interface WatchEvent {
  t: number;
  kind: 'ofport' | 'tag' | 'flow' | 'paused';
  name?: string;
  ofport?: number;
  tag?: number;
  ofports?: number[];
  /** OVSDB events: the message and the read they came in (bench/_wire-watch.ts). */
  m?: number;
  r?: number;
}

/**
 * The independent clock: bench/_wire-watch.ts, a process of its own, stamps
 * what the switch reports: an OVSDB monitor (ofport assigned, tag written, on
 * one connection, so in commit order) and `ovs-ofctl monitor` (a flow naming
 * an ofport added); the agent's own count plays no part.
 */
class WireWatch {
  private readonly ofports = new Map<string, { t: number; ofport: number; m: number; r: number }>();
  private readonly tags = new Map<string, { t: number; m: number; r: number }>();
  private readonly flows = new Map<number, number>();
  paused = 0;

  private constructor(private readonly child: ChildProcess) {}

  static async start(sb: OvsSandbox): Promise<WireWatch> {
    // At a higher priority (root only; otherwise nice says so and runs it as is): a watcher waiting for a CPU
    // while the agent works would read two updates together and see no time between them.
    const watcher = [process.execPath, '--import', 'tsx', join(ROOT, 'bench/_wire-watch.ts'), sb.dbRemote, sb.mgmtSocket('br-int'), sb.rundir];
    const child = spawn('nice', ['-n', '-10', ...watcher], { stdio: ['pipe', 'pipe', 'inherit'] });
    const w = new WireWatch(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('_wire-watch: not ready within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`_wire-watch exited (${code})`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const e = JSON.parse(line) as WatchEvent & { ready?: boolean };
        if (e.ready) {
          clearTimeout(timer);
          resolve();
        } else {
          w.note(e);
        }
      });
    });
    return w;
  }

  /** First ofport per interface, first tag per port, first flow per ofport. */
  private note(e: WatchEvent): void {
    switch (e.kind) {
      case 'ofport':
        if (!this.ofports.has(e.name!)) this.ofports.set(e.name!, { t: e.t, ofport: e.ofport!, m: e.m!, r: e.r! });
        return;
      case 'tag':
        if (!this.tags.has(e.name!)) this.tags.set(e.name!, { t: e.t, m: e.m!, r: e.r! });
        return;
      case 'flow':
        for (const o of e.ofports!) if (!this.flows.has(o)) this.flows.set(o, e.t);
        return;
      case 'paused':
        this.paused++;
    }
  }

  /** The port's times (ms, the watcher's clock): ofport seen, tag seen, its first flow seen (when `flows`), wired = the last of those. */
  times(name: string, flows: boolean): { ofport: number; tag: number; flow: number; wired: number } | undefined {
    const o = this.ofports.get(name);
    const tag = this.tags.get(name)?.t;
    const flow = o ? this.flows.get(o.ofport) : undefined;
    if (!o || tag === undefined || (flows && flow === undefined)) return undefined;
    return { ofport: o.t, tag, flow: flow ?? NaN, wired: flows ? Math.max(tag, flow!) : tag };
  }

  /**
   * Of these ports, those whose ofport and tag came in one OVSDB message
   * (ovsdb-server had not yet sent this monitor the ofport when the tag was
   * committed, and sent both at once), in two messages read at once, or
   * apart: only these last are timed to better than the watcher's reads.
   */
  together(names: readonly string[]): { message: number; read: number; apart: string[] } {
    let message = 0;
    let read = 0;
    const apart: string[] = [];
    for (const n of names) {
      const o = this.ofports.get(n);
      const t = this.tags.get(n);
      if (!o || !t) continue;
      if (o.m === t.m) message++;
      else if (o.r === t.r) read++;
      else apart.push(n);
    }
    return { message, read, apart };
  }

  /** Waits until every one of these ports has been seen wired. */
  async waitFor(names: readonly string[], flows: boolean): Promise<void> {
    await until(() => names.every((n) => this.times(n, flows)), `the monitors to see ${names.length} ports wired`, 30_000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
}

async function latencyPart(quick: boolean, notes: string[], firewall: boolean): Promise<Metric[]> {
  const tag = firewall ? 'fw' : 'l2';
  const base = quick ? 300 : 1000;
  const single = quick ? 10 : 30;
  const burst = 200;
  const runs = quick ? 1 : 3;
  const total = base + single * runs + burst * runs;
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  let running: RunningAgent | undefined;
  let watch: WireWatch | undefined;
  try {
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    const config = agentConfig({ db: sb.dbRemote, rundir: sb.rundir, state: stateFile(dir, total, firewall), firewall });
    const cp = new LocalControlPlane({ file: config.ovs_agent.state_file });
    const passes: PassSummary[] = [];
    running = await runAgent({ config, logger: silentLogger, controlPlane: cp, statusSocket: false, onPass: (p) => passes.push(p) });
    const a = running;

    const t0 = Date.now();
    for (let i = 0; i < base; i += 250) await sb.vsctl(...plugArgs(i, Math.min(base, i + 250)));
    await until(() => activeCount(a) >= base, `${base} ports wired`, 600_000);
    notes.push(`latency (${tag}): ${base} ports plugged and wired first in ${((Date.now() - t0) / 1000).toFixed(1)} s (ovs-vswitchd reconfiguration included)`);
    passes.length = 0;
    watch = await WireWatch.start(sb);

    const singles: number[] = [];
    const singleNames: string[] = [];
    const burstNames: string[][] = [];
    const burstP50: number[] = [];
    const burstP99: number[] = [];
    const burstTotal: number[] = [];
    let next = base;
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < single; k++, next++) {
        const id = portId(next);
        await sb.vsctl(...plugArgs(next, next + 1));
        singleNames.push(ifname(next));
        await until(() => a.agent.port(id)?.state === 'ACTIVE', `port ${next}`, 60_000);
        singles.push(a.agent.port(id)!.wiredInMs!);
      }
      const from = next;
      next += burst;
      await sb.vsctl(...plugArgs(from, next));
      burstNames.push(Array.from({ length: burst }, (_, k) => ifname(from + k)));
      const ids = new Set(Array.from({ length: burst }, (_, k) => portId(from + k)));
      await until(() => [...ids].every((id) => a.agent.port(id)?.state === 'ACTIVE'), 'burst', 120_000);
      const ports = [...ids].map((id) => a.agent.port(id)!);
      const lat = ports.map((p) => p.wiredInMs!);
      burstP50.push(percentile(lat, 50));
      burstP99.push(percentile(lat, 99));
      const lastReady = Math.max(...ports.map((p) => p.readyAt));
      const lastUp = Math.max(...ports.map((p) => p.readyAt + p.wiredInMs!));
      burstTotal.push(lastUp - lastReady);
    }
    // The independent figures: from the monitors' stamps alone.
    await watch.waitFor([...singleNames, ...burstNames.flat()], firewall);
    const w = watch;
    const seen = (n: string) => w.times(n, firewall)!;
    const indepSingles = singleNames.map((n) => seen(n).wired - seen(n).ofport);
    const indepFlowsOnly = firewall ? singleNames.map((n) => seen(n).flow - seen(n).ofport) : [];
    // A burst's end is its last tag: with the firewall the switch pauses the flow monitor under 9,800 new flows
    // (its reports then come late). The agent writes a pass's tags once the switch has confirmed its flows.
    const indepBurst = burstNames.map((names) => Math.max(...names.map((n) => seen(n).tag)) - Math.max(...names.map((n) => seen(n).ofport)));
    const paused = watch.paused;
    const together = watch.together(singleNames);
    await watch.stop();
    watch = undefined;
    const ends = firewall ? 'its first flow on br-int (ovs-ofctl monitor) and its Port tag (OVSDB monitor), whichever came last' : 'its Port tag written (the same OVSDB monitor)';
    notes.push(`latency (${tag}), independent clock (bench/_wire-watch.ts, a process of its own): from the interface's ofport as an OVSDB monitor reports it to ${ends}; ` +
      `single ports min ${round(Math.min(...indepSingles), 2)} max ${round(Math.max(...indepSingles), 2)} ms` +
      (firewall ? `; ofport → first flow alone: p50 ${round(percentile(indepFlowsOnly, 50), 2)} ms` : '') +
      `; the report to the control plane (in-process here) is not in it; the watcher runs at nice -10; of the ${singleNames.length} single ports, ${together.message} had ofport and tag ` +
      `in one OVSDB message (ovsdb-server sent both at once: 0 ms)${firewall ? ' (their flows still time them)' : ''} and ${together.read} in two messages read at once; ` +
      `p50 of the ${together.apart.length} seen apart: ${together.apart.length ? round(percentile(together.apart.map((n) => seen(n).wired - seen(n).ofport), 50), 2) : '-'} ms; ` +
      `flow monitor paused by the switch: ${paused} time(s) (bursts are timed to their tags)`);
    const flows = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-aggregate', 'br-int'], { env: { ...process.env, OVS_RUNDIR: sb.rundir }, encoding: 'utf8' });
    notes.push(`latency (${tag}): ${next} ports on br-int, ${/flow_count=(\d+)/.exec(flows)?.[1]} flows on br-int (${firewall ? 'openvswitch firewall, one security group' : 'noop firewall'}); ` +
      `single-port passes: ${phaseNote(passes.filter((p) => p.up.length === 1))}; burst passes: ${phaseNote(passes.filter((p) => p.up.length === burst))}`);
    const floor: Metric[] = [];
    if (firewall) {
      const f = await switchFloor(sb, dir, runs);
      floor.push(
        metric({ metric: 'fw_switch_alone_one_port_flows_p50', unit: 'ms', ours: [percentile(f.one, 50)],
          note: `one port's ${f.flows[0]} firewall flows as one bundle, pre-parsed, over protocol/openflow (no agent logic), on the same bridge, ${f.one.length} times: ` +
            `the switch's share of a one-port wiring; all samples min ${round(Math.min(...f.one), 2)} max ${round(Math.max(...f.one), 2)}` }),
        metric({ metric: 'fw_switch_alone_burst200_flows', unit: 'ms', ours: f.burst,
          note: `ovs-ofctl --bundle add-flows of 200 ports' ${f.flows[1]} firewall flows on the same bridge (no agent): the switch's share of the burst` }),
      );
    }
    return [
      metric({ metric: `${tag}_wire_one_p50_with_${base}_ports`, unit: 'ms', ours: [percentile(singles, 50)], target: '< 5',
        note: `${singles.length} ports plugged one at a time; all samples min ${round(Math.min(...singles), 2)} max ${round(Math.max(...singles), 2)}` }),
      metric({ metric: `${tag}_wire_one_p99_with_${base}_ports`, unit: 'ms', ours: [percentile(singles, 99)], target: '< 25' }),
      metric({ metric: `${tag}_wire_burst200_p50`, unit: 'ms', ours: burstP50, note: 'per-port latency inside a burst of 200 (one OVSDB transaction)' }),
      metric({ metric: `${tag}_wire_burst200_p99`, unit: 'ms', ours: burstP99 }),
      metric({ metric: `${tag}_wire_burst200_last_ready_to_last_up`, unit: 'ms', ours: burstTotal, target: '< 200' }),
      metric({ metric: `${tag}_wire_one_p50_with_${base}_ports_independent`, unit: 'ms', ours: [percentile(indepSingles, 50)], target: '< 5',
        note: `the same ${singles.length} ports timed by the switch's own monitors: ofport assigned → ${ends}` }),
      metric({ metric: `${tag}_wire_one_p99_with_${base}_ports_independent`, unit: 'ms', ours: [percentile(indepSingles, 99)], target: '< 25' }),
      metric({ metric: `${tag}_wire_burst200_last_ofport_to_last_tag_independent`, unit: 'ms', ours: indepBurst, target: '< 200',
        note: 'the same bursts timed by the OVSDB monitor: the last ofport assigned → the last Port tag written (the agent writes tags after the switch confirmed the pass\'s flows)' }),
      ...floor,
    ];
  } finally {
    await watch?.stop();
    await running?.stop();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface FirstSync {
  /** From spawning the process to its "first full sync done" line (ms). */
  wallMs: number;
  /** The agent's own count, from its start. */
  agentMs: number;
  active: number;
  flowModsSent: number;
  /** The agent process's resident set right then (MB). */
  rssMb: number;
}

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

/**
 * The built agent (`dist/bin/ovs-agent.js run`) as a process of its own, with
 * JSON logs; resolves at its "first full sync done" line, then SIGTERM.
 */
async function agentProcessSync(args: string[], timeoutMs: number): Promise<FirstSync> {
  const t0 = performance.now();
  // Executed as an installed `ovs-agent` is: through its own interpreter line (which sets node's flags).
  // oslo.log's JSON lines (the line's fields under `extra`), on stderr.
  const child = spawn(AGENT_BIN, ['run', '--use-json', '--set', 'DEFAULT.use_stderr=true', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  try {
    return await new Promise<FirstSync>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent process: no first full sync in ${timeoutMs} ms; last lines:\n${tail.join('\n')}`)), timeoutMs);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`agent process exited (${code ?? signal}) before its first full sync:\n${tail.join('\n')}`));
      });
      createInterface({ input: child.stderr! }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        let entry: { message?: string; ms?: number; ports?: { ACTIVE: number }; flowModsSent?: number };
        try {
          const j = JSON.parse(line) as { message?: string; extra?: typeof entry };
          entry = { ...j.extra, message: j.message };
        } catch {
          return;
        }
        if (entry.message !== 'first full sync done') return;
        clearTimeout(timer);
        resolve({
          wallMs: performance.now() - t0, agentMs: entry.ms ?? NaN, active: entry.ports?.ACTIVE ?? 0,
          flowModsSent: entry.flowModsSent ?? NaN, rssMb: rssOf(child.pid!),
        });
      });
    });
  } finally {
    child.removeAllListeners('exit');
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  }
}

async function resyncPart(quick: boolean, notes: string[]): Promise<Metric[]> {
  const count = quick ? 2000 : 10_000;
  const restarts = 3;
  // The agent under measurement is the compiled code, in its own process.
  // The compiled agent imports @ovs-agent/ovsdb and /openflow by name: their dist/ first.
  execFileSync('npm', ['run', '--silent', 'build:packages'], { cwd: ROOT, stdio: 'pipe' });
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    // Type errors elsewhere in the tree still emit JavaScript; say so rather than stop.
    notes.push(`build: tsc reported errors (JavaScript emitted anyway): ${String((err as { stdout?: Buffer }).stdout ?? '').split('\n').slice(0, 3).join(' | ')}`);
  }
  // npm makes a package's bin executable when it installs it; the build output is not.
  chmodSync(AGENT_BIN, 0o755);
  const flowsSb = await OvsSandbox.start();
  const dbSb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  let assigner: SimulatedVswitchd | undefined;
  try {
    for (const br of ['br-int', 'br-eth1']) {
      await flowsSb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure');
    }
    await dbSb.stopVswitchd();
    await dbSb.vsctl('--no-wait', 'add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    await dbSb.vsctl('--no-wait', 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
    assigner = await SimulatedVswitchd.start(dbSb.dbRemote);
    for (let i = 0; i < count; i += 2000) {
      const vifs = Array.from({ length: Math.min(count, i + 2000) - i }, (_, k) => ({
        name: ifname(i + k), externalIds: { 'iface-id': portId(i + k), 'attached-mac': mac(i + k) },
      }));
      await assigner.plug('br-int', vifs);
    }

    // An empty configuration file of our own: without --config-file the agent reads the host's
    // /etc/neutron/plugins/ml2/openvswitch_agent.ini when there is one.
    const ini = join(dir, 'agent.ini');
    writeFileSync(ini, '[ovs]\n');
    const args = [
      '--config-file', ini, '--ovsdb-connection', dbSb.dbRemote, '--ovs-rundir', flowsSb.rundir, '--state-file', stateFile(dir, count, false),
      '--bridge-mappings', 'physnet1:br-eth1', '--datapath-type', 'netdev', '--status-socket', join(dir, 'status.sock'),
      '--host', 'bench', '--set', 'agent.report_interval=0', '--set', 'securitygroup.firewall_driver=noop',
    ];
    const first = await agentProcessSync(args, 600_000);
    if (first.active < count) throw new Error(`first sync: only ${first.active} of ${count} ports ACTIVE`);
    notes.push(`resync part (SIMULATED ovs-vswitchd for OVSDB: the benchmark assigns ofports in an ovsdb-server without ovs-vswitchd; flows go to a real ovs-vswitchd): ` +
      `first sync of ${count} ports by a fresh agent process ${(first.wallMs / 1000).toFixed(2)} s (agent's own count ${(first.agentMs / 1000).toFixed(2)} s), ${first.flowModsSent} flow-mods, RSS ${first.rssMb.toFixed(0)} MB`);

    const resync: number[] = [];
    const agentMs: number[] = [];
    const rss: number[] = [];
    let flowMods = 0;
    for (let r = 0; r < restarts; r++) {
      const s = await agentProcessSync(args, 600_000);
      if (s.active < count) throw new Error(`restart ${r}: only ${s.active} of ${count} ports ACTIVE`);
      resync.push(s.wallMs / 1000);
      agentMs.push(s.agentMs / 1000);
      rss.push(s.rssMb);
      flowMods += s.flowModsSent;
    }
    const agg = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-aggregate', 'br-int'], { env: { ...process.env, OVS_RUNDIR: flowsSb.rundir }, encoding: 'utf8' });
    notes.push(`resync part: ${/flow_count=(\d+)/.exec(agg)?.[1]} flows on br-int (noop firewall: VLAN ports have no per-port flows; tags carry the VLAN); ` +
      `flow-mods sent in ${restarts} restarts: ${flowMods} (0 = no flow of an unchanged port removed or re-added); ` +
      `the agent's own count from its start: ${agentMs.map((x) => x.toFixed(2)).join(', ')} s`);
    return [
      metric({ metric: `resync_${count}_ports_after_restart`, unit: 's', ours: resync, target: '< 3',
        note: 'from spawning the agent process (dist/, node start included) to its "first full sync done" line: every port reported ACTIVE and stale-flow cleanup done; ovs-vswitchd simulated on the OVSDB side' }),
      metric({ metric: `resync_${count}_flow_mods_sent`, unit: 'flow-mods', ours: [flowMods], target: '<= 0' }),
      metric({ metric: `rss_after_resync_${count}_ports`, unit: 'MB', ours: rss, target: '< 150',
        note: 'VmRSS of the agent process alone (compiled dist/ code run as the ovs-agent executable, no harness, no tsx), read at its first full sync after a restart' }),
    ];
  } finally {
    await assigner?.stop();
    await flowsSb.stop();
    await dbSb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  async run({ quick }) {
    const notes: string[] = [];
    // The resync runs first so its RSS is not inflated by the heap the latency runs leave behind.
    const resync = await resyncPart(quick, notes);
    const metrics = [
      ...await latencyPart(quick, notes, false),
      ...await latencyPart(quick, notes, true),
      ...resync,
    ];
    return newResult('agent', metrics, notes);
  },
};
export default suite;
