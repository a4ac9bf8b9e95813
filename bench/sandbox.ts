/**
 * `npm run bench -- sandbox`: how long a private OVS takes to start and stop.
 * Every other suite pays this once; it is also a smoke test of the harness.
 */
import { OvsSandbox } from '../testing/sandbox.js';
import type { BenchSuite } from './report.js';
import { metric, newResult, repeat, timeIt } from './report.js';

const suite: BenchSuite = {
  async run({ quick }) {
    const n = quick ? 3 : 5;
    const start: number[] = [];
    const stop = await repeat(n, async () => {
      let sb: OvsSandbox | undefined;
      start.push(await timeIt(async () => (sb = await OvsSandbox.start())));
      return timeIt(() => sb!.stop());
    });
    return newResult('sandbox', [
      metric({ metric: 'sandbox_start', unit: 's', ours: start, target: '<= 2' }),
      metric({ metric: 'sandbox_stop', unit: 's', ours: stop, target: '<= 2' }),
    ]);
  },
};
export default suite;
