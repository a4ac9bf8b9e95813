/**
 * AbortSignal on every OpenFlow request (barrier, multipart, request,
 * bundle commit, connect) and version negotiation, against a real
 * ovs-vswitchd: an aborted request rejects at once with OF_CONN_ABORTED and
 * its late reply is dropped (never surfacing as a 'message'); a switch that
 * offers only OpenFlow 1.0 fails the handshake with an OpenFlowVersionError.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { connectSwitch, OFP_VERSION, OpenFlowController, OpenFlowVersionError, parseFlow, type OpenFlowMessage, type OpenFlowSwitch } from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { ofctlFlows, sandboxWithBridge } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  return p.then(() => { throw new Error('expected a rejection'); }, (e: Error) => e);
}

describe('AbortSignal on OpenFlow requests, and version negotiation @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let sw: OpenFlowSwitch;
  const messages: OpenFlowMessage[] = [];

  before(async () => {
    sb = await sandboxWithBridge();
    sw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { versions: [OFP_VERSION.OF13, OFP_VERSION.OF14], reconnect: false });
    sw.on('message', (m: OpenFlowMessage) => messages.push(m));
  });
  after(async () => {
    await sw?.close();
    await sb?.stop();
  });

  it('an already aborted signal rejects barrier, request and multipart at once', async () => {
    const reason = new Error('not wanted');
    const signal = AbortSignal.abort(reason);
    for (const p of [sw.barrier({ signal }), sw.getFeatures({ signal }), sw.dumpFlows({}, { signal }), sw.tableFeatures({ signal })]) {
      const err = await rejection(p);
      expect(err.code).to.equal('OF_CONN_ABORTED');
      expect(err.cause).to.equal(reason);
    }
  });

  it('aborting in-flight requests rejects them and drops their late replies, several multipart parts included; the session goes on', async () => {
    const ac = new AbortController();
    const pending = [sw.tableFeatures({ signal: ac.signal }), sw.dumpFlows({}, { signal: ac.signal }), sw.barrier({ signal: ac.signal }), sw.desc({ signal: ac.signal })];
    ac.abort();
    for (const p of pending) expect((await rejection(p)).code).to.equal('OF_CONN_ABORTED');
    // Behind them on the same session: answered, so their replies have come and gone.
    await sw.barrier();
    expect((await sw.tableFeatures()).length).to.equal(254); // tables 0-253, in several parts
    expect(messages.filter((m) => m.type !== 'port_status')).to.deep.equal([]);
  });

  it('a bundle commit aborted before the commit is sent discards the bundle: nothing applied', async () => {
    const ac = new AbortController();
    const txn = sw.bundle();
    txn.add({ ...parseFlow('table=7,priority=1,actions=drop'), cookie: 0xabn });
    txn.add({ ...parseFlow('table=7,priority=2,in_port=1,actions=output:2'), cookie: 0xabn });
    const commit = txn.commit({ signal: ac.signal });
    ac.abort();
    expect((await rejection(commit)).code).to.equal('OF_CONN_ABORTED');
    expect(txn.status).to.equal('discarded');
    await sw.barrier();
    expect(await ofctlFlows(sb, 'br0', 'table=7')).to.deep.equal([]);
    // And a commit with a signal that never fires applies as usual.
    const ok = sw.bundle();
    ok.add({ ...parseFlow('table=7,priority=1,actions=drop'), cookie: 0xabn });
    await ok.commit({ signal: new AbortController().signal });
    expect(await ofctlFlows(sb, 'br0', 'table=7')).to.deep.equal(['cookie=0xab, table=7, priority=1 actions=drop']);
  });

  it('connectSwitch gives up when its signal fires, before or during the handshake', async () => {
    expect((await rejection(connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { signal: AbortSignal.abort() }))).code).to.equal('OF_CONN_ABORTED');
    // A peer that accepts and never says HELLO: only the abort ends the wait (the handshake timeout is 10 s).
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { port } = silent.address() as { port: number };
      const t0 = Date.now();
      const err = await rejection(connectSwitch(`tcp:127.0.0.1:${port}`, { reconnect: false, signal: AbortSignal.timeout(300) }));
      expect(err.code).to.equal('OF_CONN_ABORTED');
      expect(Date.now() - t0).to.be.below(5000);
    } finally {
      silent.close();
    }
  });

  it('a switch that offers only OpenFlow 1.0 fails the handshake with an OpenFlowVersionError naming both sides', async () => {
    await sb.vsctl('add-br', 'old', '--', 'set', 'bridge', 'old', 'datapath_type=netdev', 'protocols=OpenFlow10');
    const err = await rejection(connectSwitch(`unix:${sb.mgmtSocket('old')}`, { reconnect: false }));
    expect(err).to.be.instanceOf(OpenFlowVersionError);
    expect(err.code).to.equal('OF_CONN_HANDSHAKE');
    expect((err as OpenFlowVersionError).ours).to.deep.equal([OFP_VERSION.OF13]);
    expect((err as OpenFlowVersionError).theirs).to.deep.equal([0x01]);
    expect(err.message).to.match(/we support 4 \(OpenFlow 1\.3\), it offers OpenFlow 1\.0/);
  });

  it('asking for a version the library does not speak is refused at once, before dialling', async () => {
    const err = await rejection(connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { versions: [OFP_VERSION.OF13, 6], reconnect: false }));
    expect(err).to.be.instanceOf(OpenFlowVersionError);
    expect(err.message).to.match(/OpenFlow 1\.5/);
    // Before any connection is made, for a controller too.
    expect(() => new OpenFlowController({ connection: { versions: [OFP_VERSION.OF10, OFP_VERSION.OF13] } })).to.throw(OpenFlowVersionError, /OpenFlow 1\.0/);
  });
});
