import { expect } from 'chai';
import { VifRegistry, startupOrder, type TrackedVif, type VifEvent } from '../../lib/agent/vif-registry.js';

const vif = (name: string, portId: string, ofport: number, place: TrackedVif['place'] = 'int'): TrackedVif =>
  ({ name, portId, ofport, mac: 'fa:16:3e:00:00:01', place });
const kinds = (events: VifEvent[]) => events.map((e) => {
  switch (e.kind) {
    case 'carrier': return `carrier ${e.portId} ${e.vif.name}${e.previous ? ` (was ${e.previous.name})` : ''}`;
    case 'gone': return `gone ${e.portId} (was ${e.previous.name})`;
    case 'duplicate': return `duplicate ${e.vif.name} of ${e.carrier.name}`;
    case 'duplicate-gone': return `duplicate-gone ${e.vif.name}`;
  }
});

describe('VifRegistry: one carrier per port id', () => {
  it('the first interface carries a port id, later ones are duplicates, and a duplicate going changes nothing else', () => {
    const r = new VifRegistry();
    expect(kinds(r.note(vif('tap1', 'p1', 1)))).to.deep.equal(['carrier p1 tap1']);
    expect(kinds(r.note(vif('tap1', 'p1', 1))), 'the same row again').to.deep.equal([]);
    expect(kinds(r.note(vif('tap1b', 'p1', 2)))).to.deep.equal(['duplicate tap1b of tap1']);
    expect(r.carrier('p1')?.name).to.equal('tap1');
    expect(r.isDuplicate('tap1b')).to.equal(true);
    expect(kinds(r.forget('tap1b'))).to.deep.equal(['duplicate-gone tap1b']);
    expect(r.carrier('p1')?.name).to.equal('tap1');
    expect(kinds(r.forget('tap1'))).to.deep.equal(['gone p1 (was tap1)']);
    expect(r.size).to.deep.equal({ interfaces: 0, portIds: 0 });
  });

  it('the carrier going hands the port id to the oldest remaining claimant', () => {
    const r = new VifRegistry();
    r.note(vif('a', 'p', 1));
    r.note(vif('b', 'p', 2));
    r.note(vif('c', 'p', 3));
    expect(kinds(r.forget('a'))).to.deep.equal(['duplicate-gone b', 'carrier p b (was a)']);
    expect([...r.duplicates()].map((v) => v.name)).to.deep.equal(['c']);
    expect(kinds(r.forget('b'))).to.deep.equal(['duplicate-gone c', 'carrier p c (was b)']);
  });

  it('an iface-id changed to another port\'s id leaves the old port and becomes a duplicate; changed back, it carries its own again', () => {
    const r = new VifRegistry();
    r.note(vif('tap6', 'p6', 6));
    r.note(vif('tap7', 'p7', 7));
    expect(kinds(r.note(vif('tap7', 'p6', 7)))).to.deep.equal(['gone p7 (was tap7)', 'duplicate tap7 of tap6']);
    expect(kinds(r.note(vif('tap7', 'p7', 7)))).to.deep.equal(['duplicate-gone tap7', 'carrier p7 tap7']);
  });

  it('a new ofport re-wires the carrier, or re-kills the duplicate', () => {
    const r = new VifRegistry();
    r.note(vif('a', 'p', 1));
    r.note(vif('b', 'p', 2));
    expect(kinds(r.note(vif('a', 'p', 11)))).to.deep.equal(['carrier p a (was a)']);
    expect(kinds(r.note(vif('b', 'p', 12)))).to.deep.equal(['duplicate b of a']);
  });

  it('holds nothing of interfaces that are gone, however many came and went', () => {
    const r = new VifRegistry();
    for (let i = 0; i < 10_000; i++) r.note(vif(`t${i}`, `p${i % 97}`, i + 1, i % 3 ? 'int' : 'ancillary'));
    expect(r.size).to.deep.equal({ interfaces: 10_000, portIds: 97 });
    for (let i = 0; i < 10_000; i++) r.forget(`t${(i * 7919) % 10_000}`);
    expect(r.size).to.deep.equal({ interfaces: 0, portIds: 0 });
  });

  it('orders start-up rows so that the interface on a live VLAN (the previous carrier) is noted first', () => {
    const rows = [
      { name: 'dup', ofport: 3, tag: 4095 }, { name: 'untagged', ofport: 1, tag: undefined },
      { name: 'carrier', ofport: 9, tag: 5 }, { name: 'b', ofport: 2, tag: undefined }, { name: 'a', ofport: undefined, tag: undefined },
    ];
    expect(startupOrder(rows).map((v) => v.name)).to.deep.equal(['carrier', 'untagged', 'b', 'dup', 'a']);
  });
});
