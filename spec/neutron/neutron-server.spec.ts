/**
 * The Neutron control plane against a real neutron-server 21, RabbitMQ and
 * PostgreSQL started by the test (testing/neutron-env.ts). The oracle is the
 * server itself: its REST API (agents, port status) and what it pushes.
 */
import { expect } from 'chai';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';
import { pidAlive } from '../../testing/sandbox.js';
import { NeutronControlPlane, ovsAgentConfigurations } from '../../lib/control-plane/neutron/index.js';
import { silentLogger } from '../../lib/control-plane/neutron/logger.js';
import type { ControlPlaneEvent, DeviceLookup, DevicesDetailsReply, PortDetails } from '../../lib/control-plane/types.js';
import { waiter } from '../../testing/until.js';

const HOST_A = 'compute-a';
const HOST_B = 'compute-b';
const IP_A = '127.0.0.11';
const IP_B = '127.0.0.12';

interface ApiPort {
  id: string;
  status: string;
  mac_address: string;
  admin_state_up: boolean;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  security_groups: string[];
}
interface ApiNetwork {
  id: string;
  'provider:network_type': string;
  'provider:segmentation_id': number | null;
  'provider:physical_network': string | null;
}
interface ApiAgent {
  host: string;
  agent_type: string;
  binary: string;
  alive: boolean;
  heartbeat_timestamp: string;
  configurations: Record<string, unknown>;
}

const until = waiter(30_000, 100);

/** A control plane plus everything it emitted. */
class Agent {
  readonly events: ControlPlaneEvent[] = [];
  readonly cp: NeutronControlPlane;

  constructor(
    readonly host: string,
    readonly localIp: string,
    transportUrl: string,
  ) {
    this.cp = new NeutronControlPlane({
      transportUrl,
      reportInterval: 4,
      rpcResponseTimeout: 30,
      callRetries: 1,
      // Small chunks, so a few ports already make several update_device_list calls.
      rpcResourcesProcessingStep: 3,
      l2Population: true,
      // Reconnect quickly in tests.
      rabbit: { retryInterval: 0.2, retryBackoff: 0.5, intervalMax: 2 },
      logger: silentLogger,
    });
    this.cp.onEvent((e) => this.events.push(e));
  }

  start(): Promise<void> {
    return this.cp.start({ host: this.host, agentId: `ovs-agent-${this.host}`, binary: 'neutron-openvswitch-agent' });
  }

  report(startFlag = false) {
    return this.cp.reportState({
      startFlag,
      devices: 0,
      configurations: ovsAgentConfigurations({
        bridgeMappings: { physnet1: 'br-eth1' },
        integrationBridge: 'br-int',
        tunnelTypes: ['vxlan'],
        localIp: this.localIp,
        l2Population: true,
        arpResponder: false,
        datapathType: 'netdev',
        datapathTypes: ['netdev', 'system'],
        ifaceTypes: ['internal', 'vxlan', 'patch', 'dummy'],
        vhostuserSocketDir: '/var/run/openvswitch',
        ovsHybridPlug: false,
      }),
    });
  }

  async waitEvent<E extends ControlPlaneEvent>(what: string, pred: (e: ControlPlaneEvent) => e is E, timeoutMs = 30_000): Promise<E> {
    return until(() => this.events.find(pred), what, timeoutMs);
  }
}

/** Copies of every call on q-plugin, from a queue of our own on the same binding (the server still gets them). */
async function spyOnPlugin(port: number): Promise<{ calls: Array<{ method: string; args: Record<string, unknown> }>; close(): Promise<void> }> {
  const conn: ChannelModel = await amqpConnect(`amqp://guest:guest@127.0.0.1:${port}/`);
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(q.queue, 'neutron', 'q-plugin');
  const calls: Array<{ method: string; args: Record<string, unknown> }> = [];
  await ch.consume(q.queue, (m) => {
    calls.push(JSON.parse(String(JSON.parse(m!.content.toString())['oslo.message'])) as { method: string; args: Record<string, unknown> });
  }, { noAck: true });
  return { calls, close: () => conn.close() };
}

/**
 * Device details as the agent gets them: devices the cache cannot answer yet
 * come back `deferred` (pulled meanwhile, announced with ports_updated), so
 * ask again until none is.
 */
function details(cp: NeutronControlPlane, ids: string[]): Promise<DevicesDetailsReply> {
  return until(async () => {
    const reply = await cp.getDevicesDetails(ids);
    return reply.deferred?.length ? undefined : reply;
  }, `details of ${ids.join(', ')}`);
}

function portsUpdated(id: string) {
  return (e: ControlPlaneEvent): e is Extract<ControlPlaneEvent, { type: 'ports_updated' }> => e.type === 'ports_updated' && e.portIds.includes(id);
}

function bound(lookup: DeviceLookup | undefined): PortDetails {
  expect(lookup?.kind, JSON.stringify(lookup)).to.equal('bound');
  return (lookup as Extract<DeviceLookup, { kind: 'bound' }>).details;
}

describe('Neutron control plane against neutron-server 21 @integration', function () {
  this.timeout(120_000);
  let env: NeutronEnv | undefined;
  const agents: Agent[] = [];
  let a: Agent;
  let network: ApiNetwork;
  let subnetId: string;
  let firstPort: ApiPort;

  const api = () => env!.api;
  const newAgent = (host: string, ip: string) => {
    const ag = new Agent(host, ip, env!.transportUrl);
    agents.push(ag);
    return ag;
  };
  const getPort = async (id: string) => (await api().get<{ port: ApiPort }>(`/ports/${id}`)).port;
  const createPort = async (networkId: string, host: string, extra: Record<string, unknown> = {}) =>
    (
      await api().post<{ port: ApiPort }>('/ports', {
        port: { network_id: networkId, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${Math.random()}`, ...extra },
      })
    ).port;
  /**
   * The port's details once bound: the server pushes a port when it is
   * created and again once bound, and the cache answers with the latest.
   */
  const boundDetails = (id: string) =>
    until(async () => {
      const lookup = (await a.cp.getDevicesDetails([id])).devices[0];
      return lookup?.kind === 'bound' ? lookup.details : undefined;
    }, `bound details of ${id}`);
  const agentRow = async (host: string) => (await api().get<{ agents: ApiAgent[] }>(`/agents?host=${host}`)).agents.find((x) => x.agent_type === 'Open vSwitch agent');

  before(async function () {
    this.timeout(180_000);
    env = await sharedNeutronEnv();
    a = newAgent(HOST_A, IP_A);
    await a.start();
    network = (await api().post<{ network: ApiNetwork }>('/networks', { network: { name: 'vx', 'provider:network_type': 'vxlan' } })).network;
    subnetId = (
      await api().post<{ subnet: { id: string } }>('/subnets', {
        subnet: { network_id: network.id, cidr: '10.1.0.0/24', ip_version: 4, enable_dhcp: false },
      })
    ).subnet.id;
  });

  after(async function () {
    this.timeout(60_000);
    for (const ag of agents) await ag.cp.stop().catch(() => {});
    // The stack itself is shared with the other files (helpers/shared-env.ts).
  });

  it('state reports make the agent show up alive in GET /v2.0/agents as an Open vSwitch agent for our host', async () => {
    expect(await a.report(true)).to.equal('new');
    const row = await agentRow(HOST_A);
    expect(row, 'agent row').to.not.equal(undefined);
    expect(row!.alive).to.equal(true);
    expect(row!.binary).to.equal('neutron-openvswitch-agent');
    expect(row!.configurations.tunneling_ip).to.equal(IP_A);
    expect(row!.configurations.bridge_mappings).to.deep.equal({ physnet1: 'br-eth1' });
    expect(row!.configurations.tunnel_types).to.deep.equal(['vxlan']);
    expect(await a.report(false)).to.equal('alive');
  });

  it('gets a port bound to our host through the push/bulk_pull cache, with its segment', async () => {
    const port = await createPort(network.id, HOST_A);
    // The server binds on create (our agent is alive with vxlan) and pushes the port.
    await a.waitEvent('ports_updated push for the new port', portsUpdated(port.id));
    await boundDetails(port.id);
    const reply = await details(a.cp, [port.id, 'not-a-port']);
    expect(reply.failed).to.deep.equal([]);
    const d = bound(reply.devices[0]);
    expect(d.portId).to.equal(port.id);
    expect(d.networkId).to.equal(network.id);
    expect(d.networkType).to.equal('vxlan');
    expect(d.segmentationId).to.equal(network['provider:segmentation_id']);
    expect(d.macAddress).to.equal(port.mac_address);
    expect(d.fixedIps).to.deep.equal([{ subnetId, ipAddress: port.fixed_ips[0].ip_address }]);
    expect(d.securityGroups).to.deep.equal(port.security_groups);
    expect(d.adminStateUp).to.equal(true);
    expect(d.mtu).to.equal(1450);
    expect(reply.devices[1]).to.deep.equal({ kind: 'unknown', device: 'not-a-port' });
    firstPort = port;
  });

  it('fills the cache with bulk_pull on a miss (a second agent that saw no push)', async () => {
    // The previous test's port: bound, and no longer changing, so nothing more is pushed about it.
    const port = firstPort;
    // A fresh control plane has an empty cache: its lookup can only be answered by bulk_pull.
    const late = newAgent(HOST_A, IP_A);
    await late.start();
    expect(late.cp.isCached('Port', port.id)).to.equal(false);
    expect(late.cp.isCached('Network', network.id)).to.equal(false);
    // Not waited for: deferred, pulled, announced, then answered from the cache.
    expect(await late.cp.getDevicesDetails([port.id])).to.deep.equal({ devices: [], failed: [], deferred: [port.id] });
    await late.waitEvent('the deferred port announced', portsUpdated(port.id));
    const d = bound((await late.cp.getDevicesDetails([port.id])).devices[0]);
    expect(d.segmentationId).to.equal(network['provider:segmentation_id']);
    expect(late.cp.isCached('Port', port.id)).to.equal(true);
    expect(late.cp.isCached('Network', network.id)).to.equal(true);
    await late.cp.stop();
  });

  it('update_device_list up makes the port ACTIVE and down makes it DOWN', async () => {
    const port = await createPort(network.id, HOST_A);
    expect(port.status).to.equal('DOWN');
    await a.waitEvent('push of the port', portsUpdated(port.id));
    const up = await a.cp.updateDeviceList([port.id], []);
    expect(up).to.deep.equal({ failedUp: [], failedDown: [] });
    await until(async () => (await getPort(port.id)).status === 'ACTIVE', 'port ACTIVE');
    const down = await a.cp.updateDeviceList([], [port.id]);
    expect(down).to.deep.equal({ failedUp: [], failedDown: [] });
    await until(async () => (await getPort(port.id)).status === 'DOWN', 'port DOWN');
  });

  it('reports many devices in chunks of rpc_resources_processing_step', async () => {
    const ports = await Promise.all(Array.from({ length: 7 }, () => createPort(network.id, HOST_A)));
    const ids = ports.map((p) => p.id);
    const up = await a.cp.updateDeviceList(ids, []);
    expect(up).to.deep.equal({ failedUp: [], failedDown: [] });
    await until(async () => {
      const listed = await api().get<{ ports: ApiPort[] }>(`/ports?${ids.map((id) => `id=${id}`).join('&')}&fields=id&fields=status`);
      return listed.ports.length === ids.length && listed.ports.every((p) => p.status === 'ACTIVE');
    }, 'all 7 ports ACTIVE');
  });

  it('admin_state_up false is pushed and shows in the details; true again too', async () => {
    const port = await createPort(network.id, HOST_A);
    await a.waitEvent('push of the port', portsUpdated(port.id));
    await boundDetails(port.id);
    a.events.length = 0;
    await api().put(`/ports/${port.id}`, { port: { admin_state_up: false } });
    await a.waitEvent('push after admin down', portsUpdated(port.id));
    // Pushes of earlier changes may come first: the details follow the last one.
    await until(async () => (await boundDetails(port.id)).adminStateUp === false, 'details with admin_state_up false');
    a.events.length = 0;
    await api().put(`/ports/${port.id}`, { port: { admin_state_up: true } });
    await a.waitEvent('push after admin up', portsUpdated(port.id));
    await until(async () => (await boundDetails(port.id)).adminStateUp === true, 'details with admin_state_up true');
  });

  it('gives the VLAN segment of a port on a VLAN network, and deletes are pushed', async () => {
    const vlan = (
      await api().post<{ network: ApiNetwork }>('/networks', {
        network: { name: 'vl', 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 150 },
      })
    ).network;
    await api().post('/subnets', { subnet: { network_id: vlan.id, cidr: '10.2.0.0/24', ip_version: 4, enable_dhcp: false } });
    const port = await createPort(vlan.id, HOST_A);
    const d = await boundDetails(port.id);
    expect(d).to.include({ networkType: 'vlan', segmentationId: 150, physicalNetwork: 'physnet1', mtu: 1500 });
    await api().delete(`/ports/${port.id}`);
    await a.waitEvent('port_deleted', (e): e is Extract<ControlPlaneEvent, { type: 'port_deleted' }> => e.type === 'port_deleted' && e.portId === port.id);
    expect((await a.cp.getDevicesDetails([port.id])).devices[0]).to.deep.equal({ kind: 'unknown', device: port.id });
  });

  it('answers security group info from the cache: rules, statefulness and remote-group members', async () => {
    const port = await createPort(network.id, HOST_A);
    const sgId = port.security_groups[0];
    const info = await a.cp.securityGroupInfo([port.id]);
    expect(info.stateful[sgId]).to.equal(true);
    const rules = info.rules[sgId];
    // Neutron's default group: egress v4/v6 anywhere, ingress v4/v6 from the group itself.
    expect(rules.filter((r) => r.direction === 'egress').map((r) => r.ethertype).sort()).to.deep.equal(['IPv4', 'IPv6']);
    expect(rules.filter((r) => r.direction === 'ingress').every((r) => r.remoteGroupId === sgId)).to.equal(true);
    expect(info.members[sgId].IPv4).to.deep.include([port.fixed_ips[0].ip_address, port.mac_address]);

    a.events.length = 0;
    const rule = await api().post<{ security_group_rule: { id: string } }>('/security-group-rules', {
      security_group_rule: { security_group_id: sgId, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '192.0.2.0/24' },
    });
    await a.waitEvent('security_groups_updated', (e): e is Extract<ControlPlaneEvent, { type: 'security_groups_updated' }> =>
      e.type === 'security_groups_updated' && e.securityGroupIds.includes(sgId),
    );
    const after = await a.cp.securityGroupInfo([port.id]);
    // The rule's own id comes along (ovs-agent trace names a rule by it).
    expect(after.rules[sgId]).to.deep.include({
      id: rule.security_group_rule.id, securityGroupId: sgId, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '192.0.2.0/24',
    });
    await api().delete(`/security-group-rules/${rule.security_group_rule.id}`);
  });

  it('tunnel_sync from a second host: each learns the other, and the first gets tunnel_update', async () => {
    const tunnelsA = await a.cp.tunnelSync(IP_A, 'vxlan');
    expect(tunnelsA.map((t) => t.ipAddress)).to.include(IP_A);
    const b = newAgent(HOST_B, IP_B);
    await b.start();
    expect(await b.report(true)).to.equal('new');
    const tunnelsB = await b.cp.tunnelSync(IP_B, 'vxlan');
    expect(tunnelsB).to.deep.include({ ipAddress: IP_A, host: HOST_A, udpPort: 4789 });
    expect(tunnelsB).to.deep.include({ ipAddress: IP_B, host: HOST_B, udpPort: 4789 });
    const ev = await a.waitEvent('tunnel_update for host B', (e): e is Extract<ControlPlaneEvent, { type: 'tunnel_update' }> =>
      e.type === 'tunnel_update' && e.tunnelIp === IP_B,
    );
    expect(ev.tunnelType).to.equal('vxlan');
  });

  it('l2population: a port going up on B sends A its fdb entry, and B the full table of the network', async () => {
    const b = agents.find((x) => x.host === HOST_B)!;
    const net = (await api().post<{ network: ApiNetwork }>('/networks', { network: { name: 'l2pop', 'provider:network_type': 'vxlan' } })).network;
    await api().post('/subnets', { subnet: { network_id: net.id, cidr: '10.3.0.0/24', ip_version: 4, enable_dhcp: false } });
    const pa = await createPort(net.id, HOST_A);
    await details(a.cp, [pa.id]);
    await a.cp.updateDeviceList([pa.id], []);
    await until(async () => (await getPort(pa.id)).status === 'ACTIVE', 'A port ACTIVE');
    a.events.length = 0;
    b.events.length = 0;
    const pb = await createPort(net.id, HOST_B);
    await details(b.cp, [pb.id]);
    await b.cp.updateDeviceList([pb.id], []);
    const toA = await a.waitEvent('fdb_add on A naming B', (e): e is Extract<ControlPlaneEvent, { type: 'fdb_add' }> =>
      e.type === 'fdb_add' && e.entries[net.id]?.ports[IP_B] !== undefined,
    );
    expect(toA.entries[net.id].segmentId).to.equal(net['provider:segmentation_id']);
    expect(toA.entries[net.id].ports[IP_B]).to.deep.include([pb.mac_address, pb.fixed_ips[0].ip_address]);
    // B is the network's newly active agent there: it gets the full table on its own queue.
    const toB = await b.waitEvent('full fdb table on B', (e): e is Extract<ControlPlaneEvent, { type: 'fdb_add' }> =>
      e.type === 'fdb_add' && e.entries[net.id]?.ports[IP_A] !== undefined,
    );
    expect(toB.entries[net.id].ports[IP_A]).to.deep.include(['00:00:00:00:00:00', '0.0.0.0']);
    expect(toB.entries[net.id].ports[IP_A]).to.deep.include([pa.mac_address, pa.fixed_ips[0].ip_address]);
  });

  it('after a restart, reports no port the server already has ACTIVE; one per network asks l2pop for the full table', async () => {
    const b = agents.find((x) => x.host === HOST_B)!;
    const net = (await api().post<{ network: ApiNetwork }>('/networks', { network: { name: 'restart', 'provider:network_type': 'vxlan' } })).network;
    await api().post('/subnets', { subnet: { network_id: net.id, cidr: '10.4.0.0/24', ip_version: 4, enable_dhcp: false } });
    const pa = await createPort(net.id, HOST_A);
    await details(a.cp, [pa.id]);
    await a.cp.updateDeviceList([pa.id], []);
    const pbs = await Promise.all([0, 1, 2].map(() => createPort(net.id, HOST_B)));
    const ids = pbs.map((p) => p.id);
    await details(b.cp, ids);
    await b.cp.updateDeviceList(ids, []);
    await until(async () => {
      for (const id of [pa.id, ...ids]) if ((await getPort(id)).status !== 'ACTIVE') return false;
      return true;
    }, 'all ports ACTIVE');

    const spy = await spyOnPlugin(env!.rabbit.port);
    const calls: Array<Record<string, unknown>> = [];
    const udl = () => {
      calls.length = 0;
      for (const c of spy.calls) if (c.method === 'update_device_list') calls.push(c.args);
      return calls;
    };
    try {
      // B restarted: a new process, an empty cache, the same ports plugged.
      await b.cp.stop();
      const restarted = newAgent(HOST_B, IP_B);
      await restarted.start();
      expect((await details(restarted.cp, ids)).failed).to.deep.equal([]);
      expect(await restarted.cp.updateDeviceList(ids, [])).to.deep.equal({ failedUp: [], failedDown: [] });
      await until(() => udl().length >= 1, 'the representative update_device_list');
      const toB = await restarted.waitEvent('full fdb table on the restarted B', (e): e is Extract<ControlPlaneEvent, { type: 'fdb_add' }> =>
        e.type === 'fdb_add' && e.entries[net.id]?.ports[IP_A] !== undefined,
      );
      expect(toB.entries[net.id].ports[IP_A]).to.deep.include([pa.mac_address, pa.fixed_ips[0].ip_address]);
      expect(calls).to.have.length(1);
      expect(calls[0].devices_up).to.have.length(1);
      expect(ids).to.include((calls[0].devices_up as string[])[0]);
      expect(calls[0].refresh_tunnels).to.equal(true);
      for (const id of ids) expect((await getPort(id)).status).to.equal('ACTIVE');

      // What the server does not have right yet is reported: a new port (DOWN) up, and one of the old ones down.
      const fresh = await createPort(net.id, HOST_B);
      await details(restarted.cp, [fresh.id]);
      spy.calls.length = 0;
      expect(await restarted.cp.updateDeviceList([fresh.id], [ids[1]])).to.deep.equal({ failedUp: [], failedDown: [] });
      await until(async () => (await getPort(fresh.id)).status === 'ACTIVE' && (await getPort(ids[1])).status === 'DOWN', 'new port ACTIVE, old one DOWN');
      expect(udl().map((c) => [c.devices_up, c.devices_down, c.refresh_tunnels])).to.deep.equal([[[fresh.id], [ids[1]], false]]);
      // Reported down by this process, a port reported up is sent again whatever the cache says (a replug).
      spy.calls.length = 0;
      await restarted.cp.updateDeviceList([ids[1]], []);
      await until(() => udl().length >= 1, 'the copy of the call');
      expect(udl().map((c) => c.devices_up)).to.deep.equal([[ids[1]]]);
      await restarted.cp.stop();
    } finally {
      await spy.close();
    }
  });

  it('pulls what a port bound here needs (its group\'s rules and members) when it is pushed, before anyone asks', async () => {
    const sg = (await api().post<{ security_group: { id: string } }>('/security-groups', { security_group: { name: 'warm' } })).security_group;
    await api().post('/security-group-rules', {
      security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', remote_group_id: sg.id },
    });
    const spy = await spyOnPlugin(env!.rabbit.port);
    try {
      const port = await createPort(network.id, HOST_A, { security_groups: [sg.id] });
      const pulled = (key: string) => spy.calls.some((c) => c.method === 'bulk_pull' && JSON.stringify((c.args.filter_kwargs as Record<string, unknown>)[key]) === JSON.stringify([sg.id]));
      await until(() => pulled('security_group_id') && pulled('security_group_ids'), 'the rules and members of the port\'s group pulled on the push');
      await until(() => a.cp.isCached('Port', port.id), 'the port cached');
      spy.calls.length = 0;
      const info = await a.cp.securityGroupInfo([port.id]);
      expect(info.rules[sg.id].some((r) => r.remoteGroupId === sg.id)).to.equal(true);
      expect(info.members[sg.id].IPv4).to.deep.include([port.fixed_ips[0].ip_address, port.mac_address]);
      expect(spy.calls.filter((c) => c.method === 'bulk_pull'), 'no pull left for securityGroupInfo').to.deep.equal([]);
    } finally {
      await spy.close();
    }
  });

  it('keeps reporting state across a RabbitMQ restart, resyncs, and gets pushes again', async () => {
    const before = (await agentRow(HOST_A))!.heartbeat_timestamp;
    const brokerPid = env!.pids.rabbit!;
    a.events.length = 0;
    await env!.restartRabbit();
    expect(pidAlive(brokerPid), 'old broker gone').to.equal(false);
    await a.waitEvent('resync after reconnect', (e): e is Extract<ControlPlaneEvent, { type: 'resync' }> => e.type === 'resync');
    // neutron-server reconnects by itself; our reports get through once it consumes again.
    const reply = await until(async () => a.report(false).catch(() => undefined), 'a state report after the restart', 60_000);
    expect(reply).to.be.oneOf(['alive', 'revived']);
    const row = (await agentRow(HOST_A))!;
    expect(row.alive).to.equal(true);
    expect(row.heartbeat_timestamp > before, `${row.heartbeat_timestamp} after ${before}`).to.equal(true);
    // The cache was invalidated and its consumers declared again: a new port is pushed and found.
    const port = await until(async () => createPort(network.id, HOST_A), 'a port create after the restart', 60_000);
    await a.waitEvent('push after the restart', portsUpdated(port.id), 60_000);
    expect((await boundDetails(port.id)).portId).to.equal(port.id);
  });

  it('survives a neutron-server restart: a state report meanwhile fails retriably, then everything works again', async () => {
    // Killed after 1 s (it takes up to 30 s to exit on SIGTERM): a crash is a restart too.
    await env!.stopServer(1000);
    // report_state's timeout is report_interval (4 s here), without retries.
    const err = await a.report(false).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'report_state while the server is down').to.include({ code: 'ERR_NEUTRON_RPC_TIMEOUT', retriable: true });
    await env!.startServer();
    expect(await a.report(false)).to.be.oneOf(['alive', 'revived']);
    const port = await createPort(network.id, HOST_A);
    await details(a.cp, [port.id]);
    await a.cp.updateDeviceList([port.id], []);
    await until(async () => (await getPort(port.id)).status === 'ACTIVE', 'port ACTIVE after the server restart');
  });
});
