/**
 * `npm run bench -- flow-monitor [--quick]`: the flow monitor under load. A
 * watcher (our `monitorFlows` on the bridge's management socket) while
 * another client, a process of its own (bench/_flow-monitor-installer.ts),
 * installs 100,000 flows in batches of 1,000, each batch followed by a
 * barrier, then deletes them all at once. Targets: every change seen (100,000
 * added and 100,000 deleted updates), and the p99 latency from the switch's
 * commit under 10 ms.
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

async function oneRun(sb: OvsSandbox, n: number, batch: number, rate = 0): Promise<{ seenAdd: number; seenDelete: number; paused: number; resumed: number; addRate: number; deleteRate: number; afterAck: number[]; afterSent: number[]; deleteAfterAck: number[] }> {
  const address = `unix:${sb.mgmtSocket('br0')}`;
  const sw = await connectSwitch(address, { reconnect: false });
  try {
    const added = new Float64Array(n + 1);
    const deleted = new Float64Array(n + 1);
    let seenAdd = 0;
    let seenDelete = 0;
    let paused = 0;
    let resumed = 0;
    let firstAdd = 0;
    let lastAdd = 0;
    let firstDelete = 0;
    let lastDelete = 0;
    const monitor = await sw.monitorFlows({ initial: false, tableId: 0 });
    monitor.on('paused', () => paused++);
    monitor.on('resumed', () => resumed++);
    monitor.on('update', (u: FlowUpdate) => {
      if (u.event === 'abbrev') return;
      const t = now();
      const i = Number(u.cookie);
      if (i < 1 || i > n) return;
      if (u.event === 'added' && added[i] === 0) {
        added[i] = t;
        if (seenAdd++ === 0) firstAdd = t;
        lastAdd = t;
      } else if (u.event === 'deleted' && deleted[i] === 0) {
        deleted[i] = t;
        if (seenDelete++ === 0) firstDelete = t;
        lastDelete = t;
      }
    });
    const installer = startInstaller(address, n, batch, rate);
    await installer.addsDone;
    // Flows added while the switch paused the monitor are reported when it resumes, if they still exist then:
    // the delete waits for the watcher (at most 60 s), so that what is measured is what the watcher can see.
    await waitFor(() => seenAdd >= n, 60_000);
    installer.deleteAll();
    await installer.exited;
    await waitFor(() => seenDelete >= n, 60_000);
    const batches = installer.batches;
    monitor.cancel();
    const afterAck: number[] = [];
    const afterSent: number[] = [];
    const deleteAfterAck: number[] = [];
    for (const b of batches) {
      for (let i = b.first + 1; i <= b.first + b.count; i++) {
        if (b.phase === 'add' && added[i] > 0) {
          afterAck.push(added[i] - b.ack);
          afterSent.push(added[i] - b.sent);
        } else if (b.phase === 'delete' && deleted[i] > 0) {
          deleteAfterAck.push(deleted[i] - b.ack);
        }
      }
    }
    return {
      seenAdd, seenDelete, paused, resumed, afterAck, afterSent, deleteAfterAck,
      addRate: seenAdd / ((lastAdd - firstAdd) / 1000), deleteRate: seenDelete / ((lastDelete - firstDelete) / 1000),
    };
  } finally {
    await sw.close();
  }
}

const suite: BenchSuite = {
  async run({ quick }) {
    const n = quick ? 10_000 : 100_000;
    const batch = 1000;
    const runs = quick ? 1 : 3;
    const sb = await OvsSandbox.start();
    try {
      await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13',
        '--', 'add-port', 'br0', 'p2', '--', 'set', 'interface', 'p2', 'type=dummy', 'ofport_request=2');
      const r = [];
      for (let i = 0; i < runs; i++) r.push(await oneRun(sb, n, batch));
      const PACE = 5000;
      const paced = await oneRun(sb, n, 100, PACE);
      const metrics: Metric[] = [
        metric({ metric: 'flow_monitor_added_seen', unit: 'fraction', ours: r.map((x) => x.seenAdd / n), target: '>= 1', note: `of ${n} flows installed` }),
        metric({ metric: 'flow_monitor_deleted_seen', unit: 'fraction', ours: r.map((x) => x.seenDelete / n), target: '>= 1', note: `of ${n} flows deleted` }),
        metric({ metric: 'flow_monitor_paused', unit: 'pauses', ours: r.map((x) => x.paused),
          note: 'times the switch paused the updates (its queue to us over 128 KiB); each resume re-sends the flows added meanwhile' }),
        metric({ metric: 'flow_monitor_resumed', unit: 'resumes', ours: r.map((x) => x.resumed) }),
        metric({ metric: 'flow_monitor_added_events', unit: 'events/s', ours: r.map((x) => round(x.addRate, 0)), note: 'first to last added update seen' }),
        metric({ metric: 'flow_monitor_deleted_events', unit: 'events/s', ours: r.map((x) => round(x.deleteRate, 0)), note: 'one delete of all flows' }),
        metric({ metric: 'flow_monitor_p99_after_ack', unit: 'ms', ours: r.map((x) => round(percentile(x.afterAck, 99), 2)), target: '< 10',
          note: 'update seen minus the barrier reply of its batch at the installer: latency after the switch confirmed the commit' }),
        metric({ metric: 'flow_monitor_p50_after_ack', unit: 'ms', ours: r.map((x) => round(percentile(x.afterAck, 50), 2)) }),
        metric({ metric: 'flow_monitor_p99_after_sent', unit: 'ms', ours: r.map((x) => round(percentile(x.afterSent, 99), 2)),
          note: 'update seen minus the moment its batch left the installer: an upper bound on commit to seen' }),
        metric({ metric: 'flow_monitor_p99_delete_after_ack', unit: 'ms', ours: r.map((x) => round(percentile(x.deleteAfterAck, 99), 2)) }),
        metric({ metric: 'paced_added_seen', unit: 'fraction', ours: [paced.seenAdd / n], target: '>= 1', note: `installed at ${PACE} flows/s in batches of 100` }),
        metric({ metric: 'paced_deleted_seen', unit: 'fraction', ours: [paced.seenDelete / n], target: '>= 1' }),
        metric({ metric: 'paced_paused', unit: 'pauses', ours: [paced.paused] }),
        metric({ metric: 'paced_p99_after_ack', unit: 'ms', ours: [round(percentile(paced.afterAck, 99), 2)], target: '< 10' }),
        metric({ metric: 'paced_p50_after_ack', unit: 'ms', ours: [round(percentile(paced.afterAck, 50), 2)] }),
        metric({ metric: 'paced_p99_after_sent', unit: 'ms', ours: [round(percentile(paced.afterSent, 99), 2)], target: '< 10' }),
      ];
      return newResult('flow-monitor', metrics, [
        `${n} flows (table 0, reg0 = i, cookie = i + 1) installed by another process over the bridge's management socket in batches of ${batch}, ` +
        `each followed by a barrier, then one delete of them all; watched by monitorFlows on another session of the same socket; ${runs} runs`,
        'the commit is bracketed: after the batch left the installer, before the barrier reply it waited for; both clocks are performance.timeOrigin + now() (one machine)',
        `paced_*: one more run of ${n} flows installed at ${PACE} flows/s (batches of 100, each with its barrier), the monitor's latency when the switch is not saturated`,
      ]);
    } finally {
      await sb.stop();
    }
  },
};
export default suite;
