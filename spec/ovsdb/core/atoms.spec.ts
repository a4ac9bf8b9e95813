import { expect } from 'chai';
import { OvsSandbox } from '../../../testing/sandbox.js';
import { OvsdbClient, OvsdbValidationError, namedUuid, op, type Row } from '@ovs-agent/ovsdb';
import { PrivateOvsdbServer } from './private-server.js';

// A schema with every atom type, every constraint kind and every column shape.
const ATOMS_SCHEMA = {
  name: 'Atoms',
  version: '1.0.0',
  tables: {
    Atoms: {
      isRoot: true,
      columns: {
        i: { type: 'integer' },
        r: { type: 'real' },
        b: { type: 'boolean' },
        s: { type: 'string' },
        u: { type: { key: { type: 'uuid', refTable: 'Target', refType: 'weak' }, min: 0, max: 1 } },
        e: { type: { key: { type: 'string', enum: ['set', ['red', 'green']] } } },
        ri: { type: { key: { type: 'integer', minInteger: -5, maxInteger: 5 }, min: 0, max: 1 } },
        rr: { type: { key: { type: 'real', minReal: -1.5, maxReal: 2.5 }, min: 0, max: 'unlimited' } },
        sl: { type: { key: { type: 'string', minLength: 1, maxLength: 3 }, min: 0, max: 3 } },
        su: { type: { key: { type: 'uuid', refTable: 'Target' }, min: 0, max: 'unlimited' } },
        mir: { type: { key: 'integer', value: 'real', min: 0, max: 'unlimited' } },
        msb: { type: { key: 'string', value: 'boolean', min: 0, max: 'unlimited' } },
        mus: { type: { key: 'uuid', value: 'string', min: 0, max: 'unlimited' } },
        req: { type: { key: 'integer', min: 1, max: 'unlimited' } },
      },
    },
    Target: { isRoot: true, columns: { name: { type: 'string' } }, indexes: [['name']] },
  },
};

const U = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('ovsdb atoms round-trip against ovsdb-client @integration', function () {
  let server: PrivateOvsdbServer;
  let client: OvsdbClient;

  before(async () => {
    server = await PrivateOvsdbServer.start(ATOMS_SCHEMA);
    client = await OvsdbClient.connect(server.remote);
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });

  /** ovsdb-client transact: the independent oracle's view of the wire. */
  async function oracle(...ops: object[]): Promise<unknown[]> {
    return JSON.parse(await server.ovsdbClient('transact', JSON.stringify(['Atoms', ...ops]))) as unknown[];
  }

  it('what we write, ovsdb-client reads as the RFC 7047 wire values', async () => {
    const [target, row] = await client.transact('Atoms', [
      op.insert('Target', { name: 't1' }, 't'),
      op.insert('Atoms', {
        i: -(2 ** 53 - 1),
        r: 0.1,
        b: true,
        s: 'héllo "w{o}rld" \\ 😀',
        u: namedUuid('t'),
        e: 'green',
        ri: -5,
        rr: [-1.5, 2.5, 0.25],
        sl: ['a', 'abc', '😀😀😀'],
        su: [namedUuid('t')],
        mir: new Map([[1, 1.5], [-2, 0]]),
        msb: { yes: true, no: false },
        mus: new Map([[U, 'x']]),
        req: [7],
      }),
    ]);
    const [res] = (await oracle({ op: 'select', table: 'Atoms', where: [['_uuid', '==', ['uuid', row.uuid]]] })) as [{ rows: Record<string, unknown>[] }];
    const r = res.rows[0];
    const t = target.uuid;
    expect(r.i).to.equal(-(2 ** 53 - 1));
    expect(r.r).to.equal(0.1);
    expect(r.b).to.equal(true);
    expect(r.s).to.equal('héllo "w{o}rld" \\ 😀');
    expect(r.u).to.deep.equal(['uuid', t]); // a one-element set prints as the atom
    expect(r.e).to.equal('green');
    expect(r.ri).to.equal(-5);
    expect((r.rr as ['set', number[]])[1].slice().sort()).to.deep.equal([-1.5, 0.25, 2.5]);
    expect((r.sl as ['set', string[]])[1].slice().sort()).to.deep.equal(['a', 'abc', '😀😀😀'].sort());
    expect(r.su).to.deep.equal(['uuid', t]);
    expect(r.mir).to.deep.equal(['map', [[-2, 0], [1, 1.5]]]);
    expect(r.msb).to.deep.equal(['map', [['no', false], ['yes', true]]]);
    expect(r.mus).to.deep.equal(['map', [[['uuid', U], 'x']]]);
    expect(r.req).to.equal(7);
  });

  it('what ovsdb-client writes, we read as natural typed values', async () => {
    const [ins] = (await oracle(
      { op: 'insert', table: 'Target', row: { name: 't2' }, 'uuid-name': 't' },
      {
        op: 'insert', table: 'Atoms', 'uuid-name': 'a',
        row: {
          i: 42, r: 3, b: false, s: '', u: ['set', []], e: 'red', ri: ['set', [5]], rr: ['set', []],
          sl: 'xy', su: ['set', [['named-uuid', 't']]], mir: ['map', []], msb: ['map', [['k', true]]],
          mus: ['map', [[['uuid', U], 'y']]], req: ['set', [3, 1, 2]],
        },
      },
    )) as [{ uuid: [string, string] }];
    const target = ins.uuid[1];
    const [sel] = await client.transact('Atoms', [op.select('Atoms', [['i', '==', 42]])]);
    expect(sel.rows).to.have.length(1);
    const row: Row = sel.rows[0];
    expect(row.i).to.equal(42);
    expect(row.r).to.equal(3);
    expect(row.b).to.equal(false);
    expect(row.s).to.equal('');
    expect(row.u).to.equal(null);
    expect(row.e).to.equal('red');
    expect(row.ri).to.equal(5);
    expect(row.rr).to.deep.equal([]);
    expect(row.sl).to.deep.equal(['xy']);
    expect(row.su).to.deep.equal([target]);
    expect(row.mir).to.deep.equal(new Map());
    expect(row.msb).to.deep.equal(new Map([['k', true]]));
    expect(row.mus).to.deep.equal(new Map([[U, 'y']]));
    expect((row.req as number[]).slice().sort()).to.deep.equal([1, 2, 3]);
  });

  it('refuses what the server would refuse, before sending; the server agrees on each case', async () => {
    const base = { i: 1, r: 1, b: true, s: 's', e: 'red', req: [1] };
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ e: 'blue' }, { e: 'blue' }, /not one of/],
      [{ ri: 6 }, { ri: 6 }, /above maximum 5/],
      [{ ri: -6 }, { ri: -6 }, /below minimum -5/],
      [{ rr: [2.6] }, { rr: 2.6 }, /above maximum 2.5/],
      [{ sl: [''] }, { sl: '' }, /shorter than 1/],
      [{ sl: ['abcd'] }, { sl: 'abcd' }, /longer than 3/],
      [{ sl: ['a', 'b', 'c', 'd'] }, { sl: ['set', ['a', 'b', 'c', 'd']] }, /at most 3/],
      [{ req: [] }, { req: ['set', []] }, /at least 1/],
      [{ i: 1.5 }, { i: 1.5 }, /expected an integer/],
      [{ b: 'true' }, { b: 'true' }, /expected a boolean/],
      [{ u: 'not-a-uuid' }, { u: 'not-a-uuid' }, /expected a uuid/],
      [{ msb: new Map([['k', 1]]) }, { msb: ['map', [['k', 1]]] }, /expected a boolean/],
    ];
    for (const [natural, wire, re] of cases) {
      let ours: unknown;
      try {
        await client.transact('Atoms', [op.insert('Atoms', { ...base, ...natural })]);
      } catch (err) {
        ours = err;
      }
      expect(ours, JSON.stringify(wire)).to.be.instanceOf(OvsdbValidationError);
      expect((ours as Error).message).to.match(re);
      const theirs = (await oracle({ op: 'insert', table: 'Atoms', row: { ...base, req: ['set', [1]], ...wire } })) as { error?: string }[];
      expect(theirs.some((r) => r && typeof r.error === 'string'), `server accepts ${JSON.stringify(wire)}`).to.equal(true);
    }
  });

  it('mutates integer and real sets and maps as the server does', async () => {
    const [ins] = await client.transact('Atoms', [
      op.insert('Atoms', { i: 100, r: 1.5, b: false, s: 'm', e: 'red', req: [1, 2], rr: [0.5], mir: new Map([[1, 1]]) }),
    ]);
    await client.transact('Atoms', [
      op.mutate('Atoms', [['_uuid', '==', ins.uuid]], [
        ['i', '*=', 3],
        ['r', '-=', 0.5],
        ['req', '+=', 10],
        ['rr', 'insert', [1]],
        ['mir', 'insert', new Map([[2, 2.5]])],
        ['mir', 'delete', [1]],
      ]),
    ]);
    const [res] = (await oracle({ op: 'select', table: 'Atoms', where: [['_uuid', '==', ['uuid', ins.uuid]]], columns: ['i', 'r', 'req', 'rr', 'mir'] })) as [
      { rows: Record<string, unknown>[] },
    ];
    expect(res.rows[0]).to.deep.equal({ i: 300, r: 1, req: ['set', [11, 12]], rr: ['set', [0.5, 1]], mir: ['map', [[2, 2.5]]] });
  });
});

describe('ovsdb vswitch atoms cross-checked with ovs-vsctl @integration', function () {
  let sb: OvsSandbox;
  let client: OvsdbClient;
  before(async () => {
    sb = await OvsSandbox.start();
    client = await OvsdbClient.connect(sb.dbRemote);
    await sb.vsctl('--no-wait', 'add-br', 'br0', '--', 'set', 'Bridge', 'br0', 'datapath_type=netdev');
  });
  after(async () => {
    await client?.close();
    await sb?.stop();
  });

  // [table, record, column, natural value we write, what ovs-vsctl prints, ovs-vsctl set argument, natural value we read back]
  const CASES: [string, string, string, unknown, string, string, unknown][] = [
    ['Bridge', 'br0', 'stp_enable', true, 'true', 'stp_enable=false', false],
    ['Bridge', 'br0', 'fail_mode', 'secure', 'secure', 'fail_mode=standalone', 'standalone'],
    ['Bridge', 'br0', 'flood_vlans', [5, 6], '[5, 6]', 'flood_vlans=7', [7]],
    ['Bridge', 'br0', 'other_config', new Map([['hwaddr', '"aa:bb"'], ['x', '']]), '{hwaddr="\\"aa:bb\\"", x=""}', 'other_config:a=b', new Map([['a', 'b']])],
    ['Interface', 'br0', 'mtu_request', 1400, '1400', 'mtu_request=9000', 9000],
    ['Interface', 'br0', 'ofport_request', 33, '33', 'ofport_request=34', 34],
    ['Interface', 'br0', 'options', { remote_ip: '10.0.0.1', key: 'flow' }, '{key=flow, remote_ip="10.0.0.1"}', 'options:k=v', new Map([['k', 'v']])],
    ['Interface', 'br0', 'bfd', new Map(), '{}', 'bfd:enable=true', new Map([['enable', 'true']])],
    ['Port', 'br0', 'tag', 4095, '4095', 'tag=0', 0],
    ['Port', 'br0', 'vlan_mode', 'native-untagged', 'native-untagged', 'vlan_mode=trunk', 'trunk'],
    ['Port', 'br0', 'bond_updelay', 250, '250', 'bond_updelay=0', 0],
    ['Port', 'br0', 'trunks', [], '[]', 'trunks=1,4094', [1, 4094]],
  ];

  for (const [table, record, column, ours, printed, vsctlSet, readBack] of CASES) {
    it(`${table}.${column}: ours → ovs-vsctl get, ovs-vsctl set → ours`, async () => {
      await client.transact('Open_vSwitch', [op.update(table, [['name', '==', record]], { [column]: ours as never })]);
      expect((await sb.vsctl('--no-wait', 'get', table, record, column)).trim()).to.equal(printed);
      // `set col:key=value` merges into a map, so start that one from empty.
      const clear = /^[^=]*:/.test(vsctlSet) ? ['clear', table, record, column, '--'] : [];
      await sb.vsctl('--no-wait', ...clear, 'set', table, record, vsctlSet);
      const [sel] = await client.transact('Open_vSwitch', [op.select(table, [['name', '==', record]], [column])]);
      const v = sel.rows[0][column];
      expect(Array.isArray(v) ? [...(v as number[])].sort((a, b) => a - b) : v).to.deep.equal(readBack);
    });
  }

  it('uuid references: ours are what ovs-vsctl resolves, and the reverse', async () => {
    const [ins] = await client.transact('Open_vSwitch', [
      op.insert('Controller', { target: 'tcp:127.0.0.1:6653', inactivity_probe: 1000 }, 'c'),
      op.update('Bridge', [['name', '==', 'br0']], { controller: [namedUuid('c')] }),
    ]);
    expect((await sb.vsctl('--no-wait', 'get', 'Bridge', 'br0', 'controller')).trim()).to.equal(`[${ins.uuid}]`);
    expect((await sb.vsctl('--no-wait', 'get-controller', 'br0')).trim()).to.equal('tcp:127.0.0.1:6653');
    await sb.vsctl('--no-wait', 'set-controller', 'br0', 'tcp:127.0.0.2:6653');
    const [sel] = await client.transact('Open_vSwitch', [op.select('Bridge', [['name', '==', 'br0']], ['controller'])]);
    const [uuid] = sel.rows[0].controller as string[];
    expect(uuid).to.equal((await sb.vsctl('--no-wait', 'get', 'Bridge', 'br0', 'controller')).trim().slice(1, -1));
    const [c] = await client.transact('Open_vSwitch', [op.select('Controller', [['_uuid', '==', uuid]], ['target', 'inactivity_probe'])]);
    expect(c.rows).to.deep.equal([{ target: 'tcp:127.0.0.2:6653', inactivity_probe: null }]);
  });
});
