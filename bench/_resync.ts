/**
 * Driver for one case of bench/agent.ts: the N-port resync after a restart, A/B between
 * agent builds in several checkouts, alternating runs. Records wall time, the agent
 * process's CPU time (utime+stime from /proc) and RSS at its "first full sync done" line.
 *
 *   RESYNC_ROOTS=../old-checkout,. RESYNC_COUNT=10000 RESYNC_ROUNDS=5 node --import tsx bench/_resync.ts
 *
 * A root whose bench/agent.ts passes `--log-json` is run that way (the code before oslo.log);
 * otherwise `--use-json --set DEFAULT.use_stderr=true`. Extra agent args: RESYNC_ARGS (space separated).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OvsSandbox } from '../testing/sandbox.js';
import { SimulatedVswitchd } from '../testing/simulated-vswitchd.js';

const NET = 'bench-net-vlan';
const portId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
function mac(i: number): string {
  const h = i.toString(16).padStart(6, '0');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}
const ifname = (i: number) => `tap${i.toString(16).padStart(8, '0')}`;

function writeState(file: string, count: number): void {
  writeFileSync(file, JSON.stringify({
    networks: [{ id: NET, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
    ports: Array.from({ length: count }, (_, i) => ({
      id: portId(i), mac: mac(i), network: NET, securityGroups: [], portSecurityEnabled: false,
      fixedIps: [{ ipAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
    })),
    securityGroups: {},
  }));
}

interface Sample { wallMs: number; cpuMs: number; rssMb: number; active: number; flowMods: number; lines: number }

function procStat(pid: number): { cpuMs: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 (utime, stime) in clock ticks; index from field 3.
  const ticks = Number(f[11]) + Number(f[12]);
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuMs: ticks * 10, rssMb: Number(kb) / 1024 };
}

/** The node flags on the built executable's interpreter line (`#!/usr/bin/env -S node --flag ...`). */
function interpreterFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  return first.split(' ').filter((w) => w.startsWith('--'));
}

async function runOnce(bin: string, logArgs: string[], args: string[], extraEnv: NodeJS.ProcessEnv): Promise<Sample> {
  const t0 = performance.now();
  // RESYNC_PROF: the same code under `node --cpu-prof` (not allowed in NODE_OPTIONS), the interpreter line's flags given by hand.
  const prof = extraEnv.RESYNC_PROF;
  const child = prof
    ? spawn(process.execPath, [...interpreterFlags(bin), '--cpu-prof', `--cpu-prof-dir=${prof}`, bin, 'run', ...logArgs, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(bin, ['run', ...logArgs, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...extraEnv } });
  let lines = 0;
  const tail: string[] = [];
  try {
    return await new Promise<Sample>((resolve, reject) => {
      child.on('exit', (c, s) => reject(new Error(`exited ${c ?? s}:\n${tail.join('\n')}`)));
      createInterface({ input: child.stderr! }).on('line', (line) => {
        lines++;
        tail.push(line);
        if (tail.length > 10) tail.shift();
        let e: { message?: string; ports?: { ACTIVE: number }; flowModsSent?: number };
        try {
          const j = JSON.parse(line) as { message?: string; extra?: typeof e } & typeof e;
          e = { ...j, ...j.extra, message: j.message };
        } catch { return; }
        if (e.message !== 'first full sync done') return;
        const p = procStat(child.pid!);
        resolve({ wallMs: performance.now() - t0, cpuMs: p.cpuMs, rssMb: p.rssMb, active: e.ports?.ACTIVE ?? 0, flowMods: e.flowModsSent ?? NaN, lines });
      });
    });
  } finally {
    child.removeAllListeners('exit');
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

async function main(): Promise<void> {
  const roots = (process.env.RESYNC_ROOTS ?? process.cwd()).split(',');
  const count = Number(process.env.RESYNC_COUNT ?? 10_000);
  const rounds = Number(process.env.RESYNC_ROUNDS ?? 3);
  const extra = (process.env.RESYNC_ARGS ?? '').split(' ').filter(Boolean);
  for (const root of roots) {
    if (process.env.RESYNC_NO_BUILD) break;
    // The compiled agent imports @ovs-agent/ovsdb and /openflow by name: their dist/ first.
    execFileSync('npm', ['run', '--silent', 'build:packages'], { cwd: root, stdio: 'pipe' });
    try { execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' }); } catch { /* JS emitted anyway */ }
    chmodSync(join(root, 'dist/bin/ovs-agent.js'), 0o755);
  }
  const dbSb = await OvsSandbox.start();
  const flows = await Promise.all(roots.map(() => OvsSandbox.start()));
  const dir = mkdtempSync(join(tmpdir(), 'bench-resync-'));
  let assigner: SimulatedVswitchd | undefined;
  try {
    for (const sb of flows) {
      for (const br of ['br-int', 'br-eth1']) await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure');
    }
    await dbSb.stopVswitchd();
    await dbSb.vsctl('--no-wait', 'add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    await dbSb.vsctl('--no-wait', 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
    assigner = await SimulatedVswitchd.start(dbSb.dbRemote);
    for (let i = 0; i < count; i += 2000) {
      await assigner.plug('br-int', Array.from({ length: Math.min(count, i + 2000) - i }, (_, k) => ({
        name: ifname(i + k), externalIds: { 'iface-id': portId(i + k), 'attached-mac': mac(i + k) },
      })));
    }
    const setups = roots.map((root, r) => {
      const ini = join(dir, `agent${r}.ini`);
      writeFileSync(ini, '[ovs]\n');
      const state = join(dir, `state${r}.json`);
      writeState(state, count);
      const legacy = readFileSync(join(root, 'bench/agent.ts'), 'utf8').includes("'--log-json'");
      return {
        root, bin: join(root, 'dist/bin/ovs-agent.js'),
        logArgs: legacy ? ['--log-json'] : ['--use-json', '--set', 'DEFAULT.use_stderr=true'],
        args: ['--config-file', ini, '--ovsdb-connection', dbSb.dbRemote, '--ovs-rundir', flows[r]!.rundir, '--state-file', state,
          '--bridge-mappings', 'physnet1:br-eth1', '--datapath-type', 'netdev', '--status-socket', join(dir, `status${r}.sock`),
          '--host', 'bench', '--set', 'agent.report_interval=0', '--set', 'securitygroup.firewall_driver=noop', ...extra],
      };
    });
    for (const s of setups) {
      const first = await runOnce(s.bin, s.logArgs, s.args, {});
      console.log(`first sync ${s.root}: ${(first.wallMs / 1000).toFixed(2)} s, ${first.active} ACTIVE, ${first.flowMods} flow-mods`);
    }
    const results = new Map<string, Sample[]>(roots.map((r) => [r, []]));
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? setups : [...setups].reverse();
      for (const s of order) {
        const x = await runOnce(s.bin, s.logArgs, s.args, process.env.RESYNC_PROF ? { RESYNC_PROF: process.env.RESYNC_PROF } : {});
        if (x.active < count) throw new Error(`${s.root}: only ${x.active} ACTIVE`);
        results.get(s.root)!.push(x);
        console.log(`round ${i} ${s.root}: wall ${(x.wallMs / 1000).toFixed(2)} s cpu ${(x.cpuMs / 1000).toFixed(2)} s rss ${x.rssMb.toFixed(0)} MB flow-mods ${x.flowMods} stderr lines ${x.lines}`);
      }
    }
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
    for (const [root, xs] of results) {
      console.log(`MEDIAN ${root}: wall ${(med(xs.map((x) => x.wallMs)) / 1000).toFixed(2)} s cpu ${(med(xs.map((x) => x.cpuMs)) / 1000).toFixed(2)} s rss ${med(xs.map((x) => x.rssMb)).toFixed(0)} MB`);
    }
  } finally {
    await assigner?.stop();
    for (const sb of flows) await sb.stop();
    await dbSb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
await main();
