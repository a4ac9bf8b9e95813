/**
 * Our side of the fresh-process measurements of `npm run bench -- ovsdb`,
 * run as its own (bundled) node process like the Python peer is:
 * connect a replica of the Interface table, time until it holds the initial
 * dump, then report the process's RSS.
 *
 *   node ovsdb_replica_peer.mjs REMOTE EXPECTED_INTERFACES
 */
import { readFileSync } from 'node:fs';
import type { Interface } from '../../protocol/ovsdb/models/index.js';
import { Replica } from '../../protocol/ovsdb/replica/index.js';

const [remote, expected] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const r = await Replica.start<{ Interface: Interface }>({ remote, tables: { Interface: true } });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const rows = r.table('Interface').size;
if (rows < Number(expected)) throw new Error(`replica holds ${rows} interfaces, expected ${expected}`);
// Let the garbage of decoding go, as a long-running agent's would, before reading RSS.
(globalThis as { gc?: () => void }).gc?.();
const status = readFileSync('/proc/self/status', 'utf8');
const rssKib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
const mem = process.memoryUsage();
console.log(JSON.stringify({ seconds, cpu_seconds: cpuSeconds, rows, rss_kib: rssKib, heap_used_kib: mem.heapUsed >> 10, heap_total_kib: mem.heapTotal >> 10, external_kib: mem.external >> 10 }));
await r.close();
process.exit(0);
