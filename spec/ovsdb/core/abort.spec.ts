/**
 * AbortSignal on every async call of the client and the replica: connect
 * (also while it reads `_Server`), the RFC methods, monitors (a monitor
 * aborted in flight is canceled on the server), locks, and the replica's
 * start, whenReady, waitFor, transact and changeConditions. The calls that
 * a real ovsdb-server answers at once are aborted before they are sent;
 * those that must be aborted while in flight are sent to a peer that never
 * answers (FakeServer) or to a real server that blocks (`wait`, a lock held
 * by another session).
 */
import { expect } from 'chai';
import { OvsdbClient, Replica, op, openVswitch } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';
import { OvsSandbox } from '../../../testing/sandbox.js';
import { FakeServer } from './fake-server.js';

class Stop extends Error {}
const stop = (): AbortController => new AbortController();
/** What `p` settles with: the reason it was rejected with, or 'resolved'. */
const settled = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'resolved', (e: unknown) => e);

describe('ovsdb AbortSignal on every async call @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let fake: FakeServer;

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.stopVswitchd();
    await sb.vsctl('--no-wait', 'add-br', 'br0');
    fake = await FakeServer.start();
  });
  after(async () => {
    fake?.server.close();
    await sb?.stop();
  });

  it('connect: an aborted signal refuses at once; aborting while reading _Server (peer silent) rejects with the reason', async () => {
    const pre = stop();
    const reason = new Stop('before');
    pre.abort(reason);
    expect(await settled(OvsdbClient.connect(sb.dbRemote, { signal: pre.signal }))).to.equal(reason);

    const ac = stop();
    const p = settled(OvsdbClient.connect(`${fake.remote},${sb.dbRemote}`, { database: 'Open_vSwitch', leaderOnly: true, signal: ac.signal }));
    const peer = await fake.accepted();
    expect((await peer.next()).method).to.equal('get_schema');
    const mid = new Stop('mid-connect');
    ac.abort(mid);
    expect(await p).to.equal(mid);
  });

  it('every client call takes a signal: in flight (peer silent) it rejects with the reason, and an aborted monitor is canceled', async () => {
    const connecting = OvsdbClient.connect(fake.remote);
    const peer = await fake.accepted();
    const c = await connecting;
    try {
      const calls: [string, (s: AbortSignal) => Promise<unknown>][] = [
        ['list_dbs', (signal) => c.listDbs({ signal })],
        ['get_schema', (signal) => c.getSchema('X', { signal })],
        ['lock', (signal) => c.lock('l', { signal })],
        ['steal', (signal) => c.steal('l', { signal })],
        ['unlock', (signal) => c.unlock('l', { signal })],
        ['echo', (signal) => c.echoWith([1], { signal })],
        ['set_db_change_aware', (signal) => c.setDbChangeAware(true, { signal })],
        ['monitor_cancel', (signal) => c.monitorCancel('m', { signal })],
      ];
      for (const [method, call] of calls) {
        const ac = stop();
        const p = settled(call(ac.signal));
        expect((await peer.next()).method).to.equal(method);
        const why = new Stop(method);
        ac.abort(why);
        expect(await p, method).to.equal(why);
      }
      const ac = stop();
      const locked = settled(c.waitLocked('l', { signal: ac.signal }));
      ac.abort(new Stop('waitLocked'));
      expect(await locked).to.be.instanceOf(Stop);
    } finally {
      await c.close();
    }
  });

  it('monitors: aborted in flight on a real server, the monitor is canceled there and its id is free again', async () => {
    const c = await OvsdbClient.connect(sb.dbRemote);
    try {
      await c.getSchema('Open_vSwitch');
      for (const start of [
        (s: AbortSignal) => c.monitor('Open_vSwitch', 'm1', { Bridge: { columns: ['name'] } }, { signal: s }),
        (s: AbortSignal) => c.monitorCond('Open_vSwitch', 'm1', { Bridge: { columns: ['name'] } }, { signal: s }),
        (s: AbortSignal) => c.monitorCondSince('Open_vSwitch', 'm1', { Bridge: { columns: ['name'] } }, undefined, { signal: s }),
      ]) {
        const ac = stop();
        const p = settled(start(ac.signal));
        ac.abort(new Stop('monitor'));
        expect(await p).to.be.instanceOf(Stop);
        // The cancel follows the request; once it is answered the id may be used again.
        await c.echo();
        await c.echo();
        const again = await c.monitorCond('Open_vSwitch', 'm1', { Bridge: { columns: ['name'] } });
        expect(again).to.be.an('object');
        await c.monitorCancel('m1');
      }
      const ac = stop();
      await c.monitorCond('Open_vSwitch', 'm2', { Bridge: { columns: ['name'] } });
      const p = settled(c.monitorCondChange('m2', { Bridge: { where: [false] } }, 'm2', { signal: ac.signal }));
      ac.abort(new Stop('change'));
      expect(await p).to.be.instanceOf(Stop);
      expect(c.isConnected).to.equal(true);
    } finally {
      await c.close();
    }
  });

  it('transact: aborting a transaction blocked in a wait rejects at once (ovsdb-server 3.1 does not answer the cancel)', async () => {
    const c = await OvsdbClient.connect(sb.dbRemote);
    try {
      const ac = stop();
      // br0 has stp_enable false: the server holds the transaction until it is true.
      const p = settled(c.transact('Open_vSwitch', [op.wait('Bridge', [['name', '==', 'br0']], ['stp_enable'], '==', [{ stp_enable: true }])], { signal: ac.signal }));
      expect(await c.echo('barrier')).to.deep.equal(['barrier']);
      const why = new Stop('txn');
      ac.abort(why);
      expect(await p).to.equal(why);
      expect(c.isConnected).to.equal(true);
    } finally {
      await c.close();
    }
  });

  it('replica: start, whenReady, waitFor, transact and changeConditions take a signal; aborting start closes the replica', async () => {
    // Nothing listens: start keeps retrying until aborted.
    const ac = stop();
    const starting = settled(Replica.start({ remote: `unix:${sb.dir}/nobody.sock`, tables: { Bridge: true }, signal: ac.signal, backoffMs: 20 }));
    await new Promise((r) => setTimeout(r, 150));
    const why = new Stop('start');
    ac.abort(why);
    expect(await starting).to.equal(why);

    const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Bridge: { columns: ['name'] } } });
    try {
      const w = stop();
      const waiting = settled(r.waitFor(() => r.index('Bridge', 'name').get('never'), { signal: w.signal }));
      w.abort(new Stop('waitFor'));
      expect(await waiting).to.be.instanceOf(Stop);

      const pre = stop();
      pre.abort(new Stop('pre'));
      expect(await settled(r.whenReady({ signal: pre.signal }))).to.equal('resolved', 'ready already: nothing to wait for');
      expect(await settled(r.changeConditions({ Bridge: [true] }, { signal: pre.signal }))).to.be.instanceOf(Stop);
      expect(await settled(r.transact((txn) => txn.insert('Bridge', { name: 'x' }), { signal: pre.signal }))).to.be.instanceOf(Stop);

      const t = stop();
      const blocked = settled(r.transact((txn) => void txn.add(op.wait('Bridge', [['name', '==', 'br0']], ['stp_enable'], '==', [{ stp_enable: true }])), { signal: t.signal }));
      expect(await r.connection!.echo('barrier')).to.deep.equal(['barrier']);
      const why = new Stop('txn');
      t.abort(why);
      expect(await blocked).to.equal(why);
    } finally {
      await r.close();
    }
  });

  it('commands: each takes a signal; aborted before, nothing is written; aborted while waiting for ovs-vswitchd or an ofport, it rejects with the reason', async () => {
    // ovs-vswitchd is stopped (before): cur_cfg never catches up and no interface gets an ofport.
    const { replica, commands } = await openVswitch(sb.dbRemote);
    try {
      const pre = stop();
      pre.abort(new Stop('pre'));
      expect(await settled(commands.addBridge('br-pre', { signal: pre.signal }))).to.be.instanceOf(Stop);
      expect(replica.index('Bridge', 'name').get('br-pre')).to.equal(undefined);

      const w = stop();
      const waiting = settled(commands.addBridge('br-wait', { waitForVswitchd: true, timeoutMs: 30_000, signal: w.signal }));
      await replica.waitFor(() => replica.index('Bridge', 'name').get('br-wait'), { what: 'br-wait written' });
      const why = new Stop('vswitchd');
      w.abort(why);
      expect(await waiting).to.equal(why);

      const o = stop();
      const ofport = settled(commands.ofport('br-wait', { timeoutMs: 30_000, signal: o.signal }));
      const late = new Stop('ofport');
      o.abort(late);
      expect(await ofport).to.equal(late);
    } finally {
      await replica.close();
    }
  });
});
