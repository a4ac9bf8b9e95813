/**
 * The metrics of an agent on the Neutron control plane (a private RabbitMQ
 * and neutron-server 21, testing/neutron-env.ts) and a real Open vSwitch:
 * the resource cache's objects and pulls, the RPCs by method, the AMQP
 * session and the bundles' commit times move as ports made through the API
 * are plugged.
 */
import { expect } from 'chai';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { sharedNeutronEnv } from '../neutron/helpers/shared-env.js';
import { NeutronAgents, plug, until, type ApiPort, type NeutronAgent } from '../neutron/helpers/neutron-agent.js';
import { httpGet, parseSamples, value, type Sample } from './scrape.js';

describe('metrics on the Neutron control plane @integration', function () {
  this.timeout(180_000);
  let env: NeutronEnv | undefined;
  const agents = new NeutronAgents(() => env!);
  let agent: NeutronAgent | undefined;

  before(async function () {
    this.timeout(240_000);
    env = await sharedNeutronEnv();
  });
  after(async function () {
    this.timeout(60_000);
    await agents.stopAll();
  });

  async function scrape(): Promise<Sample[]> {
    const r = await httpGet(`${agent!.running.observe!.server.url}/metrics`);
    expect(r.status).to.equal(200);
    return parseSamples(r.body);
  }

  it('counts the resource cache\'s objects and pulls, RPCs by method and bundle commits as API ports are wired', async () => {
    const host = 'metrics-neutron';
    const api = env!.api;
    const { network } = await api.post<{ network: { id: string } }>('/networks', { network: { name: 'metrics-neutron', 'provider:network_type': 'vxlan' } });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.23.0.0/24', ip_version: 4, enable_dhcp: false } });
    const newPort = async (vm: string): Promise<ApiPort> => (await api.post<{ port: ApiPort }>('/ports', {
      port: { network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: vm },
    })).port;
    const status = async (id: string): Promise<string> => (await api.get<{ port: { status: string } }>(`/ports/${id}`)).port.status;

    agent = await agents.start(host, '127.0.0.41', { 'ovs_agent.metrics_address': '0' });
    await agents.waitAlive(host);
    const m0 = await scrape();
    // The first port: pushed by the server, what it needs (its security groups...) pulled.
    const p1 = await newPort('vm-metrics-1');
    await plug(agent.sb, 'tap-m1', p1);
    await until(async () => (await status(p1.id)) === 'ACTIVE', 'port 1 ACTIVE');
    await agent.running.agent.whenIdle();
    const m1 = await scrape();
    expect(value(m1, 'ovs_agent_resource_cache_pulls_total'), agents.dump()).to.be.greaterThan(value(m0, 'ovs_agent_resource_cache_pulls_total') ?? 0);
    expect(value(m1, 'ovs_agent_resource_cache_objects', { type: 'Port' })).to.be.at.least(1);
    expect(value(m1, 'ovs_agent_resource_cache_objects', { type: 'Network' })).to.be.at.least(1);
    expect(value(m1, 'ovs_agent_rpc_calls_total', { method: 'bulk_pull', outcome: 'ok' })).to.be.at.least(1);
    expect(value(m1, 'ovs_agent_rpc_calls_total', { method: 'update_device_list', outcome: 'ok' })).to.be.at.least(1);
    expect(value(m1, 'ovs_agent_rpc_calls_total', { method: 'report_state', outcome: 'ok' })).to.be.at.least(1);
    expect(value(m1, 'ovs_agent_session_up', { session: 'amqp' })).to.equal(1);
    expect(value(m1, 'ovs_agent_ready')).to.equal(1);
    expect(value(m1, 'ovs_agent_ports', { state: 'ACTIVE' })).to.equal(1);
    expect(value(m1, 'ovs_agent_port_wiring_seconds_count', { stage: 'reported_up' })).to.equal(1);
    expect(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'firewall' })).to.be.greaterThan(0);
    expect(value(m1, 'ovs_agent_flows', { bridge: 'br-tun', group: 'network' })).to.be.greaterThan(0);
    expect(value(m1, 'ovs_agent_bundle_commit_seconds_count', { bridge: 'br-int' })).to.equal(value(m1, 'ovs_agent_bundles_total', { bridge: 'br-int' }));

    // A second port: the cache grows, the wiring is counted and timed again.
    const p2 = await newPort('vm-metrics-2');
    await plug(agent.sb, 'tap-m2', p2);
    await until(async () => (await status(p2.id)) === 'ACTIVE', 'port 2 ACTIVE');
    await agent.running.agent.whenIdle();
    const m2 = await scrape();
    expect(value(m2, 'ovs_agent_resource_cache_objects', { type: 'Port' })).to.be.greaterThan(value(m1, 'ovs_agent_resource_cache_objects', { type: 'Port' })!);
    expect(value(m2, 'ovs_agent_rpc_calls_total', { method: 'update_device_list', outcome: 'ok' }))
      .to.be.greaterThan(value(m1, 'ovs_agent_rpc_calls_total', { method: 'update_device_list', outcome: 'ok' })!);
    expect(value(m2, 'ovs_agent_ports', { state: 'ACTIVE' })).to.equal(2);
    expect(value(m2, 'ovs_agent_port_wiring_seconds_count', { stage: 'reported_up' })).to.equal(2);
    expect(value(m2, 'ovs_agent_bundle_commit_seconds_count', { bridge: 'br-int' }))
      .to.be.greaterThan(value(m1, 'ovs_agent_bundle_commit_seconds_count', { bridge: 'br-int' })!);
    expect(value(m2, 'ovs_agent_flows', { bridge: 'br-int', group: 'firewall' })).to.be.greaterThan(value(m1, 'ovs_agent_flows', { bridge: 'br-int', group: 'firewall' })!);
    // No label carries a Neutron id.
    const ids = [p1.id, p2.id, network.id];
    expect(m2.filter((s) => Object.values(s.labels).some((v) => ids.some((id) => v.includes(id))))).to.deep.equal([]);
  });
});
