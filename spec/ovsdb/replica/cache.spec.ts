import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { OvsdbProtocolError } from '@ovs-agent/ovsdb';
import { ReplicaCache } from '@ovs-agent/ovsdb';
import type { ReplicaRow } from '@ovs-agent/ovsdb';
import { parseSchema } from '@ovs-agent/ovsdb';
import type { ColumnSchema } from '@ovs-agent/ovsdb';
import { applyDiff } from '@ovs-agent/ovsdb';

const schema = parseSchema(JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')));
const U1 = '11111111-1111-1111-1111-111111111111';
const U2 = '22222222-2222-2222-2222-222222222222';
const P1 = 'aaaaaaaa-0000-0000-0000-000000000001';
const P2 = 'aaaaaaaa-0000-0000-0000-000000000002';
const P3 = 'aaaaaaaa-0000-0000-0000-000000000003';

function cache(tables: Record<string, string[] | 'all'>): ReplicaCache {
  const m = new Map<string, ColumnSchema[]>();
  for (const [t, cols] of Object.entries(tables)) {
    const ts = schema.tables.get(t)!;
    m.set(t, cols === 'all' ? [...ts.columns.values()].filter((c) => !c.name.startsWith('_')) : cols.map((c) => ts.columns.get(c)!));
  }
  return new ReplicaCache(schema, m);
}

const uuid = (u: string): ['uuid', string] => ['uuid', u];

describe('ovsdb replica cache (update/update2 application)', () => {
  it('fills defaults for columns an update2 initial leaves out and decodes natural values', () => {
    const c = cache({ Bridge: 'all' });
    const ev = c.applyUpdate2({ Bridge: { [U1]: { initial: { name: 'br0', ports: ['set', [uuid(P1), uuid(P2)]], external_ids: ['map', [['k', 'v']]], fail_mode: 'secure' } } } });
    expect(ev).to.have.length(1);
    expect(ev[0].kind).to.equal('insert');
    const row = c.tables.get('Bridge')!.get(U1)!;
    expect(row._uuid).to.equal(U1);
    expect(row.name).to.equal('br0');
    expect(row.ports).to.deep.equal([P1, P2]);
    expect(row.external_ids).to.deep.equal(new Map([['k', 'v']]));
    expect(row.fail_mode).to.equal('secure');
    // Left out: defaults, as ovsdb-server omits default values from initial/insert.
    expect(row.datapath_type).to.equal('');
    expect(row.stp_enable).to.equal(false);
    expect(row.netflow).to.equal(null);
    expect(row.mirrors).to.deep.equal([]);
    expect(row.other_config).to.deep.equal(new Map());
  });

  it('applies update2 modify diffs: sets toggle, maps add/remove/replace, optionals toggle, scalars replace', () => {
    const c = cache({ Bridge: ['name', 'ports', 'external_ids', 'fail_mode', 'datapath_type'] });
    c.applyUpdate2({ Bridge: { [U1]: { insert: { name: 'br0', ports: ['set', [uuid(P1), uuid(P2)]], external_ids: ['map', [['a', '1'], ['b', '2']]], fail_mode: 'secure' } } } });
    const before = c.tables.get('Bridge')!.get(U1)!;
    const ev = c.applyUpdate2({
      Bridge: {
        [U1]: {
          modify: {
            ports: ['set', [uuid(P1), uuid(P3)]], // remove P1, add P3
            external_ids: ['map', [['a', '1'], ['b', '3'], ['c', '4']]], // remove a, replace b, add c
            fail_mode: 'standalone', // an optional's new value, as ovsdb-server sends it
            datapath_type: 'netdev',
          },
        },
      },
    });
    const row = c.tables.get('Bridge')!.get(U1)!;
    expect([...(row.ports as string[])].sort()).to.deep.equal([P2, P3]);
    expect(row.external_ids).to.deep.equal(new Map([['b', '3'], ['c', '4']]));
    expect(row.fail_mode).to.equal('standalone');
    expect(row.datapath_type).to.equal('netdev');
    expect(ev).to.have.length(1);
    expect(ev[0]).to.include({ kind: 'update', table: 'Bridge' });
    if (ev[0].kind !== 'update') throw new Error('unreachable');
    expect(ev[0].old).to.equal(before);
    // The old row object is untouched: handlers can compare old and new.
    expect(before.ports).to.deep.equal([P1, P2]);
    expect(before.external_ids).to.deep.equal(new Map([['a', '1'], ['b', '2']]));
    // Cleared: an empty set.
    c.applyUpdate2({ Bridge: { [U1]: { modify: { fail_mode: ['set', []] } } } });
    expect(c.tables.get('Bridge')!.get(U1)!.fail_mode).to.equal(null);
    c.applyUpdate2({ Bridge: { [U1]: { modify: { fail_mode: 'secure' } } } });
    expect(c.tables.get('Bridge')!.get(U1)!.fail_mode).to.equal('secure');
    // The toggle form of a set diff is understood too, in either order.
    c.applyUpdate2({ Bridge: { [U1]: { modify: { fail_mode: ['set', ['secure', 'standalone']] } } } });
    expect(c.tables.get('Bridge')!.get(U1)!.fail_mode).to.equal('standalone');
    c.applyUpdate2({ Bridge: { [U1]: { modify: { fail_mode: ['set', ['secure', 'standalone']] } } } });
    expect(c.tables.get('Bridge')!.get(U1)!.fail_mode).to.equal('secure');
    c.applyUpdate2({ Bridge: { [U1]: { modify: { fail_mode: ['set', ['secure']] } } } });
    expect(c.tables.get('Bridge')!.get(U1)!.fail_mode).to.equal(null);
  });

  it('applies RFC 7047 update (old/new) and deletes', () => {
    const c = cache({ Interface: ['name', 'ofport', 'external_ids'] });
    c.applyUpdate({ Interface: { [U1]: { new: { name: 'p1', ofport: ['set', []], external_ids: ['map', []] } } } });
    expect(c.tables.get('Interface')!.get(U1)!.ofport).to.equal(null);
    const ev = c.applyUpdate({ Interface: { [U1]: { old: { ofport: ['set', []] }, new: { name: 'p1', ofport: 7, external_ids: ['map', []] } } } });
    expect(ev[0].kind).to.equal('update');
    expect(c.tables.get('Interface')!.get(U1)!.ofport).to.equal(7);
    const del = c.applyUpdate({ Interface: { [U1]: { old: { name: 'p1', ofport: 7, external_ids: ['map', []] } } } });
    expect(del[0].kind).to.equal('delete');
    expect(del[0].row.ofport).to.equal(7);
    expect(c.tables.get('Interface')!.size).to.equal(0);
  });

  it('keeps indexes on a map key, a scalar and set elements up to date', () => {
    const c = cache({ Interface: ['name', 'external_ids'], Port: ['name', 'interfaces'] });
    const byIface = c.tables.get('Interface')!.addIndex({ table: 'Interface', column: 'external_ids', key: 'iface-id' });
    const byName = c.tables.get('Port')!.addIndex({ table: 'Port', column: 'name' });
    const byMember = c.tables.get('Port')!.addIndex({ table: 'Port', column: 'interfaces' });
    c.applyUpdate2({
      Interface: { [U1]: { insert: { name: 'i1', external_ids: ['map', [['iface-id', 'vm-a']]] } }, [U2]: { insert: { name: 'i2' } } },
      Port: { [P1]: { insert: { name: 'p1', interfaces: uuid(U1) } } },
    });
    expect(byIface.get('vm-a')?._uuid).to.equal(U1);
    expect(byIface.size).to.equal(1);
    expect(byName.get('p1')?._uuid).to.equal(P1);
    expect(byMember.get(U1)?._uuid).to.equal(P1);
    c.applyUpdate2({ Interface: { [U1]: { modify: { external_ids: ['map', [['iface-id', 'vm-b']]] } } } });
    expect(byIface.get('vm-a')).to.equal(undefined);
    expect(byIface.get('vm-b')?.name).to.equal('i1');
    c.applyUpdate2({ Port: { [P1]: { modify: { interfaces: ['set', [uuid(U1), uuid(U2)]] } } } });
    expect(byMember.get(U1)).to.equal(undefined);
    expect(byMember.get(U2)?._uuid).to.equal(P1);
    expect(byName.get('p1')?.interfaces).to.deep.equal([U2]);
    c.applyUpdate2({ Port: { [P1]: { delete: null } } });
    expect(byName.get('p1')).to.equal(undefined);
    expect(byMember.size).to.equal(0);
  });

  it('rejects a malformed update without changing anything', () => {
    const c = cache({ Bridge: ['name', 'ports'] });
    c.applyUpdate2({ Bridge: { [U1]: { insert: { name: 'br0' } } } });
    const before = c.tables.get('Bridge')!.get(U1);
    const bad: unknown[] = [
      { Bridge: { [U1]: { modify: { ports: ['set', ['not-a-uuid']] } } } },
      { Bridge: { [U1]: { modify: { name: 'x' } }, [U2]: { modify: { name: 'y' } } } },
      { Bridge: { [U2]: { delete: null } } },
      { Bridge: { [U2]: { frobnicate: {} } } },
      { Port: { [U2]: { insert: {} } } },
      { Bridge: { [U2]: { insert: { nosuch: 1 } } } },
      { Bridge: [] },
      'nope',
    ];
    for (const u of bad) {
      expect(() => c.applyUpdate2(u), JSON.stringify(u)).to.throw(OvsdbProtocolError);
      expect(c.tables.get('Bridge')!.get(U1), JSON.stringify(u)).to.equal(before);
      expect(c.tables.get('Bridge')!.size).to.equal(1);
    }
  });

  it('resyncs to a fresh initial state with the minimal events', () => {
    const c = cache({ Port: ['name', 'tag'] });
    c.applyUpdate2({ Port: { [P1]: { insert: { name: 'a' } }, [P2]: { insert: { name: 'b' } } } });
    const keep = c.tables.get('Port')!.get(P1);
    const ev = c.resync({ Port: { [P1]: { initial: { name: 'a' } }, [P2]: { initial: { name: 'b', tag: 5 } }, [P3]: { initial: { name: 'c' } } } }, 'update2');
    expect(ev.map((e) => `${e.kind}:${(e.row as ReplicaRow).name}`).sort()).to.deep.equal(['insert:c', 'update:b']);
    expect(c.tables.get('Port')!.get(P1)).to.equal(keep);
    const ev2 = c.resync({ Port: { [P3]: { initial: { name: 'c' } } } }, 'update2');
    expect(ev2.map((e) => `${e.kind}:${(e.row as ReplicaRow).name}`).sort()).to.deep.equal(['delete:a', 'delete:b']);
  });

  it('applies set diffs of every size (linear scan for short ones, hashing for long ones) as toggles', () => {
    const setType = schema.tables.get('Bridge')!.columns.get('ports')!.type;
    // A seeded generator: the same cases every run.
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    const id = (i: number): string => `00000000-0000-0000-0000-${i.toString(16).padStart(12, '0')}`;
    for (const size of [0, 1, 5, 100, 3000]) {
      const cur = Array.from({ length: size }, (_, i) => id(i * 2));
      for (const diffLen of [1, 2, 15, 16, 17, 40]) {
        const toggles: string[] = [];
        for (let tries = 0; toggles.length < diffLen; tries++) {
          // Present elements (even ids, removed) and absent ones (odd ids, added), mixed.
          const e = tries > 1000 ? id(size * 2 + 2 * tries + 1) : rnd(2) === 0 && size > 0 ? id(rnd(size) * 2) : id(rnd(size + 50) * 2 + 1);
          if (!toggles.includes(e)) toggles.push(e);
        }
        const got = applyDiff(setType, cur, toggles) as string[];
        const expected = new Set(cur);
        for (const e of toggles) {
          if (expected.has(e)) expected.delete(e);
          else expected.add(e);
        }
        expect(new Set(got), `size ${size}, diff ${diffLen}`).to.deep.equal(expected);
        expect(got, `size ${size}, diff ${diffLen}: no duplicates`).to.have.length(expected.size);
        // Kept elements keep their order, added ones follow; the old value is untouched.
        expect(got.slice(0, cur.length - toggles.filter((e) => cur.includes(e)).length)).to.deep.equal(cur.filter((e) => !toggles.includes(e)));
        expect(cur).to.have.length(size);
      }
    }
    // An empty diff returns the old value itself.
    const same = [id(1)];
    expect(applyDiff(setType, same, [])).to.equal(same);
  });
});
