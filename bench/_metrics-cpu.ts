/**
 * What the metrics cost the agent's CPU (a diagnostic, not a suite): the
 * agent as bin/ovs-agent runs it, in a process of its own, on a real
 * ovs-vswitchd, with `[ovs_agent] metrics_address` unset and set (scraped
 * every 5 s meanwhile, three times Prometheus's default rate), alternated
 * on/off/on/off. Each run: the agent started on BASE ports already plugged;
 * once they are ACTIVE, its CPU time (utime + stime of /proc/PID/stat) is
 * read, SINGLE ports are plugged one every 100 ms and then a burst of BURST
 * in one transaction, the run waits until all are ACTIVE (the status socket
 * asked every 250 ms, alike in both modes), and the CPU time is read again;
 * the ports are unplugged and the agent stopped. The difference is the
 * agent's own CPU for the same workload: the driver's (this process's,
 * ovs-vsctl's, ovs-vswitchd's) is not in it. Each "on" run is compared with
 * the "off" run next to it.
 *
 *     flock /tmp/team/bench.lock node --import tsx bench/_metrics-cpu.ts [RUNS_PER_MODE]
 *     METRICS_CPU_SIZES=4,2,3 node --import tsx bench/_metrics-cpu.ts 1     # the script checked, nothing measured
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStatus } from '../lib/agent/status-client.js';
import { freePort } from '../testing/neutron-env.js';
import { OvsSandbox } from '../testing/sandbox.js';
import { percentile, round } from './report.js';
import { plugArgs, prepareVlanPorts, unplugArgs } from './_vif-args.js';

/** Sizes as measured; METRICS_CPU_SIZES=BASE,SINGLE,BURST to check the script itself on a few ports. */
const [BASE, SINGLE, BURST] = (process.env.METRICS_CPU_SIZES ?? '300,30,100').split(',').map(Number);
const RUNS = Number(process.argv[2] ?? 10);
const SCRAPE_EVERY_MS = 5000;
const BIN = join(import.meta.dirname, '../bin/ovs-agent.ts');
/** USER_HZ: /proc/PID/stat counts clock ticks of 10 ms. */
const TICK_MS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The process's user + system CPU time, in ms. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
const scrape = (url: string) => new Promise<void>((resolve) => {
  get(`${url}/metrics`, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', () => resolve());
});
async function activeCount(socket: string): Promise<number> {
  try {
    return (await readStatus(socket, 10_000)).ports.filter((p) => p.state === 'ACTIVE').length;
  } catch {
    return -1;
  }
}
async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 180_000, stepMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

interface Run { mode: 'on' | 'off'; cpuMs: number; wallMs: number }

const total = BASE + SINGLE + BURST;
const sb = await OvsSandbox.start();
const dir = mkdtempSync(join(tmpdir(), 'bench-metrics-cpu-'));
const runs: Run[] = [];
let child: ChildProcess | undefined;
try {
  const state = await prepareVlanPorts(sb, dir, total, BASE);
  for (let k = 0; k < RUNS * 2; k++) {
    const mode = k % 2 === 0 ? 'on' : 'off';
    const socket = join(dir, `status-${k}.sock`);
    const port = mode === 'on' ? await freePort() : undefined;
    const ini = join(dir, `agent-${k}.ini`);
    writeFileSync(ini, ['[DEFAULT]', 'host = bench', '[ovs]', 'datapath_type = netdev', `ovsdb_connection = ${sb.dbRemote}`, 'bridge_mappings = physnet1:br-eth1',
      '[agent]', 'report_interval = 0', '[securitygroup]', 'firewall_driver = noop',
      '[ovs_agent]', `state_file = ${state}`, `status_socket = ${socket}`, `ovs_rundir = ${sb.rundir}`,
      ...(port ? [`metrics_address = 127.0.0.1:${port}`] : []), ''].join('\n'));
    const c = spawn(process.execPath, ['--import', 'tsx', BIN, '--config-file', ini], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    let scraper: NodeJS.Timeout | undefined;
    try {
      await until('base ports ACTIVE', async () => {
        if (c.exitCode !== null) throw new Error(`the agent exited ${c.exitCode}: ${stderr}`);
        return (await activeCount(socket)) >= BASE;
      });
      await sleep(1000); // the first full sync's tail and the warm-up settle
      if (port) scraper = setInterval(() => void scrape(`http://127.0.0.1:${port}`), SCRAPE_EVERY_MS);
      const cpu0 = cpuMsOf(c.pid!);
      const t0 = performance.now();
      for (let i = BASE; i < BASE + SINGLE; i++) {
        await sb.vsctl(...plugArgs(i, i + 1));
        await sleep(100);
      }
      await sb.vsctl(...plugArgs(BASE + SINGLE, total));
      await until('all ports ACTIVE', async () => (await activeCount(socket)) >= total);
      runs.push({ mode, cpuMs: cpuMsOf(c.pid!) - cpu0, wallMs: performance.now() - t0 });
      console.error(JSON.stringify(runs[runs.length - 1]));
      await sb.vsctl(...unplugArgs(BASE, total));
      await until('unplugged', async () => (await activeCount(socket)) === BASE);
    } finally {
      if (scraper) clearInterval(scraper);
      c.kill('SIGTERM');
      await new Promise((r) => (c.exitCode !== null ? r(undefined) : c.once('exit', r)));
      child = undefined;
    }
  }
} finally {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
}

const of = (mode: Run['mode'], k: 'cpuMs' | 'wallMs') => runs.filter((r) => r.mode === mode).map((r) => r[k]);
const out: Record<string, unknown> = { runsPerMode: RUNS, base: BASE, single: SINGLE, burst: BURST, tickMs: TICK_MS };
for (const k of ['cpuMs', 'wallMs'] as const) {
  const diffs: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) diffs.push(runs[i][k] / runs[i + 1][k] - 1);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  out[k] = {
    off: round(percentile(of('off', k), 50), 1), on: round(percentile(of('on', k), 50), 1),
    meanOff: round(mean(of('off', k)), 1), meanOn: round(mean(of('on', k)), 1),
    rangeOff: `${round(Math.min(...of('off', k)), 1)}..${round(Math.max(...of('off', k)), 1)}`,
    rangeOn: `${round(Math.min(...of('on', k)), 1)}..${round(Math.max(...of('on', k)), 1)}`,
    pairDiffMedianPct: round(100 * percentile(diffs, 50), 2),
    pairDiffP25P75Pct: [round(100 * percentile(diffs, 25), 2), round(100 * percentile(diffs, 75), 2)],
    pairDiffMinMaxPct: [round(100 * Math.min(...diffs), 2), round(100 * Math.max(...diffs), 2)],
  };
}
out.runs = runs;
console.log(JSON.stringify(out, null, 2));
process.exit(0);
