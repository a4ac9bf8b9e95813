/**
 * The demo: `npm run demo` (or `npm run demo -- --once`).
 *
 * Starts a private Open vSwitch (testing/sandbox.ts: its own ovsdb-server and
 * ovs-vswitchd in a temp dir, nothing touches the host's OVS), runs the built
 * agent (dist/bin/ovs-agent.js) on it with the sample local control plane
 * (samples/desired-state.json: a VLAN and a VXLAN network, five ports), plugs
 * the ports the way nova/os-vif does, and shows what got wired: ports and
 * their state, local VLANs, flows per bridge, how long each port took, and
 * a packet traced through the pipeline. Runs until Ctrl-C, or exits after
 * the report with --once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentStatus } from '../lib/agent/agent.js';
import { formatStatus, readStatus } from '../lib/agent/status-socket.js';
import { OvsSandbox } from '../testing/sandbox.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AGENT_BIN = join(ROOT, 'dist/bin/ovs-agent.js');
const SAMPLE = join(ROOT, 'samples/desired-state.json');
const once = process.argv.includes('--once');
const tty = process.stdout.isTTY;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const say = (s = '') => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`\n${bold('==>')} ${bold(s)}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SamplePort { id: string; mac: string; network: string; adminStateUp?: boolean }
interface SampleNetwork { id: string; name?: string; type: string; segmentationId?: number }

function ensureOpenVswitch(): void {
  const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (have('ovs-vswitchd') && have('ovsdb-server') && have('ovs-vsctl')) return;
  step('Open vSwitch is not installed: installing openvswitch-switch');
  if (process.getuid?.() !== 0) {
    say('Run as root, or install it first:  sudo apt-get install -y openvswitch-switch');
    process.exit(1);
  }
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'openvswitch-switch']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

async function waitForStatus(socket: string, agent: ChildProcess, logFile: string): Promise<AgentStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (agent.exitCode !== null) {
      say(readFileSync(logFile, 'utf8'));
      throw new Error(`the agent exited with status ${agent.exitCode} (its log is above)`);
    }
    // The socket answers during start-up too (with `starting`): wait for the agent to be up.
    const s = await readStatus(socket, 1000).catch(() => undefined);
    if (s && s.starting === undefined) return s;
    if (Date.now() > deadline) throw new Error(`the agent did not ${s ? `start (${s.starting})` : `answer on ${socket}`}; see ${logFile}`);
    await sleep(100);
  }
}

async function main(): Promise<void> {
  ensureOpenVswitch();
  if (!existsSync(AGENT_BIN)) {
    step('Building (npm run build)');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }

  step('Starting a private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath)');
  const sb = await OvsSandbox.start();
  let agent: ChildProcess | undefined;
  const cleanup = async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
    }
    await sb.stop();
  };
  try {
    say(dim(`  sandbox: ${sb.dir}`));
    // The physical network's bridge exists before the agent starts, as on a real host (Neutron requires it).
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev', '--', 'add-port', 'br-eth1', 'eth1');
    say(dim('  br-eth1 with uplink eth1 stands for the physical network physnet1'));

    const stateFile = join(sb.dir, 'desired-state.json');
    copyFileSync(SAMPLE, stateFile);
    const ini = join(sb.dir, 'openvswitch_agent.ini');
    const statusSocket = join(sb.dir, 'ovs-agent-status.sock');
    writeFileSync(ini, [
      '[ovs]', 'integration_bridge = br-int', 'tunnel_bridge = br-tun', 'local_ip = 192.0.2.1',
      'bridge_mappings = physnet1:br-eth1', 'datapath_type = netdev', `ovsdb_connection = ${sb.dbRemote}`,
      '[agent]', 'tunnel_types = vxlan', 'report_interval = 30',
      '[securitygroup]', 'firewall_driver = noop',
      '[ovs_agent]', 'control_plane = local', `state_file = ${stateFile}`, `status_socket = ${statusSocket}`, `ovs_rundir = ${sb.rundir}`, '',
    ].join('\n'));

    step('Starting the agent');
    const logFile = join(sb.dir, 'ovs-agent.log');
    const log = createWriteStream(logFile);
    say(dim(`  node dist/bin/ovs-agent.js run --config-file ${ini}`));
    say(dim(`  log: ${logFile}`));
    agent = spawn(process.execPath, [AGENT_BIN, 'run', '--config-file', ini], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.pipe(log);
    agent.stderr!.pipe(log);
    const started = await waitForStatus(statusSocket, agent, logFile);
    say(`  bridges set up: ${started.bridges.map((b) => `${b.name} (${b.flows} flows)`).join(', ')}`);

    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { networks: SampleNetwork[]; ports: SamplePort[] };
    const nets = new Map(state.networks.map((n) => [n.id, n]));
    step(`Plugging ${state.ports.length} VM ports into br-int the way nova does (iface-id, attached-mac)`);
    const names = new Map<string, string>();
    const pluggedAt = new Map<string, number>();
    for (const p of state.ports) {
      const name = `tap${p.id.slice(0, 11)}`;
      names.set(p.id, name);
      pluggedAt.set(p.id, Date.now());
      await sb.vsctl('--', '--may-exist', 'add-port', 'br-int', name, '--', 'set', 'Interface', name,
        `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac}`, 'external_ids:iface-status=active',
        `external_ids:vm-uuid=demo-vm-${p.id.slice(0, 4)}`);
      const n = nets.get(p.network);
      say(dim(`  ovs-vsctl add-port br-int ${name} -- set Interface ${name} external_ids:iface-id=${p.id} external_ids:attached-mac=${p.mac}`) +
        dim(`   (${n?.name ?? p.network}${p.adminStateUp === false ? ', admin down' : ''})`));
    }

    let status = started;
    const deadline = Date.now() + 20_000;
    for (;;) {
      status = await readStatus(statusSocket);
      const settled = state.ports.every((p) => {
        const s = status.ports.find((w) => w.portId === p.id)?.state;
        return p.adminStateUp === false ? s === 'DEAD' : s === 'ACTIVE';
      });
      if (settled) break;
      if (Date.now() > deadline) throw new Error(`ports did not settle; status:\n${formatStatus(status)}`);
      await sleep(50);
    }

    step('What got wired');
    say(bold('  port                                  interface      network     type   state    local VLAN  wired in'));
    for (const p of state.ports) {
      const w = status.ports.find((x) => x.portId === p.id)!;
      const n = nets.get(p.network);
      const state = w.state === 'ACTIVE' ? green(w.state.padEnd(8)) : w.state.padEnd(8);
      say(`  ${p.id}  ${names.get(p.id)!.padEnd(14)} ${(n?.name ?? '').padEnd(11)} ${(n?.type ?? '').padEnd(6)} ${state} ` +
        `${String(w.lvid ?? (w.state === 'DEAD' ? '4095 (dead)' : '-')).padEnd(11)} ${w.wiredInMs !== undefined ? `${w.wiredInMs} ms` : '-'}`);
    }
    say(dim('  "wired in": from the OVSDB update that made the interface ready (ofport assigned) to its flows'));
    say(dim('  confirmed by the switch (bundle + barrier) and the port reported ACTIVE to the control plane.'));

    say(`\n${bold('  local VLANs')}`);
    for (const v of status.localVlans) {
      say(`    ${String(v.lvid).padStart(4)}  ${nets.get(v.networkId)?.name ?? v.networkId}  ${v.networkType} ${v.segmentationId ?? ''}` +
        `${v.physicalNetwork ? ` on ${v.physicalNetwork}` : ''}, ${v.ports} port(s)`);
    }
    say(`\n${bold('  tunnels')}`);
    for (const t of status.tunnels) say(`    ${t.name}  ${t.type} to ${t.remoteIp}  (ofport ${t.ofport})`);

    for (const br of ['br-int', 'br-eth1', 'br-tun']) {
      const flows = (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', br)).split('\n').filter((l) => l.trim());
      say(`\n${bold(`  flows on ${br}`)} ${dim(`(ovs-ofctl dump-flows ${br}: ${flows.length})`)}`);
      for (const f of flows) say(`    ${f.trim()}`);
    }

    const [first, second] = state.ports.filter((p) => nets.get(p.network)?.type === 'vlan');
    if (first && second) {
      step(`Tracing a broadcast from ${names.get(first.id)} (demo-vlan) through the pipeline`);
      const trace = await sb.appctl('ovs-vswitchd', 'ofproto/trace', 'br-int',
        `in_port=${names.get(first.id)},dl_src=${first.mac},dl_dst=ff:ff:ff:ff:ff:ff`);
      const actions = /^Datapath actions: (.*)$/m.exec(trace)?.[1] ?? '';
      const dpif = await sb.appctl('ovs-vswitchd', 'dpif/show');
      const byOdp = new Map<string, string>();
      for (const [, name, odp] of dpif.matchAll(/^\s+(\S+) \d+\/(\d+):/gm)) byOdp.set(odp, name);
      const readable = actions.split(',').map((a) => (byOdp.has(a) ? `output:${byOdp.get(a)}` : a)).join(', ');
      say(`  datapath actions: ${readable}`);
      say(dim(`  → delivered to ${names.get(second.id)} (same network) and out of eth1 tagged with VLAN 100; not to the VXLAN ports.`));
    }

    step('Status as `ovs-agent status` prints it');
    say(formatStatus(status).split('\n').map((l) => `  ${l}`).join('\n'));

    if (once) {
      step('Done (--once): stopping the agent (flows stay in place) and the sandbox');
      return;
    }
    step('The agent keeps running. Try, in another terminal:');
    say(`  node dist/bin/ovs-agent.js status --status-socket ${statusSocket}`);
    say(`  $EDITOR ${stateFile}          # e.g. set "adminStateUp": false on a port, and watch it go dead`);
    say(`  OVS_RUNDIR=${sb.rundir} ovs-ofctl -O OpenFlow13 dump-flows br-int`);
    say(`  tail -f ${logFile}`);
    say('Press Ctrl-C to stop.');
    await new Promise<void>((resolveStop) => {
      process.once('SIGINT', () => resolveStop());
      process.once('SIGTERM', () => resolveStop());
      agent!.once('exit', (code) => {
        say(`the agent exited (${code}); see ${logFile}`);
        resolveStop();
      });
    });
  } finally {
    await cleanup();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
