/**
 * OpenFlow connections against the sandbox's real ovs-vswitchd, in both
 * directions: the bridge connecting to our controller, and us connecting to
 * the bridge (its `unix:` management socket and a `ptcp:` listener).
 */
import { expect } from 'chai';
import { flowMod } from '@ovs-agent/openflow';
import { OFP_VERSION, OFPBAC, OFPBFC, OFPFF, OFPFMFC, OFPET, OFPBMC, OFPP } from '@ovs-agent/openflow';
import { encodeMessage } from '@ovs-agent/openflow';
import type { FlowMod, FlowStats } from '@ovs-agent/openflow';
import { OfWriter } from '@ovs-agent/openflow';
import { formatFlow } from '@ovs-agent/openflow';
import {
  OpenFlowController,
  OpenFlowSwitch,
  OpenFlowSwitchError,
  connectSwitch,
  type OpenFlowChannel,
} from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { freePort, ofctlFlows, sandboxWithBridge, until, vsctlDatapathId } from './helpers.js';

const VLAN_PRESENT = 0x1000;

/**
 * Flows of several kinds; each with the line ovs-ofctl must print for it (the
 * independent oracle; ovs-ofctl omits table 0 and prints port numbers).
 */
const FLOWS: { flow: FlowMod; ofctl: string }[] = [
  {
    flow: flowMod({ tableId: 0, priority: 100, match: { in_port: 1, vlan_vid: VLAN_PRESENT | 5 },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'pop_vlan' }, { type: 'output', port: 2, maxLen: 0 }] }] }),
    ofctl: 'priority=100,in_port=1,dl_vlan=5 actions=pop_vlan,output:2',
  },
  {
    flow: flowMod({ tableId: 0, priority: 90, cookie: 0x1234n, match: { in_port: 2, eth_src: 'fa:16:3e:00:00:01' },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'push_vlan', ethertype: 0x8100 },
        { type: 'set_field', field: 'vlan_vid', value: VLAN_PRESENT | 7 }] }, { type: 'goto_table', tableId: 1 }] }),
    ofctl: 'cookie=0x1234, priority=90,in_port=2,dl_src=fa:16:3e:00:00:01 actions=push_vlan:0x8100,set_field:4103->vlan_vid,goto_table:1',
  },
  {
    flow: flowMod({ tableId: 1, priority: 10, match: { reg5: 0x10, eth_type: 0x0800, ip_dst: { value: '10.0.0.0', mask: '255.255.255.0' } },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'set_field', field: 'eth_dst', value: 'fa:16:3e:aa:bb:cc' },
        { type: 'output', port: 1, maxLen: 0 }] }] }),
    ofctl: 'table=1, priority=10,ip,reg5=0x10,nw_dst=10.0.0.0/24 actions=set_field:fa:16:3e:aa:bb:cc->eth_dst,output:1',
  },
  {
    flow: flowMod({ tableId: 1, priority: 20, cookie: 0xabcn, match: { eth_dst: 'fa:16:3e:aa:bb:cc' },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'resubmit', port: OFPP.IN_PORT, table: 2, ct: false }] }] }),
    ofctl: 'cookie=0xabc, table=1, priority=20,dl_dst=fa:16:3e:aa:bb:cc actions=resubmit(,2)',
  },
  {
    flow: flowMod({ tableId: 2, priority: 1, match: {}, instructions: [] }),
    ofctl: 'table=2, priority=1 actions=drop',
  },
];

/** Installs FLOWS, then checks them with ovs-ofctl and with our own flow-stats request. */
async function installAndVerify(sw: OpenFlowChannel, sb: OvsSandbox): Promise<void> {
  for (const { flow } of FLOWS) sw.flowMod(flow);
  await sw.barrier();

  const lines = await ofctlFlows(sb);
  expect(lines.sort()).to.deep.equal(FLOWS.map((f) => f.ofctl).sort());

  const ours = await sw.dumpFlows();
  expect(ours).to.have.length(FLOWS.length);
  // Our flow-stats reply, printed by the text module, reads exactly as ovs-ofctl's dump.
  expect(ours.map((f) => formatFlow(f)).sort()).to.deep.equal(lines);
  for (const { flow } of FLOWS) {
    const got = ours.find((s: FlowStats) => s.tableId === flow.tableId && s.priority === flow.priority);
    expect(got, `flow table=${flow.tableId} priority=${flow.priority} in our dump`).to.not.equal(undefined);
    expect(got!.cookie).to.equal(flow.cookie);
    expect(got!.match).to.deep.equal(flow.match);
    expect(got!.instructions).to.deep.equal(flow.instructions);
  }
  const agg = await sw.aggregate({ tableId: 1 });
  expect(agg.flowCount).to.equal(FLOWS.filter((f) => f.flow.tableId === 1).length);

  // Delete by cookie takes exactly the flow with that cookie.
  sw.deleteFlows({ cookie: 0xabcn });
  await sw.barrier();
  expect((await ofctlFlows(sb)).sort()).to.deep.equal(lines.filter((l) => !l.startsWith('cookie=0xabc,')).sort());
  const gone = FLOWS.find((f) => f.flow.cookie === 0xabcn)!;
  sw.flowMod(gone.flow);
  await sw.barrier();

  const features = await sw.getFeatures();
  expect(features.datapathId).to.equal(await vsctlDatapathId(sb));
  expect((await sw.desc()).mfrDesc).to.equal('Nicira, Inc.');
}

/** Sends three bad flow-mods among good ones; each error must come back tied to the very request. */
async function checkErrorAttribution(sw: OpenFlowSwitch): Promise<void> {
  const good1 = flowMod({ tableId: 3, priority: 5, match: { in_port: 1 } });
  const badTable = flowMod({ tableId: 0xff, priority: 5, match: { in_port: 1 } });
  const badPort = flowMod({ tableId: 3, priority: 6, match: { in_port: 2 },
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 0xfffff000, maxLen: 0 }] }] });
  const good2 = flowMod({ tableId: 3, priority: 7, match: { in_port: 2 } });
  sw.flowMod(good1);
  const badTableXid = sw.flowMod(badTable);
  const badPortXid = sw.flowMod(badPort);
  sw.flowMod(good2);
  // An unknown match field: the codec cannot express one, so reg0's NXM header is rewritten to OXM basic field 100.
  const unknownXid = sw.connection!.sendRaw(unknownFieldFlowMod());
  const err = await sw.barrier().then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(OpenFlowSwitchError);
  const errors = (err as OpenFlowSwitchError).errors;
  expect(errors.map((e) => e.xid)).to.deep.equal([badTableXid, badPortXid, unknownXid]);
  expect(errors[0].request).to.equal(badTable);
  expect([errors[0].errType, errors[0].errCode]).to.deep.equal([OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID]);
  expect(errors[1].request).to.equal(badPort);
  expect([errors[1].errType, errors[1].errCode]).to.deep.equal([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT]);
  expect(errors[2].errType).to.equal(OFPET.BAD_MATCH);
  expect(errors[2].errCode).to.equal(OFPBMC.BAD_FIELD);
  // The good ones around them went in.
  expect(await ofctlFlowsOfTable(sw, 3)).to.deep.equal([5, 7]);
}

async function ofctlFlowsOfTable(sw: OpenFlowChannel, tableId: number): Promise<number[]> {
  return (await sw.dumpFlows({ tableId })).map((f) => f.priority).sort((a, b) => a - b);
}

function unknownFieldFlowMod(): Buffer {
  const w = new OfWriter(256);
  encodeMessage(w, flowMod({ tableId: 3, priority: 8, match: { reg0: 0x5a5a5a5a } }), OFP_VERSION.OF13);
  const bytes = w.take();
  // reg0 is NXM_NX (class 0x0001) field 0; its 4-byte value 0x5a5a5a5a follows the 4-byte header.
  const at = bytes.indexOf(Buffer.from([0x00, 0x01, 0x00, 0x04, 0x5a, 0x5a, 0x5a, 0x5a]));
  if (at < 0) throw new Error('reg0 header not found in the encoded flow-mod');
  bytes.writeUInt16BE(0x8000, at);
  bytes[at + 2] = 100 << 1;
  return bytes;
}

/** A bundle with one bad flow changes nothing; a good one goes in whole. */
async function checkBundles(sw: OpenFlowSwitch, sb: OvsSandbox): Promise<void> {
  const before = await ofctlFlows(sb);
  const good = Array.from({ length: 50 }, (_, i) => flowMod({ tableId: 10, priority: 100 + i, match: { reg1: i } }));
  const bad = flowMod({ tableId: 10, priority: 99, match: { reg1: 999 },
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 0xfffff000, maxLen: 0 }] }] });

  // 1. Rejected when added (validation at add time).
  const txn = sw.bundle();
  for (const f of good.slice(0, 25)) txn.add(f);
  const badXid = txn.add(bad);
  for (const f of good.slice(25)) txn.add(f);
  const err = await txn.commit().then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(OpenFlowSwitchError);
  expect((err as OpenFlowSwitchError).xid).to.equal(badXid);
  expect((err as OpenFlowSwitchError).failedMessage).to.equal(bad);
  expect(await ofctlFlows(sb)).to.deep.equal(before);

  // 2. Rejected at commit: CHECK_OVERLAP against a flow that is already there.
  sw.flowMod({ tableId: 11, priority: 5, match: { reg2: 1 } });
  await sw.barrier();
  const mid = await ofctlFlows(sb);
  // Same priority, and a packet with reg2=1 and reg3=1 would match both.
  const overlap = flowMod({ tableId: 11, priority: 5, match: { reg3: 1 }, flags: OFPFF.CHECK_OVERLAP });
  const txn2 = sw.bundle();
  for (const f of good) txn2.add(f);
  const overlapXid = txn2.add(overlap);
  const err2 = await txn2.commit().then(() => undefined, (e: unknown) => e);
  expect(err2).to.be.instanceOf(OpenFlowSwitchError);
  const all = (err2 as OpenFlowSwitchError).errors;
  expect(all[0].xid).to.equal(overlapXid);
  expect([all[0].errType, all[0].errCode]).to.deep.equal([OFPET.FLOW_MOD_FAILED, OFPFMFC.OVERLAP]);
  expect(all[0].failedMessage).to.equal(overlap);
  // The commit's own error follows: OFPBFC_MSG_FAILED (an ONF experimenter error in OF1.3, normalized).
  expect([all.at(-1)!.errType, all.at(-1)!.errCode]).to.deep.equal([OFPET.BUNDLE_FAILED, OFPBFC.MSG_FAILED]);
  expect(await ofctlFlows(sb)).to.deep.equal(mid);

  // 3. A good bundle goes in whole.
  const txn3 = sw.bundle();
  expect(await txn3.addAll(good)).to.equal(good.length);
  await txn3.commit();
  expect(txn3.status).to.equal('committed');
  expect((await sw.aggregate({ tableId: 10 })).flowCount).to.equal(good.length);
}

describe('openflow connection: switch sessions @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox | undefined;
  let controller: OpenFlowController | undefined;
  let sw: OpenFlowSwitch | undefined;

  afterEach(async () => {
    await sw?.close().catch(() => undefined);
    await controller?.close().catch(() => undefined);
    await sb?.stop();
    sw = undefined;
    controller = undefined;
    sb = undefined;
  });

  it('controller mode: the bridge connects, is known by its datapath id, takes flows, reports errors, runs bundles', async () => {
    sb = await sandboxWithBridge();
    controller = new OpenFlowController({ address: 'ptcp:0:127.0.0.1' });
    const { port } = await controller.listen();
    await sb.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${port}`);
    sw = await controller.waitForSwitch();
    expect(sw.datapathId).to.equal(await vsctlDatapathId(sb));
    expect(controller.switch(sw.datapathId)).to.equal(sw);
    expect(sw.connection!.version).to.equal(OFP_VERSION.OF13);
    const ports = await sw.portDesc();
    expect(ports.map((p) => p.name).sort()).to.deep.equal(['br0', 'p1', 'p2']);

    await installAndVerify(sw, sb);
    await checkErrorAttribution(sw);
    await checkBundles(sw, sb);
  });

  it('active mode over the unix management socket, with OpenFlow 1.4 bundles', async () => {
    sb = await sandboxWithBridge();
    sw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { versions: [OFP_VERSION.OF13, OFP_VERSION.OF14] });
    expect(sw.connection!.version).to.equal(OFP_VERSION.OF14);
    expect(sw.datapathId).to.equal(await vsctlDatapathId(sb));
    await installAndVerify(sw, sb);
    await checkBundles(sw, sb);
  });

  it('active mode over TCP (a ptcp: target of the bridge), with OpenFlow 1.3', async () => {
    sb = await sandboxWithBridge();
    const port = await freePort();
    await sb.vsctl('set-controller', 'br0', `ptcp:${port}:127.0.0.1`);
    sw = await until(() => connectSwitch(`tcp:127.0.0.1:${port}`, { reconnect: false }), 'bridge listening');
    expect(sw.connection!.version).to.equal(OFP_VERSION.OF13);
    await installAndVerify(sw, sb);
    await checkErrorAttribution(sw);
  });

  it('survives an ovs-vswitchd restart: the controller gets the same switch back, the active side reconnects', async () => {
    sb = await sandboxWithBridge();
    controller = new OpenFlowController({ address: 'ptcp:0:127.0.0.1' });
    const { port: ctlPort } = await controller.listen();
    const listenPort = await freePort();
    await sb.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${ctlPort}`, `ptcp:${listenPort}:127.0.0.1`);
    const passive = await controller.waitForSwitch();
    sw = await until(() => connectSwitch(`tcp:127.0.0.1:${listenPort}`, { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } }), 'bridge listening');
    const dpid = sw.datapathId;

    const inFlight = sw.dumpFlows().then(() => undefined, (e: unknown) => e);
    const disconnected = new Promise((resolve) => sw!.once('disconnect', resolve));
    await sb.restartVswitchd();
    await disconnected;
    // Whatever was in flight failed with a clear error, or had completed before the stop.
    const failed = await inFlight;
    if (failed !== undefined) expect(failed).to.have.property('code', 'OF_CONN_DISCONNECTED');

    const back = await controller.waitForSwitch(dpid);
    expect(back).to.equal(passive);
    expect(passive.sessions).to.equal(2);
    await sw.ready();
    expect(sw.sessions).to.equal(2);

    // Requests work again on both.
    await sw.sendAll([flowMod({ tableId: 4, priority: 44, match: { in_port: 1 } })]);
    await sw.barrier();
    expect((await passive.dumpFlows({ tableId: 4 })).map((f) => f.priority)).to.deep.equal([44]);
    expect(await ofctlFlows(sb, 'br0', 'table=4')).to.deep.equal(['table=4, priority=44,in_port=1 actions=drop']);
  });

  it('answers the switch’s echo requests and keeps the session', async () => {
    sb = await sandboxWithBridge();
    controller = new OpenFlowController({ address: 'ptcp:0:127.0.0.1', connection: { probeIntervalMs: 0 } });
    const { port } = await controller.listen();
    await sb.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${port}`, '--', 'set', 'controller', 'br0', 'inactivity_probe=1000');
    const passive = await controller.waitForSwitch();
    const conn = passive.connection!;
    // ovs-vswitchd probes at most every 5 s and drops a controller that stays silent for another
    // interval: a second echo on the same session proves the first was answered in time.
    await until(() => (conn.stats.echoRequestsAnswered >= 2 ? true : undefined), 'two echo requests from ovs-vswitchd', 25_000);
    expect(passive.sessions).to.equal(1);
    expect(conn.isOpen).to.equal(true);
    expect(await sb.vsctl('get', 'controller', 'br0', 'is_connected')).to.match(/true/);
  });
});
