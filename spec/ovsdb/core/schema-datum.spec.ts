import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  anySizeType, decodeDatum, decodeTableUpdates, decodeTableUpdates2, decodeRow, encodeDatum, encodeRow, getColumn, getTable, isMap, isOptional, isScalar, isSet,
  namedUuid, OvsdbErrorCode, OvsdbProtocolError, OvsdbSchemaError, OvsdbValidationError, parseColumnType, parseSchema,
} from '@ovs-agent/ovsdb';

const VSWITCH = parseSchema(JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')));
const U1 = '550e8400-e29b-41d4-a716-446655440000';
const U2 = '123e4567-e89b-12d3-a456-426614174000';

function col(table: string, column: string) {
  return getColumn(getTable(VSWITCH, table), column).type;
}

describe('ovsdb schema', () => {
  it('parses the installed vswitch schema into typed descriptors', () => {
    expect(VSWITCH.name).to.equal('Open_vSwitch');
    const ovs = getTable(VSWITCH, 'Open_vSwitch');
    expect(ovs.isRoot).to.equal(true);
    expect(ovs.maxRows).to.equal(1);
    expect(getTable(VSWITCH, 'Bridge').indexes).to.deep.equal([['name']]);
    expect(getTable(VSWITCH, 'Bridge').isRoot).to.equal(false);
    const tag = col('Port', 'tag');
    expect(isOptional(tag)).to.equal(true);
    expect(tag.key).to.deep.equal({ type: 'integer', minInteger: 0, maxInteger: 4095 });
    const ports = col('Bridge', 'ports');
    expect(isSet(ports)).to.equal(true);
    expect(ports.max).to.equal(Infinity);
    expect(ports.key).to.deep.equal({ type: 'uuid', refTable: 'Port', refType: 'strong' });
    expect(isMap(col('Bridge', 'other_config'))).to.equal(true);
    expect(isScalar(col('Bridge', 'name'))).to.equal(true);
    expect(col('Bridge', 'protocols').key.enum).to.include('OpenFlow13');
    expect(getColumn(getTable(VSWITCH, 'Interface'), 'statistics').ephemeral).to.equal(true);
    expect(getColumn(getTable(VSWITCH, 'Bridge'), '_uuid').type.key.type).to.equal('uuid');
  });

  it('names unknown tables and columns', () => {
    expect(() => getTable(VSWITCH, 'Nope')).to.throw(OvsdbSchemaError).with.property('code', OvsdbErrorCode.UNKNOWN_TABLE);
    expect(() => getColumn(getTable(VSWITCH, 'Bridge'), 'nope')).to.throw(OvsdbSchemaError, /Bridge has no column "nope"/);
  });

  it('rejects malformed schemas with BAD_SCHEMA', () => {
    for (const bad of [
      null,
      { tables: {} },
      { name: 'x', tables: { T: { columns: { c: { type: 'float' } } } } },
      { name: 'x', tables: { T: { columns: { c: { type: { key: 'integer', min: 2 } } } } } },
      { name: 'x', tables: { T: { columns: { c: { type: { key: { type: 'uuid', refTable: 'U' } } } } } } },
      { name: 'x', tables: { T: { columns: { c: { type: 'string' } }, indexes: [['d']] } } },
    ]) {
      expect(() => parseSchema(bad), JSON.stringify(bad)).to.throw(OvsdbSchemaError).with.property('code', OvsdbErrorCode.BAD_SCHEMA);
    }
  });
});

describe('ovsdb datum', () => {
  it('encodes and decodes every column shape', () => {
    const cases: [ReturnType<typeof col>, unknown, unknown, unknown][] = [
      [col('Bridge', 'name'), 'br0', 'br0', 'br0'],
      [col('Port', 'tag'), 5, ['set', [5]], 5],
      [col('Port', 'tag'), null, ['set', []], null],
      [col('Port', 'trunks'), [1, 2, 3], ['set', [1, 2, 3]], [1, 2, 3]],
      [col('Bridge', 'ports'), [U1, U2], ['set', [['uuid', U1], ['uuid', U2]]], [U1, U2]],
      [col('Bridge', 'other_config'), new Map([['a', 'b']]), ['map', [['a', 'b']]], new Map([['a', 'b']])],
      [col('Bridge', 'stp_enable'), true, true, true],
    ];
    for (const [type, natural, wire, back] of cases) {
      const enc = encodeDatum(type, natural);
      expect(enc).to.deep.equal(wire);
      expect(decodeDatum(type, wire)).to.deep.equal(back);
      expect(decodeDatum(type, enc)).to.deep.equal(back);
    }
    // Bare atoms are one-element sets on the wire.
    expect(decodeDatum(col('Port', 'trunks'), 7)).to.deep.equal([7]);
    // Plain objects give string maps; Sets give sets.
    expect(encodeDatum(col('Bridge', 'external_ids'), { k: 'v' })).to.deep.equal(['map', [['k', 'v']]]);
    expect(encodeDatum(col('Port', 'trunks'), new Set([4]))).to.deep.equal(['set', [4]]);
    expect(encodeDatum(col('Bridge', 'ports'), [namedUuid('p0')])).to.deep.equal(['set', [['named-uuid', 'p0']]]);
  });

  it('rejects values that do not fit the column, naming table, column and value', () => {
    const where = { table: 'Port', column: 'tag' };
    const bad: [ReturnType<typeof col>, unknown, RegExp][] = [
      [col('Port', 'tag'), 4096, /above maximum 4095/],
      [col('Port', 'tag'), -1, /below minimum 0/],
      [col('Port', 'tag'), 1.5, /expected an integer/],
      [col('Port', 'tag'), [1, 2], /at most 1/],
      [col('Port', 'trunks'), [1, 1], /duplicate/],
      [col('Bridge', 'protocols'), ['OpenFlow99'], /not one of/],
      [col('Bridge', 'ports'), ['not-a-uuid'], /expected a uuid \(a Port row\)/],
      [col('Bridge', 'name'), null, /required/],
      [col('Bridge', 'name'), 'a\ud800', /lone surrogate/],
      [col('Bridge', 'other_config'), 'x', /expected a Map/],
      [col('Bridge', 'other_config'), new Map([['a', 1]]), /expected a string/],
    ];
    for (const [type, v, re] of bad) {
      let err: unknown;
      try {
        encodeDatum(type, v, where);
      } catch (e) {
        err = e;
      }
      expect(err, String(v)).to.be.instanceOf(OvsdbValidationError);
      expect((err as OvsdbValidationError).message).to.match(re);
      expect((err as OvsdbValidationError).message).to.contain('Port.tag');
      expect((err as OvsdbValidationError).column).to.equal('tag');
    }
  });

  it('finds duplicates among uuids regardless of case and among named-uuids, in arrays, Sets and Maps', () => {
    const ports = col('Bridge', 'ports');
    expect(() => encodeDatum(ports, [U1, U1.toUpperCase()])).to.throw(OvsdbValidationError, /duplicate set element/);
    expect(() => encodeDatum(ports, new Set([U1, U1.toUpperCase()]))).to.throw(OvsdbValidationError, /duplicate/);
    expect(() => encodeDatum(ports, [namedUuid('a'), namedUuid('a')])).to.throw(OvsdbValidationError, /duplicate/);
    expect(encodeDatum(ports, [namedUuid('a'), namedUuid('b'), U1])).to.deep.equal(['set', [['named-uuid', 'a'], ['named-uuid', 'b'], ['uuid', U1]]]);
    const uuidMap = parseColumnType({ key: 'uuid', value: 'string', min: 0, max: 'unlimited' });
    expect(() => encodeDatum(uuidMap, new Map([[U1, 'a'], [U1.toUpperCase(), 'b']]))).to.throw(OvsdbValidationError, /duplicate map key/);
    expect(() => encodeDatum(col('Port', 'trunks'), [1, 2, 1])).to.throw(OvsdbValidationError, /duplicate set element 1/);
  });

  it('checks string lengths in code points and real ranges', () => {
    const t = parseColumnType({ key: { type: 'string', minLength: 2, maxLength: 3 } });
    expect(encodeDatum(t, '😀😀😀')).to.equal('😀😀😀');
    expect(() => encodeDatum(t, '😀')).to.throw(OvsdbValidationError, /shorter/);
    expect(() => encodeDatum(t, 'abcd')).to.throw(OvsdbValidationError, /longer/);
    const r = parseColumnType({ key: { type: 'real', minReal: -1.5, maxReal: 2.5 } });
    expect(encodeDatum(r, 2.5)).to.equal(2.5);
    expect(() => encodeDatum(r, 2.6)).to.throw(OvsdbValidationError, /above/);
    expect(() => encodeDatum(r, NaN)).to.throw(OvsdbValidationError, /finite/);
  });

  it('encodes rows, skipping undefined and refusing unknown, read-only and immutable columns', () => {
    const bridge = getTable(VSWITCH, 'Bridge');
    expect(encodeRow(bridge, { name: 'br0', fail_mode: undefined })).to.deep.equal({ name: 'br0' });
    expect(() => encodeRow(bridge, { nope: 1 })).to.throw(OvsdbSchemaError, /Bridge has no column "nope"/).with.property('code', OvsdbErrorCode.UNKNOWN_COLUMN);
    expect(() => encodeRow(bridge, { name: 'x' }, { forUpdate: true })).to.throw(OvsdbValidationError, /immutable/);
    expect(() => encodeRow(bridge, { _uuid: U1 })).to.throw(OvsdbValidationError, /read-only/);
  });

  it('rejects ill-typed server data as a protocol error naming the column', () => {
    const port = getTable(VSWITCH, 'Port');
    expect(() => decodeRow(port, { tag: 'x' })).to.throw(OvsdbProtocolError, /Port\.tag.*expected an integer/);
    expect(() => decodeRow(port, { nope: 1 })).to.throw(OvsdbProtocolError, /unknown column Port\.nope/);
    expect(() => decodeRow(port, [])).to.throw(OvsdbProtocolError);
    expect(() => decodeDatum(col('Bridge', 'ports'), ['set', ['x']])).to.throw(OvsdbProtocolError);
    expect(() => decodeDatum(col('Bridge', 'other_config'), ['set', []])).to.throw(OvsdbProtocolError);
    // A diff of an optional column may carry any number of elements.
    expect(decodeDatum(anySizeType(col('Port', 'tag')), ['set', [1, 2]])).to.deep.equal([1, 2]);
  });
});

describe('ovsdb table updates', () => {
  it('decodes update2 rows and diffs into natural values', () => {
    const tu = decodeTableUpdates2(VSWITCH, {
      Port: {
        [U1]: { initial: { name: 'p', tag: 3, trunks: ['set', [1, 2]] } },
        [U2]: { modify: { tag: ['set', []], trunks: 5, other_config: ['map', [['a', 'b']]], name: 'q' } },
      },
      Bridge: { [U1]: { delete: null } },
    });
    expect(tu.get('Port')!.get(U1)).to.deep.equal({ kind: 'initial', row: { name: 'p', tag: 3, trunks: [1, 2] } });
    expect(tu.get('Port')!.get(U2)).to.deep.equal({
      kind: 'modify',
      diff: { tag: null, trunks: [5], other_config: new Map([['a', 'b']]), name: 'q' },
    });
    expect(tu.get('Bridge')!.get(U1)).to.deep.equal({ kind: 'delete' });
  });

  it('decodes update rows with old and new', () => {
    const tu = decodeTableUpdates(VSWITCH, { Port: { [U1]: { old: { tag: ['set', []] }, new: { name: 'p', tag: 7 } } } });
    expect(tu.get('Port')!.get(U1)).to.deep.equal({ old: { tag: null }, new: { name: 'p', tag: 7 } });
  });

  it('names the table, row and column of an ill-typed update', () => {
    expect(() => decodeTableUpdates2(VSWITCH, { Port: { [U1]: { insert: { tag: 'x' } } } })).to.throw(OvsdbProtocolError, new RegExp(`row ${U1}: .*Port\\.tag`));
    expect(() => decodeTableUpdates2(VSWITCH, { Port: { [U1]: { modify: { trunks: [['uuid', U2]] } } } })).to.throw(OvsdbProtocolError, /Port\.trunks/);
    expect(() => decodeTableUpdates2(VSWITCH, { Port: { [U1]: { insert: {}, delete: null } } })).to.throw(OvsdbProtocolError, /exactly one/);
    expect(() => decodeTableUpdates2(VSWITCH, { Nope: {} })).to.throw(OvsdbProtocolError, /unknown table Nope/);
    expect(() => decodeTableUpdates(VSWITCH, { Port: { [U1]: {} } })).to.throw(OvsdbProtocolError, /neither/);
  });
});
