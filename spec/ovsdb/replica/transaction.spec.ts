import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { encodeOperations } from '@ovs-agent/ovsdb';
import { ReplicaCache } from '@ovs-agent/ovsdb';
import { TransactionBuilder } from '@ovs-agent/ovsdb';
import { parseSchema } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';

const schema = parseSchema(JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')));
const BR = '11111111-1111-1111-1111-111111111111';
const IF = '22222222-2222-2222-2222-222222222222';

function setup(): { cache: ReplicaCache; txn: TransactionBuilder<OpenVSwitchTables> } {
  const t = (n: string) => [...schema.tables.get(n)!.columns.values()].filter((c) => !c.name.startsWith('_'));
  const cache = new ReplicaCache(schema, new Map([['Bridge', t('Bridge')], ['Interface', t('Interface')]]));
  cache.applyUpdate2({
    Bridge: { [BR]: { initial: { name: 'br0', external_ids: ['map', [['a', '1']]] } } },
    Interface: { [IF]: { initial: { name: 'tap0', external_ids: ['map', [['iface-id', 'vm1']]] } } },
  });
  return { cache, txn: new TransactionBuilder<OpenVSwitchTables>(schema, cache) };
}

describe('ovsdb replica transaction builder', () => {
  it('turns verified reads into wait operations on the values read', () => {
    const { txn } = setup();
    const row = txn.read('Bridge', BR, 'name', 'external_ids');
    expect(row?.name).to.equal('br0');
    txn.read('Bridge', '33333333-3333-3333-3333-333333333333');
    const wire = encodeOperations(schema, txn.ops);
    expect(wire[0]).to.deep.equal({
      op: 'wait', table: 'Bridge', timeout: 0, until: '==',
      where: [['_uuid', '==', ['uuid', BR]]], columns: ['name', 'external_ids'],
      rows: [{ name: 'br0', external_ids: ['map', [['a', '1']]] }],
    });
    // A row the replica does not hold is verified absent.
    expect(wire[1]).to.deep.include({ op: 'wait', until: '==', columns: ['_uuid'], rows: [] });
  });

  it('verifies index lookups: the row found, or that no row matches', () => {
    const { cache, txn } = setup();
    const byIfaceId = cache.tables.get('Interface')!.addIndex({ table: 'Interface', column: 'external_ids', key: 'iface-id' });
    const byName = cache.tables.get('Bridge')!.addIndex({ table: 'Bridge', column: 'name' });
    expect(txn.lookup(byIfaceId, 'vm1')?._uuid).to.equal(IF);
    expect(txn.lookup(byName, 'br9')).to.equal(undefined);
    expect(txn.lookup(byIfaceId, 'vm2')).to.equal(undefined);
    const wire = encodeOperations(schema, txn.ops);
    expect(wire[0]).to.deep.include({ op: 'wait', columns: ['external_ids'], rows: [{ external_ids: ['map', [['iface-id', 'vm1']]] }] });
    expect(wire[1]).to.deep.include({ op: 'wait', where: [['name', '==', 'br9']], rows: [] });
    expect(wire[2]).to.deep.include({ op: 'wait', where: [['external_ids', 'includes', ['map', [['iface-id', 'vm2']]]]], rows: [] });
  });

  it('writes with named uuids, merges map keys with one mutate, and rejects bad values before sending', () => {
    const { txn } = setup();
    const i = txn.insert('Interface', { name: 'p1', external_ids: { 'iface-id': 'x' } });
    const p = txn.insert('Port', { name: 'p1', interfaces: [i] });
    txn.addToSet('Bridge', BR, 'ports', [p]);
    txn.setKeys('Bridge', BR, 'external_ids', { a: '2', b: '3' });
    txn.deleteKeys('Bridge', BR, 'other_config', ['x']);
    txn.update('Bridge', BR, {});
    const wire = encodeOperations(schema, txn.ops);
    expect(wire).to.have.length(5);
    expect(wire[1]).to.deep.include({ op: 'insert', table: 'Port', 'uuid-name': 'row1', row: { name: 'p1', interfaces: ['set', [['named-uuid', 'row0']]] } });
    expect(wire[2]).to.deep.include({ op: 'mutate', mutations: [['ports', 'insert', ['set', [['named-uuid', 'row1']]]]] });
    expect(wire[3]).to.deep.include({
      op: 'mutate',
      mutations: [
        ['external_ids', 'delete', ['set', ['a', 'b']]],
        ['external_ids', 'insert', ['map', [['a', '2'], ['b', '3']]]],
      ],
    });
    expect(wire[4]).to.deep.include({ op: 'mutate', mutations: [['other_config', 'delete', ['set', ['x']]]] });
    const bad = new TransactionBuilder(schema, setup().cache);
    bad.update('Port', BR, { tag: 5000 });
    expect(() => encodeOperations(schema, bad.ops)).to.throw(/above maximum 4095/);
    expect(() => txn.insert('Port', {}, { uuidName: 'row0' })).to.throw(/used twice/);
  });
});
