/**
 * `npm run bench -- ovsdb-cluster [--quick]`: the clustered case of the
 * ovsdb suite alone (bench/_ovsdb-cluster.ts): N ports in one transaction
 * against a 3-member Raft cluster, ours against the Python IDL.
 */
import type { BenchSuite } from './report.js';
import { newResult } from './report.js';
import { clusteredPorts } from './_ovsdb-cluster.js';

const suite: BenchSuite = {
  async run({ quick }) {
    const { metrics, notes } = await clusteredPorts(quick);
    return newResult('ovsdb-cluster', metrics, notes);
  },
};
export default suite;
