/**
 * The one flow ledger: owners' flows diffed into the minimal changes, shared
 * flows kept while anyone wants them, in-flight changes that race with new
 * wishes, and adoption of what a switch already holds.
 */
import { expect } from 'chai';
import { apply, DROP, gotoTable, NORMAL, output, resubmit } from '../../lib/flows/actions.js';
import { flow, keyText, matchOfKey, type DesiredFlow } from '../../lib/flows/flow.js';
import { FlowTable, type DumpedFlow, type FlowChanges } from '../../lib/flows/flow-table.js';
import { dlVlan, inPort, reg } from '../../lib/flows/match.js';

const COOKIE = 0xabcn;

const f = (table: number, priority: number, port: number, out: number): DesiredFlow =>
  flow(table, priority, [inPort(port)], apply(output(out)));

const texts = (c: FlowChanges) => ({
  adds: c.adds.map((x) => keyText(x.key)).sort(),
  deletes: c.deletes.map(keyText).sort(),
});

function dumped(x: DesiredFlow, cookie = COOKIE, hardTimeout = 0): DumpedFlow {
  return {
    tableId: x.key.charCodeAt(0), priority: (x.key.charCodeAt(1) << 8) | x.key.charCodeAt(2), match: matchOfKey(x.key),
    instructions: [...x.instructions], cookie, idleTimeout: 0, hardTimeout,
  };
}

describe('FlowTable (lib/flows)', () => {
  it('sends an owner\'s new flows, then only its differences', () => {
    const t = new FlowTable('br-int', COOKIE);
    t.replace('port:a', [f(0, 10, 1, 2), f(0, 10, 3, 4)]);
    let c = t.takeChanges();
    expect(texts(c)).to.deep.equal({ adds: ['priority=10,in_port=1', 'priority=10,in_port=3'], deletes: [] });
    t.commit(c);
    expect(t.takeChanges()).to.deep.equal({ adds: [], deletes: [] });

    // Same flows rebuilt (new objects): nothing. One changed, one gone, one new.
    t.replace('port:a', [f(0, 10, 1, 2), f(0, 10, 3, 9), f(0, 10, 5, 6)]);
    t.replace('port:a', [f(0, 10, 3, 9), f(0, 10, 5, 6)]);
    c = t.takeChanges();
    expect(texts(c)).to.deep.equal({
      adds: ['priority=10,in_port=3', 'priority=10,in_port=5'],
      deletes: ['priority=10,in_port=1'],
    });
    t.commit(c);
    t.remove('port:a');
    expect(texts(t.takeChanges()).deletes).to.have.length(2);
    expect(t.size).to.equal(0);
  });

  it('keeps a flow two owners want until the last one lets go, with the first claimant\'s actions', () => {
    const t = new FlowTable('br-int', COOKIE);
    const shared = flow(72, 50, [reg(5, 1)], DROP);
    t.replace('a', [shared]);
    t.replace('b', [flow(72, 50, [reg(5, 1)], apply(NORMAL))]);
    let c = t.takeChanges();
    expect(c.adds).to.have.length(1);
    expect(c.adds[0].instructions).to.equal(DROP);
    t.commit(c);
    t.remove('a');
    c = t.takeChanges();
    expect(c.adds).to.have.length(1, 'b\'s version replaces a\'s');
    expect(c.adds[0].instructions).to.not.equal(DROP);
    t.commit(c);
    t.remove('b');
    expect(t.takeChanges().deletes).to.have.length(1);
  });

  it('a flow unwanted while its add was on its way is deleted next; one wanted again while its delete was is re-added', () => {
    const t = new FlowTable('br-int', COOKIE);
    t.replace('a', [f(0, 1, 1, 1)]);
    const inFlight = t.takeChanges();
    t.remove('a');
    t.commit(inFlight);
    const next = t.takeChanges();
    expect(texts(next)).to.deep.equal({ adds: [], deletes: ['priority=1,in_port=1'] });
    t.replace('a', [f(0, 1, 1, 1)]);
    t.commit(next);
    expect(texts(t.takeChanges()).adds).to.deep.equal(['priority=1,in_port=1']);
  });

  it('a failed bundle leaves everything to be sent again', () => {
    const t = new FlowTable('br-int', COOKIE);
    t.replace('a', [f(0, 1, 1, 1), f(0, 1, 2, 2)]);
    const first = t.takeChanges();
    // not committed
    expect(texts(t.takeChanges())).to.deep.equal(texts(first));
  });

  it('adopts what the switch holds: identical flows with our cookie stay, others are replaced, unclaimed ones go only when told', () => {
    const same = flow(0, 0, [], gotoTable(60));
    const changed = flow(60, 3, [], apply(NORMAL));
    const foreign = flow(24, 0, [], DROP);
    const stale = flow(0, 2, [inPort(7)], DROP);
    const learned = flow(20, 1, [dlVlan(3)], apply(output(4)));
    const t = new FlowTable('br-int', COOKIE);
    t.adopt([
      dumped(same), dumped(flow(60, 3, [], apply(resubmit(71)))), dumped(foreign, 0x1n), dumped(stale), dumped(learned, COOKIE, 300),
    ], { deleteUnwanted: false });
    t.replace('setup', [flow(0, 0, [], gotoTable(60)), changed, flow(24, 0, [], DROP)]);
    let c = t.takeChanges();
    expect(texts(c)).to.deep.equal({ adds: ['table=24, priority=0', 'table=60, priority=3'], deletes: [] });
    t.commit(c);
    expect(t.unclaimedCount).to.equal(1);
    t.deleteUnclaimed();
    c = t.takeChanges();
    expect(texts(c)).to.deep.equal({ adds: [], deletes: ['priority=2,in_port=7'] }, 'the learned flow is the switch\'s own');
    t.commit(c);
    expect(t.pending).to.equal(0);
  });

  it('after the switch lost its tables everything wanted is sent again, from the key', () => {
    const t = new FlowTable('br-int', COOKIE);
    t.replace('a', [flow(0, 3, [inPort(2), dlVlan(100)], apply(output(1)))]);
    const c = t.takeChanges();
    t.commit(c);
    t.forgetInstalled();
    const again = t.takeChanges();
    expect(again.adds).to.have.length(1);
    expect(keyText(again.adds[0].key)).to.equal('priority=3,in_port=2,dl_vlan=100');
  });
});
