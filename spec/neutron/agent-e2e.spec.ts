/**
 * ovs-agent end to end with neutron-server 21: the agent (lib/agent) on a
 * private OVS sandbox, configured with `[ovs_agent] control_plane = neutron`,
 * against RabbitMQ + PostgreSQL + neutron-server started by the test. Ports
 * are created through the Neutron API and plugged on br-int as nova/os-vif
 * would; the oracles are the API's port status and ovs-vsctl/ovs-ofctl.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { connect as amqpConnect } from 'amqplib';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log.js';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { waiter } from '../../testing/until.js';

interface ApiPort {
  id: string;
  status: string;
  mac_address: string;
}

const until = waiter(45_000, 200);

/** Neutron's tunnel port name: `<type>-<remote ip as 8 hex digits>`. */
function tunnelPortName(type: string, ip: string): string {
  return `${type}-${ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
}

describe('ovs-agent with neutron-server 21 end to end @integration', function () {
  this.timeout(120_000);
  let env: NeutronEnv | undefined;
  const sandboxes: OvsSandbox[] = [];
  const agents: RunningAgent[] = [];
  // Each agent's debug log, kept in memory and printed only when a test fails:
  // these tests run against a real server whose timing we don't control, and
  // a failure in CI is otherwise a bare "timed out".
  const agentLogs: Array<{ host: string; lines: string[] }> = [];

  function memoryLogger(host: string) {
    const lines: string[] = [];
    agentLogs.push({ host, lines });
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((l) => l !== '')));
    return createLogger({ debug: true, json: true, stream });
  }

  async function startAgent(host: string, localIp: string, existing?: OvsSandbox): Promise<{ sb: OvsSandbox; running: RunningAgent }> {
    const sb = existing ?? (await OvsSandbox.start());
    if (!existing) {
      sandboxes.push(sb);
      await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    }
    const config = loadConfig({
      env: {},
      overrides: {
        'DEFAULT.host': host,
        'DEFAULT.transport_url': env!.transportUrl,
        'DEFAULT.rpc_response_timeout': 30,
        'ovs_agent.control_plane': 'neutron',
        'ovs_agent.ovs_rundir': sb.rundir,
        'ovs_agent.openflow_channel': 'mgmt',
        'ovs.ovsdb_connection': sb.dbRemote,
        'ovs.datapath_type': 'netdev',
        'ovs.bridge_mappings': 'physnet1:br-eth1',
        'ovs.local_ip': localIp,
        'agent.tunnel_types': 'vxlan',
        'agent.report_interval': 5,
        'agent.polling_interval': 1,
        'securitygroup.firewall_driver': 'openvswitch',
      },
    }).config;
    const running = await runAgent({ config, logger: memoryLogger(host), statusSocket: false });
    agents.push(running);
    return { sb, running };
  }

  before(async function () {
    this.timeout(180_000);
    env = await sharedNeutronEnv();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const { host, lines } of agentLogs) {
      console.error(`--- agent ${host}: last ${Math.min(lines.length, 150)} of ${lines.length} log lines ---\n${lines.slice(-150).join('\n')}`);
    }
    let serverLog = '';
    try {
      serverLog = readFileSync(env!.serverLog, 'utf8');
    } catch { /* not started */ }
    // The access log is mostly this test's own polling.
    const serverLines = serverLog.split('\n').filter((l) => !l.includes(' neutron.wsgi '));
    console.error(`--- neutron-server: last 150 log lines but the access log ---\n${serverLines.slice(-150).join('\n')}`);
  });

  after(async function () {
    this.timeout(90_000);
    for (const a of agents.splice(0)) await a.stop().catch(() => {});
    for (const sb of sandboxes.splice(0)) await sb.stop();
    // The stack itself is shared with the other files (helpers/shared-env.ts).
  });

  it('wires a port created through the API: ACTIVE when plugged, dead on admin down, wired again on admin up, DOWN when unplugged', async () => {
    const host = 'e2e-a';
    const { sb } = await startAgent(host, '127.0.0.21');
    const api = env!.api;
    await until(async () => {
      const { agents: rows } = await api.get<{ agents: Array<{ host: string; alive: boolean; agent_type: string }> }>(`/agents?host=${host}`);
      return rows.some((r) => r.alive && r.agent_type === 'Open vSwitch agent');
    }, 'the agent alive in GET /v2.0/agents');

    const { network } = await api.post<{ network: { id: string; 'provider:segmentation_id': number } }>('/networks', {
      network: { name: 'e2e', 'provider:network_type': 'vxlan' },
    });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.9.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { port } = await api.post<{ port: ApiPort }>('/ports', {
      port: { network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: 'vm-e2e' },
    });
    const status = async () => (await api.get<{ port: ApiPort }>(`/ports/${port.id}`)).port.status;
    const tag = async () => (await sb.vsctl('get', 'Port', 'tap-e2e', 'tag')).trim();

    await sb.vsctl(
      'add-port', 'br-int', 'tap-e2e', '--', 'set', 'Interface', 'tap-e2e',
      `external_ids:iface-id=${port.id}`, `external_ids:attached-mac=${port.mac_address}`, 'external_ids:iface-status=active',
    );
    await until(async () => (await status()) === 'ACTIVE', 'the port ACTIVE in the API');
    const lvid = await tag();
    expect(Number(lvid)).to.be.within(1, 4094);
    // The firewall's per-port flows carry the port's MAC on br-int.
    expect(await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br-int')).to.include(port.mac_address);

    await api.put(`/ports/${port.id}`, { port: { admin_state_up: false } });
    await until(async () => (await tag()) === '4095', 'the port on the dead VLAN');
    await until(async () => (await status()) === 'DOWN', 'the port DOWN after admin down');

    await api.put(`/ports/${port.id}`, { port: { admin_state_up: true } });
    await until(async () => (await status()) === 'ACTIVE', 'the port ACTIVE again after admin up');
    expect(await tag()).to.not.equal('4095');

    await sb.vsctl('del-port', 'br-int', 'tap-e2e');
    await until(async () => (await status()) === 'DOWN', 'the port DOWN after unplug');
  });

  it('a second agent host gets a VXLAN tunnel to the first through tunnel_sync and tunnel_update', async () => {
    const first = sandboxes[0];
    await startAgent('e2e-b', '127.0.0.22');
    const second = sandboxes[1];
    // The second learns the first from its tunnel_sync reply, the first the second from tunnel_update.
    await until(async () => (await second.vsctl('list-ports', 'br-tun')).includes(tunnelPortName('vxlan', '127.0.0.21')), 'tunnel on the second host');
    await until(async () => (await first.vsctl('list-ports', 'br-tun')).includes(tunnelPortName('vxlan', '127.0.0.22')), 'tunnel on the first host');
    const opts = await first.vsctl('get', 'Interface', tunnelPortName('vxlan', '127.0.0.22'), 'options');
    expect(opts).to.include('remote_ip="127.0.0.22"').and.to.include('local_ip="127.0.0.21"');
  });

  it('restarted, wires its ports again without one update_device_list: the server already has them ACTIVE', async () => {
    const host = 'e2e-c';
    const api = env!.api;
    const { sb, running } = await startAgent(host, '127.0.0.23');
    await until(async () => {
      const { agents: rows } = await api.get<{ agents: Array<{ alive: boolean }> }>(`/agents?host=${host}`);
      return rows.some((r) => r.alive);
    }, 'the agent alive');
    const { network } = await api.post<{ network: { id: string } }>('/networks', { network: { name: 'e2e-restart', 'provider:network_type': 'vxlan' } });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.8.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { ports } = await api.post<{ ports: ApiPort[] }>('/ports', {
      ports: [0, 1].map((i) => ({ network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-r${i}` })),
    });
    for (const [i, p] of ports.entries()) {
      await sb.vsctl('add-port', 'br-int', `tap-r${i}`, '--', 'set', 'Interface', `tap-r${i}`,
        `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active');
    }
    const statuses = async () => Promise.all(ports.map(async (p) => (await api.get<{ port: ApiPort }>(`/ports/${p.id}`)).port.status));
    await until(async () => (await statuses()).every((st) => st === 'ACTIVE'), 'both ports ACTIVE');
    const tags = async () => Promise.all([0, 1].map(async (i) => (await sb.vsctl('get', 'Port', `tap-r${i}`, 'tag')).trim()));
    const tagsBefore = await tags();

    await running.stop();
    agents.splice(agents.indexOf(running), 1);
    // Copies of every call the server gets on q-plugin while the agent comes back.
    const spy = await amqpConnect(`amqp://guest:guest@127.0.0.1:${env!.rabbit.port}/`);
    try {
      const ch = await spy.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(q.queue, 'neutron', 'q-plugin');
      const methods: string[] = [];
      await ch.consume(q.queue, (m) => {
        methods.push((JSON.parse(String(JSON.parse(m!.content.toString())['oslo.message'])) as { method: string }).method);
      }, { noAck: true });
      const again = await startAgent(host, '127.0.0.23', sb);
      await until(() => {
        const st = again.running.agent.status();
        return st.firstSyncDone && ports.every((p) => again.running.agent.port(p.id)?.state === 'ACTIVE');
      }, 'the restarted agent done with both ports');
      await again.running.agent.whenIdle();
      expect(methods, 'calls on q-plugin during the restart').to.include('bulk_pull');
      expect(methods).to.not.include('update_device_list');
      expect(await statuses()).to.deep.equal(['ACTIVE', 'ACTIVE']);
      expect(await tags()).to.deep.equal(tagsBefore);
    } finally {
      await spy.close();
    }
  });
});
