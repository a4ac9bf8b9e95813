/**
 * The health and metrics endpoint of a real agent (runAgent, as bin/ovs-agent
 * runs it) on a real Open vSwitch: /readyz says not ready until the first
 * full sync and while a bridge's OpenFlow session is down, `ovs-agent
 * status` says the same, and the metrics move as ports are wired.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { readStatus } from '../../lib/agent/status-socket.js';
import { ConfigError, loadConfig, type AgentConfig } from '../../lib/config/index.js';
import { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { silentLogger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { httpGet, parseSamples, value, type Sample } from './scrape.js';
import { waiter } from '../../testing/until.js';

const until = waiter(15_000, 20);

const state = {
  networks: [
    { id: 'net-a', type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
    { id: 'net-b', type: 'vlan', segmentationId: 101, physicalNetwork: 'physnet1' },
  ],
  ports: [
    { id: 'port-1', mac: 'fa:16:3e:00:00:01', network: 'net-a' },
    { id: 'port-2', mac: 'fa:16:3e:00:00:02', network: 'net-b' },
  ],
};

describe('health and metrics endpoint @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let dir: string;
  let running: RunningAgent | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    // The physical bridge is the operator's (the agent does not create it); br-int exists before the agent, as on a hypervisor.
    for (const br of ['br-eth1', 'br-int']) await sb.vsctl('--may-exist', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
  });
  after(async () => {
    await sb?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metrics-spec-'));
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    for (const tap of ['tap1', 'tap2']) await sb.vsctl('--if-exists', 'del-port', 'br-int', tap);
    rmSync(dir, { recursive: true, force: true });
  });

  const configWith = (metricsAddress: string): AgentConfig => loadConfig({ env: {}, overrides: {
    'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
    'ovs_agent.state_file': join(dir, 'state.json'), 'ovs_agent.ovs_rundir': sb.rundir, 'ovs_agent.status_socket': join(dir, 'status.sock'),
    'ovs_agent.metrics_address': metricsAddress, 'agent.report_interval': 0, 'agent.polling_interval': 3600, 'DEFAULT.host': 'test-host',
  } }).config;

  const plug = (tap: string, id: string, mac: string) => sb.vsctl('--', '--may-exist', 'add-port', 'br-int', tap, '--', 'set', 'Interface', tap,
    `external_ids:iface-id=${id}`, `external_ids:attached-mac=${mac}`);

  async function scrape(): Promise<Sample[]> {
    const r = await httpGet(`${running!.observe!.server.url}/metrics`);
    expect(r.status).to.equal(200);
    expect(r.type).to.match(/^text\/plain; version=0\.0\.4/);
    return parseSamples(r.body);
  }

  const readyz = async () => httpGet(`${running!.observe!.server.url}/readyz`);

  it('refuses a malformed metrics_address at start, naming the option', async () => {
    for (const bad of ['localhost:9100', '1.2.3.4:99999', '::1:9100', 'x']) {
      const err = await runAgent({ config: configWith(bad), logger: silentLogger }).then(() => undefined, (e: unknown) => e);
      expect(err, bad).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).message).to.contain('[ovs_agent] metrics_address').and.contain(bad);
    }
  });

  it('probes: not ready before the first full sync, ready after, not ready while a bridge\'s OpenFlow session is down', async () => {
    await plug('tap1', 'port-1', 'fa:16:3e:00:00:01');
    // The first pass waits in its device lookup until released: the first full sync is held back.
    const cp = new LocalControlPlane({ file: join(dir, 'state.json'), debounceMs: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const lookup = cp.getDevicesDetails.bind(cp);
    cp.getDevicesDetails = async (ids) => {
      await gate;
      return lookup(ids);
    };
    running = await runAgent({ config: configWith('0'), logger: silentLogger, controlPlane: cp });
    expect(running.observe!.server.address.host).to.equal('127.0.0.1');

    expect((await httpGet(`${running.observe!.server.url}/healthz`)).status).to.equal(200);
    let r = await readyz();
    expect(r.status).to.equal(503);
    expect(r.body).to.contain('first full sync not done yet');
    let status = await readStatus(join(dir, 'status.sock'));
    expect(status.readiness.ready).to.equal(false);
    expect(status.readiness.reasons).to.deep.equal(['first full sync not done yet']);
    expect(status.readiness.sessions.map((s) => `${s.kind} ${s.bridge ?? ''} ${s.up}`).sort()).to.deep.equal([
      'control_plane  true', 'openflow br-eth1 true', 'openflow br-int true', 'ovsdb  true',
    ]);
    expect(value(await scrape(), 'ovs_agent_ready')).to.equal(0);

    release();
    await until(() => running!.agent.port('port-1')?.state === 'ACTIVE', 'port-1 ACTIVE');
    r = await readyz();
    expect(r.status, r.body).to.equal(200);
    status = await readStatus(join(dir, 'status.sock'));
    expect(status.readiness).to.include({ ready: true, firstSyncDone: true });
    expect(value(await scrape(), 'ovs_agent_ready')).to.equal(1);

    // ovs-vswitchd goes away: the OpenFlow sessions drop (OVSDB stays).
    await sb.stopVswitchd();
    let m: Sample[];
    try {
      // Each bridge's session notices on its own: until br-int's has.
      await until(async () => (r = await readyz()).body.includes('the OpenFlow session of br-int down since'), '/readyz to say br-int\'s session is down');
      expect(r.status).to.equal(503);
      status = await readStatus(join(dir, 'status.sock'));
      expect(status.readiness.ready).to.equal(false);
      expect(status.readiness.reasons.join('\n')).to.contain('the OpenFlow session of br-int down since');
      m = await scrape();
      expect(value(m, 'ovs_agent_session_up', { session: 'openflow', bridge: 'br-int' })).to.equal(0);
      expect(value(m, 'ovs_agent_session_up', { session: 'ovsdb' })).to.equal(1);
      expect(value(m, 'ovs_agent_ready')).to.equal(0);
    } finally {
      await sb.startVswitchd();
    }
    await until(async () => (await readyz()).status === 200, '/readyz 200 with ovs-vswitchd back');
    m = await scrape();
    expect(value(m, 'ovs_agent_session_up', { session: 'openflow', bridge: 'br-int' })).to.equal(1);
    expect(value(m, 'ovs_agent_session_reconnects_total', { session: 'openflow', bridge: 'br-int' })).to.be.at.least(1);
    expect(value(m, 'ovs_agent_session_reconnects_total', { session: 'ovsdb' }) ?? 0).to.equal(0);
    expect((await readStatus(join(dir, 'status.sock'))).readiness.ready).to.equal(true);
  });

  it('metrics move as ports are wired: passes, wiring latencies, ports, local VLANs, flows, flow-mods, bundles', async () => {
    running = await runAgent({ config: configWith('127.0.0.1:0'), logger: silentLogger });
    await until(() => running!.agent.status().firstSyncDone, 'the first full sync');
    await running.agent.whenIdle();
    const m0 = await scrape();
    expect(value(m0, 'ovs_agent_ports', { state: 'ACTIVE' })).to.equal(0);
    expect(value(m0, 'ovs_agent_local_vlans')).to.equal(0);
    expect(value(m0, 'ovs_agent_port_wiring_seconds_count', { stage: 'flows_confirmed' }) ?? 0).to.equal(0);
    // Process metrics (prom-client's defaults) are there.
    expect(value(m0, 'process_resident_memory_bytes')).to.be.greaterThan(0);
    expect(value(m0, 'nodejs_eventloop_lag_seconds')).to.be.a('number');

    await plug('tap1', 'port-1', 'fa:16:3e:00:00:01');
    await until(() => running!.agent.port('port-1')?.state === 'ACTIVE', 'port-1 ACTIVE');
    await running.agent.whenIdle();
    const m1 = await scrape();
    expect(value(m1, 'ovs_agent_ports', { state: 'ACTIVE' })).to.equal(1);
    expect(value(m1, 'ovs_agent_local_vlans')).to.equal(1);
    expect(value(m1, 'ovs_agent_port_wiring_seconds_count', { stage: 'flows_confirmed' })).to.equal(1);
    expect(value(m1, 'ovs_agent_port_wiring_seconds_count', { stage: 'reported_up' })).to.equal(1);
    expect(value(m1, 'ovs_agent_ports_wired_total')).to.equal(1);
    expect(value(m1, 'ovs_agent_pass_duration_seconds_count', { result: 'ok' })).to.be.greaterThan(value(m0, 'ovs_agent_pass_duration_seconds_count', { result: 'ok' })!);
    expect(value(m1, 'ovs_agent_flow_mods_total')).to.be.greaterThan(value(m0, 'ovs_agent_flow_mods_total')!);
    expect(value(m1, 'ovs_agent_bundles_total', { bridge: 'br-int' })).to.be.greaterThan(value(m0, 'ovs_agent_bundles_total', { bridge: 'br-int' })!);
    // Every bundle committed is timed: as many commit times as bundles, per bridge, each above 0.
    for (const bridge of ['br-int', 'br-eth1']) {
      expect(value(m1, 'ovs_agent_bundle_commit_seconds_count', { bridge }), bridge).to.equal(value(m1, 'ovs_agent_bundles_total', { bridge }));
      expect(value(m1, 'ovs_agent_bundle_commit_seconds_sum', { bridge }), bridge).to.be.greaterThan(0);
    }
    // Flows by group: the port's network brought local VLAN flows to both bridges; br-int's fixed pipeline is base.
    expect(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'network' })).to.be.greaterThan(value(m0, 'ovs_agent_flows', { bridge: 'br-int', group: 'network' })!);
    expect(value(m1, 'ovs_agent_flows', { bridge: 'br-eth1', group: 'network' })).to.be.greaterThan(0);
    expect(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'base' })).to.be.greaterThan(0);
    expect(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'firewall' })).to.equal(0);
    // Neutron's resource cache: not there with the local control plane.
    expect(value(m1, 'ovs_agent_resource_cache_objects')).to.equal(undefined);
    // The flows gauge is what the switch holds (the agent owns every flow of its bridges).
    for (const bridge of ['br-int', 'br-eth1']) {
      const dumped = (await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', bridge)).split('\n').filter((l) => l.includes('cookie=')).length;
      expect(value(m1, 'ovs_agent_flows', { bridge }), bridge).to.equal(dumped);
    }

    await plug('tap2', 'port-2', 'fa:16:3e:00:00:02');
    await until(() => running!.agent.port('port-2')?.state === 'ACTIVE', 'port-2 ACTIVE');
    await running.agent.whenIdle();
    const m2 = await scrape();
    expect(value(m2, 'ovs_agent_ports', { state: 'ACTIVE' })).to.equal(2);
    expect(value(m2, 'ovs_agent_local_vlans')).to.equal(2);
    expect(value(m2, 'ovs_agent_port_wiring_seconds_count', { stage: 'flows_confirmed' })).to.equal(2);
    expect(value(m2, 'ovs_agent_port_wiring_seconds_count', { stage: 'reported_up' })).to.equal(2);
    expect(value(m2, 'ovs_agent_flows', { bridge: 'br-int' })).to.be.greaterThan(value(m1, 'ovs_agent_flows', { bridge: 'br-int' })!);
    expect(value(m2, 'ovs_agent_flows', { bridge: 'br-int', group: 'network' })).to.be.greaterThan(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'network' })!);
    expect(value(m2, 'ovs_agent_bundle_commit_seconds_count', { bridge: 'br-int' })).to.be.greaterThan(value(m1, 'ovs_agent_bundle_commit_seconds_count', { bridge: 'br-int' })!);
    expect(value(m2, 'ovs_agent_flow_mods_total')).to.be.greaterThan(value(m1, 'ovs_agent_flow_mods_total')!);
    // A port's latency to ACTIVE is at least its latency to flows confirmed.
    expect(value(m2, 'ovs_agent_port_wiring_seconds_sum', { stage: 'reported_up' }))
      .to.be.at.least(value(m2, 'ovs_agent_port_wiring_seconds_sum', { stage: 'flows_confirmed' })!);
    // No label carries a port id.
    expect(m2.filter((s) => Object.values(s.labels).some((v) => v.startsWith('port-')))).to.deep.equal([]);

    // Drift: a flow of the agent deleted behind its back, put back by a repair (as after a reconnect): counted per bridge.
    expect(value(m2, 'ovs_agent_flow_drift_repaired_total', { bridge: 'br-int' }) ?? 0).to.equal(0);
    const netFlow = (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br-int', 'table=0')).split('\n').find((l) => /dl_vlan=100\b/.test(l))!;
    await sb.ofctl('-O', 'OpenFlow13', '--strict', 'del-flows', 'br-int', netFlow.trim().replace(/^cookie=0x[0-9a-f]+, /, '').replace(/ actions=.*$/, '').replace(', ', ','));
    await running.agent.insight.flowReport({ repair: true });
    const md = await scrape();
    expect(value(md, 'ovs_agent_flow_drift_repaired_total', { bridge: 'br-int' })).to.equal(1);
    expect(value(md, 'ovs_agent_flow_drift_repaired_total', { bridge: 'br-eth1' })).to.equal(0);

    await sb.vsctl('del-port', 'br-int', 'tap2');
    await until(() => running!.agent.port('port-2') === undefined, 'port-2 gone');
    await running.agent.whenIdle();
    const m3 = await scrape();
    expect(value(m3, 'ovs_agent_ports', { state: 'ACTIVE' })).to.equal(1);
    expect(value(m3, 'ovs_agent_local_vlans')).to.equal(1);
    // net-b's flows went with its last port: the gauge goes down to what the switch holds.
    expect(value(m3, 'ovs_agent_flows', { bridge: 'br-int', group: 'network' })).to.equal(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'network' }));
    const dumped = (await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br-int')).split('\n').filter((l) => l.includes('cookie=')).length;
    expect(value(m3, 'ovs_agent_flows', { bridge: 'br-int' })).to.equal(dumped);
  });
});
