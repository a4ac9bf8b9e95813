/**
 * `npm run bench -- flow-monitor [--quick]`: the flow monitor under load.
 * Three watchers of the same bridge take turns (order rotated each round):
 * ours (`monitorFlows` on the bridge's management socket), the peer
 * (`ovs-ofctl monitor br0 watch:`, its output lines timestamped on arrival)
 * and the anchor (bench/_flow-monitor-anchor.ts: the stream split by header
 * length, only the update headers read; the fastest any client can be, so
 * the switch's own limit on this machine). For each, another client, a
 * process of its own (bench/_flow-monitor-installer.ts), installs 100,000
 * flows in batches of 1,000, each batch followed by a barrier, then deletes
 * them all at once. Targets: every change seen (100,000 added and 100,000
 * deleted updates), and the p99 latency from the switch's commit under 10
 * ms; every figure is also given as ours / peer and ours / anchor.
 *
 * Open vSwitch pauses a monitor whose unsent updates exceed 128 KiB and, on
 * resuming, sends the flows added or changed meanwhile as they are then: a
 * flow added and deleted within a pause is never reported. The delete phase
 * therefore starts once the watcher has seen every add (or after 60 s), and
 * pauses are counted.
 *
 * The switch's commit has no timestamp on the wire, so it is bounded from
 * both sides with one clock (performance.timeOrigin + now(), the same in
 * both processes): a flow is committed after its batch left the installer
 * (`sent`) and before the barrier reply that follows it reached the installer
 * (`ack`). Reported per flow: seen − ack (after the switch confirmed the
 * batch, how long until the watcher had the update; negative when the
 * update came first) and seen − sent (an upper bound on commit → seen,
 * which also holds the switch's own work on the batch).
 *
 * A second case paces the installer (5,000 flows/s in batches of 100): the
 * latency when the switch is not saturated.
 *
 * Its own suite rather than a case of `openflow` (whose full run takes many
 * minutes for other cases) or `ovsdb` (the flow monitor is OpenFlow).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectSwitch, type FlowUpdate } from '@ovs-agent/openflow';
import { OvsSandbox } from '../testing/sandbox.js';
import type { BenchSuite, Metric } from './report.js';
import { metric, newResult, percentile, round } from './report.js';
import { startAnchor } from './_flow-monitor-anchor.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const now = (): number => performance.timeOrigin + performance.now();

interface Batch { phase: 'add' | 'delete'; first: number; count: number; sent: number; ack: number }

/** The installer process: its batches as they are reported, and a way to let it go on to the delete. */
function startInstaller(address: string, n: number, batch: number, rate: number): { batches: Batch[]; addsDone: Promise<void>; deleteAll(): void; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, '_flow-monitor-installer.ts'), address, String(n), String(batch), String(rate)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const batches: Batch[] = [];
  let addsDone!: () => void;
  const done = new Promise<void>((r) => (addsDone = r));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    if (l === 'adds done') addsDone();
    else batches.push(JSON.parse(l) as Batch);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`installer exited with ${code}`))));
  });
  return { batches, addsDone: Promise.race([done, exited]), deleteAll: () => child.stdin!.end('delete\n'), exited };
}

/** Waits until `cond` holds or `ms` pass. */
async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** What one watcher saw in one run: per flow, when its add and its delete arrived (0: never). */
class Tally {
  readonly added: Float64Array;
  readonly deleted: Float64Array;
  seenAdd = 0;
  seenDelete = 0;
  paused = 0;
  resumed = 0;
  firstAdd = 0;
  lastAdd = 0;
  firstDelete = 0;
  lastDelete = 0;

  constructor(readonly n: number) {
    this.added = new Float64Array(n + 1);
    this.deleted = new Float64Array(n + 1);
  }

  /** Files one update of flow `i` (its cookie), seen at `t`; repeats (a resume re-sends) count once. */
  record(event: 'added' | 'deleted', i: number, t: number): void {
    if (i < 1 || i > this.n) return;
    if (event === 'added' && this.added[i] === 0) {
      this.added[i] = t;
      if (this.seenAdd++ === 0) this.firstAdd = t;
      this.lastAdd = t;
    } else if (event === 'deleted' && this.deleted[i] === 0) {
      this.deleted[i] = t;
      if (this.seenDelete++ === 0) this.firstDelete = t;
      this.lastDelete = t;
    }
  }
}

/** The clients compared: ours, the peer (ovs-ofctl monitor) and the anchor (bench/_flow-monitor-anchor.ts). */
type WatcherKind = 'ours' | 'ofctl' | 'anchor';

/** Starts one watcher of table 0 filing into `tally`; resolves once its monitor runs, with its stop. */
async function startWatcher(kind: WatcherKind, sb: OvsSandbox, tally: Tally): Promise<() => Promise<void>> {
  const path = sb.mgmtSocket('br0');
  if (kind === 'ours') {
    const sw = await connectSwitch(`unix:${path}`, { reconnect: false });
    const monitor = await sw.monitorFlows({ initial: false, tableId: 0 });
    monitor.on('paused', () => tally.paused++);
    monitor.on('resumed', () => tally.resumed++);
    monitor.on('update', (u: FlowUpdate) => {
      if (u.event === 'added' || u.event === 'deleted') tally.record(u.event, Number(u.cookie), now());
    });
    return async () => {
      monitor.cancel();
      await sw.close();
    };
  }
  if (kind === 'anchor') {
    const anchor = await startAnchor(path, 0, {
      update: (event, cookie) => tally.record(event, cookie, now()),
      paused: () => tally.paused++,
      resumed: () => tally.resumed++,
    });
    return async () => anchor.close();
  }
  // ovs-ofctl prints the request's reply on stdout and each update after it (one line each) on stderr;
  // both are read line by line and each line is timestamped as it arrives.
  const child = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'monitor', path, 'watch:!initial,table=0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVS_RUNDIR: sb.dir } });
  let started = false;
  const onLine = (l: string): void => {
    const t = now();
    const ev = OFCTL_EVENT.exec(l);
    if (ev) {
      const cookie = OFCTL_COOKIE.exec(l);
      if (cookie) tally.record(ev[1] === 'ADDED' ? 'added' : 'deleted', parseInt(cookie[1], 16), t);
    } else if (l.includes('FLOW_MONITOR_PAUSED')) tally.paused++;
    else if (l.includes('FLOW_MONITOR_RESUMED')) tally.resumed++;
    else if (l.includes('FLOW_MONITOR reply')) started = true;
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([waitFor(() => started, 10_000), exited]);
  if (!started) {
    child.kill('SIGKILL');
    throw new Error('ovs-ofctl monitor did not start within 10 s');
  }
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}
const OFCTL_EVENT = /^ event=(ADDED|DELETED)/;
const OFCTL_COOKIE = /cookie=0x([0-9a-f]+)/;

interface RunFigures { seenAdd: number; seenDelete: number; paused: number; pausedInAdds: number; resumed: number; addRate: number; deleteRate: number; afterAck: number[]; afterSent: number[]; deleteAfterAck: number[] }

async function oneRun(kind: WatcherKind, sb: OvsSandbox, n: number, batch: number, rate = 0): Promise<RunFigures> {
  const address = `unix:${sb.mgmtSocket('br0')}`;
  const tally = new Tally(n);
  const stop = await startWatcher(kind, sb, tally);
  try {
    const installer = startInstaller(address, n, batch, rate);
    await installer.addsDone;
    // Flows added while the switch paused the monitor are reported when it resumes, if they still exist then:
    // the delete waits for the watcher (at most 60 s), so that what is measured is what the watcher can see.
    await waitFor(() => tally.seenAdd >= n, 60_000);
    // The one delete of every flow queues all its updates at once: a pause then says nothing of the watcher's pace.
    const pausedInAdds = tally.paused;
    installer.deleteAll();
    await installer.exited;
    await waitFor(() => tally.seenDelete >= n, 60_000);
    const afterAck: number[] = [];
    const afterSent: number[] = [];
    const deleteAfterAck: number[] = [];
    for (const b of installer.batches) {
      for (let i = b.first + 1; i <= b.first + b.count; i++) {
        if (b.phase === 'add' && tally.added[i] > 0) {
          afterAck.push(tally.added[i] - b.ack);
          afterSent.push(tally.added[i] - b.sent);
        } else if (b.phase === 'delete' && tally.deleted[i] > 0) {
          deleteAfterAck.push(tally.deleted[i] - b.ack);
        }
      }
    }
    return {
      seenAdd: tally.seenAdd, seenDelete: tally.seenDelete, paused: tally.paused, pausedInAdds, resumed: tally.resumed, afterAck, afterSent, deleteAfterAck,
      addRate: tally.seenAdd / ((tally.lastAdd - tally.firstAdd) / 1000), deleteRate: tally.seenDelete / ((tally.lastDelete - tally.firstDelete) / 1000),
    };
  } finally {
    await stop();
  }
}

/** Our figure, then the same figure beside the peer's and beside the anchor's (ratios on medians). */
function sideBySide(name: string, unit: string, runs: Record<WatcherKind, RunFigures[]>, f: (x: RunFigures) => number,
  t: { ours?: string; peer?: string; anchor?: string }, note?: string): Metric[] {
  const ours = runs.ours.map(f);
  return [
    metric({ metric: name, unit, ours, target: t.ours, note }),
    metric({ metric: `${name}_vs_ofctl`, unit, ours, peer: { name: PEER, samples: runs.ofctl.map(f) }, target: t.peer }),
    metric({ metric: `${name}_vs_anchor`, unit, ours, peer: { name: ANCHOR, samples: runs.anchor.map(f) }, target: t.anchor }),
  ];
}
/** Pause counts of each watcher, each its own metric: a ratio to a count that is often 0 says nothing. */
function pauses(name: string, runs: Record<WatcherKind, RunFigures[]>, note?: string): Metric[] {
  const of = (f: (x: RunFigures) => number, suffix: string, what: string): Metric[] => [
    metric({ metric: `${name}${suffix}`, unit: 'pauses', ours: runs.ours.map(f), note: `${what}${note ? `: ${note}` : ''}` }),
    metric({ metric: `${name}${suffix}_ofctl`, unit: 'pauses', ours: runs.ofctl.map(f), note: `the peer's own count (${PEER})` }),
    metric({ metric: `${name}${suffix}_anchor`, unit: 'pauses', ours: runs.anchor.map(f), note: "the anchor's own count" }),
  ];
  return [
    ...of((x) => x.pausedInAdds, '_in_adds', 'pauses while the flows were installed'),
    ...of((x) => x.paused, '', 'pauses in the whole run, the delete of all flows included'),
  ];
}
const PEER = 'ovs-ofctl -O OpenFlow13 monitor br0 watch:!initial,table=0';
const ANCHOR = 'anchor: split by header length, read update headers only';

const suite: BenchSuite = {
  async run({ quick }) {
    const n = quick ? 10_000 : 100_000;
    const batch = 1000;
    const runs = quick ? 1 : 3;
    const sb = await OvsSandbox.start();
    try {
      await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13',
        '--', 'add-port', 'br0', 'p2', '--', 'set', 'interface', 'p2', 'type=dummy', 'ofport_request=2');
      const kinds: WatcherKind[] = ['ours', 'ofctl', 'anchor'];
      const r: Record<WatcherKind, RunFigures[]> = { ours: [], ofctl: [], anchor: [] };
      // Alternated, the order rotated each round: load from other work on the machine falls on all three alike.
      for (let i = 0; i < runs; i++) {
        for (let k = 0; k < kinds.length; k++) {
          const kind = kinds[(i + k) % kinds.length];
          r[kind].push(await oneRun(kind, sb, n, batch));
        }
      }
      const PACE = 5000;
      const paced: Record<WatcherKind, RunFigures[]> = { ours: [], ofctl: [], anchor: [] };
      for (const kind of kinds) paced[kind].push(await oneRun(kind, sb, n, 100, PACE));
      const p99 = (xs: number[]): number => round(percentile(xs, 99), 2);
      const p50 = (xs: number[]): number => round(percentile(xs, 50), 2);
      const metrics: Metric[] = [
        ...sideBySide('flow_monitor_added_seen', 'fraction', r, (x) => x.seenAdd / n, { ours: '>= 1', peer: '>= 1', anchor: '>= 1' }, `of ${n} flows installed`),
        ...sideBySide('flow_monitor_deleted_seen', 'fraction', r, (x) => x.seenDelete / n, { ours: '>= 1', peer: '>= 1', anchor: '>= 1' }, `of ${n} flows deleted`),
        ...pauses('flow_monitor_paused', r,
          'times the switch paused the updates (its queue to the watcher over 128 KiB); each resume re-sends the flows added meanwhile'),
        ...sideBySide('flow_monitor_added_events', 'events/s', r, (x) => round(x.addRate, 0), {}, 'first to last added update seen'),
        ...sideBySide('flow_monitor_deleted_events', 'events/s', r, (x) => round(x.deleteRate, 0), {}, 'one delete of all flows'),
        ...sideBySide('flow_monitor_p99_after_ack', 'ms', r, (x) => p99(x.afterAck), { ours: '< 10', peer: '<= 1', anchor: '<= 1.2' },
          'update seen minus the barrier reply of its batch at the installer: latency after the switch confirmed the commit'),
        ...sideBySide('flow_monitor_p50_after_ack', 'ms', r, (x) => p50(x.afterAck), {}),
        ...sideBySide('flow_monitor_p99_after_sent', 'ms', r, (x) => p99(x.afterSent), { peer: '<= 1', anchor: '<= 1.2' },
          'update seen minus the moment its batch left the installer: an upper bound on commit to seen'),
        ...sideBySide('flow_monitor_p99_delete_after_ack', 'ms', r, (x) => p99(x.deleteAfterAck), {}),
        ...sideBySide('paced_added_seen', 'fraction', paced, (x) => x.seenAdd / n, { ours: '>= 1', peer: '>= 1', anchor: '>= 1' }, `installed at ${PACE} flows/s in batches of 100`),
        ...sideBySide('paced_deleted_seen', 'fraction', paced, (x) => x.seenDelete / n, { ours: '>= 1', peer: '>= 1', anchor: '>= 1' }),
        ...pauses('paced_paused', paced),
        ...sideBySide('paced_p99_after_ack', 'ms', paced, (x) => p99(x.afterAck), { ours: '< 10' }),
        ...sideBySide('paced_p50_after_ack', 'ms', paced, (x) => p50(x.afterAck), {}),
        ...sideBySide('paced_p99_after_sent', 'ms', paced, (x) => p99(x.afterSent), { ours: '< 10', peer: '<= 1', anchor: '<= 1.2' }),
      ];
      return newResult('flow-monitor', metrics, [
        `${n} flows (table 0, reg0 = i, cookie = i + 1) installed by another process over the bridge's management socket in batches of ${batch}, ` +
        `each followed by a barrier, then one delete of them all; watched on another session of the same socket by monitorFlows (ours), ` +
        `by ${PEER} (the peer: its stdout and stderr read line by line, each line timestamped on arrival) and by the anchor (bench/_flow-monitor-anchor.ts: ` +
        `the stream split by header length, only the update headers read: the fastest any client can be); ${runs} runs of each, alternated`,
        'ratios are ours / peer or ours / anchor on medians; where the anchor too is paused and misses the latency target, the switch (on this machine) is the bound',
        'the commit is bracketed: after the batch left the installer, before the barrier reply it waited for; both clocks are performance.timeOrigin + now() (one machine)',
        `paced_*: one more run (of each watcher) of ${n} flows installed at ${PACE} flows/s (batches of 100, each with its barrier), the monitor's latency when the switch is not saturated`,
      ]);
    } finally {
      await sb.stop();
    }
  },
};
export default suite;
