/**
 * The trunk case of `npm run bench -- neutron` (NEUTRON_BENCH_TRUNK=1,
 * docs/trunk.md): one VM whose port is the parent of a trunk with 10
 * subports, each on a VLAN network of its own, plugged as os-vif plugs it
 * (the `tbr-` bridge, then the VM's interface on it, two transactions);
 * timed from the bridge's creation until neutron's database says the trunk
 * is ACTIVE, and until the parent and every subport are ACTIVE too. The
 * agents (ours with `[agent] extensions = trunk`; Neutron's, whose trunk
 * driver is always on) are started by bench/neutron.ts's helpers, passed in.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type NeutronEnv } from '../testing/neutron-env.js';
import { OvsSandbox } from '../testing/sandbox.js';

export const TRUNK_SUBPORTS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TrunkFigures {
  /** tbr- bridge created → trunk ACTIVE in neutron's database (s). */
  trunkActive: number;
  /** tbr- bridge created → the trunk, its parent and every subport ACTIVE (s). */
  allActive: number;
  /** Of `trunkActive`, the time an update_subport_bindings call of the agent was outstanding at neutron-server (s). */
  bindingServerTime: number;
  /** `trunkActive` less `bindingServerTime`: the agent's own part, its other calls' round trips included (s). */
  agentTime: number;
}

export interface TrunkBenchHelpers<K extends string> {
  agentIni(sb: OvsSandbox, host: string, ofPort: number, kind: K): string;
  startAgent(kind: K, ini: string, sb: OvsSandbox, log: string): ChildProcess;
  stopAgent(child: ChildProcess): Promise<void>;
  /** Until the agent reports alive and br-int exists. */
  agentUp(sb: OvsSandbox, host: string, kind: K, child: ChildProcess, log: string): Promise<void>;
  /** Seconds during which a call of `method` sent between t0 and t1 (performance.now()) was outstanding (the RabbitMQ firehose). */
  serverBusy(method: string, t0: number, t1: number): number;
}

function uuid(id: string): string {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a uuid: ${id}`);
  return id;
}

/** Trunk and port statuses read from neutron's database (polling the API would load the server the agents wait for). */
async function statuses(env: NeutronEnv, trunkId: string, portIds: string[]): Promise<{ trunk: string | undefined; ports: number }> {
  const [[trunk] = []] = await env.sql(`SELECT status FROM trunks WHERE id = '${uuid(trunkId)}'`);
  const rows = await env.sql(`SELECT id FROM ports WHERE status = 'ACTIVE' AND id IN (${portIds.map((id) => `'${uuid(id)}'`).join(',')})`);
  return { trunk, ports: rows.length };
}

export async function trunkRun<K extends string>(env: NeutronEnv, h: TrunkBenchHelpers<K>, kind: K, run: number): Promise<TrunkFigures> {
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), `bench-trunk-${kind}-`));
  const host = `bench-trunk-${kind}-${run}-${process.pid}`;
  const log = join(dir, 'agent.log');
  const networks: string[] = [];
  const ports: string[] = [];
  let trunkId: string | undefined;
  let child: ChildProcess | undefined;
  try {
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    const ini = join(dir, 'agent.ini');
    writeFileSync(ini, h.agentIni(sb, host, await freePort(), kind));
    child = h.startAgent(kind, ini, sb, log);
    await h.agentUp(sb, host, kind, child, log);

    for (let i = 0; i <= TRUNK_SUBPORTS; i++) {
      const { network } = await env.api.post<{ network: { id: string } }>('/networks', {
        network: { name: `${host}-${i}`, 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', project_id: 'bench' },
      });
      networks.push(network.id);
      await env.api.post('/subnets', { subnet: { network_id: network.id, cidr: `10.${100 + i}.0.0/24`, ip_version: 4, enable_dhcp: false, project_id: 'bench' } });
      const { port } = await env.api.post<{ port: { id: string; mac_address: string } }>('/ports', { port: { network_id: network.id, project_id: 'bench' } });
      ports.push(port.id);
    }
    const [parent, ...subs] = ports;
    const { trunk } = await env.api.post<{ trunk: { id: string } }>('/trunks', {
      trunk: { port_id: parent, project_id: 'bench', sub_ports: subs.map((id, i) => ({ port_id: id, segmentation_type: 'vlan', segmentation_id: 101 + i })) },
    });
    trunkId = trunk.id;
    // nova binds the parent when it boots the VM; the trunk bridge name comes with its VIF details.
    const { port: bound } = await env.api.put<{ port: { mac_address: string } }>(`/ports/${parent}`,
      { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${host}` } });
    // Let the binding's pushes and the server's own work drain before the clock starts.
    await sleep(3000);

    const tbr = `tbr-${trunkId}`.slice(0, 14);
    const t0 = performance.now();
    await sb.vsctl('--may-exist', 'add-br', tbr, '--', 'set', 'Bridge', tbr, 'datapath_type=netdev');
    await sb.vsctl('add-port', tbr, 'tapvm', '--', 'set', 'Interface', 'tapvm', `external_ids:iface-id=${parent}`,
      `external_ids:attached-mac=${bound.mac_address}`, 'external_ids:iface-status=active', `external_ids:vm-uuid=vm-${host}`);
    let trunkActive: number | undefined;
    let bindingServerTime = 0;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const s = await statuses(env, trunkId, ports);
      const at = performance.now();
      const now = (at - t0) / 1000;
      if (s.trunk === 'ACTIVE' && trunkActive === undefined) {
        trunkActive = now;
        bindingServerTime = h.serverBusy('update_subport_bindings', t0, at);
      }
      if (trunkActive !== undefined && s.trunk === 'ACTIVE' && s.ports === ports.length) {
        return { trunkActive, allActive: now, bindingServerTime, agentTime: trunkActive - bindingServerTime };
      }
      if (Date.now() > deadline) throw new Error(`${kind}: trunk ${s.trunk}, ${s.ports}/${ports.length} ports ACTIVE after 300 s`);
      await sleep(50);
    }
  } catch (err) {
    process.stderr.write(`--- ${kind} agent log tail ---\n${readFileSync(log, 'utf8').slice(-4000)}\n`);
    throw err;
  } finally {
    if (child) await h.stopAgent(child);
    // A trunk whose parent is in use cannot be deleted: unbind the parent first.
    if (ports[0]) await env.api.put(`/ports/${ports[0]}`, { port: { 'binding:host_id': '', device_id: '', device_owner: '' } }).catch(() => undefined);
    if (trunkId) await env.api.delete(`/trunks/${trunkId}`).catch(() => undefined);
    for (const id of ports) await env.api.delete(`/ports/${id}`).catch(() => undefined);
    for (const id of networks) await env.api.delete(`/networks/${id}`).catch(() => undefined);
    await sb.stop();
    if (process.env.NEUTRON_BENCH_KEEP_LOGS) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
