/**
 * `npm run bench -- agent [--quick]`: how fast the agent wires ports.
 *
 * 1. Wiring latency on a real ovs-vswitchd with 1,000 ports already wired
 *    (VLAN network; `l2_*` with the noop firewall: tag + report only, as a
 *    VLAN port has no flows of its own; `fw_*` with the openvswitch firewall
 *    and a security group, ~47 flows per port): from the
 *    OVSDB update that makes an interface ready (ofport assigned, iface-id
 *    set) as the agent receives it, to its flows confirmed by the switch
 *    (bundle + barrier), its tag written and the port reported up. Ports
 *    plugged one at a time, and a burst of 200 plugged in one transaction
 *    (time from the last one ready to the last one reported up).
 * 2. Resync of 10,000 ports after an agent restart. The userspace datapath
 *    cannot hold 10,000 real interfaces on this machine (its reconfiguration
 *    grows quadratically), so this part is SIMULATED on the OVSDB side: the
 *    agent's database is an ovsdb-server of its own with no ovs-vswitchd, in
 *    which the benchmark plays ovs-vswitchd's part of assigning ofports; the
 *    agent's flows go to a real ovs-vswitchd (another sandbox) over OpenFlow.
 *
 * No peer here: Debian's neutron-openvswitch-agent needs its own control
 * plane, and is measured in the Neutron suite (bench/neutron.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '../lib/agent/run.js';
import { loadConfig, type AgentConfig } from '../lib/config/index.js';
import { LocalControlPlane } from '../lib/control-plane/local/index.js';
import { silentLogger } from '../lib/log.js';
import { Replica } from '../protocol/ovsdb/replica/index.js';
import type { OpenVSwitchTables } from '../protocol/ovsdb/models/index.js';
import { OvsSandbox } from '../testing/sandbox.js';
import type { BenchSuite, Metric } from './report.js';
import { metric, newResult, percentile, round } from './report.js';

const NET = 'bench-net-vlan';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portId(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}
function mac(i: number): string {
  const h = i.toString(16).padStart(6, '0');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}
function ifname(i: number): string {
  return `tap${i.toString(16).padStart(8, '0')}`;
}

function stateFile(dir: string, count: number, firewall: boolean): string {
  const file = join(dir, 'state.json');
  const sg = firewall ? ['sg-bench'] : [];
  writeFileSync(file, JSON.stringify({
    networks: [{ id: NET, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
    ports: Array.from({ length: count }, (_, i) => ({
      id: portId(i), mac: mac(i), network: NET, securityGroups: sg, portSecurityEnabled: firewall,
      fixedIps: [{ ipAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
    })),
    securityGroups: firewall ? {
      'sg-bench': { rules: [
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' },
        { direction: 'egress', ethertype: 'IPv4' },
      ] },
    } : {},
  }));
  return file;
}

function agentConfig(o: { db: string; rundir: string; state: string; firewall: boolean }): AgentConfig {
  return loadConfig({
    env: {},
    overrides: {
      'ovs.ovsdb_connection': o.db, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs_agent.state_file': o.state, 'ovs_agent.ovs_rundir': o.rundir, 'agent.report_interval': 0,
      'securitygroup.firewall_driver': o.firewall ? 'openvswitch' : 'noop', 'DEFAULT.host': 'bench',
    },
  }).config;
}

async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function activeCount(a: RunningAgent): number {
  return a.agent.portCounts().ACTIVE;
}

/** ovs-vsctl with many add-port commands in one transaction. */
function plugArgs(from: number, to: number): string[] {
  const args: string[] = [];
  for (let i = from; i < to; i++) {
    const n = ifname(i);
    args.push('--', '--may-exist', 'add-port', 'br-int', n, '--', 'set', 'Interface', n,
      `external_ids:iface-id=${portId(i)}`, `external_ids:attached-mac=${mac(i)}`);
  }
  return args;
}

async function latencyPart(quick: boolean, notes: string[], firewall: boolean): Promise<Metric[]> {
  const tag = firewall ? 'fw' : 'l2';
  const base = quick ? 300 : 1000;
  const single = quick ? 10 : 30;
  const burst = 200;
  const runs = quick ? 1 : 3;
  const total = base + single * runs + burst * runs;
  const sb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  let running: RunningAgent | undefined;
  try {
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    const config = agentConfig({ db: sb.dbRemote, rundir: sb.rundir, state: stateFile(dir, total, firewall), firewall });
    const cp = new LocalControlPlane({ file: config.ovs_agent.state_file });
    running = await runAgent({ config, logger: silentLogger, controlPlane: cp, statusSocket: false });
    const a = running;

    const t0 = Date.now();
    for (let i = 0; i < base; i += 250) await sb.vsctl(...plugArgs(i, Math.min(base, i + 250)));
    await until(() => activeCount(a) >= base, `${base} ports wired`, 600_000);
    notes.push(`latency (${tag}): ${base} ports plugged and wired first in ${((Date.now() - t0) / 1000).toFixed(1)} s (ovs-vswitchd reconfiguration included)`);

    const singles: number[] = [];
    const burstP50: number[] = [];
    const burstP99: number[] = [];
    const burstTotal: number[] = [];
    let next = base;
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < single; k++, next++) {
        const id = portId(next);
        await sb.vsctl(...plugArgs(next, next + 1));
        await until(() => a.agent.port(id)?.state === 'ACTIVE', `port ${next}`, 60_000);
        singles.push(a.agent.port(id)!.wiredInMs!);
      }
      const from = next;
      next += burst;
      await sb.vsctl(...plugArgs(from, next));
      const ids = new Set(Array.from({ length: burst }, (_, k) => portId(from + k)));
      await until(() => [...ids].every((id) => a.agent.port(id)?.state === 'ACTIVE'), 'burst', 120_000);
      const ports = [...ids].map((id) => a.agent.port(id)!);
      const lat = ports.map((p) => p.wiredInMs!);
      burstP50.push(percentile(lat, 50));
      burstP99.push(percentile(lat, 99));
      const lastReady = Math.max(...ports.map((p) => p.readyAt));
      const lastUp = Math.max(...ports.map((p) => p.readyAt + p.wiredInMs!));
      burstTotal.push(lastUp - lastReady);
    }
    const rss = process.memoryUsage().rss / 2 ** 20;
    const flows = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-aggregate', 'br-int'], { env: { ...process.env, OVS_RUNDIR: sb.rundir }, encoding: 'utf8' });
    notes.push(`latency (${tag}): ${next} ports on br-int, ${/flow_count=(\d+)/.exec(flows)?.[1]} flows on br-int (${firewall ? 'openvswitch firewall, one security group' : 'noop firewall'}), bench process RSS ${rss.toFixed(0)} MB`);
    return [
      metric({ metric: `${tag}_wire_one_p50_with_${base}_ports`, unit: 'ms', ours: [percentile(singles, 50)], target: '< 5',
        note: `${singles.length} ports plugged one at a time; all samples min ${round(Math.min(...singles), 2)} max ${round(Math.max(...singles), 2)}` }),
      metric({ metric: `${tag}_wire_one_p99_with_${base}_ports`, unit: 'ms', ours: [percentile(singles, 99)], target: '< 25' }),
      metric({ metric: `${tag}_wire_burst200_p50`, unit: 'ms', ours: burstP50, note: 'per-port latency inside a burst of 200 (one OVSDB transaction)' }),
      metric({ metric: `${tag}_wire_burst200_p99`, unit: 'ms', ours: burstP99 }),
      metric({ metric: `${tag}_wire_burst200_last_ready_to_last_up`, unit: 'ms', ours: burstTotal, target: '< 200' }),
    ];
  } finally {
    await running?.stop();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type SimTables = Pick<OpenVSwitchTables, 'Interface' | 'Bridge' | 'Port'>;

/**
 * Plays ovs-vswitchd's part in a database with no ovs-vswitchd: every new
 * Interface gets an ofport. Also plugs VIFs in bulk (nova's part), in big
 * transactions: ovs-vsctl takes minutes for 10,000 ports.
 */
async function simulatedSwitch(remote: string): Promise<{ plug(from: number, to: number): Promise<void>; stop(): Promise<void> }> {
  const r = await Replica.start<SimTables>({ remote, tables: { Interface: { columns: ['name', 'ofport'] }, Bridge: { columns: ['name', 'ports'] } } });
  let nextOfport = 1;
  let scheduled = false;
  const assign = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void r.transact((txn) => {
        for (const i of r.table('Interface').values()) if (i.ofport === null) txn.update('Interface', i._uuid, { ofport: nextOfport++ });
      }).catch(() => assign());
    });
  };
  r.watch('Interface', (e) => {
    if (e.kind !== 'delete' && e.row.ofport === null) assign();
  });
  assign();
  return {
    async plug(from, to) {
      await r.transact((txn) => {
        const br = r.table('Bridge').find((b) => b.name === 'br-int');
        if (!br) throw new Error('no br-int in the simulated database');
        const ports = [];
        for (let i = from; i < to; i++) {
          const iface = txn.insert('Interface', { name: ifname(i), external_ids: { 'iface-id': portId(i), 'attached-mac': mac(i) } });
          ports.push(txn.insert('Port', { name: ifname(i), interfaces: [iface] }));
        }
        txn.addToSet('Bridge', br._uuid, 'ports', ports);
      }, { timeoutMs: 120_000 });
    },
    stop: () => r.close(),
  };
}

async function resyncPart(quick: boolean, notes: string[]): Promise<Metric[]> {
  const count = quick ? 2000 : 10_000;
  const restarts = 3;
  const flowsSb = await OvsSandbox.start();
  const dbSb = await OvsSandbox.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  let assigner: Awaited<ReturnType<typeof simulatedSwitch>> | undefined;
  let running: RunningAgent | undefined;
  try {
    for (const br of ['br-int', 'br-eth1']) {
      await flowsSb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure');
    }
    await dbSb.stopVswitchd();
    await dbSb.vsctl('--no-wait', 'add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    await dbSb.vsctl('--no-wait', 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
    assigner = await simulatedSwitch(dbSb.dbRemote);
    for (let i = 0; i < count; i += 2000) await assigner.plug(i, Math.min(count, i + 2000));

    const config = agentConfig({ db: dbSb.dbRemote, rundir: flowsSb.rundir, state: stateFile(dir, count, false), firewall: false });
    const t0 = performance.now();
    running = await runAgent({ config, logger: silentLogger, statusSocket: false });
    const first = running;
    await until(() => activeCount(first) >= count && first.agent.status().firstSyncDone, `${count} ports wired`, 600_000);
    notes.push(`resync part (SIMULATED ovs-vswitchd for OVSDB: the benchmark assigns ofports in an ovsdb-server without ovs-vswitchd; flows go to a real ovs-vswitchd): first sync of ${count} ports ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await running.stop();
    running = undefined;

    const resync: number[] = [];
    const rss: number[] = [];
    let flowMods = 0;
    for (let r = 0; r < restarts; r++) {
      global.gc?.();
      const t = performance.now();
      let mods = 0;
      running = await runAgent({ config, logger: silentLogger, statusSocket: false, onPass: (s) => { mods += s.flowMods; } });
      const a = running;
      await until(() => activeCount(a) >= count && a.agent.status().firstSyncDone, 'resync', 600_000);
      resync.push((performance.now() - t) / 1000);
      rss.push(process.memoryUsage().rss / 2 ** 20);
      flowMods += mods;
      await running.stop();
      running = undefined;
    }
    const agg = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-aggregate', 'br-int'], { env: { ...process.env, OVS_RUNDIR: flowsSb.rundir }, encoding: 'utf8' });
    notes.push(`resync part: ${/flow_count=(\d+)/.exec(agg)?.[1]} flows on br-int (noop firewall: VLAN ports have no per-port flows; tags carry the VLAN); ` +
      `flow-mods sent in ${restarts} restarts: ${flowMods} (0 = no flow of an unchanged port removed or re-added)`);
    return [
      metric({ metric: `resync_${count}_ports_after_restart`, unit: 's', ours: resync, target: '< 3',
        note: 'from agent start (OVSDB connect, bridge setup, flow adoption) to every port reported ACTIVE and stale-flow cleanup done; ovs-vswitchd simulated on the OVSDB side' }),
      metric({ metric: `resync_${count}_flow_mods_sent`, unit: 'flow-mods', ours: [flowMods], target: '<= 0' }),
      metric({ metric: `rss_after_resync_${count}_ports`, unit: 'MB', ours: rss, target: '< 150',
        note: 'RSS of the whole bench process (agent + the ofport-assigning replica of 10k interfaces)' }),
    ];
  } finally {
    await running?.stop();
    await assigner?.stop();
    await flowsSb.stop();
    await dbSb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const suite: BenchSuite = {
  async run({ quick }) {
    const notes: string[] = [];
    // The resync runs first so its RSS is not inflated by the heap the latency runs leave behind.
    const resync = await resyncPart(quick, notes);
    const metrics = [
      ...await latencyPart(quick, notes, false),
      ...await latencyPart(quick, notes, true),
      ...resync,
    ];
    return newResult('agent', metrics, notes);
  },
};
export default suite;
