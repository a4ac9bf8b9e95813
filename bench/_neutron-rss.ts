/**
 * Diagnostics for the agent's memory (docs/benchmarks.md, "Memory and start-up of the bundled command"):
 * ours alone, as the package ships it, through a real neutron-server with N ports plugged until all are
 * ACTIVE, then VmRSS / RssAnon / RssFile from /proc three times 1 s apart; each variant RUNS times,
 * the variants alternated, on one neutron-server (a fresh OVS sandbox and host name per run).
 *
 *   node --import tsx bench/_neutron-rss.ts [N] [RUNS] < variants.json
 *
 * variants.json: `[{"name": "ships"}, {"name": "no-opt", "flags": "--no-opt", "env": {"K": "V"}, "dist": "DIR"}]`:
 * `dist` a directory holding bin/ovs-agent.js (default: the checkout bundled as scripts/build-cli.ts does);
 * with `flags` or `env` the agent runs as `node LINE-FLAGS FLAGS bin/ovs-agent.js` with its interpreter
 * line's environment and `env` (else it is executed itself). `"snapshot": "DIR"` writes a heap snapshot
 * there once all are ACTIVE (after the readings); `"keep": true` keeps the agent's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NeutronEnv, freePort } from '../testing/neutron-env.js';
import { FamilyOf } from '../testing/process-family.js';
import { OvsSandbox, pidAlive } from '../testing/sandbox.js';
import { bundleCli } from '../scripts/bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Variant {
  name: string;
  dist?: string;
  flags?: string;
  env?: Record<string, string>;
  snapshot?: string;
  /** Keep the agent's log (its path is printed). */
  keep?: boolean;
}

function memory(pid: number): { rss: number; anon: number; file: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const f = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(text)?.[1]) / 1024;
  return { rss: f('VmRSS'), anon: f('RssAnon'), file: f('RssFile') };
}

function interpreterLine(file: string): { env: Record<string, string>; flags: string[] } {
  const words = readFileSync(file, 'utf8').split('\n', 1)[0].replace(/^#!\S*env -S\s*/, '').split(/\s+/).filter(Boolean);
  const node = words.indexOf('node');
  return { env: Object.fromEntries(words.slice(0, node).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])), flags: words.slice(node + 1) };
}

function ini(env: NeutronEnv, sb: OvsSandbox, host: string, ofPort: number): string {
  return `[DEFAULT]
host = ${host}
transport_url = ${env.transportUrl}
rpc_response_timeout = 120
[ovs]
ovsdb_connection = ${sb.dbRemote}
datapath_type = netdev
integration_bridge = br-int
bridge_mappings = physnet1:br-eth1
of_listen_port = ${ofPort}
[agent]
report_interval = 5
[securitygroup]
firewall_driver = openvswitch
[ovs_agent]
control_plane = neutron
openflow_channel = mgmt
ovs_rundir = ${sb.rundir}
`;
}

function start(v: Variant, dist: string, iniFile: string, sb: OvsSandbox, log: string): ChildProcess {
  const file = join(dist, 'bin/ovs-agent.js');
  const fd = openSync(log, 'a');
  try {
    const direct = v.flags === undefined && v.env === undefined && v.snapshot === undefined;
    const line = interpreterLine(file);
    const extra = [...(v.flags ?? '').split(/\s+/).filter(Boolean), ...(v.snapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${v.snapshot}`] : [])];
    const env = { ...process.env, ...(direct ? {} : line.env), ...v.env, OVS_RUNDIR: sb.rundir, OVS_DBDIR: sb.dir };
    const child = direct
      ? spawn(file, ['run', '--config-file', iniFile], { cwd: tmpdir(), env, stdio: ['ignore', fd, fd] })
      : spawn(process.execPath, [...line.flags, ...extra, file, 'run', '--config-file', iniFile], { cwd: tmpdir(), env, stdio: ['ignore', fd, fd] });
    families.set(child, FamilyOf.track(child));
    return child;
  } finally {
    closeSync(fd);
  }
}
const families = new WeakMap<ChildProcess, FamilyOf>();

async function waitActive(env: NeutronEnv, network: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await env.sql(`SELECT count(*) FROM ports WHERE network_id = '${network}' AND status = 'ACTIVE'`);
    if (Number(rows[0][0]) >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0][0]}/${n} ACTIVE after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

async function oneRun(env: NeutronEnv, v: Variant, dist: string, n: number, tag: string): Promise<string> {
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const host = `rss-${tag}-${process.pid}`;
  const log = join(dir, 'agent.log');
  let child: ChildProcess | undefined;
  let network: string | undefined;
  const ids: string[] = [];
  try {
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    writeFileSync(join(dir, 'agent.ini'), ini(env, sb, host, await freePort()));
    const t0 = performance.now();
    child = start(v, dist, join(dir, 'agent.ini'), sb, log);
    for (;;) {
      const { agents } = await env.api.get<{ agents: Array<{ alive: boolean }> }>(`/agents?host=${host}`);
      if (agents.some((a) => a.alive)) break;
      if (!pidAlive(child.pid!)) throw new Error(`agent died:\n${readFileSync(log, 'utf8').slice(-3000)}`);
      await sleep(250);
    }
    while (!(await sb.vsctl('list-br')).includes('br-int')) await sleep(200);
    const up = (performance.now() - t0) / 1000;
    const idle = memory(child.pid!);
    const net = await env.api.post<{ network: { id: string } }>('/networks', { network: { name: host, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' } });
    network = net.network.id;
    await env.api.post('/subnets', { subnet: { network_id: network, cidr: '10.200.0.0/16', ip_version: 4, enable_dhcp: false } });
    for (let i = 0; i < n; i += 100) {
      const chunk = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ network_id: network, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${i + j}` }));
      const { ports } = await env.api.post<{ ports: Array<{ id: string; mac_address: string }> }>('/ports', { ports: chunk });
      ids.push(...ports.map((p) => p.id));
      const args: string[] = [];
      ports.forEach((p, j) => args.push('--', 'add-port', 'br-int', `tap${i + j}`, '--', 'set', 'Interface', `tap${i + j}`,
        `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active'));
      await sleep(2000);
      const t1 = performance.now();
      await sb.vsctl(...args.slice(1));
      await waitActive(env, network, i + ports.length, 600_000);
      if (i === 0) process.stderr.write(`  plug→all ACTIVE ${((performance.now() - t1) / 1000).toFixed(2)} s\n`);
    }
    await sleep(3000);
    const reads = [];
    for (let k = 0; k < 3; k++) {
      reads.push(memory(child.pid!));
      await sleep(1000);
    }
    if (v.snapshot) {
      child.kill('SIGUSR2');
      await sleep(10_000);
    }
    const fmt = (m: { rss: number; anon: number; file: number }) => `${m.rss.toFixed(1)}/${m.anon.toFixed(1)}/${m.file.toFixed(1)}`;
    return `${v.name.padEnd(24)} up ${up.toFixed(2)} s  idle ${fmt(idle)}  active ${reads.map(fmt).join('  ')}`;
  } finally {
    if (child) await families.get(child)?.stop();
    if (network) {
      for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => env.api.delete(`/ports/${id}`).catch(() => undefined)));
      await env.api.delete(`/networks/${network}`).catch(() => undefined);
    }
    await sb.stop();
    if (v.keep) process.stderr.write(`  kept ${log}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const n = Number(process.argv[2] ?? 100);
const runs = Number(process.argv[3] ?? 3);
const variants = JSON.parse(readFileSync(0, 'utf8')) as Variant[];
const built = mkdtempSync(join(tmpdir(), 'bench-rss-dist-'));
if (variants.some((v) => !v.dist)) {
  await bundleCli({ root: ROOT, outfile: join(built, 'bin/ovs-agent.js'), minify: true });
  writeFileSync(join(built, 'package.json'), '{"type":"module"}\n');
}
const env = await NeutronEnv.start();
try {
  for (let r = 0; r < runs; r++) {
    for (const [i, v] of variants.entries()) {
      const line = await oneRun(env, v, v.dist ?? built, n, `${r}-${i}`);
      process.stdout.write(`${line}   load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
    }
  }
} finally {
  await env.stop();
  rmSync(built, { recursive: true, force: true });
}
