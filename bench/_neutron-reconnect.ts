/**
 * A diagnostic, not a suite: how long a port plugged after a RabbitMQ
 * restart takes to go ACTIVE, for ovs-agent and for Debian's
 * neutron-openvswitch-agent 21.0.0, each run as a process of its own from
 * the same openvswitch_agent.ini against one private NeutronEnv (as
 * bench/neutron.ts runs them), in two scenarios:
 *
 *   A. RabbitMQ restarted, neutron-server up;
 *   B. neutron-server stopped, RabbitMQ restarted, 8 s later neutron-server
 *      started again.
 *
 * After each, once neutron-server consumes q-plugin again ("reachable"), a
 * port is created through the API and plugged; printed: plug → ACTIVE and
 * reachable → ACTIVE (status read from neutron's database every 100 ms).
 *
 *   flock /tmp/team/bench.lock npx tsx bench/_neutron-reconnect.ts [ours|reference|both] [runs]
 *
 * Ours runs from the sources (`node --import tsx bin/ovs-agent.ts`): what is
 * timed comes long after its start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NeutronEnv, descendants, freePort } from '../testing/neutron-env.js';
import { OvsSandbox, pidAlive } from '../testing/sandbox.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
type Kind = 'ours' | 'reference';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ini(env: NeutronEnv, sb: OvsSandbox, host: string, ofPort: number): string {
  return `[DEFAULT]
host = ${host}
transport_url = ${env.transportUrl}
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
openflow_channel = mgmt
ovs_rundir = ${sb.rundir}
status_socket = ${join(sb.dir, 'status.sock')}
`;
}

function start(kind: Kind, file: string, sb: OvsSandbox, log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    const [prog, args] = kind === 'ours'
      ? [process.execPath, ['--import', 'tsx', join(ROOT, 'bin/ovs-agent.ts'), 'run', '--config-file', file]]
      : ['/usr/bin/python3', ['/usr/bin/neutron-openvswitch-agent', '--config-file', file]];
    return spawn(prog, args, { cwd: ROOT, env: { ...process.env, OVS_RUNDIR: sb.rundir, OVS_DBDIR: sb.dir }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (!child.pid) return;
  const family = [child.pid, ...descendants(child.pid)];
  child.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && family.some(pidAlive)) await sleep(50);
  for (const pid of family) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function status(env: NeutronEnv, id: string): Promise<string | undefined> {
  return (await env.sql(`SELECT status FROM ports WHERE id = '${id}'`))[0]?.[0];
}

async function reachable(env: NeutronEnv): Promise<number> {
  await waitFor('neutron-server consuming q-plugin', async () => (await env.consumers('q-plugin')) > 0 && (await env.consumers('q-reports-plugin')) > 0, 180_000);
  return Date.now();
}

async function plugAndTime(env: NeutronEnv, sb: OvsSandbox, network: string, host: string, tap: string, reachableAt: number): Promise<{ plug: number; reach: number }> {
  let port: { id: string; mac_address: string } | undefined;
  await waitFor('a port create', async () => {
    port = (await env.api.post<{ port: { id: string; mac_address: string } }>('/ports', {
      port: { network_id: network, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${tap}` },
    })).port;
    return true;
  }, 60_000);
  const plugAt = Date.now();
  await sb.vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap,
    `external_ids:iface-id=${port!.id}`, `external_ids:attached-mac=${port!.mac_address}`, 'external_ids:iface-status=active');
  await waitFor(`${tap} ACTIVE`, async () => (await status(env, port!.id)) === 'ACTIVE', 300_000);
  const now = Date.now();
  if (process.env.KEEP_LOGS) console.log(`${tap}: reachable ${new Date(reachableAt).toISOString()}, plugged ${new Date(plugAt).toISOString()}, ACTIVE ${new Date(now).toISOString()}`);
  return { plug: (now - plugAt) / 1000, reach: (now - reachableAt) / 1000 };
}

async function oneRun(env: NeutronEnv, kind: Kind, run: number): Promise<{ a: { plug: number; reach: number }; b: { plug: number; reach: number } }> {
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), `reconnect-${kind}-`));
  const host = `reconnect-${kind}-${run}-${process.pid}`;
  const log = join(dir, 'agent.log');
  let child: ChildProcess | undefined;
  try {
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    const file = join(dir, 'agent.ini');
    writeFileSync(file, ini(env, sb, host, await freePort()));
    child = start(kind, file, sb, log);
    await waitFor(`${kind} agent alive`, async () => {
      if (!pidAlive(child!.pid!)) throw new Error(`${kind} agent exited:\n${readFileSync(log, 'utf8').slice(-3000)}`);
      const { agents } = await env.api.get<{ agents: Array<{ alive: boolean }> }>(`/agents?host=${host}`);
      return agents.some((a) => a.alive);
    }, 120_000);
    await waitFor('br-int', async () => (await sb.vsctl('list-br')).includes('br-int'), 60_000);
    const { network } = await env.api.post<{ network: { id: string } }>('/networks', {
      network: { name: host, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' },
    });
    await env.api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.77.0.0/24', ip_version: 4, enable_dhcp: false } });
    await plugAndTime(env, sb, network.id, host, 'tap0', Date.now());

    await env.restartRabbit();
    const a = await plugAndTime(env, sb, network.id, host, 'tap1', await reachable(env));

    await env.stopServer(1000);
    await env.restartRabbit();
    await sleep(8000);
    await env.startServer();
    const b = await plugAndTime(env, sb, network.id, host, 'tap2', await reachable(env));
    return { a, b };
  } finally {
    if (child) await stop(child);
    await sb.stop();
    if (process.env.KEEP_LOGS) console.log(`log: ${log}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const which = process.argv[2] ?? 'both';
const runs = Number(process.argv[3] ?? 1);
const kinds: Kind[] = which === 'both' ? ['ours', 'reference'] : [which as Kind];
const env = await NeutronEnv.start();
try {
  for (let run = 0; run < runs; run++) {
    for (const kind of kinds) {
      const { a, b } = await oneRun(env, kind, run);
      console.log(`${kind} run ${run}: A (broker restart) plug→ACTIVE ${a.plug.toFixed(1)} s, reachable→ACTIVE ${a.reach.toFixed(1)} s; ` +
        `B (broker restart, server down) plug→ACTIVE ${b.plug.toFixed(1)} s, reachable→ACTIVE ${b.reach.toFixed(1)} s`);
    }
  }
} finally {
  await env.stop();
}
process.exit(0);
