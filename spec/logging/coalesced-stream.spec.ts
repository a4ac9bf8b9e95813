/**
 * Lines to standard output or error leave as one write per event-loop turn
 * (lib/logging/coalesced-stream.ts): a pass that logs 10,000 ports' transitions
 * no longer makes one blocking write to a pipe per line.
 */
import { expect } from 'chai';
import { createLogger } from '../../lib/log.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Replaces process.stderr.write for the test's duration, recording each call's text. */
function spyStderr(): { writes: string[]; restore: () => void } {
  const writes: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  return { writes, restore: () => { process.stderr.write = original; } };
}

describe('logging: lines to standard error', () => {
  it('1,000 INFO lines in one turn of the event loop: one write per 64 KiB, every line in order', async () => {
    const spy = spyStderr();
    try {
      const log = createLogger({ stderr: true, json: true });
      for (let i = 0; i < 1000; i++) log.info(`port p${i} is ACTIVE`, { port_id: `p${i}` });
      await tick();
      await log.close();
      const total = spy.writes.reduce((n, w) => n + w.length, 0);
      expect(spy.writes.length).to.be.at.most(Math.ceil(total / 65536));
      for (const w of spy.writes.slice(0, -1)) expect(w.length).to.be.at.least(65536);
      const lines = spy.writes.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message: string; extra: { port_id: string } });
      expect(lines.map((l) => l.message)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => `port p${i} is ACTIVE`));
      expect(lines[999]!.extra.port_id).to.equal('p999');
    } finally {
      spy.restore();
    }
  });

  it('more than 64 KiB waiting goes out at once, without waiting for the turn to end; close() writes the rest', async () => {
    const spy = spyStderr();
    try {
      const log = createLogger({ stderr: true });
      const long = 'x'.repeat(1000);
      for (let i = 0; i < 100; i++) log.info(`${i} ${long}`);
      expect(spy.writes.length).to.equal(1);
      await log.close();
      const lines = spy.writes.join('').split('\n').filter(Boolean);
      expect(lines).to.have.length(100);
      expect(lines[99]).to.contain(`INFO ovs_agent [-] 99 ${long}`);
    } finally {
      spy.restore();
    }
  });

  it('a line below the level writes nothing', async () => {
    const spy = spyStderr();
    try {
      const log = createLogger({ stderr: true });
      log.debug('not shown');
      await tick();
      await log.close();
      expect(spy.writes).to.deep.equal([]);
    } finally {
      spy.restore();
    }
  });
});
