/**
 * Neutron's own files, unchanged (issue 16, item 1): Debian's shipped
 * /etc/neutron/neutron.conf and /etc/neutron/plugins/ml2/openvswitch_agent.ini,
 * given with Neutron's own flags, start the agent as Neutron's agent against
 * the real neutron-server: the neutron control plane, Controller rows at
 * of_listen_address:of_listen_port on every bridge, a state report that
 * advertises no extension, and a port that goes ACTIVE. The only values set
 * are those a test must change, in a --config-dir: the broker, the OVS
 * sandbox (socket, netdev datapath, a free OpenFlow port), the host name and
 * the status socket's path.
 */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NeutronEnv, freePort } from '../../testing/neutron-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentProcess } from '../agent/support/agent-process.js';
import { until, type ApiPort } from './helpers/neutron-agent.js';

const NEUTRON_CONF = '/etc/neutron/neutron.conf';
const OVS_AGENT_INI = '/etc/neutron/plugins/ml2/openvswitch_agent.ini';
const HOST = 'debian-files-host';

interface ApiAgent { host: string; alive: boolean; agent_type: string; configurations: Record<string, unknown> }

describe("Debian's Neutron files, unchanged, run the agent against neutron-server @integration", function () {
  this.timeout(240_000);
  let env: NeutronEnv;
  let sb: OvsSandbox;
  let dir: string;
  let agent: AgentProcess | undefined;

  before(async () => {
    env = await NeutronEnv.start();
    sb = await OvsSandbox.start();
    // Debian's openvswitch_agent.ini maps "external" to br-ex: the operator creates that bridge.
    await sb.vsctl('add-br', 'br-ex', '--', 'set', 'bridge', 'br-ex', 'datapath_type=netdev');
    dir = mkdtempSync(join(tmpdir(), 'neutron-files-'));
  });
  after(async () => {
    await agent?.kill();
    await sb?.stop();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--config-file neutron.conf --config-file openvswitch_agent.ini --config-dir: Controller rows, the report, a port ACTIVE', async () => {
    copyFileSync(NEUTRON_CONF, join(dir, 'neutron.conf'));
    copyFileSync(OVS_AGENT_INI, join(dir, 'openvswitch_agent.ini'));
    const confDir = join(dir, 'agent.conf.d');
    mkdirSync(confDir);
    const ofPort = await freePort();
    writeFileSync(join(confDir, '50-test.conf'), [
      '[DEFAULT]', `transport_url = ${env.transportUrl}`, `host = ${HOST}`,
      '[ovs]', `ovsdb_connection = ${sb.dbRemote}`, 'datapath_type = netdev', `of_listen_port = ${ofPort}`,
      '[ovs_agent]', `status_socket = ${join(dir, 'status.sock')}`, '',
    ].join('\n'));
    agent = AgentProcess.spawn(['--config-file', join(dir, 'neutron.conf'), '--config-file', join(dir, 'openvswitch_agent.ini'), '--config-dir', confDir]);

    const registered = await until(async () => {
      if (agent!.exit) throw new Error(`ovs-agent exited ${JSON.stringify(agent!.exit)}: ${agent!.stderr}`);
      const { agents } = await env.api.get<{ agents: ApiAgent[] }>(`/agents?host=${HOST}`);
      return agents.find((a) => a.alive);
    }, 'the agent alive in neutron-server', 90_000, 500);
    expect(registered.agent_type).to.equal('Open vSwitch agent');
    expect(registered.configurations).to.deep.include({
      bridge_mappings: { external: 'br-ex' }, tunnel_types: ['vxlan'], tunneling_ip: '127.0.0.1', integration_bridge: 'br-int', extensions: [],
    });

    // Neutron's arrangement: every bridge's Controller row points at the agent's listener.
    for (const bridge of ['br-int', 'br-tun', 'br-ex']) {
      const target = await until(async () => {
        const t = (await sb.vsctl('get-controller', bridge)).trim();
        return t === '' ? undefined : t;
      }, `a Controller on ${bridge}`, 20_000, 200);
      expect(target, bridge).to.equal(`tcp:127.0.0.1:${ofPort}`);
    }

    const { network } = await env.api.post<{ network: { id: string } }>('/networks', { network: { name: 'n1', 'provider:network_type': 'vxlan' } });
    await env.api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.16.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { port } = await env.api.post<{ port: ApiPort }>('/ports', {
      port: { network_id: network.id, 'binding:host_id': HOST, device_owner: 'compute:nova', device_id: 'vm-1' },
    });
    await sb.vsctl('add-port', 'br-int', 'tap-debian', '--', 'set', 'Interface', 'tap-debian', 'type=internal',
      `external_ids:iface-id=${port.id}`, `external_ids:attached-mac=${port.mac_address}`, 'external_ids:iface-status=active', 'external_ids:vm-uuid=vm-1');
    await until(async () => (await env.api.get<{ port: ApiPort }>(`/ports/${port.id}`)).port.status === 'ACTIVE', 'the port ACTIVE', 60_000, 250);

    // Debian's neutron.conf sets [agent] root_helper: not used here, and said so at start.
    expect(agent.stderr).to.match(/root_helper/);
  });
});
