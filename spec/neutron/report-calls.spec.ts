/**
 * The agent reports a port to neutron-server only when its status changes
 * or the server asks (docs/neutron.md, "Reporting ports"): re-wiring a port
 * for a security group change or for an l2population event about a remote
 * port costs the server no update_device_list. Counted on the wire, from
 * RabbitMQ's firehose.
 */
import { expect } from 'chai';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { NeutronControlPlane, ovsAgentConfigurations } from '../../lib/control-plane/neutron/index.js';
import { silentLogger } from '../../lib/control-plane/neutron/logger.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';
import { CallTrace, NeutronAgents, plug, portStatus, until, type ApiPort } from './helpers/neutron-agent.js';

const HOST = 'rr-a';
const REMOTE = 'rr-b';
const REMOTE_IP = '127.0.0.52';

describe('ovs-agent reports a port only when its status changes @integration', function () {
  this.timeout(180_000);
  let env: NeutronEnv;
  const agents = new NeutronAgents(() => env);
  let remote: NeutronControlPlane | undefined;
  let trace: CallTrace | undefined;

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(agents.dump());
  });

  after(async function () {
    this.timeout(60_000);
    await trace?.close();
    await remote?.stop();
    await agents.stopAll();
  });

  it('a security group change and a remote port\'s add and remove (l2population) re-wire the local port without one update_device_list', async () => {
    env = await sharedNeutronEnv();
    const api = env.api;
    const a = await agents.start(HOST, '127.0.0.51', { 'agent.l2_population': true });
    await agents.waitAlive(HOST);
    // A second host for the remote port: a bare control plane reporting as an l2pop agent with a tunnel endpoint.
    remote = new NeutronControlPlane({ transportUrl: env.transportUrl, reportInterval: 5, l2Population: true, logger: silentLogger });
    await remote.start({ host: REMOTE, agentId: `ovs-agent-${REMOTE}`, binary: 'neutron-openvswitch-agent' });
    await remote.reportState({
      startFlag: true, devices: 0,
      configurations: ovsAgentConfigurations({
        bridgeMappings: {}, integrationBridge: 'br-int', tunnelTypes: ['vxlan'], localIp: REMOTE_IP, l2Population: true,
        arpResponder: false, datapathType: 'netdev', datapathTypes: ['netdev'], ifaceTypes: ['vxlan'],
        vhostuserSocketDir: '/var/run/openvswitch', ovsHybridPlug: false,
      }),
    });

    const { network } = await api.post<{ network: { id: string } }>('/networks', { network: { name: 'rr', 'provider:network_type': 'vxlan' } });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.51.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { security_group: sg } = await api.post<{ security_group: { id: string } }>('/security-groups', { security_group: { name: 'rr' } });
    // Members of the group matter to the local port's filter: a remote port joining it changes its flows.
    await api.post('/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', remote_group_id: sg.id } });
    const newPort = async (host: string, device: string) => (await api.post<{ port: ApiPort }>('/ports', {
      port: { network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: device, security_groups: [sg.id] },
    })).port;
    const local = await newPort(HOST, 'vm-rr-local');
    await plug(a.sb, 'tap-rr', local);
    await until(async () => (await portStatus(env, local.id)) === 'ACTIVE', 'the local port ACTIVE');
    await a.running.agent.whenIdle();
    const brInt = () => a.sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br-int');
    const brTun = () => a.sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br-tun');

    trace = await CallTrace.start(env);
    const since = Date.now();

    // 1. A rule added to the port's group: the filter changes, the port's status does not.
    await api.post('/security-group-rules', { security_group_rule: {
      security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 2222, port_range_max: 2222,
    } });
    await until(async () => (await brInt()).includes('tp_dst=2222'), 'the new rule on br-int');

    // 2. A remote port on the network and in the group goes ACTIVE: l2pop sends its fdb entry, the group a member.
    const far = await newPort(REMOTE, 'vm-rr-remote');
    await remote.updateDeviceList([far.id], []);
    await until(async () => (await portStatus(env, far.id)) === 'ACTIVE', 'the remote port ACTIVE');
    await until(async () => (await brTun()).includes(far.mac_address), 'the remote port\'s fdb entry on br-tun');
    await until(async () => (await brInt()).includes(far.fixed_ips[0].ip_address), 'the remote member in the local filter');

    // 3. It goes away again.
    await api.delete(`/ports/${far.id}`);
    await until(async () => !(await brTun()).includes(far.mac_address), 'the fdb entry removed');
    await until(async () => !(await brInt()).includes(far.fixed_ips[0].ip_address), 'the member removed from the filter');

    await a.running.agent.whenIdle();
    await new Promise((r) => setTimeout(r, 3000));
    const calls = trace.deviceListCalls(HOST, since);
    expect(calls.map((c) => ({ up: c.args.devices_up, down: c.args.devices_down })), 'update_device_list calls of the local agent').to.deep.equal([]);
    expect(await portStatus(env, local.id)).to.equal('ACTIVE');
  });

  it('still reports a real change: the port unplugged goes DOWN, plugged again ACTIVE', async () => {
    const a = agents.all[0];
    const { ports } = await env.api.get<{ ports: ApiPort[] }>(`/ports?binding:host_id=${HOST}`);
    const local = ports[0];
    const since = Date.now();
    await a.sb.vsctl('del-port', 'br-int', 'tap-rr');
    await until(async () => (await portStatus(env, local.id)) === 'DOWN', 'the port DOWN after the unplug');
    await plug(a.sb, 'tap-rr', local);
    await until(async () => (await portStatus(env, local.id)) === 'ACTIVE', 'the port ACTIVE after the replug');
    const calls = trace!.deviceListCalls(HOST, since);
    expect(calls.map((c) => [c.args.devices_up, c.args.devices_down])).to.deep.equal([[[], [local.id]], [[local.id], []]]);
  });

  it('reports again when the server moves the port away from ACTIVE behind its back', async () => {
    const { ports } = await env.api.get<{ ports: ApiPort[] }>(`/ports?binding:host_id=${HOST}`);
    const local = ports[0];
    await until(async () => (await portStatus(env, local.id)) === 'ACTIVE', 'the port ACTIVE');
    // Someone else reports it down for our host (the server then pushes a status-only change).
    const other = new NeutronControlPlane({ transportUrl: env.transportUrl, reportInterval: 0, logger: silentLogger });
    try {
      await other.start({ host: HOST, agentId: 'someone-else', binary: 'neutron-openvswitch-agent' });
      const since = Date.now();
      await other.updateDeviceList([], [local.id]);
      await until(async () => (await portStatus(env, local.id)) === 'ACTIVE' && trace!.deviceListCalls(HOST, since).length >= 2,
        'the agent reporting the port up again', 20_000);
      const calls = trace!.deviceListCalls(HOST, since).map((c) => [c.args.devices_up, c.args.devices_down]);
      expect(calls).to.deep.equal([[[], [local.id]], [[local.id], []]]);
    } finally {
      await other.stop();
    }
  });
});
