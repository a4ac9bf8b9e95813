/**
 * Who the controller lets in, and how a dropped switch over a unix socket
 * comes back. The peers are fake switches built on the codec
 * (spec/support/fake-switch.ts), so each rule can be driven exactly: a
 * switch that answers, one that went silent, one that never says HELLO.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OpenFlowController,
  SwitchClaimRefusedError,
  connectSwitch,
  type OpenFlowSwitch,
} from '@ovs-agent/openflow';
import { FakeSwitch } from '../../support/fake-switch.js';
import { until } from './helpers.js';

describe('openflow controller: who is admitted', () => {
  let controller: OpenFlowController | undefined;
  const dialers: FakeSwitch[] = [];
  /** A fake switch dialling the controller (connected when this resolves). */
  const dial = async (dpid: bigint): Promise<FakeSwitch> => {
    const d = await FakeSwitch.dial(controller!.port, dpid);
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
    for (const d of dialers.splice(0)) d.close();
    refusals.splice(0);
    await controller?.close();
    controller = undefined;
  });

  it('a second claim to a datapath whose session answers is refused; the first keeps its session', async () => {
    const ctl = await listen();
    const first = await dial(0x42n);
    const sw = await ctl.waitForSwitch(0x42n);
    const second = await dial(0x42n);
    await second.closed;
    expect(refusals.map((e) => [e.reason, e.code, e.datapathId])).to.deep.equal([['incumbent', 'OF_CONN_REFUSED', 0x42n]]);
    expect(refusals[0].message).to.match(/claims datapath 0000000000000042, which has a session that answers/);
    expect(sw.sessions).to.equal(1);
    expect(sw.connected && first.isOpen).to.equal(true);
    await sw.connection!.echo();
  });

  it('a claim to a datapath whose session went silent replaces it', async () => {
    const ctl = await listen({ incumbentProbeMs: 200 });
    const first = await dial(0x42n);
    const sw = await ctl.waitForSwitch(0x42n);
    first.answering = false;
    await dial(0x42n);
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
    const [, two, three, four] = await Promise.all([dial(1n), dial(2n), dial(3n), dial(4n)]);
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
    const stuck = await dial(7n);
    await until(() => (calls === 1 ? true : undefined), 'the first check');
    await dial(7n);
    await until(() => (calls === 2 ? true : undefined), 'the second check');
    release();
    await ctl.waitForSwitch(7n);
    await stuck.closed;
    expect(refusals.map((e) => e.reason)).to.deep.equal(['incumbent']);
  });

  it('remembers at most maxSwitches datapaths: the least recently connected one that is down is forgotten', async () => {
    const ctl = await listen({ maxSwitches: 3 });
    for (let id = 1n; id <= 20n; id++) {
      const d = await dial(id);
      await ctl.waitForSwitch(id);
      d.close();
      await until(() => (ctl.switch(id)?.connected === false ? true : undefined), `datapath ${id} down`);
    }
    expect(ctl.switches().map((s) => s.datapathId)).to.deep.equal([18n, 19n, 20n]);
    // Three connected: a fourth is refused rather than forgetting a live one.
    for (const id of [30n, 31n, 32n]) {
      await dial(id);
      await ctl.waitForSwitch(id);
    }
    const extra = await dial(33n);
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
    await dial(0x99n);
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
      new FakeSwitch(s, 0x77n);
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
