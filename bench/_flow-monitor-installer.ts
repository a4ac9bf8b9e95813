/**
 * The other client of the flow-monitor benchmark (bench/flow-monitor.ts), a
 * process of its own: installs N flows over the bridge's management socket
 * in batches, each followed by a barrier, printing one JSON line per batch:
 * the wall-clock time (ms, performance.timeOrigin + performance.now(), the
 * clock the watcher reads too) just before the batch was handed to the
 * socket and when its barrier reply arrived. Then, once told so on stdin (a
 * line), deletes them all at once and prints that phase's line.
 *
 *   node --import tsx bench/_flow-monitor-installer.ts unix:SOCK N BATCH [FLOWS_PER_SECOND]
 */
import { createInterface } from 'node:readline';
import { connectSwitch, flowMod } from '@ovs-agent/openflow';

const [address, nArg, batchArg, rateArg] = process.argv.slice(2);
const n = Number(nArg);
const batch = Number(batchArg);
/** Flows per second to install at most; 0 (the default) as fast as the switch takes them. */
const rate = Number(rateArg ?? 0);
const now = (): number => performance.timeOrigin + performance.now();

const sw = await connectSwitch(address, { reconnect: false });
for (let first = 0; first < n; first += batch) {
  const count = Math.min(batch, n - first);
  const sent = now();
  for (let i = first; i < first + count; i++) {
    // cookie = index + 1: the watcher files each update under its flow.
    sw.flowMod(flowMod({ tableId: 0, priority: 10, cookie: BigInt(i + 1), match: { reg0: i },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] }));
    if (sw.connection!.needsDrain) await sw.connection!.drained();
  }
  await sw.barrier();
  // The ack is the barrier reply's arrival, taken before any pacing pause.
  const ack = now();
  process.stdout.write(`${JSON.stringify({ phase: 'add', first, count, sent, ack })}\n`);
  if (rate > 0) {
    const due = sent + ((count / rate) * 1000);
    if (due > now()) await new Promise((r) => setTimeout(r, due - now()));
  }
}
process.stdout.write('adds done\n');
const input = createInterface({ input: process.stdin });
await new Promise((resolve) => input.once('line', resolve));
input.close();
const sent = now();
sw.deleteFlows({ tableId: 0, cookie: 0n, cookieMask: 0n });
await sw.barrier();
process.stdout.write(`${JSON.stringify({ phase: 'delete', first: 0, count: n, sent, ack: now() })}\n`);
await sw.close();
