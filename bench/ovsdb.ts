/**
 * `npm run bench -- ovsdb [--quick]`: the OVSDB replica and transactions
 * against Python's ovs.db.idl (Debian python3-openvswitch, the library
 * ovsdbapp and the Neutron agent use) and ovs-vsctl, on one private
 * ovsdb-server, in the same run:
 *
 *  - creating N ports (Port + Interface with external_ids, added to a
 *    netdev bridge) in one transaction, and in one transaction per port
 *    (ours keeps them all in flight; the Python IDL commits one at a time,
 *    as it can), and with one chained ovs-vsctl call;
 *  - a fresh process connecting and holding the initial dump of 10,000
 *    interfaces (time, and RSS afterwards);
 *  - the latency from another client's insert to our row event;
 *  - N ports in one transaction against a 3-member Raft cluster
 *    (bench/_ovsdb-cluster.ts), ours and the Python IDL both leader-only.
 *
 * ovs-vswitchd is stopped: nothing waits for it, and it does not compete
 * for the CPU. Each measurement starts from the same database state.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { OvsdbClient } from '@ovs-agent/ovsdb';
import { op } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';
import { Replica } from '@ovs-agent/ovsdb';
import { OvsSandbox, VSWITCH_SCHEMA } from '../testing/sandbox.js';
import type { BenchSuite, Metric } from './report.js';
import { metric, newResult, percentile, round, timeIt } from './report.js';
import { clusteredPorts } from './_ovsdb-cluster.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const RUNS = 3;
const BRIDGE = 'br0';

type Rep = Replica<OpenVSwitchTables>;

async function resetBridge(sb: OvsSandbox): Promise<void> {
  // Not measured, but slow on a busy machine with thousands of ports: a generous timeout.
  const args = ['--no-wait', '--if-exists', 'del-br', BRIDGE, '--', 'add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev'];
  await sb.run('ovs-vsctl', [`--db=${sb.dbRemote}`, '--timeout=300', ...args], { timeoutMs: 300_000 });
}

const ifaceIds = (name: string) => ({ 'iface-id': `${name}-id`, 'attached-mac': 'fa:16:3e:00:00:01' });

/** Our N ports in one transaction. */
async function oursOne(r: Rep, n: number, prefix: string): Promise<void> {
  await r.transact((txn) => {
    const br = r.index('Bridge', 'name').get(BRIDGE)!;
    const ports = [];
    for (let i = 0; i < n; i++) {
      const name = `${prefix}${i}`;
      const iface = txn.insert('Interface', { name, type: 'internal', external_ids: ifaceIds(name) });
      ports.push(txn.insert('Port', { name, interfaces: [iface], external_ids: { owner: 'bench' } }));
    }
    txn.addToSet('Bridge', br._uuid, 'ports', ports);
  });
}

/** Our N ports, one transaction each, all in flight. */
async function oursEach(r: Rep, n: number, prefix: string): Promise<void> {
  const br = r.index('Bridge', 'name').get(BRIDGE)!;
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}${i}`;
    all.push(
      r.transact((txn) => {
        const iface = txn.insert('Interface', { name, type: 'internal', external_ids: ifaceIds(name) });
        const port = txn.insert('Port', { name, interfaces: [iface], external_ids: { owner: 'bench' } });
        txn.addToSet('Bridge', br._uuid, 'ports', [port]);
      }),
    );
  }
  await Promise.all(all);
}

/** The Interface columns the agent replicates (lib/agent/ovs/replica-database.ts). */
const AGENT_COLUMNS = 'name,type,ofport,external_ids,options';

async function python(sb: OvsSandbox, ...args: string[]): Promise<{ seconds: number; rss_kib: number; rows?: number; rss_idle_kib?: number }> {
  return pythonWith({}, sb, ...args);
}

async function pythonWith(env: Record<string, string>, sb: OvsSandbox, ...args: string[]): Promise<{ seconds: number; rss_kib: number; rows?: number; rss_idle_kib?: number }> {
  const { stdout } = await run('/usr/bin/python3', [join(here, 'peers/ovsdb_idl_peer.py'), sb.dbRemote, VSWITCH_SCHEMA, ...args], { maxBuffer: 1 << 20, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

async function vsctlChained(sb: OvsSandbox, n: number, prefix: string): Promise<number> {
  const args = ['--no-wait'];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}${i}`;
    if (i) args.push('--');
    args.push('add-port', BRIDGE, name, '--', 'set', 'interface', name, 'type=internal', `external_ids:iface-id=${name}-id`, 'external_ids:attached-mac=fa:16:3e:00:00:01', '--', 'set', 'port', name, 'external_ids:owner=bench');
  }
  return timeIt(() => sb.run('ovs-vsctl', [`--db=${sb.dbRemote}`, '--timeout=600', ...args], { timeoutMs: 600_000 }));
}

/** Bundles our fresh-process peer into plain JS, as a deployed agent would run it (no TypeScript loader). */
async function bundleOurPeer(dir: string): Promise<string> {
  const outfile = join(dir, 'ovsdb_replica_peer.mjs');
  await build({ entryPoints: [join(here, 'peers/ovsdb_replica_peer.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error' });
  return outfile;
}

interface OurDump {
  seconds: number;
  cpu_seconds: number;
  rss_kib: number;
  heap_used_kib: number;
  heap_total_kib: number;
  rss_idle_kib?: number;
}

async function ourFreshDump(script: string, remote: string, expected: number, idleSeconds?: number, env: Record<string, string> = {}): Promise<OurDump> {
  const args = ['--expose-gc', script, remote, String(expected), ...(idleSeconds === undefined ? [] : [String(idleSeconds)])];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** The flags bin/ovs-agent's interpreter line (`#!/usr/bin/env -S node FLAGS`) starts node with. */
const AGENT_V8_FLAGS = readFileSync(join(here, '../bin/ovs-agent.ts'), 'utf8').split('\n')[0].replace(/^#!.*?\bnode\b\s*/, '');

/** Seconds both peers idle after their dump before the steady-state RSS is read (V8's memory reducer acts after ~8-16 s). */
const IDLE_SECONDS = 30;

/** RSS (MiB) of our peer holding a replica of the one-row Open_vSwitch table after idling: the runtime plus our code. */
async function ourLibraryBaseline(script: string, remote: string, idleSeconds: number): Promise<number> {
  const baseline = join(dirname(script), 'ovsdb_replica_baseline.mjs');
  await build({
    stdin: {
      contents: `import { readFileSync } from 'node:fs';
import { Replica } from ${JSON.stringify(join(here, '../protocol/ovsdb/replica/index.js'))};
const r = await Replica.start({ remote: process.argv[2], tables: { Open_vSwitch: true } });
await new Promise((res) => setTimeout(res, Number(process.argv[3]) * 1000));
console.log(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
await r.close();
process.exit(0);`,
      resolveDir: here,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: baseline,
    logLevel: 'error',
  });
  const { stdout } = await run(process.execPath, [baseline, remote, String(idleSeconds)]);
  return Number(stdout.trim()) / 1024;
}

/** VmRSS (MiB) of a bare node process and of python3 with ovs.db.idl imported: the runtimes' own share. */
async function baselineRss(): Promise<{ node: number; python: number }> {
  const readRss = "/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1]";
  const node = Number((await run(process.execPath, ['--expose-gc', '-e', `console.log(${readRss})`])).stdout.trim());
  const python = Number(
    (await run('/usr/bin/python3', ['-c', "import ovs.db.idl; print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')][0])"])).stdout.trim(),
  );
  return { node: node / 1024, python: python / 1024 };
}

async function populate(sb: OvsSandbox, n: number): Promise<void> {
  const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Open_vSwitch: true, Bridge: true, Port: { columns: ['name'] } } });
  try {
    await resetBridge(sb);
    await r.waitFor(() => r.index('Bridge', 'name').get(BRIDGE));
    await oursOne(r as Rep, n, 'd');
  } finally {
    await r.close();
  }
}

/** Insert-to-event latency: a second client inserts, our replica's watcher sees it. Milliseconds. */
async function eventLatency(sb: OvsSandbox, samples: number): Promise<{ event: number[]; echo: number[] }> {
  const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Interface: true, Bridge: true } });
  const other = await OvsdbClient.connect(sb.dbRemote);
  try {
    const out: number[] = [];
    const echo: number[] = [];
    let waiting: { name: string; resolve: (t: bigint) => void } | undefined;
    r.watch('Interface', (e) => {
      if (e.kind === 'insert' && waiting && e.row.name === waiting.name) waiting.resolve(process.hrtime.bigint());
    });
    for (let i = 0; i < samples; i++) {
      const name = `lat${i}`;
      const seen = new Promise<bigint>((resolve) => (waiting = { name, resolve }));
      const t0 = process.hrtime.bigint();
      // An unreferenced Interface is garbage-collected at commit: insert it with a Port on the bridge.
      const br = r.index('Bridge', 'name').get(BRIDGE)!;
      await other.transact('Open_vSwitch', [
        op.insert('Interface', { name }, 'i'),
        op.insert('Port', { name, interfaces: [{ namedUuid: 'i' }] }, 'p'),
        op.mutate('Bridge', [['_uuid', '==', br._uuid]], [['ports', 'insert', [{ namedUuid: 'p' }]]]),
      ]);
      const t1 = await seen;
      out.push(Number(t1 - t0) / 1e6);
      // The floor under the same conditions: one round trip to ovsdb-server that changes nothing.
      const e0 = process.hrtime.bigint();
      await other.echo();
      echo.push(Number(process.hrtime.bigint() - e0) / 1e6);
    }
    return { event: out, echo };
  } finally {
    await other.close();
    await r.close();
  }
}

const suite: BenchSuite = {
  async run({ quick }) {
    const nPorts = quick ? 500 : 5000;
    const nDump = quick ? 2000 : 10_000;
    const nLatency = quick ? 50 : 300;
    const metrics: Metric[] = [];
    const notes: string[] = [];
    const sb = await OvsSandbox.start();
    const tmp = mkdtempSync(join(tmpdir(), 'bench-ovsdb-'));
    try {
      await sb.stopVswitchd();
      await resetBridge(sb);
      const replica = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Open_vSwitch: true, Bridge: true, Port: true, Interface: true } });

      // Ports: ours vs the Python IDL, alternating, each from an empty bridge.
      const s = { oursOne: [] as number[], pyOne: [] as number[], oursEach: [] as number[], pyEach: [] as number[], vsctl: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        await resetBridge(sb);
        await replica.waitFor(() => replica.index('Bridge', 'name').get(BRIDGE)?.ports.length === 1);
        s.oursOne.push(await timeIt(() => oursOne(replica, nPorts, 'p')));
        await resetBridge(sb);
        s.pyOne.push((await python(sb, 'ports-one', BRIDGE, String(nPorts), 'p')).seconds);
        await resetBridge(sb);
        await replica.waitFor(() => replica.index('Bridge', 'name').get(BRIDGE)?.ports.length === 1);
        s.oursEach.push(await timeIt(() => oursEach(replica, nPorts, 'p')));
        await resetBridge(sb);
        s.pyEach.push((await python(sb, 'ports-each', BRIDGE, String(nPorts), 'p')).seconds);
        await resetBridge(sb);
        s.vsctl.push(await vsctlChained(sb, nPorts, 'p'));
      }
      await resetBridge(sb);
      await replica.close();
      const py = 'python3-openvswitch ovs.db.idl';
      metrics.push(
        metric({ metric: `ports_${nPorts}_one_txn`, unit: 's', ours: s.oursOne, peer: { name: py, samples: s.pyOne }, target: '<= 0.3333' }),
        metric({ metric: `ports_${nPorts}_txn_per_port`, unit: 's', ours: s.oursEach, peer: { name: py, samples: s.pyEach }, target: '<= 0.3333' }),
        metric({ metric: `ports_${nPorts}_one_txn_vs_vsctl`, unit: 's', ours: s.oursOne, peer: { name: 'ovs-vsctl (one chained call)', samples: s.vsctl }, target: '<= 1' }),
      );

      // A fresh process holding the initial dump of nDump interfaces: time and RSS.
      await populate(sb, nDump);
      const script = await bundleOurPeer(tmp);
      const base = await baselineRss();
      const d = { ours: [] as number[], py: [] as number[], oursRss: [] as number[], pyRss: [] as number[], heapUsed: [] as number[], heapTotal: [] as number[], cpu: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        const o = await ourFreshDump(script, sb.dbRemote, nDump);
        d.ours.push(o.seconds);
        d.cpu.push(o.cpu_seconds);
        d.oursRss.push(o.rss_kib / 1024);
        d.heapUsed.push(o.heap_used_kib / 1024);
        d.heapTotal.push(o.heap_total_kib / 1024);
        const p = await python(sb, 'dump', String(nDump));
        d.py.push(p.seconds);
        d.pyRss.push(p.rss_kib / 1024);
      }
      // The same dump in a process started as bin/ovs-agent starts node (its interpreter line's V8 flag):
      // young-generation semi-spaces capped at 4 MiB, so the dump's garbage does not grow them to 16.
      const agentFlags: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        agentFlags.push((await ourFreshDump(script, sb.dbRemote, nDump, undefined, { NODE_OPTIONS: AGENT_V8_FLAGS })).rss_kib / 1024);
      }
      // The same with only the columns the agent replicates, both sides.
      const cols = { OVSDB_PEER_COLUMNS: AGENT_COLUMNS };
      const dc = { ours: [] as number[], py: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        dc.ours.push((await ourFreshDump(script, sb.dbRemote, nDump, undefined, cols)).seconds);
        dc.py.push((await pythonWith(cols, sb, 'dump', String(nDump))).seconds);
      }
      // Steady state: fresh processes of both, started together (their dumps are not timed here),
      // each idle for IDLE_SECONDS after its dump, then their RSS. Run concurrently to keep the suite short.
      const idle = quick ? 12 : IDLE_SECONDS;
      const steady = await Promise.all([
        ...Array.from({ length: RUNS }, () => ourFreshDump(script, sb.dbRemote, nDump, idle)),
        ...Array.from({ length: RUNS }, () => python(sb, 'dump', String(nDump), String(idle))),
      ]);
      const oursIdle = steady.slice(0, RUNS).map((o) => o.rss_idle_kib! / 1024);
      const pyIdle = steady.slice(RUNS).map((p) => p.rss_idle_kib! / 1024);
      const libBase = await ourLibraryBaseline(script, sb.dbRemote, idle);
      metrics.push(
        metric({ metric: `initial_dump_${nDump}_interfaces`, unit: 's', ours: d.ours, target: '< 0.3', note: `fresh process: connect, get_schema, monitor, decode; our process's CPU time (user+sys) median ${round(percentile(d.cpu, 50), 3)} s, the rest is waiting for ovsdb-server and the shared CPUs; Python IDL median ${round(percentile(d.py, 50), 3)} s` }),
        metric({ metric: `initial_dump_${nDump}_interfaces_vs_python`, unit: 's', ours: d.ours, peer: { name: py, samples: d.py }, target: '<= 1' }),
        metric({
          metric: `initial_dump_${nDump}_interfaces_agent_columns`,
          unit: 's',
          ours: dc.ours,
          peer: { name: `${py} (same columns)`, samples: dc.py },
          target: '<= 1',
          note: `only the Interface columns the agent replicates (${AGENT_COLUMNS}), both sides; ours median ${round(percentile(dc.ours, 50), 3)} s`,
        }),
        metric({
          metric: `rss_holding_${nDump}_interfaces`,
          unit: 'MiB',
          ours: d.oursRss,
          peer: { name: py, samples: d.pyRss },
          target: '<= 0.5',
          note: `right after the dump (ours after one gc()): ours V8 heap in use ${round(percentile(d.heapUsed, 50), 1)} MiB of ${round(percentile(d.heapTotal, 50), 1)} MiB committed (the young generation grown by the dump); RSS of a bare node process ${round(base.node, 1)} MiB, of python3 with ovs.db.idl imported ${round(base.python, 1)} MiB`,
        }),
        metric({
          metric: `rss_holding_${nDump}_interfaces_agent_flags`,
          unit: 'MiB',
          ours: agentFlags,
          peer: { name: py, samples: d.pyRss },
          target: '<= 0.5',
          note: `as the line above, our process started with ${AGENT_V8_FLAGS} (the flag bin/ovs-agent's interpreter line gives node; a library user sets its own); Python as above`,
        }),
        metric({
          metric: `rss_holding_${nDump}_interfaces_idle_${idle}s`,
          unit: 'MiB',
          ours: oursIdle,
          peer: { name: py, samples: pyIdle },
          target: '<= 0.5',
          note: `steady state of fresh processes of both (3 each, started together, dumps not timed): each idle ${idle} s after its dump, no forced GC (V8's memory reducer returns the dump's transient heap); our library's own floor (node + our code + a replica of the one-row Open_vSwitch table, idle as long) ${round(libBase, 1)} MiB`,
        }),
      );

      // Insert (by another client) to our row event, with the big table replicated.
      const { event: lat, echo } = await eventLatency(sb, nLatency);
      metrics.push(
        metric({ metric: 'insert_to_event_p50', unit: 'ms', ours: [percentile(lat, 50)], target: '< 2', note: `${nLatency} sequential inserts by a second client; ${nDump} interfaces in the table` }),
        metric({ metric: 'insert_to_event_p99', unit: 'ms', ours: [percentile(lat, 99)] }),
        metric({ metric: 'echo_round_trip_p50', unit: 'ms', ours: [percentile(echo, 50)], note: 'the same client\'s echo to ovsdb-server between the inserts: the floor set by the server and the scheduler' }),
      );
      notes.push(
        `${nPorts} ports = ${nPorts} Port + ${nPorts} Interface rows with external_ids, added to a netdev bridge; ovs-vswitchd stopped; medians of ${RUNS} runs, alternating ours and the peers.`,
        'Ours per-port: all transactions in flight at once on one connection; Python IDL: commit_block() one after another (what ovsdbapp does).',
        'RSS: VmRSS of a fresh process after the initial dump (ours: esbuild-bundled plain JS on node --expose-gc, not under tsx, after one gc(); Python: as is), and of the same kind of processes after idling (steady state, no forced GC).',
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      await sb.stop();
    }
    // The same ports against a 3-member Raft cluster (its own servers, after the sandbox is gone).
    const clustered = await clusteredPorts(quick);
    metrics.push(...clustered.metrics);
    notes.push(...clustered.notes);
    return newResult('ovsdb', metrics, notes);
  },
};
export default suite;
