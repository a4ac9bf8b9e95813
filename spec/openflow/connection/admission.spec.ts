/**
 * Who the controller lets in, and how a dropped switch over a unix socket
 * comes back. The peers are minimal fake switches built on the codec (TCP
 * or unix clients and servers), so each rule can be driven exactly: a
 * switch that answers, one that went silent, one that never says HELLO.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFP_VERSION } from '../../../protocol/openflow/constants.js';
import { decodeMessage, encodeMessage } from '../../../protocol/openflow/messages.js';
import type { OpenFlowMessage } from '../../../protocol/openflow/types.js';
import { OfWriter } from '../../../protocol/openflow/writer.js';
import {
  MessageFramer,
  OpenFlowController,
  SwitchClaimRefusedError,
  connectSwitch,
  type OpenFlowSwitch,
} from '../../../protocol/openflow/connection/index.js';
import { until } from './helpers.js';

/** Plays a switch on `socket`: HELLO, FEATURES_REPLY with `dpid`, then answers echoes while `answering()`. */
function playSwitch(socket: Socket, dpid: bigint, answering: () => boolean = () => true): void {
  const send = (m: OpenFlowMessage): void => {
    const w = new OfWriter(128);
    encodeMessage(w, m, OFP_VERSION.OF13);
    if (!socket.destroyed) socket.write(w.take());
  };
  send({ type: 'hello', versions: [OFP_VERSION.OF13] });
  const framer = new MessageFramer((buf) => {
    const m = decodeMessage(buf);
    if (m.type === 'features_request') {
      send({ type: 'features_reply', xid: m.xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 });
    } else if (m.type === 'echo_request' && answering()) {
      send({ type: 'echo_reply', xid: m.xid, data: m.data });
    }
  });
  socket.on('data', (chunk) => framer.push(chunk));
  socket.on('error', () => undefined);
}

/** A fake switch dialling the controller. */
class Dialer {
  answering = true;
  readonly socket: Socket;
  readonly closed: Promise<void>;
  constructor(port: number, dpid: bigint) {
    this.socket = connect(port, '127.0.0.1');
    this.closed = new Promise((r) => this.socket.once('close', () => r()));
    this.socket.once('connect', () => playSwitch(this.socket, dpid, () => this.answering));
    this.socket.on('error', () => undefined);
  }
  get open(): boolean {
    return !this.socket.destroyed;
  }
}

describe('openflow controller: who is admitted', () => {
  let controller: OpenFlowController | undefined;
  const dialers: Dialer[] = [];
  const dial = (dpid: bigint): Dialer => {
    const d = new Dialer(controller!.port, dpid);
    dialers.push(d);
    return d;
  };
  const refusals: SwitchClaimRefusedError[] = [];
  async function listen(options: ConstructorParameters<typeof OpenFlowController>[0] = {}): Promise<OpenFlowController> {
    controller = new OpenFlowController({ address: 'ptcp:0:127.0.0.1', ...options });
    controller.on('refused', (e: SwitchClaimRefusedError) => refusals.push(e));
    await controller.listen();
    return controller;
  }

  afterEach(async () => {
    for (const d of dialers.splice(0)) d.socket.destroy();
    refusals.splice(0);
    await controller?.close();
    controller = undefined;
  });

  it('a second claim to a datapath whose session answers is refused; the first keeps its session', async () => {
    const ctl = await listen();
    const first = dial(0x42n);
    const sw = await ctl.waitForSwitch(0x42n);
    const second = dial(0x42n);
    await second.closed;
    expect(refusals.map((e) => [e.reason, e.code, e.datapathId])).to.deep.equal([['incumbent', 'OF_CONN_REFUSED', 0x42n]]);
    expect(refusals[0].message).to.match(/claims datapath 0000000000000042, which has a session that answers/);
    expect(sw.sessions).to.equal(1);
    expect(sw.connected && first.open).to.equal(true);
    await sw.connection!.echo();
  });

  it('a claim to a datapath whose session went silent replaces it', async () => {
    const ctl = await listen({ incumbentProbeMs: 200 });
    const first = dial(0x42n);
    const sw = await ctl.waitForSwitch(0x42n);
    first.answering = false;
    dial(0x42n);
    await until(() => (sw.sessions === 2 ? true : undefined), 'the second session');
    await first.closed;
    expect(refusals).to.deep.equal([]);
    expect(ctl.switches()).to.deep.equal([sw]);
  });

  it('verifyClaim decides; its refusal, its error and its silence refuse the peer', async () => {
    const seen: Array<{ dpid: bigint; ports: number }> = [];
    const ctl = await listen({
      verifyTimeoutMs: 300,
      verifyClaim: async ({ datapathId }) => {
        seen.push({ dpid: datapathId, ports: 0 });
        if (datapathId === 1n) return { accept: true };
        if (datapathId === 2n) return { accept: false, reason: 'not one of ours' };
        if (datapathId === 3n) throw new Error('database unreachable');
        return new Promise(() => undefined);
      },
    });
    const [, two, three, four] = [dial(1n), dial(2n), dial(3n), dial(4n)];
    await ctl.waitForSwitch(1n);
    await Promise.all([two.closed, three.closed, four.closed]);
    const byDpid = Object.fromEntries(refusals.map((e) => [String(e.datapathId), `${e.reason}: ${e.message}`]));
    expect(byDpid['2']).to.match(/^claim: .*claims datapath 0000000000000002: not one of ours$/);
    expect(byDpid['3']).to.match(/^claim: .*its check failed: database unreachable$/);
    expect(byDpid['4']).to.match(/^claim: .*its check failed: no answer within 300 ms$/);
    expect(ctl.switches().map((s) => s.datapathId)).to.deep.equal([1n]);
  });

  it('a claim admitted while others to the same datapath are checked ends their checks', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const ctl = await listen({ verifyClaim: async () => (++calls === 1 ? new Promise(() => undefined) : (await gate, { accept: true })) });
    const stuck = dial(7n);
    await until(() => (calls === 1 ? true : undefined), 'the first check');
    dial(7n);
    await until(() => (calls === 2 ? true : undefined), 'the second check');
    release();
    await ctl.waitForSwitch(7n);
    await stuck.closed;
    expect(refusals.map((e) => e.reason)).to.deep.equal(['incumbent']);
  });

  it('remembers at most maxSwitches datapaths: the least recently connected one that is down is forgotten', async () => {
    const ctl = await listen({ maxSwitches: 3 });
    for (let id = 1n; id <= 20n; id++) {
      const d = dial(id);
      await ctl.waitForSwitch(id);
      d.socket.destroy();
      await until(() => (ctl.switch(id)?.connected === false ? true : undefined), `datapath ${id} down`);
    }
    expect(ctl.switches().map((s) => s.datapathId)).to.deep.equal([18n, 19n, 20n]);
    // Three connected: a fourth is refused rather than forgetting a live one.
    for (const id of [30n, 31n, 32n]) {
      dial(id);
      await ctl.waitForSwitch(id);
    }
    const extra = dial(33n);
    await extra.closed;
    expect(refusals.map((e) => e.reason)).to.deep.equal(['too_many_switches']);
    expect(ctl.switches().map((s) => s.datapathId).sort()).to.deep.equal([30n, 31n, 32n]);
  });

  it('bounds the peers waiting for their handshake: past maxPending the oldest goes, and the rest time out', async () => {
    const ctl = await listen({ maxPending: 8, connection: { handshakeTimeoutMs: 400 } });
    const silent: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 30; i++) {
      const s = connect(ctl.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      s.resume();
      silent.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await until(() => (closed >= 22 ? true : undefined), '22 of 30 dropped');
    expect(ctl.pendingCount).to.be.at.most(8);
    // A switch connecting now still gets in (it pushes the oldest silent peer out).
    dial(0x99n);
    await ctl.waitForSwitch(0x99n);
    await until(() => (closed === 30 ? true : undefined), 'the rest timed out', 5000);
    expect(ctl.pendingCount).to.equal(0);
    expect(refusals.filter((e) => e.reason === 'too_many_pending').length).to.be.greaterThan(0);
    for (const s of silent) s.destroy();
  });
});

describe('openflow switch over a unix socket: redialled when the socket comes back', () => {
  let dir: string;
  let server: Server | undefined;
  let sw: OpenFlowSwitch | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'of-watch-'));
  });
  afterEach(async () => {
    await sw?.close();
    sw = undefined;
    server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A switch listening on `path`, as ovs-vswitchd's `.mgmt` socket; returns its sessions. */
  async function serve(path: string): Promise<Socket[]> {
    const sessions: Socket[] = [];
    if (existsSync(path)) unlinkSync(path);
    server = createServer((s) => {
      sessions.push(s);
      playSwitch(s, 0x77n);
    });
    await new Promise<void>((r) => server!.listen(path, r));
    return sessions;
  }

  it('after a drop, dials as soon as the socket file is created again, not at the next backoff step', async () => {
    const path = join(dir, 'br0.mgmt');
    const sessions = await serve(path);
    // A backoff this long would leave the switch down for the whole test.
    sw = await connectSwitch(`unix:${path}`, { reconnect: { initialDelayMs: 20_000, maxDelayMs: 20_000 } });
    const dropped = new Promise((r) => sw!.once('disconnect', r));
    const closed = new Promise<void>((r) => server!.close(() => r()));
    for (const s of sessions) s.destroy();
    await Promise.all([closed, dropped]);
    if (existsSync(path)) unlinkSync(path);
    await new Promise((r) => setTimeout(r, 100));
    await serve(path);
    await sw.ready(3000);
    expect(sw.sessions).to.equal(2);
  });
});
