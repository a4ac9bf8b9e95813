/**
 * `npm run bench -- neutron [--quick]`: ports created through the Neutron API
 * with the agent's host as binding:host_id and plugged on br-int, wired by
 * ovs-agent and, in the same run on the same neutron-server/RabbitMQ/OVS
 * build, by Debian's neutron-openvswitch-agent 21.0.0 (native OpenFlow and
 * OVSDB, openvswitch firewall). Both agents run as processes of their own
 * from the same openvswitch_agent.ini, each on a fresh OVS sandbox and a
 * host name of its own per run; ours runs as an installed `ovs-agent` runs:
 * the executable esbuild bundles (scripts/bundle.ts, one file, no
 * node_modules beside it), itself, so its interpreter line's V8 flags apply.
 *
 * One oracle serves both agents: RabbitMQ's firehose (`rabbitmqctl
 * trace_on`) gives every RPC request and reply with the time the broker saw
 * it, and `ovsdb-client monitor` gives the time each port got its ofport. So:
 *
 * - agent time of a port: ofport assigned in OVSDB → the first
 *   `update_device_list` naming it in `devices_up` published;
 * - server time: the time neutron-server had an `update_device_list` call of
 *   that agent outstanding (union of request → reply intervals);
 * - plug → ACTIVE per port (status read from neutron's database every 250 ms)
 *   and until all are ACTIVE;
 * - RSS of the agent process once all are ACTIVE;
 * - warm restart (the server still has every port ACTIVE, as after an agent
 *   restart or upgrade): agent started again with the ports plugged, until it
 *   says its first full pass is done (ours: status socket; reference: its
 *   "rpc_loop - iteration:N completed" log line having processed all ports)
 *   with every port still ACTIVE; the calls it made meanwhile are counted;
 *   start-up to first full sync is the first half of it (process started →
 *   first full pass over every port done);
 * - cold restart (the ports marked DOWN first, as a server sees them after a
 *   host reboot): until all are ACTIVE again (quick and 100-port runs only).
 *
 * NEUTRON_BENCH_DEBUG=1 runs both agents with `debug = true` and, with
 * NEUTRON_BENCH_KEEP_LOGS=1, keeps their logs (diagnostics, not for figures).
 * NEUTRON_BENCH_CPU_PROF=DIR writes a V8 CPU profile of each of our agent
 * processes there (diagnostics); NEUTRON_BENCH_NODE_FLAGS="--trace-gc ..." adds
 * node flags to ours (diagnostics).
 * NEUTRON_BENCH_SIZES=20,100 and NEUTRON_BENCH_RUNS=3 narrow a run (the
 * results of other sizes already in bench/results/neutron.json are kept, with
 * their date, so the long 500-port run can hold the bench lock on its own).
 * NEUTRON_BENCH_QOS=1 is the QoS case (docs/qos.md): neutron-server with the
 * qos service plugin, both agents with `[agent] extensions = qos`, every port
 * with a policy (both bandwidth limits and DSCP marking); its metrics are
 * named `qos_…` and kept apart from the plain case's in the results file.
 * NEUTRON_BENCH_TRUNK=1 is the trunk case (docs/trunk.md, bench/_neutron-trunk.ts):
 * neutron-server with the trunk service plugin, one VM whose port is the parent
 * of a trunk with 10 subports, plugged as os-vif does; time to the trunk ACTIVE
 * (ours with `[agent] extensions = trunk`; Neutron's agent always runs its trunk
 * driver). Its metrics are named `trunk_…`; every other figure of the results
 * file is kept, with its date.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { NeutronEnv, freePort } from '../testing/neutron-env.js';
import { FamilyOf } from '../testing/process-family.js';
import { OvsSandbox, pidAlive } from '../testing/sandbox.js';
import { NeutronControlPlane } from '../lib/control-plane/neutron/index.js';
import { silentLogger } from '../lib/control-plane/neutron/logger.js';
import { readStatus } from '../lib/agent/status-socket.js';
import { bundleCli } from '../scripts/bundle.js';
import type { BenchSuite, Metric } from './report.js';
import { TRUNK_SUBPORTS, trunkRun, type TrunkFigures } from './_neutron-trunk.js';
import { metric, newResult, percentile, round } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PEER = 'neutron-openvswitch-agent 21.0.0';
const QOS = process.env.NEUTRON_BENCH_QOS === '1';
const TRUNK = process.env.NEUTRON_BENCH_TRUNK === '1';

type Kind = 'ours' | 'peer';

interface RunFigures {
  allActive: number;
  p50: number;
  p99: number;
  /** Per port, ofport assigned → first update_device_list naming it published (s). */
  agentP50: number;
  agentP99: number;
  /** update_device_list outstanding at the server, from plug until settled (s). */
  serverTime: number;
  /** The plug phase's calls: method → count, and devices reported up in total. */
  calls: Record<string, number>;
  devicesUp: number;
  rssMiB: number;
  /** RssAnon: the process's private memory, without the interpreter's and libraries' file pages (shared). */
  rssAnonMiB: number;
  /** RssFile: file-backed pages (the interpreter's binary and libraries), RssShmem: shared memory. */
  rssFileMiB: number;
  rssShmemMiB: number;
  /** /proc/PID/smaps_rollup at the same moment (kB lines), for the notes. */
  smapsRollup: string;
  warmRestart: number;
  /** Warm restart: process started → first full sync over every port (s). */
  startupToFirstSync: number;
  warmCalls: Record<string, number>;
  warmDevicesUp: number;
  coldRestart?: number;
}

/** A `/proc/PID/status` memory line (VmRSS, RssAnon, …) in MiB. */
function statusMiB(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** /proc/PID/smaps_rollup's non-zero lines, in MiB, on one line (`Rss 69.6, Pss 40.1, …`). */
function smapsOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n').slice(1)
      .map((l) => /^(\w+):\s+(\d+) kB/.exec(l)).filter((m): m is RegExpExecArray => m !== null && m[2] !== '0')
      .map((m) => `${m[1]} ${(Number(m[2]) / 1024).toFixed(1)}`).join(', ');
  } catch {
    return 'unreadable';
  }
}

// ------------------------------------------------------------------ the RPC oracle

interface TracedCall {
  method: string;
  topic: string;
  args: Record<string, unknown>;
  /** performance.now() when the broker traced the request and its reply. */
  sentAt: number;
  repliedAt?: number;
}

/** Every RPC call through the broker, from RabbitMQ's firehose (amq.rabbitmq.trace, `publish.#`). */
class RpcTrace {
  readonly calls: TracedCall[] = [];
  private readonly byMsgId = new Map<string, TracedCall>();

  private constructor(private readonly conn: ChannelModel) {}

  static async start(env: NeutronEnv): Promise<RpcTrace> {
    env.rabbit.ctl('trace_on');
    const conn = await amqpConnect(`amqp://guest:guest@127.0.0.1:${env.rabbit.port}/`);
    const trace = new RpcTrace(conn);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, 'amq.rabbitmq.trace', 'publish.#');
    await ch.consume(q.queue, (m) => {
      if (!m) return;
      const now = performance.now();
      const headers = m.properties.headers ?? {};
      const exchange = String(headers.exchange_name ?? '');
      const key = String((headers.routing_keys as unknown[] | undefined)?.[0] ?? '');
      let msg: Record<string, unknown>;
      try {
        const outer = JSON.parse(m.content.toString('utf8')) as Record<string, unknown>;
        msg = JSON.parse(String(outer['oslo.message'])) as Record<string, unknown>;
      } catch {
        return;
      }
      const msgId = typeof msg._msg_id === 'string' ? msg._msg_id : undefined;
      if (!msgId) return;
      if (exchange === '' && key.startsWith('reply_')) {
        const call = trace.byMsgId.get(msgId);
        if (call && call.repliedAt === undefined) call.repliedAt = now;
      } else if (typeof msg.method === 'string') {
        const call: TracedCall = { method: msg.method, topic: key, args: (msg.args ?? {}) as Record<string, unknown>, sentAt: now };
        trace.calls.push(call);
        trace.byMsgId.set(msgId, call);
      }
    }, { noAck: true });
    return trace;
  }

  between(t0: number, t1: number): TracedCall[] {
    return this.calls.filter((c) => c.sentAt >= t0 && c.sentAt <= t1);
  }

  async stop(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

/** Calls per method (report_state and has_alive_neutron_server left out: timers, not ports). */
function countCalls(calls: TracedCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    if (c.method === 'report_state' || c.method === 'has_alive_neutron_server') continue;
    out[c.method] = (out[c.method] ?? 0) + 1;
  }
  return out;
}

function devicesUp(calls: TracedCall[]): string[] {
  return calls.filter((c) => c.method === 'update_device_list').flatMap((c) => (c.args.devices_up as string[] | undefined) ?? []);
}

/** Seconds during which at least one of these calls was waiting for its reply. */
function busyTime(calls: TracedCall[], end: number): number {
  const iv = calls.map((c) => [c.sentAt, c.repliedAt ?? end] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [s, e] = [-Infinity, -Infinity];
  for (const [a, b] of iv) {
    if (a > e) {
      if (e > s) total += e - s;
      [s, e] = [a, b];
    } else e = Math.max(e, b);
  }
  if (e > s) total += e - s;
  return total / 1000;
}

// ------------------------------------------------------------------ OVSDB: when each port got its ofport

/** `ovsdb-client monitor Interface name,ofport`: performance.now() when each interface first had an ofport. */
class OfportWatch {
  readonly readyAt = new Map<string, number>();
  private buf = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const now = performance.now();
      this.buf += chunk;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          const t = JSON.parse(line) as { headings: string[]; data: unknown[][] };
          const [iName, iOfport] = [t.headings.indexOf('name'), t.headings.indexOf('ofport')];
          for (const row of t.data) {
            const name = row[iName];
            if (typeof name === 'string' && typeof row[iOfport] === 'number' && (row[iOfport] as number) > 0 && !this.readyAt.has(name)) {
              this.readyAt.set(name, now);
            }
          }
        } catch {
          // not a table update
        }
      }
    });
  }

  static async start(sb: OvsSandbox): Promise<OfportWatch> {
    const child = spawn('ovsdb-client', ['monitor', sb.dbRemote, 'Open_vSwitch', 'Interface', 'name,ofport', '--format=json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const w = new OfportWatch(child);
    const deadline = Date.now() + 10_000;
    while (w.readyAt.size === 0 && Date.now() < deadline) await sleep(20); // the initial table holds br-int's own port
    return w;
  }

  stop(): void {
    if (this.child.pid && pidAlive(this.child.pid)) this.child.kill('SIGKILL');
  }
}

// ------------------------------------------------------------------ agents

/**
 * Ours bundled as the package ships it (scripts/bundle.ts), into a private dir (the shared dist/ may be
 * mid-build by others), with no node_modules beside it. NEUTRON_BENCH_BUNDLE=external leaves the npm
 * dependencies out of the bundle (resolved from the checkout's node_modules), =tsc runs tsc's output
 * instead (diagnostics: what bundling changes).
 */
async function buildOurs(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'bench-neutron-dist-'));
  const how = process.env.NEUTRON_BENCH_BUNDLE ?? 'all';
  if (how === 'tsc') {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out,
        '--declaration', 'false', '--sourceMap', 'false'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      // Type errors elsewhere in a shared checkout still emit JavaScript; what matters is that the agent was emitted.
    }
    if (!existsSync(join(out, 'bin/ovs-agent.js'))) throw new Error('tsc emitted no bin/ovs-agent.js');
  } else {
    await bundleCli({ root: ROOT, outfile: join(out, 'bin/ovs-agent.js'), minify: true, externalDependencies: how === 'external' });
  }
  // Run as npm installs it: executable, so its interpreter line (with its V8 flags) applies.
  chmodSync(join(out, 'bin/ovs-agent.js'), 0o755);
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  if (how !== 'all') symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  return out;
}

function agentIni(env: NeutronEnv, sb: OvsSandbox, host: string, ofPort: number, kind?: Kind): string {
  return `[DEFAULT]
host = ${host}
debug = ${process.env.NEUTRON_BENCH_DEBUG ? 'true' : 'false'}
transport_url = ${env.transportUrl}
rpc_response_timeout = 120
[ovs]
ovsdb_connection = ${sb.dbRemote}
datapath_type = netdev
integration_bridge = br-int
bridge_mappings = physnet1:br-eth1
of_listen_port = ${ofPort}
[agent]
report_interval = 5
root_helper = env
${QOS ? 'extensions = qos\n' : TRUNK && kind === 'ours' ? 'extensions = trunk\n' : ''}[securitygroup]
firewall_driver = openvswitch
[ovs_agent]
control_plane = neutron
openflow_channel = mgmt
ovs_rundir = ${sb.rundir}
status_socket = ${statusSocket(sb)}
`;
}

const statusSocket = (sb: OvsSandbox) => join(sb.dir, 'ovs-agent-status.sock');

/** The executable's interpreter line (`#!/usr/bin/env -S [NAME=VALUE]... node FLAGS`): its environment and node flags. */
function interpreterLine(dist: string): { env: Record<string, string>; flags: string[] } {
  const first = readFileSync(join(dist, 'bin/ovs-agent.js'), 'utf8').split('\n', 1)[0];
  const words = first.replace(/^#!\S*env -S\s*/, '').split(/\s+/).filter(Boolean);
  const node = words.indexOf('node');
  const env = Object.fromEntries(words.slice(0, node).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { env, flags: words.slice(node + 1) };
}

/** Diagnostics asked for: the agent then runs as `node FLAGS agent.js` (node refuses these in NODE_OPTIONS). */
function diagnosticNodeFlags(): string[] {
  const prof = process.env.NEUTRON_BENCH_CPU_PROF;
  return [
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
    ...(process.env.NEUTRON_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
  ];
}

function startAgent(kind: Kind, dist: string, ini: string, sb: OvsSandbox, log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    const diagnostics = kind === 'ours' && diagnosticNodeFlags().length > 0;
    const line = diagnostics ? interpreterLine(dist) : { env: {}, flags: [] };
    const env = { ...process.env, ...line.env, OVS_RUNDIR: sb.rundir, OVS_DBDIR: sb.dir };
    const [prog, args] =
      kind === 'ours'
        ? diagnostics
          ? [process.execPath, [...line.flags, ...diagnosticNodeFlags(), join(dist, 'bin/ovs-agent.js'), 'run', '--config-file', ini]]
          : [join(dist, 'bin/ovs-agent.js'), ['run', '--config-file', ini]]
        : ['/usr/bin/python3', ['/usr/bin/neutron-openvswitch-agent', '--config-file', ini]];
    const child = spawn(prog, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
    families.set(child, FamilyOf.track(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * Each agent's process family (the reference agent's privsep daemons with it), stopped by pid; also
 * SIGKILLed when the bench exits or gets SIGINT/SIGTERM (testing/process-family.ts).
 */
const families = new WeakMap<ChildProcess, FamilyOf>();

/** SIGTERM to the agent and what it forked, SIGKILL to what is left after 15 s. */
async function stopAgent(child: ChildProcess): Promise<void> {
  await families.get(child)?.stop();
}

/** Resolves when the agent says its first full pass over `n` ports is done. */
async function waitFirstSync(kind: Kind, sb: OvsSandbox, log: string, logOffset: number, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${kind} agent: first sync over ${n} ports not done after ${timeoutMs / 1000} s`);
    if (kind === 'ours') {
      const s = await readStatus(statusSocket(sb), 2000).catch(() => undefined);
      if (s?.firstSyncDone && s.ports.filter((p) => p.state === 'ACTIVE').length >= n) return;
    } else {
      // "Agent rpc_loop - iteration:0 completed. Processed ports statistics: {'regular': {'updated': 0, 'added': 20, 'removed': 0}}."
      const text = readFileSync(log, 'utf8').slice(logOffset);
      let added = 0;
      for (const m of text.matchAll(/rpc_loop - iteration:\d+ completed\. Processed ports statistics: .*?'added': (\d+)/g)) added += Number(m[1]);
      if (added >= n) return;
    }
    await sleep(100);
  }
}

// ------------------------------------------------------------------ one run

interface ApiPort {
  id: string;
  status: string;
  mac_address: string;
}

/** Port status from neutron's database: polling the API would load the server both agents wait for (docs/testing.md, "The Neutron test environment"). */
async function portStatuses(env: NeutronEnv, network: string): Promise<Map<string, string>> {
  if (!/^[0-9a-f-]{36}$/.test(network)) throw new Error(`not a network id: ${network}`);
  const rows = await env.sql(`SELECT id, status FROM ports WHERE network_id = '${network}'`);
  return new Map(rows.map(([id, status]) => [id, status]));
}

/** Polls the port list until every id is ACTIVE; returns when each was first seen ACTIVE (performance.now()). */
async function waitAllActive(env: NeutronEnv, network: string, ids: string[], timeoutMs: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < ids.length) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size}/${ids.length} ports ACTIVE after ${timeoutMs / 1000} s`);
    const st = await portStatuses(env, network);
    const now = performance.now();
    for (const id of ids) if (st.get(id) === 'ACTIVE' && !seen.has(id)) seen.set(id, now);
    await sleep(250);
  }
  return seen;
}

async function waitAllStatus(env: NeutronEnv, network: string, ids: string[], status: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await portStatuses(env, network);
    const done = ids.filter((id) => st.get(id) === status).length;
    if (done === ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${done}/${ids.length} ports ${status} after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** Waits until the agent has made no port call (anything but report_state) for `quietMs`. */
async function settle(trace: RpcTrace, quietMs: number, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const last = [...trace.calls].reverse().find((c) => c.method !== 'report_state');
    const lastAt = Math.max(last?.sentAt ?? 0, last?.repliedAt ?? 0);
    if (performance.now() - lastAt >= quietMs && (!last || last.repliedAt !== undefined)) return;
    if (performance.now() > deadline) return;
    await sleep(200);
  }
}

/** Marks the ports DOWN for the agent's host (as after a host reboot), again while queued calls flip them back. */
async function markDown(env: NeutronEnv, network: string, host: string, ids: string[]): Promise<void> {
  const marker = new NeutronControlPlane({ transportUrl: env.transportUrl, rpcResponseTimeout: 300, logger: silentLogger });
  await marker.start({ host, agentId: `ovs-agent-${host}`, binary: 'neutron-openvswitch-agent' });
  try {
    for (let round = 0; ; round++) {
      const st = await portStatuses(env, network);
      const up = ids.filter((id) => st.get(id) !== 'DOWN');
      if (up.length === 0) return;
      if (round === 10) throw new Error(`${up.length}/${ids.length} ports still not DOWN after 10 markings`);
      await marker.updateDeviceList([], up);
      await waitAllStatus(env, network, ids, 'DOWN', 30_000).catch(() => undefined);
    }
  } finally {
    await marker.stop();
  }
}

/** Until the agent on `host` reports alive to neutron-server and has created br-int (both agents create it), then 2 s to settle. */
async function agentUp(env: NeutronEnv, sb: OvsSandbox, host: string, kind: string, child: ChildProcess, log: string): Promise<void> {
  const alive = Date.now() + 120_000;
  for (;;) {
    const { agents } = await env.api.get<{ agents: Array<{ alive: boolean }> }>(`/agents?host=${host}`);
    if (agents.some((a) => a.alive)) break;
    if (Date.now() > alive || !pidAlive(child.pid!)) throw new Error(`${kind} agent never reported alive:\n${readFileSync(log, 'utf8').slice(-3000)}`);
    await sleep(500);
  }
  while (!(await sb.vsctl('list-br')).includes('br-int')) await sleep(200);
  await sleep(2000);
}

async function oneRun(env: NeutronEnv, trace: RpcTrace, dist: string, kind: Kind, n: number, run: number, cold: boolean): Promise<RunFigures> {
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), `bench-neutron-${kind}-`));
  const host = `bench-${kind}-${n}-${run}-${process.pid}`;
  const log = join(dir, 'agent.log');
  let child: ChildProcess | undefined;
  let watch: OfportWatch | undefined;
  let network: string | undefined;
  let ids: string[] = [];
  try {
    const ini = join(dir, 'agent.ini');
    // A VLAN network: the reference agent insists on a local_ip configured on an interface for tunnels.
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    writeFileSync(ini, agentIni(env, sb, host, await freePort()));
    child = startAgent(kind, dist, ini, sb, log);
    await agentUp(env, sb, host, kind, child, log);

    const net = await env.api.post<{ network: { id: string } }>('/networks', { network: { name: host, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' } });
    network = net.network.id;
    await env.api.post('/subnets', { subnet: { network_id: network, cidr: '10.200.0.0/16', ip_version: 4, enable_dhcp: false } });
    const qos = QOS ? await qosPolicy(env, host) : undefined;
    const ports: ApiPort[] = [];
    for (let i = 0; i < n; i += 100) {
      const chunk = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
        network_id: network, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${i + j}`,
        ...(qos ? { qos_policy_id: qos } : {}),
      }));
      ports.push(...(await env.api.post<{ ports: ApiPort[] }>('/ports', { ports: chunk })).ports);
    }
    ids = ports.map((p) => p.id);
    const tapOf = new Map(ports.map((p, i) => [p.id, `tap${i}`]));
    // Let the creation's pushes and the server's own work drain before the clock starts.
    await sleep(3000);
    watch = await OfportWatch.start(sb);

    const args: string[] = [];
    ports.forEach((p, i) => {
      args.push('--', 'add-port', 'br-int', `tap${i}`, '--', 'set', 'Interface', `tap${i}`, `external_ids:iface-id=${p.id}`,
        `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active');
    });
    const t0 = performance.now();
    await sb.vsctl(...args.slice(1));
    const seen = await waitAllActive(env, network, ids, 1_800_000);
    const times = [...seen.values()].map((t) => (t - t0) / 1000);
    const allActive = Math.max(...times);
    await settle(trace, 3000, 60_000);
    const t1 = performance.now();
    const plugCalls = trace.between(t0, t1);
    const agentTimes: number[] = [];
    for (const id of ids) {
      const ready = watch.readyAt.get(tapOf.get(id)!);
      const sent = plugCalls.find((c) => c.method === 'update_device_list' && ((c.args.devices_up as string[] | undefined) ?? []).includes(id));
      if (ready !== undefined && sent) agentTimes.push((sent.sentAt - ready) / 1000);
    }
    if (agentTimes.length < ids.length) throw new Error(`${kind}: agent time known for only ${agentTimes.length}/${ids.length} ports`);
    const udl = plugCalls.filter((c) => c.method === 'update_device_list');
    const rss = statusMiB(child.pid!, 'VmRSS');
    const rssAnon = statusMiB(child.pid!, 'RssAnon');
    const rssFile = statusMiB(child.pid!, 'RssFile');
    const rssShmem = statusMiB(child.pid!, 'RssShmem');
    const smapsRollup = smapsOf(child.pid!);
    if (process.env.NEUTRON_BENCH_HEAP_SNAPSHOT && kind === 'ours') {
      // Diagnostics: run with NODE_OPTIONS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR".
      child.kill('SIGUSR2');
      await sleep(8000);
    }

    // Warm restart: the server keeps every port ACTIVE; the agent comes back with them plugged.
    await stopAgent(child);
    child = undefined;
    const offset = readFileSync(log, 'utf8').length;
    const t2 = performance.now();
    child = startAgent(kind, dist, ini, sb, log);
    await waitFirstSync(kind, sb, log, offset, n, 1_800_000);
    const startupToFirstSync = (performance.now() - t2) / 1000;
    await waitAllActive(env, network, ids, 1_800_000);
    const warmRestart = (performance.now() - t2) / 1000;
    await settle(trace, 3000, 60_000);
    const warm = trace.between(t2, performance.now());

    let coldRestart: number | undefined;
    if (cold) {
      // Cold: the server forgot (ports DOWN, as after a host reboot); every port must be reported up again.
      await stopAgent(child);
      child = undefined;
      await markDown(env, network, host, ids);
      const t3 = performance.now();
      child = startAgent(kind, dist, ini, sb, log);
      const again = await waitAllActive(env, network, ids, 1_800_000);
      coldRestart = (Math.max(...again.values()) - t3) / 1000;
    }
    return {
      allActive, p50: percentile(times, 50), p99: percentile(times, 99),
      agentP50: percentile(agentTimes, 50), agentP99: percentile(agentTimes, 99),
      serverTime: busyTime(udl, t1), calls: countCalls(plugCalls), devicesUp: devicesUp(plugCalls).length, rssMiB: rss, rssAnonMiB: rssAnon, rssFileMiB: rssFile, rssShmemMiB: rssShmem, smapsRollup,
      warmRestart, startupToFirstSync, warmCalls: countCalls(warm), warmDevicesUp: devicesUp(warm).length, coldRestart,
    };
  } catch (err) {
    if (existsSync(log)) process.stderr.write(`--- ${kind} agent log tail ---\n${readFileSync(log, 'utf8').slice(-4000)}\n`);
    throw err;
  } finally {
    watch?.stop();
    if (child) await stopAgent(child);
    if (network) {
      for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => env.api.delete(`/ports/${id}`).catch(() => undefined)));
      await env.api.delete(`/networks/${network}`).catch(() => undefined);
    }
    await sb.stop();
    if (process.env.NEUTRON_BENCH_KEEP_LOGS) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ the suite

function callsNote(kind: Kind, figs: RunFigures[], key: 'calls' | 'warmCalls'): string {
  return figs.map((f) => JSON.stringify(f[key])).join(' / ') + ` (${kind})`;
}

function bundleNote(): string {
  const how = process.env.NEUTRON_BENCH_BUNDLE ?? 'all';
  const flags = process.env.NEUTRON_BENCH_NODE_FLAGS ? ` with ${process.env.NEUTRON_BENCH_NODE_FLAGS}` : '';
  return `${how === 'tsc' ? 'tsc output' : how === 'external' ? 'the esbuild bundle, npm dependencies outside' : 'the esbuild bundle'}${flags}`;
}

/** The QoS case's policy: both bandwidth limits and DSCP marking (shared, so any project's port may use it). */
async function qosPolicy(env: NeutronEnv, name: string): Promise<string> {
  const { policy } = await env.api.post<{ policy: { id: string } }>('/qos/policies', { policy: { name, shared: true, project_id: 'bench' } });
  await env.api.post(`/qos/policies/${policy.id}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 10_000, max_burst_kbps: 0, direction: 'egress' } });
  await env.api.post(`/qos/policies/${policy.id}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 20_000, max_burst_kbps: 2_000, direction: 'ingress' } });
  await env.api.post(`/qos/policies/${policy.id}/dscp_marking_rules`, { dscp_marking_rule: { dscp_mark: 26 } });
  return policy.id;
}

function metricsFor(n: number, figs: Record<Kind, RunFigures[]>): Metric[] {
  const pick = (kind: Kind, f: (r: RunFigures) => number) => figs[kind].map(f);
  const m = (name: string, unit: string, f: (r: RunFigures) => number, target?: string, note?: string) =>
    metric({ metric: `${QOS ? 'qos_' : ''}${name}_${n}_ports`, unit, ours: pick('ours', f), peer: { name: PEER, samples: pick('peer', f) }, target, note });
  const udl = (kind: Kind) => figs[kind].map((f) => `${f.calls.update_device_list ?? 0} calls/${f.devicesUp} ports`).join(', ');
  const out = [
    m('agent_time_p50', 's', (f) => f.agentP50, '<= 0.02', 'ofport assigned → first update_device_list naming the port published (RabbitMQ firehose)'),
    m('agent_time_p99', 's', (f) => f.agentP99, '<= 0.02'),
    m('server_time_update_device_list', 's', (f) => f.serverTime, undefined,
      `time an update_device_list was outstanding at neutron-server; ours ${udl('ours')}; reference ${udl('peer')}`),
    m('plug_to_active_p50', 's', (f) => f.p50, '<= 0.5'),
    m('plug_to_active_p99', 's', (f) => f.p99, '<= 0.5'),
    m('all_active', 's', (f) => f.allActive, '<= 0.5'),
    m('warm_restart', 's', (f) => f.warmRestart, '<= 0.1',
      `server still has every port ACTIVE; update_device_list devices up reported: ours ${figs.ours.map((f) => f.warmDevicesUp).join('/')}, reference ${figs.peer.map((f) => f.warmDevicesUp).join('/')}`),
    m('startup_to_first_sync', 's', (f) => f.startupToFirstSync, undefined,
      'warm restart: process started → its first full sync over every port done (ours: status socket; reference: rpc_loop log line)'),
    m('agent_rss', 'MiB', (f) => f.rssMiB, '<= 0.34', `VmRSS of the agent process once all ports are ACTIVE (ours: node running ${bundleNote()})`),
    m('agent_rss_anon', 'MiB', (f) => f.rssAnonMiB, undefined, 'RssAnon at the same moment: VmRSS less the file-backed pages of the interpreter and its libraries, which every process running them shares (context, not a target)'),
    m('agent_rss_file', 'MiB', (f) => f.rssFileMiB, undefined, 'RssFile at the same moment: file-backed pages (the interpreter binary, its libraries), shared with every process running them'),
    m('agent_rss_shmem', 'MiB', (f) => f.rssShmemMiB, undefined, 'RssShmem at the same moment'),
  ];
  if (figs.ours.every((f) => f.coldRestart !== undefined)) {
    out.push(m('cold_restart_all_active', 's', (f) => f.coldRestart!, undefined, 'ports marked DOWN first (host reboot): every port must be reported up again'));
  }
  return out;
}

/** Keeps the figures of the sizes this run did not measure from the results file, saying when they were taken. */
function carryOver(sizes: number[], metrics: Metric[], notes: string[]): void {
  const file = join(ROOT, 'bench/results/neutron.json');
  if (!existsSync(file)) return;
  const old = JSON.parse(readFileSync(file, 'utf8')) as { date: string; metrics: Metric[]; notes?: string[] };
  const sizeOf = (text: string) => Number(/(?:_|^|qos )(\d+)(?:_ports| ports)/.exec(text)?.[1]);
  // The plain and the QoS case are kept apart: a run of one keeps every figure of the other.
  const other = (text: string) => /(^|\b)qos[_ ]/.test(text) !== QOS;
  // The trunk case (its own run, NEUTRON_BENCH_TRUNK=1) has no port count: kept whole.
  const trunk = (text: string) => /^trunk[_ ]/.test(text);
  const keep = (text: string) => trunk(text) || (Number.isFinite(sizeOf(text)) && (other(text) || !sizes.includes(sizeOf(text))));
  const kept = old.metrics.filter((m) => keep(m.metric));
  if (kept.length === 0) return;
  metrics.unshift(...kept.map((m) => (m.note?.includes('measured ') ? m : { ...m, note: `${m.note ? `${m.note}; ` : ''}measured ${old.date}` })));
  notes.unshift(...(old.notes ?? []).filter(keep));
}

/** The trunk case: each kind `runs` times, alternating; every figure of the results file not of this case kept. */
async function trunkCase(kinds: Kind[], runs: number, built: string): Promise<{ metrics: Metric[]; notes: string[] }> {
  const dist = await buildOurs();
  const env = await NeutronEnv.start({ trunk: true });
  const figs: Record<Kind, TrunkFigures[]> = { ours: [], peer: [] };
  const trace = await RpcTrace.start(env);
  const helpers = {
    agentIni: (sb: OvsSandbox, host: string, ofPort: number, kind: Kind) => agentIni(env, sb, host, ofPort, kind),
    startAgent: (kind: Kind, ini: string, sb: OvsSandbox, log: string) => startAgent(kind, dist, ini, sb, log),
    stopAgent,
    agentUp: (sb: OvsSandbox, host: string, kind: Kind, child: ChildProcess, log: string) => agentUp(env, sb, host, kind, child, log),
    serverBusy: (method: string, t0: number, t1: number) => busyTime(trace.between(t0, t1).filter((c) => c.method === method), t1),
  };
  try {
    for (let r = 0; r < runs; r++) {
      for (const kind of kinds) {
        const f = await trunkRun(env, helpers, kind, r);
        process.stderr.write(`neutron bench trunk run ${r} ${kind}: ${JSON.stringify(f)}\n`);
        figs[kind].push(f);
      }
    }
  } finally {
    await trace.stop();
    await env.stop();
    rmSync(dist, { recursive: true, force: true });
  }
  const n = TRUNK_SUBPORTS;
  const notes = [`trunk ${n} subports: ${built}, ${new Date().toISOString()}, ${runs} run(s) each`];
  if (kinds.length < 2) return { metrics: [metric({ metric: 'runs', unit: 'count', ours: [runs] })], notes: [...notes, `trunk ${kinds[0]}: ${JSON.stringify(figs[kinds[0]])}`] };
  const m = (name: string, f: (x: TrunkFigures) => number, target: string | undefined, note: string) =>
    metric({ metric: `trunk_${name}_${n}_subports`, unit: 's', ours: figs.ours.map(f), peer: { name: PEER, samples: figs.peer.map(f) }, target, note });
  const metrics = [
    m('active', (f) => f.trunkActive, '<= 0.5', 'trunk bridge created (os-vif) → trunk ACTIVE in neutron\'s database (polled every 50 ms)'),
    m('all_ports_active', (f) => f.allActive, undefined, 'trunk bridge created → the trunk, its parent and every subport ACTIVE'),
    m('binding_server_time', (f) => f.bindingServerTime, undefined,
      'of trunk_active: time an update_subport_bindings call was outstanding at neutron-server (it binds the subports one by one; RabbitMQ firehose)'),
    m('agent_time', (f) => f.agentTime, undefined, 'trunk_active less binding_server_time: the agent\'s own part, its other round trips included'),
  ];
  const file = join(ROOT, 'bench/results/neutron.json');
  if (existsSync(file)) {
    const old = JSON.parse(readFileSync(file, 'utf8')) as { date: string; metrics: Metric[]; notes?: string[] };
    metrics.unshift(...old.metrics.filter((x) => !x.metric.startsWith('trunk_'))
      .map((x) => (x.note?.includes('measured ') ? x : { ...x, note: `${x.note ? `${x.note}; ` : ''}measured ${old.date}` })));
    notes.unshift(...(old.notes ?? []).filter((x) => !x.startsWith('trunk ')));
  }
  return { metrics, notes };
}

const suite: BenchSuite = {
  async run({ quick }) {
    const sizes = process.env.NEUTRON_BENCH_SIZES?.split(',').map(Number) ?? (quick ? [20] : [100, 500]);
    const runsFor = (n: number) => Number(process.env.NEUTRON_BENCH_RUNS ?? (n >= 500 ? 1 : 3));
    const kinds = (process.env.NEUTRON_BENCH_KINDS?.split(',') ?? ['ours', 'peer']) as Kind[];
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'bin', 'protocol'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
    const built = `ovs-agent built from ${head}${dirty ? ` plus ${dirty} uncommitted file(s) in lib/bin/protocol` : ''}`;
    if (TRUNK) {
      const t = await trunkCase(kinds, Number(process.env.NEUTRON_BENCH_RUNS ?? (quick ? 1 : 3)), built);
      return newResult('neutron', t.metrics.map((x) => ({ ...x, ...(x.ratio !== undefined ? { ratio: round(x.ratio, 4) } : {}) })), t.notes);
    }
    const dist = await buildOurs();
    const env = await NeutronEnv.start({ qos: QOS });
    const metrics: Metric[] = [];
    const notes: string[] = sizes.map((n) => `${QOS ? 'qos ' : ''}${n} ports: ${built}, ${new Date().toISOString()}`);
    let trace: RpcTrace | undefined;
    try {
      trace = await RpcTrace.start(env);
      for (const n of sizes) {
        const figs: Record<Kind, RunFigures[]> = { ours: [], peer: [] };
        for (let r = 0; r < runsFor(n); r++) {
          for (const kind of kinds) {
            const f = await oneRun(env, trace, dist, kind, n, r, n <= 100);
            process.stderr.write(`neutron bench ${n} ports run ${r} ${kind}: ${JSON.stringify(f)}\n`);
            figs[kind].push(f);
          }
        }
        if (kinds.length < 2) {
          for (const f of figs[kinds[0]]) notes.push(`${n} ports ${kinds[0]}: ${JSON.stringify(f)}`);
          continue;
        }
        metrics.push(...metricsFor(n, figs));
        const q = QOS ? 'qos ' : '';
        notes.push(`${q}${n} ports, calls while plugging: ${callsNote('ours', figs.ours, 'calls')}; ${callsNote('peer', figs.peer, 'calls')}`);
        notes.push(`${q}${n} ports, calls during the warm restart: ${callsNote('ours', figs.ours, 'warmCalls')}; ${callsNote('peer', figs.peer, 'warmCalls')}`);
        for (const kind of kinds) notes.push(`${q}${n} ports, ${kind}: smaps_rollup once all ACTIVE (MiB): ${figs[kind].map((f) => f.smapsRollup).join(' | ')}`);
      }
    } finally {
      await trace?.stop();
      await env.stop();
      rmSync(dist, { recursive: true, force: true });
    }
    if (metrics.length === 0) metrics.push(metric({ metric: 'runs', unit: 'count', ours: [notes.length] }));
    if (process.env.NEUTRON_BENCH_SIZES) carryOver(sizes, metrics, notes);
    return newResult('neutron', metrics.map((x) => ({ ...x, ...(x.ratio !== undefined ? { ratio: round(x.ratio, 4) } : {}) })), notes);
  },
};
export default suite;
