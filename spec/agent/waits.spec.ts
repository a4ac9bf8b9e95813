import { expect } from 'chai';
import { Waits, describeWait } from '../../lib/waits.js';

interface Line { level: 'info' | 'warn'; message: string; meta?: Record<string, unknown> }

function recorder(): { lines: Line[]; log: ConstructorParameters<typeof Waits>[0] } {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      info: (message, meta) => lines.push({ level: 'info', message, meta }),
      warn: (message, meta) => lines.push({ level: 'warn', message, meta }),
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('waits on dependencies (lib/waits.ts)', () => {
  it('says what, where, the hint and the last error once the first delay passed, then again later, and lists the wait', async () => {
    const { lines, log } = recorder();
    const waits = new Waits(log, { firstReportMs: 30, maxIntervalMs: 1000 });
    const w = waits.begin('OVSDB', 'unix:/run/db.sock', '[ovs] ovsdb_connection');
    w.note(new Error('connect ENOENT'));
    expect(lines).to.deep.equal([]);
    expect(waits.list().map((i) => [i.what, i.where, i.lastError])).to.deep.equal([['OVSDB', 'unix:/run/db.sock', 'connect ENOENT']]);
    while (lines.length < 2) await sleep(10);
    expect(lines[0].level).to.equal('warn');
    expect(lines[0].message).to.match(/^waiting for OVSDB at unix:\/run\/db\.sock \(\[ovs\] ovsdb_connection\) for [\d.]+ s: connect ENOENT$/);
    expect(lines[1].message).to.match(/^still waiting for OVSDB/);
    // Doubling intervals: the second report comes at least twice the first delay after the first (timers may be late, never ~early).
    expect((lines[1].meta!.waitedMs as number) - (lines[0].meta!.waitedMs as number)).to.be.at.least(2 * 30 - 2);
    w.done();
    expect(lines[2]).to.include({ level: 'info' });
    expect(lines[2].message).to.match(/^OVSDB at unix:\/run\/db\.sock ready after [\d.]+ s$/);
    expect(waits.list()).to.deep.equal([]);
    const n = lines.length;
    await sleep(100);
    expect(lines).to.have.length(n);
  });

  it('says nothing about a dependency that answered before the first report, nor about a cancelled wait', async () => {
    const { lines, log } = recorder();
    const waits = new Waits(log, { firstReportMs: 30 });
    waits.begin('RabbitMQ', 'rabbit://guest:***@127.0.0.1:5672/').done();
    const c = waits.begin('neutron-server', 'RabbitMQ 127.0.0.1:5672');
    c.cancel();
    await sleep(80);
    expect(lines).to.deep.equal([]);
    expect(waits.list()).to.deep.equal([]);
  });

  it('around(): done on success, cancelled (and the error passed on) on failure', async () => {
    const { lines, log } = recorder();
    const waits = new Waits(log, { firstReportMs: 10 });
    expect(await waits.around('x', 'here', undefined, sleep(40).then(() => 7))).to.equal(7);
    expect(lines[0].level).to.equal('warn');
    expect(lines[lines.length - 1]).to.include({ level: 'info' });
    const err = await waits.around('y', 'there', undefined, Promise.reject(new Error('boom'))).catch((e: Error) => e);
    expect((err as Error).message).to.equal('boom');
    expect(waits.list()).to.deep.equal([]);
  });

  it('describes a wait for status with its start time', () => {
    expect(describeWait({ what: 'OVSDB', where: 'tcp:127.0.0.1:6640', since: '2026-01-01T00:00:00.000Z', waitedMs: 12_400 }, { since: true }))
      .to.equal('waiting for OVSDB at tcp:127.0.0.1:6640 since 2026-01-01T00:00:00.000Z (12 s)');
  });
});
