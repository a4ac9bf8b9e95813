/**
 * Our side of the fresh-process measurements of `npm run bench -- ovsdb`,
 * run as its own (bundled, plain JS) node process like the Python peer is:
 * connect a replica of the Interface table, time until it holds the initial
 * dump, then report the process's RSS; with IDLE_SECONDS, stay idle that
 * long and report the RSS again (what a long-running agent holding the
 * replica keeps resident once V8's memory reducer has returned the dump's
 * transient heap).
 *
 *   [OVSDB_PEER_COLUMNS=a,b,c] node --expose-gc ovsdb_replica_peer.mjs REMOTE EXPECTED_INTERFACES [IDLE_SECONDS]
 */
import { readFileSync } from 'node:fs';
import type { Interface } from '@ovs-agent/ovsdb';
import { Replica } from '@ovs-agent/ovsdb';

const [remote, expected, idle] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
// OVSDB_PEER_COLUMNS=a,b,c: only those columns (as the agent replicates Interface), as the Python peer does.
const columns = process.env.OVSDB_PEER_COLUMNS?.split(',');
const r = await Replica.start<{ Interface: Interface }>({ remote, tables: { Interface: columns ? { columns } : true } });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const rows = r.table('Interface').size;
if (rows < Number(expected)) throw new Error(`replica holds ${rows} interfaces, expected ${expected}`);
const rssKib = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
// Let the garbage of decoding go before reading RSS.
(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();
const out: Record<string, number> = {
  seconds,
  cpu_seconds: cpuSeconds,
  rows,
  rss_kib: rssKib(),
  heap_used_kib: mem.heapUsed >> 10,
  heap_total_kib: mem.heapTotal >> 10,
  external_kib: mem.external >> 10,
};
if (idle !== undefined) {
  // Idle, as an agent between events: no forced GC, V8 decides what to give back.
  await new Promise((resolve) => setTimeout(resolve, Number(idle) * 1000));
  out.rss_idle_kib = rssKib();
  out.heap_total_idle_kib = process.memoryUsage().heapTotal >> 10;
  if (r.table('Interface').size !== rows) throw new Error('the replica changed while idle');
}
console.log(JSON.stringify(out));
await r.close();
process.exit(0);
