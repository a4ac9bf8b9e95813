/**
 * `npm run bench -- neutron [--quick]`: ports created through the Neutron API
 * with the agent's host as binding:host_id and plugged on br-int, wired by
 * ovs-agent and, in the same run on the same neutron-server/RabbitMQ/OVS
 * build, by Debian's neutron-openvswitch-agent 21.0.0 (native OpenFlow and
 * OVSDB, openvswitch firewall). Both agents run as processes of their own
 * from the same openvswitch_agent.ini, each on a fresh OVS sandbox and a
 * host name of its own per run.
 *
 * Measured per run: plug → ACTIVE per port (p50/p99, from polling the API's
 * port list every 250 ms), time until all are ACTIVE, the agent's RSS once
 * done, then a restart of the agent with those ports plugged until it
 * reports them all up again: with the agent stopped the ports are reported
 * DOWN for its host (as a server sees them after a reboot), then the agent
 * is started and the time until all are ACTIVE again is taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NeutronEnv, descendants, freePort } from '../testing/neutron-env.js';
import { OvsSandbox, pidAlive } from '../testing/sandbox.js';
import { NeutronControlPlane } from '../lib/control-plane/neutron/index.js';
import { silentLogger } from '../lib/control-plane/neutron/logger.js';
import type { BenchSuite } from './report.js';
import { metric, newResult, percentile } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'ours' | 'peer';

interface RunFigures {
  allActive: number;
  p50: number;
  p99: number;
  restart: number;
  rssMiB: number;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function agentIni(env: NeutronEnv, sb: OvsSandbox, host: string, ofPort: number): string {
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
root_helper = env
[securitygroup]
firewall_driver = openvswitch
[ovs_agent]
control_plane = neutron
ovs_rundir = ${sb.rundir}
status_socket = ${join(sb.dir, 'ovs-agent-status.sock')}
`;
}

function startAgent(kind: Kind, ini: string, sb: OvsSandbox, log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    const env = { ...process.env, OVS_RUNDIR: sb.rundir, OVS_DBDIR: sb.dir };
    const [prog, args] =
      kind === 'ours'
        ? [process.execPath, ['--import', 'tsx', join(ROOT, 'bin/ovs-agent.ts'), 'run', '--config-file', ini]]
        : ['/usr/bin/python3', ['/usr/bin/neutron-openvswitch-agent', '--config-file', ini]];
    return spawn(prog, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM to the agent, then SIGKILL to it and what it forked (the reference agent's privsep daemon). */
async function stopAgent(child: ChildProcess): Promise<void> {
  if (!child.pid) return;
  const family = [child.pid, ...descendants(child.pid)];
  child.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && family.some(pidAlive)) await sleep(50);
  for (const pid of family) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  while (family.some(pidAlive)) await sleep(20);
}

interface ApiPort {
  id: string;
  status: string;
  mac_address: string;
}

/** Polls the port list until every id is ACTIVE; returns when each was first seen ACTIVE (ms since `t0`). */
async function waitAllActive(env: NeutronEnv, ids: string[], t0: number, timeoutMs: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const want = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  while (seen.size < want.size) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size}/${want.size} ports ACTIVE after ${timeoutMs / 1000} s`);
    const { ports } = await env.api.get<{ ports: ApiPort[] }>(`/ports?network_id=${encodeURIComponent(currentNetwork)}&fields=id&fields=status`);
    const now = performance.now();
    for (const p of ports) if (want.has(p.id) && p.status === 'ACTIVE' && !seen.has(p.id)) seen.set(p.id, now - t0);
    await sleep(250);
  }
  return seen;
}

let currentNetwork = '';

async function waitAllStatus(env: NeutronEnv, ids: string[], status: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { ports } = await env.api.get<{ ports: ApiPort[] }>(`/ports?network_id=${encodeURIComponent(currentNetwork)}&fields=id&fields=status`);
    const done = ids.filter((id) => ports.find((p) => p.id === id)?.status === status).length;
    if (done === ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${done}/${ids.length} ports ${status} after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

async function oneRun(env: NeutronEnv, kind: Kind, n: number, run: number): Promise<RunFigures> {
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), `bench-neutron-${kind}-`));
  const host = `bench-${kind}-${run}-${process.pid}`;
  let child: ChildProcess | undefined;
  try {
    const ini = join(dir, 'agent.ini');
    // A VLAN network: the reference agent insists on a local_ip configured on an interface for tunnels.
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    writeFileSync(ini, agentIni(env, sb, host, await freePort()));
    child = startAgent(kind, ini, sb, join(dir, 'agent.log'));
    const alive = Date.now() + 120_000;
    for (;;) {
      const { agents } = await env.api.get<{ agents: Array<{ alive: boolean }> }>(`/agents?host=${host}`);
      if (agents.some((a) => a.alive)) break;
      if (Date.now() > alive || !pidAlive(child.pid!)) throw new Error(`${kind} agent never reported alive:\n${readFileSync(join(dir, 'agent.log'), 'utf8').slice(-3000)}`);
      await sleep(500);
    }
    // Both agents create br-int themselves; wait for it.
    while (!(await sb.vsctl('list-br')).includes('br-int')) await sleep(200);
    await sleep(2000);

    const { network } = await env.api.post<{ network: { id: string } }>('/networks', { network: { name: host, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' } });
    currentNetwork = network.id;
    await env.api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.200.0.0/16', ip_version: 4, enable_dhcp: false } });
    const { ports } = await env.api.post<{ ports: ApiPort[] }>('/ports', {
      ports: Array.from({ length: n }, (_, i) => ({ network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${i}` })),
    });
    const args: string[] = [];
    ports.forEach((p, i) => {
      args.push('--', 'add-port', 'br-int', `tap${i}`, '--', 'set', 'Interface', `tap${i}`, `external_ids:iface-id=${p.id}`,
        `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active');
    });
    const t0 = performance.now();
    await sb.vsctl(...args.slice(1));
    const seen = await waitAllActive(env, ports.map((p) => p.id), t0, 900_000);
    const times = [...seen.values()].map((ms) => ms / 1000);
    const allActive = Math.max(...times);
    await sleep(1000);
    const rss = rssMiB(child.pid!);

    // Restart: with the agent stopped, the ports are reported DOWN for its host (as the server would see them after
    // a host reboot), then the agent restarts with the ports still plugged and must report them all up again.
    await stopAgent(child);
    child = undefined;
    const ids = ports.map((p) => p.id);
    const marker = new NeutronControlPlane({ transportUrl: env.transportUrl, rpcResponseTimeout: 300, logger: silentLogger });
    await marker.start({ host, agentId: `ovs-agent-${host}`, binary: 'neutron-openvswitch-agent' });
    // The reference agent's last update_device_list calls (it repeats them for the status pushes its own reports cause)
    // may still be queued on q-plugin and flip ports back to ACTIVE after our marking: mark again until all stay DOWN.
    for (let round = 0; ; round++) {
      const { ports: now } = await env.api.get<{ ports: ApiPort[] }>(`/ports?network_id=${encodeURIComponent(currentNetwork)}&fields=id&fields=status`);
      const up = ids.filter((id) => now.find((p) => p.id === id)?.status !== 'DOWN');
      if (up.length === 0) break;
      if (round === 10) throw new Error(`${up.length}/${ids.length} ports still not DOWN after 10 markings`);
      await marker.updateDeviceList([], up);
      await waitAllStatus(env, ids, 'DOWN', 30_000).catch(() => undefined);
    }
    await marker.stop();
    const t1 = performance.now();
    child = startAgent(kind, ini, sb, join(dir, 'agent.log'));
    const again = await waitAllActive(env, ids, t1, 900_000);
    const restart = Math.max(...again.values()) / 1000;

    for (const id of ids) await env.api.delete(`/ports/${id}`).catch(() => undefined);
    await env.api.delete(`/networks/${network.id}`).catch(() => undefined);
    return { allActive, p50: percentile(times, 50), p99: percentile(times, 99), restart, rssMiB: rss };
  } finally {
    if (child) await stopAgent(child);
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  async run({ quick }) {
    const n = quick ? 20 : 100;
    const runs = 3;
    const env = await NeutronEnv.start();
    const figs: Record<Kind, RunFigures[]> = { ours: [], peer: [] };
    try {
      for (let r = 0; r < runs; r++) {
        for (const kind of ['ours', 'peer'] as const) {
          const f = await oneRun(env, kind, n, r);
          process.stderr.write(`neutron bench run ${r} ${kind}: ${JSON.stringify(f)}\n`);
          figs[kind].push(f);
        }
      }
    } finally {
      await env.stop();
    }
    const pick = (kind: Kind, k: keyof RunFigures) => figs[kind].map((f) => f[k]);
    const peer = 'neutron-openvswitch-agent 21.0.0';
    return newResult('neutron', [
      metric({ metric: `all_active_${n}_ports`, unit: 's', ours: pick('ours', 'allActive'), peer: { name: peer, samples: pick('peer', 'allActive') }, target: '<= 0.5' }),
      metric({ metric: `plug_to_active_p50_${n}_ports`, unit: 's', ours: pick('ours', 'p50'), peer: { name: peer, samples: pick('peer', 'p50') }, target: '<= 0.5' }),
      metric({ metric: `plug_to_active_p99_${n}_ports`, unit: 's', ours: pick('ours', 'p99'), peer: { name: peer, samples: pick('peer', 'p99') }, target: '<= 0.5' }),
      metric({ metric: `restart_all_active_${n}_ports`, unit: 's', ours: pick('ours', 'restart'), peer: { name: peer, samples: pick('peer', 'restart') }, target: '<= 0.1' }),
      metric({ metric: `agent_rss_${n}_ports`, unit: 'MiB', ours: pick('ours', 'rssMiB'), peer: { name: peer, samples: pick('peer', 'rssMiB') }, target: '<= 0.34' }),
    ]);
  },
};
export default suite;
