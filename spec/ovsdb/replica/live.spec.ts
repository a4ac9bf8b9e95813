/**
 * A live replica's monitor conditions changed in place (monitor_cond_change),
 * and its changes read with `for await`, ending cleanly on abort and close;
 * against a real ovsdb-server.
 */
import { expect } from 'chai';
import { Replica } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables, RowEvent } from '@ovs-agent/ovsdb';
import { OvsSandbox } from '../../../testing/sandbox.js';

type Rep = Replica<OpenVSwitchTables>;
const names = (r: Rep): string[] => [...r.table('Port').values()].map((p) => p.name).sort();

describe('ovsdb replica: live conditions and async iteration @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.stopVswitchd();
    await sb.vsctl('--no-wait', 'add-br', 'br0');
    for (const p of ['a1', 'a2', 'b1']) await sb.vsctl('--no-wait', 'add-port', 'br0', p);
  });
  after(async () => {
    await sb?.stop();
  });

  it('changes the conditions of a live replica: rows leave and enter, later changes follow the new conditions, and a reconnect keeps them', async () => {
    const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name'], where: [['name', '==', 'a1']] } }, backoffMs: 20 });
    try {
      expect(names(r)).to.deep.equal(['a1']);
      const events: string[] = [];
      r.watch('Port', (e) => events.push(`${e.kind} ${e.row.name}`));
      const sent = r.seqno;
      await r.changeConditions({ Port: [['name', '==', 'b1'], ['name', '==', 'a2']] });
      await r.waitFor(() => names(r).join() === 'a2,b1' || undefined, { what: 'ports a2 and b1' });
      expect(r.seqno).to.be.greaterThan(sent);
      expect(events.sort()).to.deep.equal(['delete a1', 'insert a2', 'insert b1']);
      await sb.vsctl('--no-wait', 'add-port', 'br0', 'b2', '--', 'add-port', 'br0', 'a2x', '--', 'set', 'port', 'a1', 'tag=3');
      await sb.vsctl('--no-wait', 'del-port', 'br0', 'b1');
      await r.waitFor(() => names(r).join() === 'a2' || undefined, { what: 'b1 gone' });
      expect(events).to.not.include('insert b2');
      expect(events).to.not.include('insert a2x');
      // A new session monitors with the new conditions.
      const resynced = new Promise<void>((resolve) => r.once('resync', () => resolve()));
      await sb.appctl('ovsdb-server', 'ovsdb-server/reconnect');
      await resynced;
      expect(names(r)).to.deep.equal(['a2']);
    } finally {
      await r.close();
    }
  });

  it('refuses conditions on a table it does not replicate, or with an unknown column, changing nothing', async () => {
    const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name'], where: [['name', '==', 'a1']] } } });
    try {
      const codeOf = (p: Promise<unknown>): Promise<string | undefined> => p.then(() => 'resolved', (e: { code?: string }) => e.code);
      expect(await codeOf(r.changeConditions({ Interface: [true] }))).to.equal('ERR_OVSDB_UNKNOWN_TABLE');
      expect(await codeOf(r.changeConditions({ Port: [['nosuch', '==', 1] as never] }))).to.equal('ERR_OVSDB_UNKNOWN_COLUMN');
      expect(names(r)).to.deep.equal(['a1']);
    } finally {
      await r.close();
    }
  });

  it('for await over changes: every change in order, ending when the signal aborts', async () => {
    const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name', 'tag'] } } });
    const ac = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of r.changes('Port', { signal: ac.signal })) {
        seen.push(`${e.kind} ${e.row.name}${e.kind === 'update' ? ` tag=${e.row.tag}` : ''}`);
        if (seen.length === 3) ac.abort();
      }
      return 'ended';
    })();
    try {
      await sb.vsctl('--no-wait', 'add-port', 'br0', 'it1');
      await sb.vsctl('--no-wait', 'set', 'port', 'it1', 'tag=9');
      await sb.vsctl('--no-wait', 'del-port', 'br0', 'it1');
      expect(await loop).to.equal('ended');
      expect(seen).to.deep.equal(['insert it1', 'update it1 tag=9', 'delete it1']);
    } finally {
      await r.close();
    }
  });

  it('a consumer that falls behind by more than maxBuffered events gets ERR_OVSDB_OVERFLOW after the ones queued, and the subscription ends', async () => {
    const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name'] } } });
    try {
      const it = r.changes('Port', { maxBuffered: 2 });
      await sb.vsctl('--no-wait', 'add-port', 'br0', 'o1', '--', 'add-port', 'br0', 'o2', '--', 'add-port', 'br0', 'o3');
      await r.waitFor(() => ['o1', 'o2', 'o3'].every((n) => names(r).includes(n)) || undefined, { what: 'ports o1-o3' });
      const first = await it.next();
      const second = await it.next();
      const two = [first.value?.row.name, second.value?.row.name];
      expect(two.every((n) => ['o1', 'o2', 'o3'].includes(n ?? '')) && two[0] !== two[1], `two of o1-o3: ${two.join()}`).to.equal(true);
      const err = await it.next().then(() => undefined, (e: { code?: string; message?: string }) => e);
      expect(err?.code).to.equal('ERR_OVSDB_OVERFLOW');
      expect(err?.message).to.match(/more than 2 events/);
      expect((await it.next()).done).to.equal(true);
      expect(r.listenerCount('close')).to.equal(0);
      await sb.vsctl('--no-wait', 'del-port', 'br0', 'o1', '--', 'del-port', 'br0', 'o2', '--', 'del-port', 'br0', 'o3');
    } finally {
      await r.close();
    }
  });

  it('for await over every table ends when the replica closes, and a break stops the subscription', async () => {
    const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name'] }, Bridge: { columns: ['name'] } } });
    const got: RowEvent[] = [];
    const loop = (async () => {
      for await (const e of r.changes()) got.push(e);
      return 'ended';
    })();
    await sb.vsctl('--no-wait', 'add-br', 'br9');
    await r.waitFor(() => got.length >= 2 || undefined, { what: 'two events' });
    await r.close();
    expect(await loop).to.equal('ended');
    expect(got.map((e) => `${e.table} ${e.kind} ${e.row.name}`).sort()).to.deep.equal(['Bridge insert br9', 'Port insert br9']);

    const r2 = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name'] } } });
    try {
      const it = r2.changes('Port');
      const first = it.next();
      await sb.vsctl('--no-wait', 'add-port', 'br9', 'it2');
      expect((await first).value?.row.name).to.equal('it2');
      await it.return?.();
      expect(r2.listenerCount('close')).to.equal(0);
      expect((await it.next()).done).to.equal(true);
    } finally {
      await r2.close();
    }
  });
});

