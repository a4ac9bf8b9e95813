/**
 * `npm run bench -- NAME [--quick]`: runs bench/NAME.ts, prints a table and
 * writes bench/results/NAME.json (docs/benchmarks.md, "Results").
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './report.js';
import { printTable, writeResults } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'report.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('-'));
const quick = args.includes('--quick');
if (!name || !suites.includes(name)) {
  console.error(`usage: npm run bench -- NAME [--quick]\nsuites: ${suites.join(', ') || '(none)'}`);
  process.exit(2);
}
const mod = (await import(join(here, `${name}.ts`))) as { default: BenchSuite };
const start = loadavg().map((v) => Math.round(v * 100) / 100);
const result = await mod.default.run({ quick });
result.machine.loadavg = { start, end: loadavg().map((v) => Math.round(v * 100) / 100) };
printTable(result);
const file = writeResults(result);
console.log(`\nwrote ${file}`);
process.exit(0);
