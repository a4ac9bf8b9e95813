/**
 * Watch a bridge's flow table: the flows it holds now, then one line per
 * flow added, modified or deleted by anyone (other controllers, ovs-ofctl,
 * learn actions, timeouts), from Open vSwitch's flow monitor, read with
 * `for await`. Ctrl-C (SIGINT) or SIGTERM cancels the monitor, which ends
 * the loop, and exits.
 *
 *   node --import tsx examples/watch-flows.ts unix:/var/run/openvswitch/BRIDGE.mgmt [TABLE]
 */
import { connectSwitch, flowMod, formatFlow, OFPRR, type FlowUpdateFull } from '@ovs-agent/openflow';

const address = process.argv[2];
if (!address) {
  console.error('usage: watch-flows.ts unix:/var/run/openvswitch/BRIDGE.mgmt [TABLE]');
  process.exit(2);
}
const tableId = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const WHY: Record<number, string> = { [OFPRR.IDLE_TIMEOUT]: 'idle timeout', [OFPRR.HARD_TIMEOUT]: 'hard timeout', [OFPRR.DELETE]: 'deleted' };

/** A flow update in the syntax of `ovs-ofctl dump-flows`. */
const text = (u: FlowUpdateFull): string => formatFlow(flowMod(u));

const sw = await connectSwitch(address, { reconnect: false });
const monitor = await sw.monitorFlows({ tableId });
for (const u of monitor.initial) console.log(`present: ${text(u)}`);
console.log(`watching ${monitor.initial.length} flows`);

monitor.on('paused', () => console.log('paused: the switch is waiting for us to catch up'));
monitor.on('resumed', () => console.log('resumed'));
// Ctrl-C cancels the monitor: the loop below then ends.
process.once('SIGINT', () => monitor.cancel());
process.once('SIGTERM', () => monitor.cancel());

try {
  for await (const u of monitor) {
    if (u.event === 'added') console.log(`added: ${text(u)}`);
    else if (u.event === 'modified') console.log(`modified: ${text(u)}`);
    else if (u.event === 'deleted') console.log(`removed (${WHY[u.reason] ?? `reason ${u.reason}`}): ${text(u)}`);
  }
} catch (err) {
  // The session was lost (the switch went away), or we fell too far behind (OF_CONN_MONITOR_OVERFLOW).
  console.error(`monitor ended: ${(err as Error).message}`);
  process.exit(1);
}
await sw.close();
console.log('stopped');
