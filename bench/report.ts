/**
 * The shape of benchmark results (docs/benchmarks.md, "Results") and the helpers
 * every suite uses: repeat a measurement, summarise it, compare with a peer.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Summary {
  min: number;
  median: number;
  max: number;
}

/** A target: "<= 1.2" on the ratio when there is a peer, on the value otherwise. */
export interface Target {
  op: '<=' | '<' | '>=' | '>';
  value: number;
}

export interface Metric {
  metric: string;
  unit: string;
  ours: Summary;
  peer?: string;
  peer_value?: Summary;
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export interface SuiteResult {
  suite: string;
  date: string;
  machine: {
    cpus: number; node: string; ovs: string;
    /** The machine's 1, 5 and 15-minute load averages as the run started and ended (bench/run.ts): others' work shares the cores. */
    loadavg?: { start: number[]; end: number[] };
  };
  metrics: Metric[];
  notes?: string[];
}

export interface BenchSuite {
  run(opts: { quick: boolean }): Promise<SuiteResult>;
}

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1] };
}

/** p-th percentile (0..100) by nearest rank. */
export function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

function parseTarget(t: string): Target {
  const m = /^\s*(<=|>=|<|>)\s*([0-9.eE+-]+)\s*$/.exec(t);
  if (!m) throw new Error(`bad target ${JSON.stringify(t)}: want e.g. "<= 1.2"`);
  return { op: m[1] as Target['op'], value: Number(m[2]) };
}

function meets(value: number, t: Target): boolean {
  switch (t.op) {
    case '<=': return value <= t.value;
    case '<': return value < t.value;
    case '>=': return value >= t.value;
    case '>': return value > t.value;
  }
}

/**
 * Builds a metric. With a peer, `target` applies to ours/peer on medians;
 * without, to our median. `met` is always computed, never given.
 */
export function metric(m: {
  metric: string;
  unit: string;
  ours: number[];
  peer?: { name: string; samples: number[] };
  target?: string;
  note?: string;
}): Metric {
  const ours = summarize(m.ours);
  const out: Metric = { metric: m.metric, unit: m.unit, ours };
  let judged = ours.median;
  if (m.peer) {
    out.peer = m.peer.name;
    out.peer_value = summarize(m.peer.samples);
    out.ratio = round(ours.median / out.peer_value.median, 4);
    judged = out.ratio;
  }
  if (m.target) {
    out.target = m.target;
    out.met = meets(judged, parseTarget(m.target));
  }
  if (m.note) out.note = m.note;
  return out;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function machineInfo(): SuiteResult['machine'] {
  let ovs = 'unknown';
  try {
    ovs = /\d+\.\d+\.\d+/.exec(execFileSync('ovs-vswitchd', ['--version'], { encoding: 'utf8' }))?.[0] ?? ovs;
  } catch {
    // not installed
  }
  return { cpus: cpus().length, node: process.version, ovs };
}

export function newResult(suite: string, metrics: Metric[], notes?: string[]): SuiteResult {
  return { suite, date: new Date().toISOString(), machine: machineInfo(), metrics, ...(notes ? { notes } : {}) };
}

/** Repeats an async measurement `n` times; returns the values it produced. */
export async function repeat(n: number, f: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f(i));
  return out;
}

/** Seconds elapsed while `f` runs. */
export async function timeIt(f: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const fmt = (x: number | undefined): string => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

export function printTable(r: SuiteResult): void {
  const rows = [['metric', 'unit', 'ours (median [min-max])', 'peer', 'peer median', 'ratio', 'target', 'met']];
  for (const m of r.metrics) {
    rows.push([
      m.metric,
      m.unit,
      `${fmt(m.ours.median)} [${fmt(m.ours.min)}-${fmt(m.ours.max)}]`,
      m.peer ?? '',
      fmt(m.peer_value?.median),
      fmt(m.ratio),
      m.target ?? '',
      m.met === undefined ? '' : m.met ? 'yes' : 'NO',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  console.log(`\n${r.suite} (${r.date}, ${r.machine.cpus} cpus, node ${r.machine.node}, ovs ${r.machine.ovs})`);
  for (const [i, row] of rows.entries()) {
    console.log(row.map((c, j) => c.padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (const n of r.notes ?? []) console.log(`note: ${n}`);
}

export function writeResults(r: SuiteResult): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.suite}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
