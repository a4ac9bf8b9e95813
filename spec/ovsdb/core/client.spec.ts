import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { OvsSandbox } from '../../../testing/sandbox.js';
import {
  OvsdbClient, OvsdbErrorCode, connectWithBackoff, OvsdbRpcError, OvsdbTransactionError, OvsdbValidationError, decodeTableUpdates, decodeTableUpdates2,
  namedUuid, op, type OvsdbError, type TableUpdates, type TableUpdates2,
} from '@ovs-agent/ovsdb';

const DB = 'Open_vSwitch';

async function rejection(p: Promise<unknown>): Promise<OvsdbError> {
  try {
    await p;
  } catch (err) {
    return err as OvsdbError;
  }
  throw new Error('expected a rejection');
}

/** Resolves with the first event (of the given name) whose arguments satisfy `match`. */
function eventWhere<A extends unknown[]>(client: OvsdbClient, name: 'update' | 'update2' | 'update3' | 'locked' | 'stolen', match: (...a: A) => boolean): Promise<A> {
  return new Promise((resolve) => {
    const on = (...a: unknown[]) => {
      if (!match(...(a as A))) return;
      client.off(name, on as never);
      resolve(a as A);
    };
    client.on(name, on as never);
  });
}

const vsctl = (sb: OvsSandbox, ...args: string[]) => sb.vsctl('--no-wait', ...args).then((s) => s.trim());

/** One bridge with one port and interface, linked from the root row, in one transaction. */
function addBridgeOps(name: string, extra: Record<string, unknown> = {}) {
  return [
    op.insert('Interface', { name, type: 'internal' }, 'iface'),
    op.insert('Port', { name, interfaces: [namedUuid('iface')] }, 'port'),
    op.insert('Bridge', { name, ports: [namedUuid('port')], datapath_type: 'netdev', ...extra }, 'bridge'),
    op.mutate('Open_vSwitch', [], [['bridges', 'insert', [namedUuid('bridge')]]]),
  ] as const;
}

describe('OvsdbClient against the sandbox @integration', function () {
  let sb: OvsSandbox;
  let client: OvsdbClient;
  const extra: OvsdbClient[] = [];

  before(async () => {
    sb = await OvsSandbox.start();
    client = await OvsdbClient.connect(sb.dbRemote);
  });
  after(async () => {
    for (const c of [client, ...extra]) await c?.close();
    await sb?.stop();
  });

  it('list_dbs and get_schema match the installed schema; an unknown database is UNKNOWN_DATABASE', async () => {
    expect(await client.listDbs()).to.include(DB);
    const schema = await client.getSchema(DB);
    const file = JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')) as { version: string; tables: object };
    expect(schema.version).to.equal(file.version);
    expect([...schema.tables.keys()].sort()).to.deep.equal(Object.keys(file.tables).sort());
    expect(await client.getSchema(DB)).to.equal(schema); // cached
    const err = await rejection(client.getSchema('Nope'));
    expect(err).to.be.instanceOf(OvsdbRpcError);
    expect(err.code).to.equal(OvsdbErrorCode.UNKNOWN_DATABASE);
    const txn = await rejection(client.transact('Nope', [op.comment('x')]));
    expect(txn.code).to.equal(OvsdbErrorCode.UNKNOWN_DATABASE);
  });

  it('echo returns its params; set_db_change_aware is accepted', async () => {
    expect(await client.echo('a', 1, [true])).to.deep.equal(['a', 1, [true]]);
    await client.setDbChangeAware(true);
  });

  it('insert with named-uuid creates rows ovs-vsctl sees, with the values we wrote', async () => {
    const r = await client.transact(DB, [
      ...addBridgeOps('brA', { external_ids: { owner: 'test', 'a b': 'c=d' }, protocols: ['OpenFlow13', 'OpenFlow10'], stp_enable: true }),
      op.comment('ovsdb-core test: add brA'),
      op.commit(true),
    ]);
    expect(r[2].uuid).to.match(/^[0-9a-f-]{36}$/);
    expect(r[3]).to.deep.equal({ count: 1 });
    expect(r[4]).to.deep.equal({});
    expect(await vsctl(sb, 'list-br')).to.equal('brA');
    // The port named like its bridge is the bridge's local port (list-ports hides it).
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'ports')).to.equal(`[${await vsctl(sb, 'get', 'Port', 'brA', '_uuid')}]`);
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', '_uuid')).to.equal(r[2].uuid);
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'external_ids:owner')).to.equal('test');
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'external_ids:"a b"')).to.equal('"c=d"');
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'protocols')).to.equal('[OpenFlow10, OpenFlow13]');
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'stp_enable')).to.equal('true');
    expect(await vsctl(sb, 'get', 'Interface', 'brA', 'type')).to.equal('internal');
  });

  it('select returns what ovs-vsctl wrote, as natural typed values', async () => {
    await vsctl(sb, 'add-port', 'brA', 'p1', '--', 'set', 'Port', 'p1', 'tag=42', 'trunks=1,2,3', 'other_config:k=v',
      '--', 'set', 'Interface', 'p1', 'ofport_request=7', 'external_ids:iface-id=abc');
    const [ports, ifaces] = await client.transact(DB, [
      op.select('Port', [['name', '==', 'p1']], ['name', 'tag', 'trunks', 'other_config', 'interfaces', 'vlan_mode', '_uuid']),
      op.select('Interface', [['external_ids', 'includes', new Map([['iface-id', 'abc']])]], ['name', 'ofport_request', 'external_ids']),
    ]);
    expect(ports.rows).to.have.length(1);
    const p = ports.rows[0];
    expect(p.name).to.equal('p1');
    expect(p.tag).to.equal(42);
    expect(p.trunks).to.deep.equal([1, 2, 3]);
    expect(p.other_config).to.deep.equal(new Map([['k', 'v']]));
    expect(p.vlan_mode).to.equal(null);
    expect(p._uuid).to.equal(await vsctl(sb, 'get', 'Port', 'p1', '_uuid'));
    expect(p.interfaces).to.deep.equal([await vsctl(sb, 'get', 'Interface', 'p1', '_uuid')]);
    expect(ifaces.rows).to.deep.equal([{ name: 'p1', ofport_request: 7, external_ids: new Map([['iface-id', 'abc']]) }]);
  });

  it('update and mutate (set, map, arithmetic) are visible to ovs-vsctl; counts are returned', async () => {
    const [upd, mut, mut2] = await client.transact(DB, [
      op.update('Port', [['name', '==', 'p1']], { tag: 100, vlan_mode: 'access', trunks: [] }),
      op.mutate('Port', [['name', '==', 'p1']], [
        ['tag', '+=', 5],
        ['other_config', 'insert', new Map([['k2', 'v2']])],
        ['other_config', 'delete', ['k']],
      ]),
      op.mutate('Bridge', [['name', '==', 'brA']], [['protocols', 'delete', ['OpenFlow10']], ['external_ids', 'delete', new Map([['owner', 'test']])]]),
    ]);
    expect(upd).to.deep.equal({ count: 1 });
    expect(mut).to.deep.equal({ count: 1 });
    expect(mut2).to.deep.equal({ count: 1 });
    expect(await vsctl(sb, 'get', 'Port', 'p1', 'tag')).to.equal('105');
    expect(await vsctl(sb, 'get', 'Port', 'p1', 'vlan_mode')).to.equal('access');
    expect(await vsctl(sb, 'get', 'Port', 'p1', 'trunks')).to.equal('[]');
    expect(await vsctl(sb, 'get', 'Port', 'p1', 'other_config')).to.equal('{k2=v2}');
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'protocols')).to.equal('[OpenFlow13]');
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'external_ids')).to.equal('{"a b"="c=d"}');
    // Clearing an optional column with null.
    await client.transact(DB, [op.update('Port', [['name', '==', 'p1']], { tag: null })]);
    expect(await vsctl(sb, 'get', 'Port', 'p1', 'tag')).to.equal('[]');
  });

  it('delete removes rows; where matching nothing counts 0', async () => {
    await vsctl(sb, 'add-port', 'brA', 'gone');
    const portUuid = await vsctl(sb, 'get', 'Port', 'gone', '_uuid');
    const [m, d, none] = await client.transact(DB, [
      op.mutate('Bridge', [['name', '==', 'brA']], [['ports', 'delete', [portUuid]]]),
      op.delete('Port', [['_uuid', '==', portUuid]]),
      op.delete('Port', [['name', '==', 'no-such-port']]),
    ]);
    expect([m, d, none]).to.deep.equal([{ count: 1 }, { count: 1 }, { count: 0 }]);
    expect((await vsctl(sb, 'list-ports', 'brA')).split('\n')).to.not.include('gone');
  });

  it('wait succeeds when the rows match and fails with "timed out" at its index otherwise', async () => {
    const ok = await client.transact(DB, [op.wait('Bridge', [['name', '==', 'brA']], ['stp_enable'], '==', [{ stp_enable: true }], 0)]);
    expect(ok).to.deep.equal([{}]);
    const err = await rejection(client.transact(DB, [
      op.comment('first'),
      op.wait('Bridge', [['name', '==', 'brA']], ['stp_enable'], '==', [{ stp_enable: false }], 0),
    ]));
    expect(err).to.be.instanceOf(OvsdbTransactionError);
    const t = err as OvsdbTransactionError;
    expect(t.index).to.equal(1);
    expect(t.op).to.equal('wait');
    expect(t.error).to.equal('timed out');
  });

  it('abort fails the transaction at its index and nothing is committed', async () => {
    const err = (await rejection(client.transact(DB, [op.update('Bridge', [['name', '==', 'brA']], { stp_enable: false }), op.abort()]))) as OvsdbTransactionError;
    expect(err.code).to.equal(OvsdbErrorCode.TRANSACTION);
    expect([err.index, err.op, err.error]).to.deep.equal([1, 'abort', 'aborted']);
    expect(await vsctl(sb, 'get', 'Bridge', 'brA', 'stp_enable')).to.equal('true');
  });

  it('commit-time errors carry the index after the last operation: referential integrity and index constraint', async () => {
    const dangling = '0badc0de-0000-4000-8000-000000000001';
    const ref = (await rejection(client.transact(DB, [
      op.insert('Port', { name: 'dangling', interfaces: [dangling] }, 'p'),
      op.mutate('Bridge', [['name', '==', 'brA']], [['ports', 'insert', [namedUuid('p')]]]),
    ]))) as OvsdbTransactionError;
    expect(ref).to.be.instanceOf(OvsdbTransactionError);
    expect(ref.error).to.equal('referential integrity violation');
    expect(ref.index).to.equal(2);
    expect(ref.op).to.equal(undefined);
    expect(ref.details).to.contain(dangling);

    const dup = (await rejection(client.transact(DB, addBridgeOps('brA')))) as OvsdbTransactionError;
    expect(dup.error).to.equal('constraint violation');
    expect(dup.details).to.contain('brA');
    expect(await vsctl(sb, 'list-br')).to.equal('brA');
  });

  it('rejects invalid operations before sending, naming the operation, table, column and value', async () => {
    const cases: [Promise<unknown>, RegExp, string][] = [
      [client.transact(DB, [op.comment('ok'), op.update('Port', [], { tag: 4096 })]), /operation 1 \(update\).*Port\.tag.*above maximum 4095/, OvsdbErrorCode.VALIDATION],
      [client.transact(DB, [op.insert('Bridge', { name: 'x', protocols: ['OpenFlow99'] })]), /Bridge\.protocols: not one of/, OvsdbErrorCode.VALIDATION],
      [client.transact(DB, [op.insert('Port', { name: 'x', interfaces: [] })]), /Port\.interfaces: needs at least 1/, OvsdbErrorCode.VALIDATION],
      [client.transact(DB, [op.select('Nope')]), /no table "Nope"/, OvsdbErrorCode.UNKNOWN_TABLE],
      [client.transact(DB, [op.select('Bridge', [['nope', '==', 1]])]), /Bridge has no column "nope"/, OvsdbErrorCode.UNKNOWN_COLUMN],
      [client.transact(DB, [op.insert('Bridge', { name: 7 })]), /Bridge\.name: expected a string/, OvsdbErrorCode.VALIDATION],
      [client.transact(DB, [op.update('Bridge', [], { name: 'renamed' })]), /Bridge\.name: column is immutable/, OvsdbErrorCode.VALIDATION],
      [client.transact(DB, [op.mutate('Bridge', [], [['datapath_type', '+=', 1]])]), /needs an integer or real column/, OvsdbErrorCode.VALIDATION],
    ];
    for (const [p, re, code] of cases) {
      const err = await rejection(p);
      expect(err.code, String(re)).to.equal(code);
      expect(err.message).to.match(re);
    }
    const err = await rejection(client.transact(DB, [op.update('Port', [], { tag: 4096 })]));
    expect(err).to.be.instanceOf(OvsdbValidationError);
    expect(err).to.include({ table: 'Port', column: 'tag', value: 4096 });
    // Nothing reached the server: the port keeps its tag.
    expect(await vsctl(sb, 'get', 'Port', 'p1', 'tag')).to.equal('[]');
  });

  it('cancel (via AbortSignal): a blocked wait rejects at once with the reason, and the server drops it', async () => {
    const ac = new AbortController();
    const blocked = client.transact(DB, [op.wait('Bridge', [['name', '==', 'brA']], ['stp_enable'], '==', [{ stp_enable: false }])], { signal: ac.signal });
    // The server holds the transaction until the wait is satisfied; make sure it got it, then cancel.
    expect(await client.echo('barrier')).to.deep.equal(['barrier']);
    const reason = new Error('stop waiting');
    ac.abort(reason);
    expect(await rejection(blocked)).to.equal(reason);
    expect(client.isConnected).to.equal(true);
    // Whatever the server answers later (canceled) is dropped, not taken for a protocol error.
    expect(await client.echo('after')).to.deep.equal(['after']);
  });

  it('monitor: initial rows, then update events with old and new for changes made by ovs-vsctl', async () => {
    const initial = await client.monitor(DB, 'mon-plain', { Bridge: { columns: ['name', 'external_ids'] } });
    const decoded = decodeTableUpdates(client.schema(DB)!, initial);
    const bridgeUuid = await vsctl(sb, 'get', 'Bridge', 'brA', '_uuid');
    expect(decoded.get('Bridge')!.get(bridgeUuid)).to.deep.equal({ new: { name: 'brA', external_ids: new Map([['a b', 'c=d']]) } });
    const next = eventWhere<[unknown, TableUpdates, string]>(client, 'update', (id) => id === 'mon-plain');
    await vsctl(sb, 'br-set-external-id', 'brA', 'k', 'v');
    const [, tu, db] = await next;
    expect(db).to.equal(DB);
    const row = decodeTableUpdates(client.schema(DB)!, tu).get('Bridge')!.get(bridgeUuid)!;
    expect(row.old).to.deep.equal({ external_ids: new Map([['a b', 'c=d']]) });
    expect(row.new).to.deep.equal({ name: 'brA', external_ids: new Map([['a b', 'c=d'], ['k', 'v']]) });
    await client.monitorCancel('mon-plain');
    // select: no initial rows, only what changes.
    expect(await client.monitor(DB, 'mon-select', { Bridge: { columns: ['name'], select: { initial: false } } })).to.deep.equal({});
    await client.monitorCancel('mon-select');
  });

  it('monitor_cond: only rows matching the condition, update2 diffs; monitor_cond_change moves the condition', async () => {
    await vsctl(sb, 'add-br', 'brB', '--', 'set', 'Bridge', 'brB', 'datapath_type=netdev');
    const brA = await vsctl(sb, 'get', 'Bridge', 'brA', '_uuid');
    const brB = await vsctl(sb, 'get', 'Bridge', 'brB', '_uuid');
    const initial = await client.monitorCond(DB, ['cond', 1], { Bridge: { columns: ['name', 'external_ids', 'flood_vlans'], where: [['name', '==', 'brA']] } });
    expect(Object.keys(initial.Bridge)).to.deep.equal([brA]);
    expect(initial.Bridge[brA]).to.have.property('initial');

    const next = eventWhere<[unknown, TableUpdates2, string]>(client, 'update2', (id) => JSON.stringify(id) === '["cond",1]');
    await vsctl(sb, 'set', 'Bridge', 'brA', 'flood_vlans=10,20', '--', 'br-set-external-id', 'brA', 'k', '--', 'br-set-external-id', 'brB', 'k', 'x');
    const [, tu] = await next;
    expect(Object.keys(tu.Bridge)).to.deep.equal([brA]); // brB filtered out by the server
    const diff = decodeTableUpdates2(client.schema(DB)!, tu).get('Bridge')!.get(brA)!;
    expect(diff.kind).to.equal('modify');
    if (diff.kind !== 'modify') return;
    // Sets: elements to toggle. Maps: key removed (value equal to the current one).
    expect(diff.diff.flood_vlans).to.deep.equal([10, 20]);
    expect(diff.diff.external_ids).to.deep.equal(new Map([['k', 'v']]));

    const moved = eventWhere<[unknown, TableUpdates2, string]>(client, 'update2', (id) => id === 'cond-2');
    await client.monitorCondChange(['cond', 1], { Bridge: { where: [['name', '==', 'brB']] } }, 'cond-2');
    const [, change] = await moved;
    expect(change.Bridge[brB]).to.have.property('insert');
    expect(change.Bridge[brA]).to.deep.equal({ delete: null });
    await client.monitorCancel('cond-2');
  });

  it('monitor_cond_since: starts, then update3 events carry the last transaction id', async () => {
    const r = await client.monitorCondSince(DB, 'since', { Port: { columns: ['name', 'tag'] } });
    expect(r.found).to.equal(false);
    expect(r.lastTxnId).to.match(/^[0-9a-f-]{36}$/);
    const names = Object.values(r.updates.Port).map((u) => ('initial' in u ? u.initial.name : undefined)).sort();
    expect(names).to.deep.equal(['brA', 'brB', 'p1']);
    const next = eventWhere<[unknown, string, TableUpdates2, string]>(client, 'update3', (id) => id === 'since');
    await vsctl(sb, 'set', 'Port', 'p1', 'tag=9');
    const [, txn, tu] = await next;
    expect(txn).to.match(/^[0-9a-f-]{36}$/);
    const p1 = await vsctl(sb, 'get', 'Port', 'p1', '_uuid');
    expect(tu.Port[p1]).to.deep.equal({ modify: { tag: 9 } });
    // An optional column's diff is its new value, not a toggle set: 9 -> 10 sends 10, clearing sends [].
    for (const [arg, wire, natural] of [['tag=10', 10, 10], ['tag=[]', ['set', []], null]] as const) {
      const changed = eventWhere<[unknown, string, TableUpdates2, string]>(client, 'update3', (id) => id === 'since');
      await vsctl(sb, 'set', 'Port', 'p1', arg);
      const [, , upd] = await changed;
      expect(upd.Port[p1]).to.deep.equal({ modify: { tag: wire } });
      const decoded = decodeTableUpdates2(client.schema(DB)!, upd).get('Port')!.get(p1);
      expect(decoded).to.deep.equal({ kind: 'modify', diff: { tag: natural } });
    }
    await client.monitorCancel('since');
  });

  it('monitor_cancel stops updates for that monitor only; an unknown table is refused before sending', async () => {
    const got: string[] = [];
    client.on('update', (id) => got.push(String(id)));
    await client.monitor(DB, 'keep', { Bridge: { columns: ['external_ids'] } });
    await client.monitor(DB, 'drop', { Bridge: { columns: ['external_ids'] } });
    await client.monitorCancel('drop');
    const kept = eventWhere(client, 'update', (id) => id === 'keep');
    await vsctl(sb, 'br-set-external-id', 'brB', 'z', '1');
    await kept;
    expect(got).to.deep.equal(['keep']);
    await client.monitorCancel('keep');
    const err = await rejection(client.monitor(DB, 'bad', { Nope: {} }));
    expect(err.code).to.equal(OvsdbErrorCode.UNKNOWN_TABLE);
  });

  it('lock, steal and unlock between two clients, with locked/stolen notifications and assert', async () => {
    const a = client;
    const b = await OvsdbClient.connect(sb.dbRemote);
    extra.push(b);
    expect(await a.lock('L')).to.equal(true);
    expect(await b.lock('L')).to.equal(false);
    await a.transact(DB, [op.assert('L'), op.comment('holder')]);
    const notOwner = (await rejection(b.transact(DB, [op.assert('L')]))) as OvsdbTransactionError;
    expect([notOwner.index, notOwner.error]).to.deep.equal([0, 'not owner']);

    const bLocked = b.waitLocked('L');
    await a.unlock('L');
    await bLocked;
    await b.transact(DB, [op.assert('L')]);

    const stolen = eventWhere<[string]>(b, 'stolen', (l) => l === 'L');
    await a.steal('L');
    expect(await stolen).to.deep.equal(['L']);
    await a.transact(DB, [op.assert('L')]);
    expect(((await rejection(b.transact(DB, [op.assert('L')]))) as OvsdbTransactionError).error).to.equal('not owner');
    await a.unlock('L');
    await b.unlock('L');
  });

  it('works over TCP too (ptcp remote added to the sandbox)', async () => {
    const port = await sb.addDbRemote('ptcp:0:127.0.0.1');
    const tcp = await OvsdbClient.connect(`tcp:127.0.0.1:${port}`);
    extra.push(tcp);
    const [sel] = await tcp.transact(DB, [op.select('Bridge', [], ['name'])]);
    expect(sel.rows.map((r) => r.name).sort()).to.deep.equal(['brA', 'brB']);
    await tcp.transact(DB, [op.mutate('Bridge', [['name', '==', 'brB']], [['external_ids', 'insert', { via: 'tcp' }]])]);
    expect(await vsctl(sb, 'get', 'Bridge', 'brB', 'external_ids:via')).to.equal('tcp');
  });

  it('rejects requests in flight promptly when ovsdb-server is killed, then reconnects to the restarted server', async () => {
    const victim = await OvsdbClient.connect(sb.dbRemote, { inactivityProbeMs: 0 });
    extra.push(victim);
    const blocked = rejection(victim.transact(DB, [op.wait('Bridge', [['name', '==', 'brA']], ['stp_enable'], '==', [{ stp_enable: false }])]));
    expect(await victim.echo()).to.deep.equal([]);
    const gone = new Promise<OvsdbError>((r) => victim.once('disconnected', r));
    await sb.stopOvsdbServer('SIGKILL');
    const err = await blocked;
    expect(err.code).to.equal(OvsdbErrorCode.DISCONNECTED);
    expect((await gone).code).to.equal(OvsdbErrorCode.DISCONNECTED);
    expect((await rejection(victim.listDbs())).code).to.equal(OvsdbErrorCode.DISCONNECTED);
    await sb.startOvsdbServer();
    const again = await connectWithBackoff(sb.dbRemote, { initialDelayMs: 20, maxAttempts: 50 });
    extra.push(again);
    expect(await again.listDbs()).to.include(DB);
  });
});
