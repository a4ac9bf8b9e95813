/**
 * Session behaviour that needs a misbehaving peer: a minimal fake switch
 * (built on the codec) that completes the handshake and then goes silent,
 * or stops reading. Plus write coalescing, counted at the socket.
 */
import { expect } from 'chai';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { flowMod, flowStatsRequest } from '@ovs-agent/openflow';
import { OFP_VERSION } from '@ovs-agent/openflow';
import { decodeMessage, encodeMessage } from '@ovs-agent/openflow';
import type { OpenFlowMessage } from '@ovs-agent/openflow';
import { OfWriter } from '@ovs-agent/openflow';
import {
  MessageFramer,
  OpenFlowConnection,
  OpenFlowController,
  OpenFlowConnectionError,
  connectSwitch,
} from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { sandboxWithBridge, until } from './helpers.js';

type Behaviour = 'answer' | 'silent' | 'stall';

/** A fake switch: HELLO, FEATURES_REPLY (dpid 0x42), then `behaviour`. */
class FakeSwitch {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  received = 0;
  behaviour: Behaviour = 'answer';

  constructor() {
    this.server = createServer((s) => this.serve(s));
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private serve(s: Socket): void {
    this.sockets.push(s);
    const send = (m: OpenFlowMessage): void => {
      const w = new OfWriter(128);
      encodeMessage(w, m, OFP_VERSION.OF13);
      s.write(w.take());
    };
    send({ type: 'hello', versions: [OFP_VERSION.OF13] });
    let ready = false;
    const framer = new MessageFramer((buf) => {
      this.received++;
      const m = decodeMessage(buf);
      if (m.type === 'features_request') {
        send({ type: 'features_reply', xid: m.xid, datapathId: 0x42n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 });
        ready = true;
        if (this.behaviour === 'stall') s.pause();
        return;
      }
      if (!ready || this.behaviour !== 'answer') return;
      if (m.type === 'echo_request') send({ type: 'echo_reply', xid: m.xid, data: m.data });
      if (m.type === 'barrier_request') send({ type: 'barrier_reply', xid: m.xid });
    });
    s.on('data', (chunk) => framer.push(chunk));
    s.on('error', () => undefined);
  }
}

/** Connects a socket whose `write` calls are counted, then runs the handshake on it. */
async function countedConnection(target: { port: number } | { path: string }): Promise<{ conn: OpenFlowConnection; writes: () => number }> {
  const socket = 'path' in target ? connect(target.path) : connect(target.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let writes = 0;
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  (socket as unknown as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
    writes++;
    return write(chunk);
  };
  const conn = await OpenFlowConnection.establish(socket);
  return { conn, writes: () => writes };
}

describe('openflow connection: peers that misbehave', function () {
  let fake: FakeSwitch | undefined;
  let conn: OpenFlowConnection | undefined;

  afterEach(async () => {
    conn?.destroy();
    conn = undefined;
    await fake?.close();
    fake = undefined;
  });

  it('detects a dead peer: silence after our echo request drops the session and fails what was in flight', async () => {
    fake = new FakeSwitch();
    const port = await fake.listen();
    fake.behaviour = 'silent';
    const sw = await connectSwitch(`tcp:127.0.0.1:${port}`, { probeIntervalMs: 100, reconnect: false });
    conn = sw.connection!;
    expect(sw.datapathId).to.equal(0x42n);
    const closed = new Promise<Error>((resolve) => conn!.once('close', resolve));
    const barrier = sw.barrier().then(() => undefined, (e: unknown) => e);
    const err = await closed;
    expect(err).to.be.instanceOf(OpenFlowConnectionError).with.property('code', 'OF_CONN_DEAD_PEER');
    expect(await barrier).to.equal(err);
    expect(conn.stats.probesSent).to.be.greaterThan(0);
    expect(sw.connected).to.equal(false);
    expect(() => sw.flowMod({ match: {} })).to.throw(OpenFlowConnectionError).with.property('code', 'OF_CONN_NOT_CONNECTED');
    await sw.close();
  });

  it('keeps a peer that answers our echo requests', async () => {
    fake = new FakeSwitch();
    const port = await fake.listen();
    const sw = await connectSwitch(`tcp:127.0.0.1:${port}`, { probeIntervalMs: 100, reconnect: false });
    conn = sw.connection!;
    await until(() => (conn!.stats.probesSent >= 4 ? true : undefined), 'four keepalive probes');
    expect(conn.isOpen).to.equal(true);
    await sw.barrier();
    await sw.close();
  });

  it('bounds memory when the peer stops reading: sendAsync waits, send refuses past the cap', async () => {
    fake = new FakeSwitch();
    fake.behaviour = 'stall';
    const port = await fake.listen();
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    conn = await OpenFlowConnection.establish(socket, {
      probeIntervalMs: 0,
      outbox: { highWaterBytes: 1 << 20, maxQueuedBytes: 4 << 20 },
    });
    const fm = flowMod({ tableId: 1, priority: 7, match: { in_port: 1, eth_dst: 'fa:16:3e:00:00:01' },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] });
    let sent = 0;
    let stop = false;
    let maxQueued = 0;
    const producer = (async () => {
      while (!stop && sent < 2_000_000) {
        await conn!.sendAsync(fm);
        sent++;
        maxQueued = Math.max(maxQueued, conn!.queuedBytes);
      }
    })();
    // The producer runs until the kernel buffers and ours fill, then waits for 'drain'.
    await until(async () => {
      const before = sent;
      await new Promise((r) => setTimeout(r, 200));
      return sent === before && sent > 0 ? true : undefined;
    }, 'the producer to block on backpressure');
    expect(sent).to.be.lessThan(2_000_000);
    // Our side holds at most the high-water mark plus one tick's flush (plus the socket's own small buffer).
    expect(maxQueued).to.be.lessThan((1 << 20) + (1 << 20));
    // A producer that ignores needsDrain is refused with a typed error instead of growing without bound.
    let refused: unknown;
    for (let i = 0; i < 1_000_000 && refused === undefined; i++) {
      try {
        conn.send(fm);
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).to.be.instanceOf(OpenFlowConnectionError).with.property('code', 'OF_CONN_OUTBOX_FULL');
    expect(conn.queuedBytes).to.be.lessThan((4 << 20) + (1 << 20) + (1 << 20));
    // The peer reads again: everything drains and the producer finishes.
    stop = true;
    for (const s of fake.sockets) s.resume();
    await producer;
    await until(() => (conn!.queuedBytes === 0 ? true : undefined), 'the queue to drain');
  });
});

describe('openflow connection: handshake and request failures', () => {
  let controller: OpenFlowController | undefined;
  const sockets: Socket[] = [];
  let fake: FakeSwitch | undefined;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await controller?.close();
    controller = undefined;
    await fake?.close();
    fake = undefined;
  });

  async function rawPeer(port: number, bytes: Buffer): Promise<void> {
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    s.write(bytes);
  }

  it('the controller reports peers that fail the handshake and keeps accepting', async () => {
    controller = new OpenFlowController({ address: 'ptcp:0:127.0.0.1' });
    const { port } = await controller.listen();
    const failures: OpenFlowConnectionError[] = [];
    controller.on('handshakeError', (e: OpenFlowConnectionError) => failures.push(e));

    // A header announcing 4 bytes: the stream cannot be framed.
    await rawPeer(port, Buffer.from([4, 0, 0, 4, 0, 0, 0, 1]));
    // An OpenFlow 1.0-only HELLO (no bitmap): no common version with our 1.3.
    await rawPeer(port, Buffer.from([1, 0, 0, 8, 0, 0, 0, 1]));
    await until(() => (failures.length === 2 ? true : undefined), 'two handshake failures');
    const codes = failures.map((e) => e.code).sort();
    expect(codes).to.deep.equal(['OF_CONN_FRAMING', 'OF_CONN_HANDSHAKE']);
    expect(failures.find((e) => e.code === 'OF_CONN_HANDSHAKE')!.message).to.match(/no common OpenFlow version.*we support 4/);

    // A real (fake) switch still gets through.
    fake = new FakeSwitch();
    const fakePort = await fake.listen();
    const bridge = connect(fakePort, '127.0.0.1');
    sockets.push(bridge);
    // Splice the fake switch's socket to the controller: it plays the bridge connecting to us.
    const toController = connect(port, '127.0.0.1');
    sockets.push(toController);
    bridge.pipe(toController).pipe(bridge);
    const sw = await controller.waitForSwitch(0x42n);
    expect(sw.datapathId).to.equal(0x42n);
    expect(controller.switches()).to.have.length(1);
  });

  it('a request without a reply times out alone; the session stays up', async () => {
    fake = new FakeSwitch();
    fake.behaviour = 'silent';
    const port = await fake.listen();
    const sw = await connectSwitch(`tcp:127.0.0.1:${port}`, { probeIntervalMs: 0, requestTimeoutMs: 150, reconnect: false });
    const err = await sw.dumpFlows().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(OpenFlowConnectionError).with.property('code', 'OF_CONN_TIMEOUT');
    expect((err as Error).message).to.match(/no reply to multipart_request/);
    expect(sw.connected).to.equal(true);
    await sw.close();
  });
});

describe('openflow connection: write coalescing @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox | undefined;
  let conn: OpenFlowConnection | undefined;

  afterEach(async () => {
    await conn?.close().catch(() => undefined);
    await sb?.stop();
    conn = undefined;
    sb = undefined;
  });

  it('sends 10,000 flow-mods issued in one tick with a handful of socket writes, and the switch gets them all', async () => {
    sb = await sandboxWithBridge();
    const counted = await countedConnection({ path: sb.mgmtSocket('br0') });
    conn = counted.conn;
    const before = counted.writes();
    const startQueued = conn.queuedBytes;
    for (let i = 0; i < 10_000; i++) {
      conn.flowMod({ tableId: 5, priority: 10, cookie: 0x77n, match: { in_port: 1, reg3: i },
        instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] });
    }
    const sent = conn.stats.messagesSent;
    await conn.barrier();
    const writes = counted.writes() - before;
    // 10,000 flow-mods of ~100 bytes = ~1 MB, flushed every 64 KiB: a few dozen writes, not 10,000.
    expect(writes).to.be.greaterThan(0);
    expect(writes).to.be.lessThan(100);
    expect(startQueued).to.equal(0);
    expect(sent).to.be.greaterThan(10_000);
    expect((await conn.aggregate({ tableId: 5 })).flowCount).to.equal(10_000);
    const out = await sb.ofctl('-O', 'OpenFlow13', 'dump-aggregate', 'br0', 'table=5');
    expect(out).to.match(/flow_count=10000\b/);
    // The flow-stats reply for 10,000 flows spans many multipart parts (MORE), all gathered.
    const parts = await conn.multipart(flowStatsRequest({ tableId: 5 }).body);
    expect(parts.length).to.be.greaterThan(1);
    expect(parts.reduce((n, p) => n + (p.kind === 'flow' ? p.flows.length : 0), 0)).to.equal(10_000);
    const flows = await conn.dumpFlows({ tableId: 5, cookie: 0x77n });
    expect(flows).to.have.length(10_000);
    expect(new Set(flows.map((f) => f.match.reg3)).size).to.equal(10_000);
  });
});
