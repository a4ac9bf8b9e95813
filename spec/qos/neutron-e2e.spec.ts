import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../lib/log.js';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { NeutronEnv } from '../../testing/neutron-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { portQos, qosFlows } from './support.js';
import { waiter } from '../../testing/until.js';

/**
 * The qos extension with neutron-server 21 and its qos service plugin
 * (docs/qos.md): a policy made through the API reaches the agent with the
 * port (pulled QosPolicy), a rule changed through the API reaches it by the
 * server's QosPolicy push and is applied without re-wiring, and taking the
 * policy off the port removes its rows. The agent's state report lists qos.
 */
const until = waiter(45_000, 200);

describe('qos extension with neutron-server 21 (qos service plugin) @integration', function () {
  this.timeout(180_000);
  let env: NeutronEnv;
  let sb: OvsSandbox;
  let agent: RunningAgent;
  const host = 'qos-e2e';
  /** The agent's log, printed only when a test fails. */
  const agentLog: string[] = [];

  before(async function () {
    this.timeout(180_000);
    env = await NeutronEnv.start({ qos: true });
    sb = await OvsSandbox.start();
    const config = loadConfig({
      env: {},
      overrides: {
        'DEFAULT.host': host, 'DEFAULT.transport_url': env.transportUrl, 'DEFAULT.rpc_response_timeout': 30,
        'ovs_agent.control_plane': 'neutron', 'ovs_agent.ovs_rundir': sb.rundir, 'ovs_agent.openflow_channel': 'mgmt',
        'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.local_ip': '127.0.0.51',
        'agent.tunnel_types': 'vxlan', 'agent.report_interval': 5, 'agent.extensions': 'qos',
      },
    }).config;
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => agentLog.push(...chunk.toString().split('\n').filter((l) => l !== '')));
    agent = await runAgent({ config, logger: createLogger({ debug: true, json: true, stream }), statusSocket: false });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`--- agent: last 120 log lines ---\n${agentLog.slice(-120).join('\n')}`);
  });
  after(async function () {
    this.timeout(60_000);
    await agent?.stop().catch(() => undefined);
    await sb?.stop();
    await env?.stop();
  });

  it('applies a port\'s policy from the API, re-applies a changed rule from the push, removes it with the policy', async () => {
    const api = env.api;
    const row = await until(async () => {
      const { agents } = await api.get<{ agents: Array<{ host: string; alive: boolean; configurations: { extensions?: string[] } }> }>(`/agents?host=${host}`);
      return agents.find((a) => a.alive);
    }, 'the agent alive');
    expect(row.configurations.extensions).to.deep.equal(['qos']);

    const { policy } = await api.post<{ policy: { id: string } }>('/qos/policies', { policy: { name: 'gold', project_id: 'p-qos' } });
    const { bandwidth_limit_rule: egress } = await api.post<{ bandwidth_limit_rule: { id: string } }>(`/qos/policies/${policy.id}/bandwidth_limit_rules`,
      { bandwidth_limit_rule: { max_kbps: 10_000, max_burst_kbps: 0, direction: 'egress' } });
    await api.post(`/qos/policies/${policy.id}/bandwidth_limit_rules`, { bandwidth_limit_rule: { max_kbps: 20_000, max_burst_kbps: 2_000, direction: 'ingress' } });
    await api.post(`/qos/policies/${policy.id}/dscp_marking_rules`, { dscp_marking_rule: { dscp_mark: 26 } });

    const { network } = await api.post<{ network: { id: string } }>('/networks', { network: { name: 'qos', 'provider:network_type': 'vxlan', project_id: 'p-qos' } });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.11.0.0/24', ip_version: 4, enable_dhcp: false, project_id: 'p-qos' } });
    const { port } = await api.post<{ port: { id: string; mac_address: string } }>('/ports', {
      port: { network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: 'vm-qos', qos_policy_id: policy.id, project_id: 'p-qos' },
    });
    await sb.vsctl('add-port', 'br-int', 'tapqe', '--', 'set', 'Interface', 'tapqe',
      `external_ids:iface-id=${port.id}`, `external_ids:attached-mac=${port.mac_address}`, 'external_ids:iface-status=active');
    await until(async () => (await api.get<{ port: { status: string } }>(`/ports/${port.id}`)).port.status === 'ACTIVE', 'the port ACTIVE');
    // ACTIVE only once its QoS is on the switch.
    const rows = await portQos(sb, 'tapqe');
    expect(rows.policing).to.deep.equal({ rate: 10_000, burst: 8_000 });
    expect(rows.qos?.queues['0']?.otherConfig).to.deep.equal({ 'max-rate': '20000000', burst: '2000000' });
    expect((await qosFlows(sb)).filter((f) => f.includes('26->ip_dscp'))).to.have.length(2);
    const tag = (await sb.vsctl('get', 'Port', 'tapqe', 'tag')).trim();

    await api.put(`/qos/policies/${policy.id}/bandwidth_limit_rules/${egress.id}`, { bandwidth_limit_rule: { max_kbps: 5_000, max_burst_kbps: 500 } });
    await until(async () => (await portQos(sb, 'tapqe')).policing.rate === 5_000, 'the changed rule on the switch (QosPolicy push)');
    expect((await portQos(sb, 'tapqe')).policing.burst).to.equal(500);
    expect((await sb.vsctl('get', 'Port', 'tapqe', 'tag')).trim()).to.equal(tag);
    expect((await api.get<{ port: { status: string } }>(`/ports/${port.id}`)).port.status).to.equal('ACTIVE');

    await api.put(`/ports/${port.id}`, { port: { qos_policy_id: null } });
    await until(async () => {
      const r = await portQos(sb, 'tapqe');
      return r.qos === undefined && r.policing.rate === 0;
    }, 'the rows gone with the policy');
    expect((await qosFlows(sb)).filter((f) => f.includes('ip_dscp'))).to.deep.equal([]);
  });
});
