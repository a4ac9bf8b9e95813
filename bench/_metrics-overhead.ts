/**
 * What the metrics cost a pass (a diagnostic, not a suite): the same agent
 * wiring on a real ovs-vswitchd with `[ovs_agent] metrics_address` unset
 * and set (scraped every 5 s meanwhile, three times Prometheus's default rate),
 * alternated on/off/on/off..., each neighbouring pair compared, so that drift
 * on a shared machine falls on both sides of a pair. Each run: an agent started on BASE ports already plugged, then
 * SINGLE ports plugged one at a time and a burst of BURST in one
 * transaction, then those unplugged again (every run sees the same bridge).
 * Per run: the median of the single ports' ready → ACTIVE, the median pass
 * time (sum of its phases, sub-ms) of the single-port passes, and the burst's
 * last ready → last ACTIVE, and this process's CPU time (user + system) over
 * both: the agent runs in this process, so that is the agent's CPU, plus the
 * driver's polling, alike in both modes (ovs-vswitchd's and ovs-vsctl's are
 * not counted). Printed: per mode the median, mean and range; per pair the
 * relative difference on/off, its median, quartiles and extremes. Then the
 * observer's own cost, alone: AgentMetrics.pass() for a one-port pass summary
 * and one scrape, timed over many calls.
 *
 *     flock /tmp/team/bench.lock node --import tsx bench/_metrics-overhead.ts [RUNS_PER_MODE]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PassSummary } from '../lib/agent/agent.js';
import { runAgent, type RunningAgent } from '../lib/agent/run.js';
import { newSummary } from '../lib/agent/pass.js';
import { loadConfig } from '../lib/config/index.js';
import { silentLogger } from '../lib/log.js';
import { AgentMetrics } from '../lib/observe/metrics.js';
import { Sessions } from '../lib/observe/sessions.js';
import { OvsSandbox } from '../testing/sandbox.js';
import { percentile, round } from './report.js';
import { plugArgs, portId, prepareVlanPorts, unplugArgs } from './_vif-args.js';
import { get } from 'node:http';

const BASE = 300;
const SINGLE = 30;
const BURST = 100;
const RUNS = Number(process.argv[2] ?? 4);
/** A third of Prometheus's default scrape interval (15 s). */
const SCRAPE_EVERY_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
const scrape = (url: string) => new Promise<void>((resolve, reject) => {
  get(`${url}/metrics`, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', reject);
});

interface Run { mode: 'off' | 'on'; singleP50: number; passP50: number; burstMs: number; cpuMs: number }

const total = BASE + SINGLE + BURST;
const sb = await OvsSandbox.start();
const dir = mkdtempSync(join(tmpdir(), 'bench-metrics-'));
const runs: Run[] = [];
try {
  const state = await prepareVlanPorts(sb, dir, total, BASE);
  // on off on off...: each pair of neighbours shares the machine's load of the moment (compared pair by pair below).
  const order = Array.from({ length: RUNS * 2 }, (_, k) => (['on', 'off'] as const)[k % 2]);
  for (const mode of order) {
    const config = loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs_agent.state_file': state, 'ovs_agent.ovs_rundir': sb.rundir, 'agent.report_interval': 0, 'DEFAULT.host': 'bench',
      'securitygroup.firewall_driver': 'noop', ...(mode === 'on' ? { 'ovs_agent.metrics_address': '0' } : {}),
    } }).config;
    const passes: PassSummary[] = [];
    const running: RunningAgent = await runAgent({ config, logger: silentLogger, statusSocket: false, onPass: (p) => passes.push(p) });
    let scraper: NodeJS.Timeout | undefined;
    try {
      await until(() => running.agent.status().firstSyncDone && running.agent.portCounts().ACTIVE >= BASE, 'base ports ACTIVE');
      await running.agent.whenIdle();
      if (running.observe) {
        const url = running.observe.server.url;
        scraper = setInterval(() => void scrape(url), SCRAPE_EVERY_MS);
      }
      passes.length = 0;
      const cpu0 = process.cpuUsage();
      const singles: number[] = [];
      for (let i = BASE; i < BASE + SINGLE; i++) {
        await sb.vsctl(...plugArgs(i, i + 1));
        await until(() => running.agent.port(portId(i))?.state === 'ACTIVE', `port ${i}`);
        singles.push(running.agent.port(portId(i))!.wiredInMs!);
      }
      const singlePasses = passes.filter((p) => p.up.length === 1).map((p) => Object.values(p.phases).reduce((a, b) => a + b, 0));
      await sb.vsctl(...plugArgs(BASE + SINGLE, total));
      const ids = Array.from({ length: BURST }, (_, k) => portId(BASE + SINGLE + k));
      await until(() => ids.every((id) => running.agent.port(id)?.state === 'ACTIVE'), 'burst');
      const ports = ids.map((id) => running.agent.port(id)!);
      const burstMs = Math.max(...ports.map((p) => p.readyAt + p.wiredInMs!)) - Math.max(...ports.map((p) => p.readyAt));
      const cpu = process.cpuUsage(cpu0);
      runs.push({ mode, singleP50: percentile(singles, 50), passP50: percentile(singlePasses, 50), burstMs, cpuMs: (cpu.user + cpu.system) / 1000 });
      console.error(JSON.stringify(runs[runs.length - 1]));
      await sb.vsctl(...unplugArgs(BASE, total));
      await until(() => running.agent.portCounts().ACTIVE === BASE, 'unplugged');
      await running.agent.whenIdle();
    } finally {
      if (scraper) clearInterval(scraper);
      await running.stop();
    }
  }
} finally {
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
}

// The observer alone: one pass of one port, and a scrape, with the agent's figures stubbed.
const metrics = new AgentMetrics();
metrics.bind({
  facts: () => ({ ports: { ACTIVE: BASE, WAITING: 0, DEAD: 0, DOWN: 0, FAILED: 0 }, localVlans: 1, flows: [{ bridge: 'br-int', byOwner: [['setup', 12], ['net:n', 8]] }],
    flowModsSent: 1000, bundlesSent: new Map([['br-int', 100]]), driftRepaired: new Map([['br-int', 0]]) }),
  readiness: () => ({ ready: true, firstSyncDone: true, reasons: [], sessions: [] }),
}, new Sessions());
const summary = newSummary();
summary.up.push('p');
summary.wiredMs.push(3.2);
Object.assign(summary.phases, { details: 0.2, compute: 0.1, flows: 1.5, tags: 0.8, report: 0.05 });
const N = 200_000;
let t0 = performance.now();
for (let i = 0; i < N; i++) metrics.pass(summary);
const passUs = (performance.now() - t0) * 1000 / N;
t0 = performance.now();
for (let i = 0; i < 200; i++) await metrics.scrape();
const scrapeMs = (performance.now() - t0) / 200;
metrics.close();

const med = (mode: Run['mode'], k: keyof Omit<Run, 'mode'>) => percentile(runs.filter((r) => r.mode === mode).map((r) => r[k]), 50);
const out: Record<string, unknown> = { runsPerMode: RUNS, base: BASE, single: SINGLE, burst: BURST };
for (const k of ['singleP50', 'passP50', 'burstMs', 'cpuMs'] as const) {
  const mean = (mode: Run['mode']) => { const v = runs.filter((r) => r.mode === mode).map((r) => r[k]); return v.reduce((a, b) => a + b, 0) / v.length; };
  // Pair by pair (run 2i with metrics on, run 2i+1 off): the relative difference, its median and spread.
  const diffs: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) diffs.push(runs[i][k] / runs[i + 1][k] - 1);
  const spreadOf = (mode: Run['mode']) => {
    const v = runs.filter((r) => r.mode === mode).map((r) => r[k]);
    return `${round(Math.min(...v), 3)}..${round(Math.max(...v), 3)}`;
  };
  out[k] = {
    off: round(med('off', k), 3), on: round(med('on', k), 3), ratio: round(med('on', k) / med('off', k), 4),
    meanOff: round(mean('off'), 3), meanOn: round(mean('on'), 3), meanRatio: round(mean('on') / mean('off'), 4),
    rangeOff: spreadOf('off'), rangeOn: spreadOf('on'),
    pairDiffMedianPct: round(100 * percentile(diffs, 50), 2),
    pairDiffP25P75Pct: [round(100 * percentile(diffs, 25), 2), round(100 * percentile(diffs, 75), 2)],
    pairDiffMinMaxPct: [round(100 * Math.min(...diffs), 2), round(100 * Math.max(...diffs), 2)],
  };
}
out.observerPassUs = round(passUs, 3);
out.scrapeMs = round(scrapeMs, 3);
out.runs = runs;
console.log(JSON.stringify(out, null, 2));
process.exit(0);
