/**
 * A learning switch as a controller program: the bridge's only flow sends
 * every packet to us (table-miss → CONTROLLER); each packet-in teaches us
 * which port its source MAC is behind; a packet whose destination we know
 * gets a flow (so the next ones stay in the switch) and is sent there, the
 * others are flooded. Ctrl-C (SIGINT) or SIGTERM removes our flows and exits.
 *
 *   node --import tsx examples/learning-switch.ts unix:/var/run/openvswitch/BRIDGE.mgmt
 *
 * Run it on a bridge in secure fail mode (`ovs-vsctl set-fail-mode BRIDGE
 * secure`), so that Open vSwitch adds no flow of its own.
 */
import { connectSwitch, decodePacket, formatFlow, OFP_NO_BUFFER, OFPP, OFPR, PacketError, parseFlow, type FlowMod, type PacketIn } from '@ovs-agent/openflow';

const address = process.argv[2];
if (!address) {
  console.error('usage: learning-switch.ts unix:/var/run/openvswitch/BRIDGE.mgmt');
  process.exit(2);
}
/** Our flows carry this cookie, so we remove exactly them at the end. */
const COOKIE = 0x1ea2n;
/** MAC → port, bounded: a flood of random source MACs must not exhaust memory. */
const MAX_MACS = 4096;
const macs = new Map<string, number>();

const sw = await connectSwitch(address, { reconnect: false });
// A service connection (the .mgmt socket) gets asynchronous messages only once it asks for them.
const PACKET_IN = (1 << OFPR.NO_MATCH) | (1 << OFPR.ACTION);
sw.send({ type: 'set_async', packetInMask: [PACKET_IN, PACKET_IN], portStatusMask: [0, 0], flowRemovedMask: [0, 0] });
const miss = { ...parseFlow('table=0,priority=0,actions=CONTROLLER:65535'), cookie: COOKIE };
sw.flowMod(miss);
await sw.barrier();
console.log(`ready: ${formatFlow(miss)}`);

sw.handle('packet_in', (pi: PacketIn) => {
  // A packet-in's match carries in_port exactly (never masked).
  const inPort = pi.match.in_port;
  if (typeof inPort !== 'number') return;
  let src: string;
  let dst: string;
  try {
    ({ src, dst } = decodePacket(pi.data).eth);
  } catch (err) {
    if (err instanceof PacketError) console.log(`port ${inPort}: undecodable frame (${err.code})`);
    return;
  }
  if (macs.get(src) !== inPort) {
    if (!macs.has(src) && macs.size >= MAX_MACS) macs.delete(macs.keys().next().value!);
    macs.set(src, inPort);
    console.log(`learned ${src} on port ${inPort}`);
  }
  const out = macs.get(dst);
  if (out !== undefined && out !== inPort) {
    const flow: FlowMod = { ...parseFlow(`table=0,priority=10,idle_timeout=60,in_port=${inPort},dl_dst=${dst},actions=output:${out}`), cookie: COOKIE };
    sw.flowMod(flow);
    console.log(`flow: ${formatFlow(flow)}`);
  }
  // The packet itself: to the known port, else everywhere but where it came from.
  sw.send({ type: 'packet_out', bufferId: OFP_NO_BUFFER, inPort, actions: [{ type: 'output', port: out ?? OFPP.FLOOD, maxLen: 0 }], data: pi.data });
});

const stop = async (): Promise<void> => {
  sw.deleteFlows({ cookie: COOKIE });
  await sw.barrier().catch(() => undefined);
  await sw.close();
  console.log('stopped');
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
