/**
 * A FlowMonitor as an async iterator, against a real ovs-vswitchd: another
 * client (ovs-ofctl) changes flows; `for await` sees each change in order,
 * ends on cancel, on the signal and on the owner's close, throws when the
 * session is lost, and fails with a typed error when the consumer falls
 * behind its bound.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectSwitch, type FlowMonitor, type FlowUpdate, type OpenFlowSwitch } from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { sandboxWithBridge, until } from './helpers.js';

/** An update as `event cookie`, enough to compare sequences. */
const brief = (u: FlowUpdate): string => (u.event === 'abbrev' ? `abbrev ${u.xid}` : `${u.event} ${u.cookie}`);

describe('FlowMonitor async iteration against ovs-vswitchd @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let sw: OpenFlowSwitch;

  before(async () => {
    sb = await sandboxWithBridge();
  });
  after(async () => {
    await sb?.stop();
  });
  beforeEach(async () => {
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br0');
    sw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: false });
  });
  afterEach(async () => {
    await sw?.close();
  });

  /** Collects what `for await` yields until the loop ends; `error` is what it threw, if anything. */
  function collect(iterable: AsyncIterable<FlowUpdate>): { seen: string[]; done: Promise<{ error?: unknown }> } {
    const seen: string[] = [];
    const done = (async () => {
      try {
        for await (const u of iterable) seen.push(brief(u));
        return {};
      } catch (error) {
        return { error };
      }
    })();
    return { seen, done };
  }

  it('yields every add, modify and delete by another client in order, and ends when the monitor is cancelled', async () => {
    const mon: FlowMonitor = await sw.monitorFlows({ initial: false });
    const it = collect(mon);
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'cookie=0x1,priority=5,in_port=1,actions=output:2');
    await sb.ofctl('-O', 'OpenFlow13', 'mod-flows', 'br0', 'in_port=1,actions=drop');
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br0', 'in_port=1');
    await until(() => (it.seen.length >= 3 ? true : undefined), `3 updates (have ${it.seen.length})`);
    mon.cancel();
    expect(await it.done).to.deep.equal({});
    expect(it.seen).to.deep.equal(['added 1', 'modified 1', 'deleted 1']);
  });

  it('keeps updates that come while the consumer is busy, in order, and two loops each see all', async () => {
    const mon = await sw.monitorFlows({ initial: false });
    const slow: string[] = [];
    const slowDone = (async () => {
      for await (const u of mon.updates()) {
        slow.push(brief(u));
        // A consumer busy elsewhere: a whole batch of updates arrives meanwhile.
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const fast = collect(mon);
    const N = 300;
    const file = join(sb.dir, 'iter-flows.txt');
    writeFileSync(file, Array.from({ length: N }, (_, i) => `cookie=0x${(i + 1).toString(16)},priority=10,tcp,tp_dst=${i + 1},actions=output:2\n`).join(''));
    await sb.ofctl('-O', 'OpenFlow13', 'add-flows', 'br0', file);
    await until(() => (slow.length >= N ? true : undefined), `${N} updates in the slow loop (have ${slow.length})`);
    mon.cancel();
    await slowDone;
    await fast.done;
    const want = Array.from({ length: N }, (_, i) => `added ${i + 1}`);
    expect([...slow].sort()).to.deep.equal([...want].sort());
    expect(fast.seen).to.deep.equal(slow);
  });

  it('ends the iteration, not the monitor, when the signal aborts', async () => {
    const mon = await sw.monitorFlows({ initial: false });
    const ac = new AbortController();
    const it = collect(mon.updates({ signal: ac.signal }));
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'cookie=0x2,priority=5,in_port=2,actions=drop');
    await until(() => (it.seen.length >= 1 ? true : undefined), 'the add');
    ac.abort();
    expect(await it.done).to.deep.equal({});
    // The monitor runs on: a new loop sees the next change.
    const again = collect(mon);
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br0');
    await until(() => (again.seen.length >= 1 ? true : undefined), 'the delete in the second loop');
    expect(it.seen).to.deep.equal(['added 2']);
    expect(again.seen).to.deep.equal(['deleted 2']);
    // An already aborted signal yields nothing.
    expect(await mon.updates({ signal: AbortSignal.abort() }).next()).to.deep.equal({ value: undefined, done: true });
  });

  it('fails with OF_CONN_MONITOR_OVERFLOW when the consumer falls more than maxBuffered updates behind', async () => {
    const mon = await sw.monitorFlows({ initial: false });
    const iterator = mon.updates({ maxBuffered: 10 });
    const file = join(sb.dir, 'overflow-flows.txt');
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => `cookie=0x${(i + 1).toString(16)},priority=10,udp,tp_dst=${i + 1},actions=output:2\n`).join(''));
    let received = 0;
    mon.on('update', () => received++);
    await sb.ofctl('-O', 'OpenFlow13', 'add-flows', 'br0', file);
    await until(() => (received >= 50 ? true : undefined), 'the 50 updates delivered');
    // The 10 queued before the bound are still yielded; then the error.
    const got: string[] = [];
    let error: unknown;
    try {
      for (;;) {
        const r = await iterator.next();
        if (r.done) break;
        got.push(brief(r.value));
      }
    } catch (e) {
      error = e;
    }
    expect(got).to.have.length(10);
    expect(error).to.have.property('code', 'OF_CONN_MONITOR_OVERFLOW');
    expect(await iterator.next()).to.deep.equal({ value: undefined, done: true });
  });

  it('ends when the owner closes the switch, and throws OF_CONN_DISCONNECTED when the session is lost', async () => {
    const mon = await sw.monitorFlows({ initial: false });
    const it = collect(mon);
    await sw.close();
    expect(await it.done).to.deep.equal({});

    const other = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: false });
    try {
      const lost = collect(await other.monitorFlows({ initial: false }));
      // Another process takes the bridge's management socket away: OVS drops every session on it.
      await sb.vsctl('del-br', 'br0');
      const { error } = await lost.done;
      expect(error).to.have.property('code', 'OF_CONN_DISCONNECTED');
    } finally {
      await other.close();
      await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13,OpenFlow14',
        '--', 'add-port', 'br0', 'p1', '--', 'set', 'interface', 'p1', 'type=dummy', 'ofport_request=1',
        '--', 'add-port', 'br0', 'p2', '--', 'set', 'interface', 'p2', 'type=dummy', 'ofport_request=2');
    }
  });
});
