import { expect } from 'chai';
import { DeviceReporter, type ReportedBatch } from '../../lib/agent/device-reporter.js';

/** A control plane whose calls the test answers one by one. */
function harness(maxInFlight?: number) {
  const calls: Array<{ up: string[]; down: string[]; answer: () => void; fail: (e: Error) => void }> = [];
  const reported: ReportedBatch[] = [];
  const failures: number[] = [];
  const r = new DeviceReporter({
    send: (up, down) => new Promise((resolve, reject) => {
      calls.push({ up, down, answer: () => resolve({ failedUp: [], failedDown: [] }), fail: reject });
    }),
    onReported: (b) => reported.push(b),
    onFailed: (_e, ports) => failures.push(ports),
    retryBaseMs: 5,
    maxInFlight,
  });
  return { r, calls, reported, failures };
}
const tick = () => new Promise((res) => setImmediate(res));

describe('DeviceReporter', () => {
  it('sends the ports reported in one synchronous loop as one call', async () => {
    const { r, calls } = harness();
    for (let i = 0; i < 50; i++) r.report(`p${i}`, i % 5 ? 'up' : 'down');
    expect(r.idle).to.equal(false);
    await tick();
    expect(calls).to.have.length(1);
    expect(calls[0].up).to.have.length(40);
    expect(calls[0].down).to.have.length(10);
  });

  it('keeps at most maxInFlight calls out and sends the rest as answers come', async () => {
    const { r, calls, reported } = harness(2);
    for (let i = 0; i < 4; i++) {
      r.report(`p${i}`, 'up');
      await tick();
    }
    expect(calls.map((c) => c.up)).to.deep.equal([['p0'], ['p1']]);
    calls[0].answer();
    await tick();
    expect(calls.map((c) => c.up)).to.deep.equal([['p0'], ['p1'], ['p2', 'p3']]);
    calls[1].answer();
    calls[2].answer();
    await tick();
    expect(reported.map((b) => b.up)).to.deep.equal([['p0'], ['p1'], ['p2', 'p3']]);
    expect(r.idle).to.equal(true);
  });

  it('never has one port in two calls; its latest status wins while it waits', async () => {
    const { r, calls } = harness();
    r.report('a', 'up');
    await tick();
    r.report('a', 'down');
    r.report('a', 'up');
    r.report('a', 'down');
    await tick();
    expect(calls).to.have.length(1);
    expect(r.pending('a')).to.equal('down');
    expect(r.superseded('a', 'up')).to.equal(true);
    calls[0].answer();
    await tick();
    expect(calls.map((c) => [c.up, c.down])).to.deep.equal([[['a'], []], [[], ['a']]]);
  });

  it('queues a failed call again behind newer statuses and retries it with backoff', async () => {
    const { r, calls, failures, reported } = harness();
    r.report('a', 'up');
    r.report('b', 'up');
    await tick();
    r.report('b', 'down');
    calls[0].fail(new Error('timeout'));
    await tick();
    expect(failures).to.deep.equal([2]);
    await new Promise((res) => setTimeout(res, 20));
    expect(calls).to.have.length(2);
    expect(calls[1].up).to.deep.equal(['a']);
    expect(calls[1].down).to.deep.equal(['b']);
    calls[1].answer();
    await tick();
    expect(reported).to.have.length(1);
    expect(r.idle).to.equal(true);
  });
});
