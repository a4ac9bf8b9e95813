/**
 * Flows on a bridge: add three in one bundle (atomic: all or none), dump
 * them in the syntax of `ovs-ofctl dump-flows`, then delete them by their
 * cookie, leaving every other flow of the bridge alone.
 *
 *   node --import tsx examples/flows-bundle.ts unix:/var/run/openvswitch/BRIDGE.mgmt
 *
 * The address is the bridge's management socket (what ovs-ofctl uses), or
 * the `tcp:HOST:PORT` of a bridge's `ptcp:` controller target.
 */
import { connectSwitch, formatFlow, parseFlow, OFP_VERSION } from '@ovs-agent/openflow';

const address = process.argv[2];
if (!address) {
  console.error('usage: flows-bundle.ts unix:/var/run/openvswitch/BRIDGE.mgmt');
  process.exit(2);
}
const COOKIE = 0xe1n;
const sw = await connectSwitch(address, { versions: [OFP_VERSION.OF13, OFP_VERSION.OF14], reconnect: false });
try {
  const txn = sw.bundle();
  for (const text of [
    'table=0,priority=100,in_port=1,actions=output:2',
    'table=0,priority=100,in_port=2,actions=output:1',
    'table=0,priority=10,dl_type=0x0806,actions=NORMAL',
  ]) {
    txn.add({ ...parseFlow(text), cookie: COOKIE });
  }
  await txn.commit();
  console.log(`bundle of ${txn.size} flows committed`);

  // As `ovs-ofctl --rsort dump-flows`: highest priority first (the switch answers in its own order).
  const flows = (await sw.dumpFlows({ cookie: COOKIE })).sort((a, b) => b.priority - a.priority);
  for (const flow of flows) console.log(formatFlow(flow));

  sw.deleteFlows({ cookie: COOKIE });
  await sw.barrier();
  console.log(`after delete by cookie: ${(await sw.dumpFlows({ cookie: COOKIE })).length} flows`);
} finally {
  sw.close();
}
