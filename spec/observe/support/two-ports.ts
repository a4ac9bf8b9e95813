/**
 * The agent `ovs-agent flows` and `ovs-agent trace` are tried on: the real
 * agent (runAgent, the local control-plane file) on a private OVS, two
 * ports of one VLAN network behind the `openvswitch` firewall (TCP 22 in,
 * everything out), both ACTIVE, answering on its status socket; and the
 * command as a user runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '../../../lib/agent/run.js';
import { loadConfig } from '../../../lib/config/index.js';
import { silentLogger } from '../../../lib/log.js';
import { OvsSandbox } from '../../../testing/sandbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIN = join(import.meta.dirname, '../../../bin/ovs-agent.ts');
const filtered = (i: string, network: string, extra: Record<string, unknown> = {}) => ({
  id: `port-${i}`, mac: `fa:16:3e:00:00:0${i}`, network, securityGroups: ['sg-1'], portSecurityEnabled: true,
  fixedIps: [{ ipAddress: `10.0.0.${i}` }], ...extra,
});
const STATE = {
  networks: [{ id: 'net-a', type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
  ports: ['1', '2'].map((i) => filtered(i, 'net-a')),
  securityGroups: { 'sg-1': { rules: [
    { id: 'rule-ssh', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
    { id: 'rule-out', direction: 'egress', ethertype: 'IPv4' },
  ] } },
};
/**
 * `wide`: besides, port-3 (tap3) on another VLAN network (net-b), port-4
 * (tap4) on a VXLAN network (net-t) whose other port, fa:16:3e:00:00:05 at
 * 10.0.0.5, l2pop puts on host 192.0.2.2 (a tunnel to it), and port-6 (tap6)
 * on net-a with its admin state down (dead: its traffic dropped).
 */
const WIDE = {
  ...STATE,
  networks: [...STATE.networks, { id: 'net-b', type: 'vlan', segmentationId: 101, physicalNetwork: 'physnet1' }, { id: 'net-t', type: 'vxlan', segmentationId: 1001 }],
  ports: [...STATE.ports, filtered('3', 'net-b'), filtered('4', 'net-t'), filtered('6', 'net-a', { adminStateUp: false })],
  fdb: { 'net-t': { segmentId: 1001, networkType: 'vxlan', ports: { '192.0.2.2': [['00:00:00:00:00:00', '0.0.0.0'], ['fa:16:3e:00:00:05', '10.0.0.5']] } } },
};

/** `ovs-agent ARGS` as a user runs it: its output and exit code. */
export function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

export interface TwoPorts {
  sb: OvsSandbox;
  running: RunningAgent;
  /** The agent's status socket. */
  socket: string;
  stop(): Promise<void>;
}

/** Starts it; ports tap1 (port-1, 10.0.0.1) and tap2 (port-2, 10.0.0.2) are ACTIVE (and with `wide` the others wired) and the agent idle when it resolves. */
export async function twoPortAgent(opts: { wide?: boolean; metricsAddress?: string } = {}): Promise<TwoPorts> {
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), 'observe-spec-'));
  let running: RunningAgent | undefined;
  const stop = async () => {
    await running?.stop();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const br of ['br-eth1', 'br-int']) await sb.vsctl('--may-exist', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
    writeFileSync(join(dir, 'state.json'), JSON.stringify(opts.wide ? WIDE : STATE));
    const socket = join(dir, 'status.sock');
    const config = loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs_agent.state_file': join(dir, 'state.json'), 'ovs_agent.ovs_rundir': sb.rundir, 'ovs_agent.status_socket': socket,
      'agent.report_interval': 0, 'agent.polling_interval': 3600, 'securitygroup.firewall_driver': 'openvswitch', 'DEFAULT.host': 'test-host',
      ...(opts.metricsAddress !== undefined ? { 'ovs_agent.metrics_address': opts.metricsAddress } : {}),
      ...(opts.wide ? { 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1', 'agent.l2_population': true } : {}),
    } }).config;
    running = await runAgent({ config, logger: silentLogger });
    const taps = opts.wide ? ['1', '2', '3', '4', '6'] : ['1', '2'];
    for (const i of taps) {
      await sb.vsctl('--', 'add-port', 'br-int', `tap${i}`, '--', 'set', 'Interface', `tap${i}`,
        `external_ids:iface-id=port-${i}`, `external_ids:attached-mac=fa:16:3e:00:00:0${i}`);
    }
    const wired = (i: string) => running!.agent.port(`port-${i}`)?.state === (i === '6' ? 'DEAD' : 'ACTIVE');
    const deadline = Date.now() + 20_000;
    while (!taps.every(wired)) {
      if (Date.now() > deadline) throw new Error(`ports not wired within 20 s: ${taps.map((i) => `port-${i} ${running!.agent.port(`port-${i}`)?.state}`).join(', ')}`);
      await sleep(20);
    }
    await running.agent.whenIdle();
    return { sb, running, socket, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
