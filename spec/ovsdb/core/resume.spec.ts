import { expect } from 'chai';
import { OvsdbClient, op, type TableUpdates2 } from '@ovs-agent/ovsdb';
import { PrivateOvsdbServer } from './private-server.js';

const SCHEMA = { name: 'R', version: '1.0.0', tables: { T: { isRoot: true, columns: { s: { type: 'string' }, n: { type: 'integer' } } } } };

describe('ovsdb monitor_cond_since resume on a clustered ovsdb-server @integration', function () {
  let server: PrivateOvsdbServer;
  const clients: OvsdbClient[] = [];
  const connect = async () => {
    const c = await OvsdbClient.connect(server.remote);
    clients.push(c);
    return c;
  };
  /** The oracle writes, not us. */
  const oracle = (...ops: object[]) => server.ovsdbClient('transact', JSON.stringify(['R', ...ops]));

  before(async () => {
    server = await PrivateOvsdbServer.start(SCHEMA, undefined, { clustered: true });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
  });

  it('update3 ids let a new connection resume with only what changed while it was away', async () => {
    // ovsdb-server drops its transaction history once it holds more atoms than the
    // database itself (then resending everything is cheaper), so give it some bulk.
    const padding = Array.from({ length: 200 }, (_, i) => ({ op: 'insert', table: 'T', row: { s: `pad-${i}`, n: i } }));
    await oracle({ op: 'insert', table: 'T', row: { s: 'a', n: 1 } }, { op: 'insert', table: 'T', row: { s: 'b', n: 2 } }, ...padding);
    const first = await connect();
    const start = await first.monitorCondSince('R', 'm', { T: { columns: ['s', 'n'], where: [['n', '<', 100]] } });
    expect(start.found).to.equal(false);
    expect(start.lastTxnId).to.not.equal('00000000-0000-0000-0000-000000000000');
    const rows = Object.values(start.updates.T).map((u) => ('initial' in u ? u.initial.s : undefined));
    expect(rows).to.have.length(102); // a, b and pad-0..99: the condition n < 100 is applied by the server
    expect(rows).to.include.members(['a', 'b', 'pad-0', 'pad-99']);

    // A change while connected: its update3 carries the id to resume from.
    const seen = new Promise<[string, TableUpdates2]>((resolve) => first.once('update3', (_id, txn, tu) => resolve([txn, tu])));
    const [inserted] = await first.transact('R', [op.insert('T', { s: 'c', n: 3 })]);
    const [txn, tu] = await seen;
    expect(tu.T[inserted.uuid]).to.deep.equal({ insert: { s: 'c', n: 3 } });
    await first.close();

    // While we are away: a modify, a delete, an insert.
    await oracle(
      { op: 'update', table: 'T', where: [['s', '==', 'a']], row: { n: 10 } },
      { op: 'delete', table: 'T', where: [['s', '==', 'b']] },
      { op: 'insert', table: 'T', row: { s: 'd', n: 4 } },
    );
    const second = await connect();
    const resumed = await second.monitorCondSince('R', 'm', { T: { columns: ['s', 'n'], where: [['n', '<', 100]] } }, txn);
    expect(resumed.found).to.equal(true);
    expect(resumed.lastTxnId).to.not.equal(txn);
    const kinds = Object.values(resumed.updates.T).map((u) => Object.keys(u)[0]).sort();
    expect(kinds).to.deep.equal(['delete', 'insert', 'modify']);
    expect(Object.values(resumed.updates.T)).to.deep.include({ modify: { n: 10 } });
    expect(Object.values(resumed.updates.T)).to.deep.include({ insert: { s: 'd', n: 4 } });
  });

  it('an id the server does not know gives found=false and the whole table again', async () => {
    const c = await connect();
    const r = await c.monitorCondSince('R', 'x', { T: { columns: ['s'], where: [['n', '<', 5]] } }, '12345678-1234-4234-8234-123456789abc');
    expect(r.found).to.equal(false);
    const names = Object.values(r.updates.T).map((u) => ('initial' in u ? u.initial.s : undefined));
    expect(names.sort()).to.deep.equal(['c', 'd', 'pad-0', 'pad-1', 'pad-2', 'pad-3', 'pad-4']);
  });
});
