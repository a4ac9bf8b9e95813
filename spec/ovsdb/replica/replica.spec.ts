import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';
import { Replica } from '@ovs-agent/ovsdb';
import type { ResyncInfo, RowEvent } from '@ovs-agent/ovsdb';
import { OvsSandbox, VSWITCH_SCHEMA } from '../../../testing/sandbox.js';
import { ClusteredServer } from './clustered-server.js';
import { diffTable, dumpTable } from './dump.js';
import { prng } from '../../support/prng.js';

const TABLES = { Open_vSwitch: true, Bridge: true, Port: true, Interface: true } as const;
const unq = (s: string): string => s.trim().replace(/^"(.*)"$/, '$1');

/** Waits until the replica equals `ovsdb-client dump` on the given tables; fails with the differences. */
async function expectEqualToDump(replica: Replica<OpenVSwitchTables>, dump: (...a: string[]) => Promise<string>, tables: (keyof OpenVSwitchTables)[]): Promise<void> {
  let diffs: string[];
  const deadline = Date.now() + 10_000;
  do {
    diffs = [];
    for (const t of tables) diffs.push(...diffTable(await dumpTable(dump, replica.schema, t), replica.table(t) as never));
    if (diffs.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  expect.fail(`replica differs from ovsdb-client dump:\n${diffs.slice(0, 20).join('\n')}`);
}

describe('ovsdb replica @integration', function () {
  let sb: OvsSandbox;
  let replica: Replica<OpenVSwitchTables>;

  before(async () => {
    sb = await OvsSandbox.start();
    // The database alone is under test: ovs-vswitchd's own writes would only add noise.
    await sb.stopVswitchd();
    await sb.vsctl('--no-wait', 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
    replica = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: TABLES });
  });
  after(async () => {
    await replica?.close();
    await sb?.stop();
  });

  it('monitors with monitor_cond_since and holds the initial state', () => {
    expect(replica.method).to.equal('monitor_cond_since');
    expect(replica.index('Bridge', 'name').get('br0')?.datapath_type).to.equal('netdev');
    expect(replica.table('Open_vSwitch').size).to.equal(1);
  });

  it('refuses to start on a table or column the server does not have, naming it', async () => {
    let err: unknown;
    await Replica.start({ remote: sb.dbRemote, tables: { Nope: true } }).catch((e) => (err = e));
    expect((err as { code?: string }).code).to.equal('ERR_OVSDB_UNKNOWN_TABLE');
    expect((err as Error).message).to.include('Nope');
    err = undefined;
    await Replica.start({ remote: sb.dbRemote, tables: { Port: { columns: ['name', 'nosuch'] } } }).catch((e) => (err = e));
    expect((err as { code?: string }).code).to.equal('ERR_OVSDB_UNKNOWN_COLUMN');
    expect((err as Error).message).to.include('nosuch');
  });

  it('shows what ovs-vsctl writes with the right typed values, and emits typed events', async () => {
    const events: RowEvent[] = [];
    const stop = replica.watchAll((e) => events.push(e));
    await sb.vsctl('--no-wait', 'add-port', 'br0', 'vs1',
      '--', 'set', 'port', 'vs1', 'tag=101', 'trunks=10,20', 'other_config:k=v',
      '--', 'set', 'interface', 'vs1', 'type=patch', 'options:peer=x', 'external_ids:iface-id=abc', 'ofport_request=33', 'mtu_request=1450',
      '--', 'set', 'bridge', 'br0', 'fail_mode=secure', 'stp_enable=true', 'protocols=OpenFlow13,OpenFlow15');
    const port = await replica.waitFor(() => replica.index('Port', 'name').get('vs1'));
    const iface = await replica.waitFor(() => replica.index('Interface', 'external_ids', 'iface-id').get('abc'));
    const br = replica.index('Bridge', 'name').get('br0')!;
    stop();
    expect(port.tag).to.equal(101);
    expect([...port.trunks].sort()).to.deep.equal([10, 20]);
    expect(port.other_config).to.deep.equal(new Map([['k', 'v']]));
    expect(port.interfaces).to.deep.equal([iface._uuid]);
    expect(port.vlan_mode).to.equal(null);
    expect(iface.name).to.equal('vs1');
    expect(iface.type).to.equal('patch');
    expect(iface.options.get('peer')).to.equal('x');
    expect(iface.ofport_request).to.equal(33);
    expect(iface.mtu_request).to.equal(1450);
    expect(iface.ofport).to.equal(null);
    expect(br.fail_mode).to.equal('secure');
    expect(br.stp_enable).to.equal(true);
    expect([...br.protocols].sort()).to.deep.equal(['OpenFlow13', 'OpenFlow15']);
    expect(br.ports).to.include(port._uuid);
    const kinds = events.map((e) => `${e.kind}:${e.table}`);
    expect(kinds).to.include.members(['insert:Port', 'insert:Interface', 'update:Bridge']);
    const brEvent = events.find((e) => e.table === 'Bridge' && e.kind === 'update');
    if (brEvent?.kind !== 'update') throw new Error('no bridge update');
    expect(brEvent.old.fail_mode).to.equal(null);
    expect(brEvent.row.fail_mode).to.equal('secure');
  });

  it('writes what ovs-vsctl reads back, and sees its own commit on return', async () => {
    const br = replica.index('Bridge', 'name').get('br0')!;
    const res = await replica.transact((txn) => {
      const i = txn.insert('Interface', { name: 'us1', type: 'internal', external_ids: { 'iface-id': 'u-1', 'attached-mac': 'fa:16:3e:aa:bb:cc' } });
      const p = txn.insert('Port', { name: 'us1', interfaces: [i], tag: 7, trunks: [1, 2, 3] });
      txn.addToSet('Bridge', br._uuid, 'ports', [p]);
      txn.setKeys('Bridge', br._uuid, 'external_ids', { 'bridge-id': 'br0' });
      return p;
    });
    // ovsdb-server sends our monitor's update before the transaction's reply.
    const port = replica.get('Port', res.uuid(res.value));
    expect(port?.name).to.equal('us1');
    expect(unq(await sb.vsctl('get', 'port', 'us1', 'tag'))).to.equal('7');
    expect(unq(await sb.vsctl('get', 'port', 'us1', 'trunks'))).to.equal('[1, 2, 3]');
    expect(unq(await sb.vsctl('get', 'interface', 'us1', 'external_ids:attached-mac'))).to.equal('fa:16:3e:aa:bb:cc');
    expect(unq(await sb.vsctl('br-get-external-id', 'br0', 'bridge-id'))).to.equal('br0');
    expect(unq(await sb.vsctl('list-ports', 'br0')).split('\n')).to.deep.equal(['us1', 'vs1']);
    expect(unq(await sb.vsctl('get', 'port', 'us1', '_uuid'))).to.equal(res.uuid(res.value));
  });

  it('retries an optimistic transaction whose verified read was changed by another client', async () => {
    let attempts = 0;
    const res = await replica.transact(async (txn) => {
      attempts++;
      const br = txn.lookup(replica.index('Bridge', 'name'), 'br0', 'external_ids')!;
      const n = Number(br.external_ids.get('counter') ?? '0');
      if (attempts === 1) {
        // Another client changes what we just read, before we commit.
        await sb.vsctl('--no-wait', 'br-set-external-id', 'br0', 'counter', '41');
      }
      txn.update('Bridge', br._uuid, { external_ids: new Map([...br.external_ids, ['counter', String(n + 1)]]) });
    });
    expect(res.attempts).to.equal(2);
    expect(unq(await sb.vsctl('br-get-external-id', 'br0', 'counter'))).to.equal('42');
  });

  it('replicates conditionally (monitor_cond where) and keeps to the condition as rows change', async () => {
    const r = await Replica.start<OpenVSwitchTables>({
      remote: sb.dbRemote,
      tables: { Interface: { columns: ['name', 'external_ids'], where: [['external_ids', 'includes', new Map([['owner', 'me']])]] } },
    });
    try {
      await sb.vsctl('--no-wait', 'add-port', 'br0', 'c1', '--', 'set', 'interface', 'c1', 'external_ids:owner=me',
        '--', 'add-port', 'br0', 'c2', '--', 'set', 'interface', 'c2', 'external_ids:owner=other');
      await r.waitFor(() => r.index('Interface', 'name').get('c1'));
      expect([...r.table('Interface').values()].map((i) => i.name)).to.deep.equal(['c1']);
      // Only the monitored columns are replicated.
      expect(Object.keys(r.index('Interface', 'name').get('c1')!).sort()).to.deep.equal(['_uuid', 'external_ids', 'name']);
      // A row that starts matching appears, one that stops matching goes.
      await sb.vsctl('--no-wait', 'set', 'interface', 'c2', 'external_ids:owner=me', '--', 'set', 'interface', 'c1', 'external_ids:owner=gone');
      await r.waitFor(() => r.index('Interface', 'name').get('c2') && !r.index('Interface', 'name').get('c1'));
      expect(r.table('Interface').size).to.equal(1);
    } finally {
      await r.close();
    }
  });

  for (const method of ['monitor_cond', 'monitor'] as const) {
    it(`falls back to ${method} when asked (older servers) and applies its updates`, async () => {
      const r = await Replica.start<OpenVSwitchTables>({ remote: sb.dbRemote, tables: { Port: { columns: ['name', 'tag', 'trunks'] } }, method });
      try {
        expect(r.method).to.equal(method);
        await sb.vsctl('--no-wait', 'add-port', 'br0', `m-${method}`, '--', 'set', 'port', `m-${method}`, 'tag=9', 'trunks=1,2');
        const p = await r.waitFor(() => r.index('Port', 'name').get(`m-${method}`));
        expect(p.tag).to.equal(9);
        await sb.vsctl('--no-wait', 'clear', 'port', `m-${method}`, 'tag', '--', 'remove', 'port', `m-${method}`, 'trunks', '1');
        const q = await r.waitFor(() => (r.index('Port', 'name').get(`m-${method}`)?.tag === null ? r.index('Port', 'name').get(`m-${method}`) : undefined));
        expect(q.trunks).to.deep.equal([2]);
        await sb.vsctl('--no-wait', 'del-port', 'br0', `m-${method}`);
        await r.waitFor(() => !r.index('Port', 'name').get(`m-${method}`));
      } finally {
        await r.close();
      }
    });
  }

  it('after 1,000 random changes by us and by ovs-vsctl, equals ovsdb-client dump', async function () {
    this.timeout(180_000);
    const rnd = prng(20261126);
    const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
    const byName = replica.index('Port', 'name');
    const ifaceByName = replica.index('Interface', 'name');
    const ours = new Set<string>();
    const theirs = new Set<string>();
    let serial = 0;
    let increments = 0;
    const start = Number(replica.index('Bridge', 'name').get('br0')!.external_ids.get('counter') ?? '0');
    const ROUNDS = 20;
    const PER_SIDE = 25;
    let changes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const existing = [...ours, ...theirs];
      // Deletions are chosen first, so neither side touches a row the other deletes this round.
      const doomed = (side: Set<string>): string[] => [...side].filter(() => rnd() < 0.08).slice(0, 3);
      const theirDeletes = doomed(theirs);
      const ourDeletes = doomed(ours);
      const deleted = new Set([...theirDeletes, ...ourDeletes]);
      const live = existing.filter((n) => !deleted.has(n));
      // ovs-vsctl has returned, but its changes may still be on their way to us.
      await replica.waitFor(() => existing.every((n) => byName.get(n) && ifaceByName.get(n)), { what: 'the previous round' });
      // Their side: one chained ovs-vsctl call.
      const args: string[] = ['--no-wait'];
      const cmd = (...a: string[]): void => {
        if (args.length > 1) args.push('--');
        args.push(...a);
        changes++;
      };
      for (let i = 0; i < PER_SIDE; i++) {
        const r = rnd();
        if (r < 0.3 || live.length < 4) {
          const n = `v${serial++}`;
          theirs.add(n);
          cmd('add-port', 'br0', n, '--', 'set', 'interface', n, `external_ids:iface-id=${n}-id`, '--', 'set', 'port', n, `tag=${1 + Math.floor(rnd() * 4094)}`);
        } else if (r < 0.4 && theirDeletes.length) {
          const n = theirDeletes.pop()!;
          theirs.delete(n);
          cmd('del-port', 'br0', n);
        } else if (r < 0.55) cmd('set', 'interface', pick(live), `external_ids:k${Math.floor(rnd() * 5)}=${Math.floor(rnd() * 100)}`);
        else if (r < 0.65) cmd('remove', 'interface', pick(live), 'external_ids', `k${Math.floor(rnd() * 5)}`);
        else if (r < 0.75) cmd('set', 'port', pick(live), `tag=${1 + Math.floor(rnd() * 4094)}`);
        else if (r < 0.8) cmd('clear', 'port', pick(live), 'tag');
        else if (r < 0.9) cmd('add', 'port', pick(live), 'trunks', String(Math.floor(rnd() * 10)));
        else cmd('remove', 'port', pick(live), 'trunks', String(Math.floor(rnd() * 10)));
      }
      // Our side: one transaction per change, all in flight together with ovs-vsctl's.
      const txns: (() => Promise<unknown>)[] = [];
      for (let i = 0; i < PER_SIDE; i++) {
        const r = rnd();
        changes++;
        if (r < 0.3 || live.length < 4) {
          const n = `u${serial++}`;
          ours.add(n);
          const tag = rnd() < 0.5 ? 1 + Math.floor(rnd() * 4094) : null;
          txns.push(() =>
            replica.transact((txn) => {
              const br = replica.index('Bridge', 'name').get('br0')!;
              const iface = txn.insert('Interface', { name: n, external_ids: { 'iface-id': `${n}-id` } });
              const p = txn.insert('Port', { name: n, interfaces: [iface], tag });
              txn.addToSet('Bridge', br._uuid, 'ports', [p]);
            }),
          );
        } else if (r < 0.4 && ourDeletes.length) {
          const n = ourDeletes.pop()!;
          ours.delete(n);
          txns.push(() =>
            replica.transact((txn) => {
              const p = byName.get(n)!;
              const br = replica.index('Bridge', 'name').get('br0')!;
              txn.removeFromSet('Bridge', br._uuid, 'ports', [p._uuid]);
              txn.delete('Port', p._uuid);
            }),
          );
        } else if (r < 0.55) {
          const n = pick(live);
          const kv = { [`k${Math.floor(rnd() * 5)}`]: String(Math.floor(rnd() * 100)) };
          txns.push(() => replica.transact((txn) => txn.setKeys('Interface', ifaceByName.get(n)!._uuid, 'external_ids', kv)));
        } else if (r < 0.65) {
          const n = pick(live);
          const k = `k${Math.floor(rnd() * 5)}`;
          txns.push(() => replica.transact((txn) => txn.deleteKeys('Interface', ifaceByName.get(n)!._uuid, 'external_ids', [k])));
        } else if (r < 0.75) {
          const n = pick(live);
          const tag = rnd() < 0.8 ? 1 + Math.floor(rnd() * 4094) : null;
          txns.push(() => replica.transact((txn) => txn.update('Port', byName.get(n)!._uuid, { tag })));
        } else if (r < 0.85) {
          const n = pick(live);
          const t = Math.floor(rnd() * 10);
          const add = rnd() < 0.6;
          txns.push(() => replica.transact((txn) => (add ? txn.addToSet('Port', byName.get(n)!._uuid, 'trunks', [t]) : txn.removeFromSet('Port', byName.get(n)!._uuid, 'trunks', [t]))));
        } else {
          // Read-modify-write under verification: concurrent increments must all survive.
          increments++;
          txns.push(() =>
            replica.transact(
              (txn) => {
                const br = txn.lookup(replica.index('Bridge', 'name'), 'br0', 'external_ids')!;
                const n = Number(br.external_ids.get('counter') ?? '0');
                txn.setKeys('Bridge', br._uuid, 'external_ids', { counter: String(n + 1) });
              },
              { maxAttempts: 100 },
            ),
          );
        }
      }
      await Promise.all([sb.vsctl(...args), ...txns.map((t) => t())]);
      if (round === ROUNDS / 2) await expectEqualToDump(replica, (...a) => sb.ovsdbClient(...a), ['Bridge', 'Port', 'Interface']);
    }
    expect(changes).to.equal(ROUNDS * PER_SIDE * 2);
    await expectEqualToDump(replica, (...a) => sb.ovsdbClient(...a), ['Open_vSwitch', 'Bridge', 'Port', 'Interface']);
    expect(Number(unq(await sb.vsctl('br-get-external-id', 'br0', 'counter')))).to.equal(start + increments);
    expect(unq(await sb.vsctl('list-ports', 'br0')).split('\n').filter((s) => /^[uv]\d/.test(s)).sort()).to.deep.equal([...ours, ...theirs].sort());
  });
});

describe('ovsdb replica reconnect @integration', function () {
  let server: ClusteredServer | undefined;
  let replica: Replica<OpenVSwitchTables> | undefined;
  afterEach(async () => {
    await replica?.close();
    await server?.stop();
    replica = undefined;
    server = undefined;
  });

  async function setup(): Promise<{ s: ClusteredServer; r: Replica<OpenVSwitchTables>; resyncs: ResyncInfo[]; events: RowEvent[] }> {
    const s = (server = await ClusteredServer.start());
    await s.vsctl('--no-wait', 'add-br', 'br0');
    for (let i = 0; i < 3; i++) await s.vsctl('--no-wait', 'add-port', 'br0', `w${i}`);
    // ovsdb-server keeps transaction history only up to the size of the database itself, so a
    // near-empty database forgets our last transaction at once: give it some bulk first.
    const filler: string[] = ['--no-wait'];
    for (let i = 0; i < 100; i++) filler.push(...(i ? ['--'] : []), 'add-port', 'br0', `f${i}`, '--', 'set', 'interface', `f${i}`, `external_ids:iface-id=f${i}`, `external_ids:attached-mac=fa:16:3e:00:00:${i % 100}`);
    await s.vsctl(...filler);
    const r = (replica = await Replica.start<OpenVSwitchTables>({ remote: s.ours, tables: TABLES, backoffMs: 50, maxBackoffMs: 200 }));
    const resyncs: ResyncInfo[] = [];
    const events: RowEvent[] = [];
    r.on('resync', (i) => resyncs.push(i));
    r.watchAll((e) => events.push(e));
    await s.vsctl('--no-wait', 'add-port', 'br0', 'p0', '--', 'set', 'port', 'p0', 'tag=5');
    await r.waitFor(() => r.index('Port', 'name').get('p0'));
    events.length = 0;
    return { s, r, resyncs, events };
  }

  const ctl = (s: ClusteredServer, ...args: string[]): void => {
    execFileSync('ovs-appctl', ['-t', join(s.dir, 'server.ctl'), ...args]);
  };

  it('resumes with monitor_cond_since (found) after losing the connection, getting only what changed meanwhile', async () => {
    const { s, r, resyncs, events } = await setup();
    const disconnected = new Promise((res) => r.once('disconnected', res));
    // The server drops our connection and stops listening for us; ovs-vsctl still gets in.
    ctl(s, 'ovsdb-server/remove-remote', `p${s.ours}`);
    await disconnected;
    expect(r.isConnected).to.equal(false);
    await s.vsctl('--no-wait', 'add-port', 'br0', 'p1', '--', 'del-port', 'br0', 'w0', '--', 'set', 'port', 'p0', 'tag=6');
    await s.openOurs();
    await r.waitFor(() => resyncs.length > 0 && r.isConnected, { what: 'resync' });
    expect(resyncs[0]).to.include({ method: 'monitor_cond_since', found: true, reconnects: 1 });
    // Only the changed rows came back: Port p1/w0/p0, Interface p1/w0, Bridge br0.
    const seen = events.map((e) => `${e.kind}:${e.table}:${(e.row as { name?: string }).name}`).sort();
    expect(resyncs[0].changes).to.equal(seen.length);
    expect(seen).to.deep.equal(['delete:Interface:w0', 'delete:Port:w0', 'insert:Interface:p1', 'insert:Port:p1', 'update:Bridge:br0', 'update:Port:p0']);
    expect(r.index('Port', 'name').get('p0')?.tag).to.equal(6);
    await expectEqualToDump(r, (cmd, ...a) => runClient(s, cmd, ...a), ['Open_vSwitch', 'Bridge', 'Port', 'Interface']);
  });

  it('survives ovsdb-server killed and restarted mid-monitor, with changes made while it was away', async () => {
    const { s, r, resyncs, events } = await setup();
    const before = s.pid;
    await s.kill();
    await s.startServer(false);
    expect(s.pid).to.not.equal(before);
    await s.vsctl('--no-wait', 'add-port', 'br0', 'p2', '--', 'del-port', 'br0', 'w1', '--', 'set', 'interface', 'p0', 'external_ids:x=y');
    await s.openOurs();
    await r.waitFor(() => resyncs.length > 0 && r.isConnected, { what: 'resync' });
    expect(resyncs[0].method).to.equal('monitor_cond_since');
    const seen = events.map((e) => `${e.kind}:${e.table}:${(e.row as { name?: string }).name}`);
    expect(seen).to.include.members(['insert:Port:p2', 'delete:Port:w1', 'update:Interface:p0']);
    expect(r.index('Interface', 'name').get('p0')?.external_ids.get('x')).to.equal('y');
    await expectEqualToDump(r, (cmd, ...a) => runClient(s, cmd, ...a), ['Open_vSwitch', 'Bridge', 'Port', 'Interface']);
    // And it keeps following changes after the resync.
    await s.vsctl('--no-wait', 'add-port', 'br0', 'p3');
    await r.waitFor(() => r.index('Port', 'name').get('p3'));
  });
});

function runClient(s: ClusteredServer, cmd: string, ...args: string[]): Promise<string> {
  return Promise.resolve(execFileSync('ovsdb-client', [cmd, s.theirs, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

describe('ovsdb replica schema change @integration', function () {
  let sb: OvsSandbox | undefined;
  let replica: Replica | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'schema-'));
  after(async () => {
    await replica?.close();
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows a database converted to a new schema online, reporting only what changed', async () => {
    sb = await OvsSandbox.start();
    await sb.stopVswitchd();
    await sb.vsctl('--no-wait', 'add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'set', 'port', 'p1', 'tag=3');
    replica = await Replica.start({ remote: sb.dbRemote, tables: { Port: true }, backoffMs: 50 });
    const byName = replica.index('Port', 'name');
    const p1 = byName.get('p1')!;
    expect(p1).to.not.have.property('description');
    const events: RowEvent[] = [];
    replica.watchAll((e) => events.push(e));
    const resynced = new Promise<ResyncInfo>((res) => replica!.once('resync', res));
    // A newer schema: Port gains a column (as an OVS upgrade does).
    const schema = JSON.parse(readFileSync(VSWITCH_SCHEMA, 'utf8')) as { version: string; tables: Record<string, { columns: Record<string, unknown> }> };
    schema.version = '8.3.99';
    schema.tables.Port.columns.description = { type: { key: 'string', min: 0, max: 1 } };
    const file = join(dir, 'new.ovsschema');
    writeFileSync(file, JSON.stringify(schema));
    await sb.ovsdbClient('convert', file);
    const info = await resynced;
    expect(replica.schema.version).to.equal('8.3.99');
    // Nothing changed in the rows: no events, not a delete-and-insert of every port.
    expect(info.changes).to.equal(0);
    expect(events).to.deep.equal([]);
    expect(byName.get('p1')?.tag).to.equal(3);
    expect(byName.get('p1')).to.have.property('description', null);
    // ovs-vsctl has the old schema compiled in; ovsdb-client writes the new column.
    await sb.ovsdbClient('transact', JSON.stringify(['Open_vSwitch', { op: 'update', table: 'Port', where: [['name', '==', 'p1']], row: { description: 'uplink' } }]));
    await replica.waitFor(() => byName.get('p1')?.description === 'uplink');
    expect(events.map((e) => e.kind)).to.deep.equal(['update']);
  });
});
