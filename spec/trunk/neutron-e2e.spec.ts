import { PassThrough } from 'node:stream';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createLogger } from '../../lib/log.js';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { NeutronEnv, type NeutronApi } from '../../testing/neutron-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { until } from '../neutron/helpers/neutron-agent.js';

/**
 * The trunk extension with neutron-server 21 and its trunk service plugin
 * (docs/trunk.md): a VM (a network namespace) plugged as os-vif plugs a
 * trunk port (a `tbr-` bridge and the VM's interface on it), the trunk goes
 * ACTIVE, frames the VM tags with each subport's VLAN reach that subport's
 * network (ARP and ICMP answered by another VM on it), subports are
 * filtered by the openvswitch firewall like any port, and subports added and
 * removed through the API are wired and unwired live.
 */
const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const PROBE = fileURLToPath(new URL('../../testing/vlan_probe.py', import.meta.url));

interface Port { id: string; mac_address: string; fixed_ips: Array<{ ip_address: string }> }

describe('trunk extension with neutron-server 21 (trunk service plugin) @integration', function () {
  this.timeout(240_000);
  const suffix = Math.random().toString(36).slice(2, 7);
  const host = 'trunk-e2e';
  const project = 'p-trunk';
  const agentLog: string[] = [];
  const namespaces: string[] = [];
  let env: NeutronEnv;
  let api: NeutronApi;
  let sb: OvsSandbox;
  let agent: RunningAgent;
  let startAgent: () => Promise<RunningAgent>;
  let trunkId: string;
  let tbr: string;
  const vm = `tvm-${suffix}`;
  const inNs = (ns: string, ...cmd: string[]) => run('ip', ['netns', 'exec', ns, ...cmd], { timeout: 20_000 });
  const inSb = (...cmd: string[]) => run('ip', ['netns', 'exec', sb.netns!, ...cmd], { timeout: 20_000 });
  const status = async (path: string, key: string): Promise<string> => ((await api.get<Record<string, { status: string }>>(path))[key]!).status;

  async function network(n: number): Promise<string> {
    const { network: net } = await api.post<{ network: { id: string } }>('/networks', { network: { name: `trunk-${n}`, project_id: project } });
    await api.post('/subnets', { subnet: { network_id: net.id, cidr: `10.4${n}.0.0/24`, ip_version: 4, enable_dhcp: false, project_id: project } });
    return net.id;
  }

  async function port(networkId: string, bound: boolean): Promise<Port> {
    const body = bound ? { 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${suffix}` } : {};
    return (await api.post<{ port: Port }>('/ports', { port: { network_id: networkId, project_id: project, ...body } })).port;
  }

  /** A veth pair: one end on `bridge` (in the sandbox) with the port's external_ids as nova sets them, the other `eth0` in a new namespace. */
  async function plugNs(ns: string, bridge: string, dev: string, p: Port): Promise<void> {
    await run('ip', ['netns', 'add', ns]);
    namespaces.push(ns);
    await run('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`]);
    await run('ip', ['link', 'set', dev, 'netns', sb.netns!]);
    await run('ip', ['link', 'set', `${dev}p`, 'netns', ns]);
    await inNs(ns, 'ip', 'link', 'set', `${dev}p`, 'name', 'eth0');
    await inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', p.mac_address);
    await inNs(ns, 'ip', 'addr', 'add', `${p.fixed_ips[0]!.ip_address}/24`, 'dev', 'eth0');
    await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    // The userspace datapath does not fill in checksums the kernel left to the NIC.
    await inNs(ns, 'ethtool', '-K', 'eth0', 'tx', 'off');
    await inSb('ip', 'link', 'set', dev, 'up');
    await sb.vsctl('add-port', bridge, dev, '--', 'set', 'Interface', dev, `external_ids:iface-id=${p.id}`,
      `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active', `external_ids:vm-uuid=vm-${suffix}`);
  }

  /**
   * Real frames from the VM tagged with a subport's VLAN, as the subport (its MAC and address): an ARP request for the
   * peer and an ICMP echo to it, both answered with the same tag (testing/vlan_probe.py; this kernel has no 8021q
   * module for VLAN sub-interfaces, so the frames are built in user space).
   */
  const probe = (vlan: number, sub: Port, peer: Port) => inNs(vm, PYTHON, PROBE, 'eth0', String(vlan), sub.mac_address, sub.fixed_ips[0]!.ip_address,
    peer.fixed_ips[0]!.ip_address, '2').then(() => true, () => false);
  const columns = async (table: string, name: string, column: string) => (await sb.vsctl('--if-exists', 'get', table, name, column)).trim();
  const brIntPorts = async () => (await sb.vsctl('list-ports', 'br-int')).split('\n').filter(Boolean);

  const nets: string[] = [];
  let parent: Port;
  const subports: Port[] = [];
  const peers: Port[] = [];

  before(async function () {
    this.timeout(240_000);
    env = await NeutronEnv.start({ trunk: true });
    api = env.api;
    sb = await OvsSandbox.start({ devices: 'netns' });
    const config = loadConfig({
      env: {},
      overrides: {
        'DEFAULT.host': host, 'DEFAULT.transport_url': env.transportUrl, 'DEFAULT.rpc_response_timeout': 30,
        'ovs_agent.control_plane': 'neutron', 'ovs_agent.ovs_rundir': sb.rundir, 'ovs_agent.openflow_channel': 'mgmt',
        'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.local_ip': '127.0.0.52',
        'agent.tunnel_types': 'vxlan', 'agent.report_interval': 5, 'agent.extensions': 'trunk',
        // The firewall Neutron's trunks run with; every port in the project's default group (members reach each other).
        'securitygroup.firewall_driver': 'openvswitch',
      },
    }).config;
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => agentLog.push(...chunk.toString().split('\n').filter((l) => l !== '')));
    startAgent = () => runAgent({ config, logger: createLogger({ debug: true, json: true, stream }), statusSocket: false });
    agent = await startAgent();
    for (let n = 1; n <= 4; n++) nets.push(await network(n));
    // Unbound: a port bound to a VM cannot become a trunk's parent; nova binds it when it boots the VM.
    parent = await port(nets[0]!, false);
    for (const net of nets.slice(1)) subports.push(await port(net, false));
    for (const net of nets.slice(1)) peers.push(await port(net, true));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`--- agent: last 80 log lines ---\n${agentLog.slice(-80).join('\n')}`);
  });
  after(async function () {
    this.timeout(60_000);
    await agent?.stop().catch(() => undefined);
    for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    await sb?.stop();
    await env?.stop();
  });

  it('reports trunk in the state report\'s extensions', async () => {
    const row = await until(async () => {
      const { agents } = await api.get<{ agents: Array<{ host: string; alive: boolean; configurations: { extensions?: string[] } }> }>(`/agents?host=${host}`);
      return agents.find((a) => a.alive);
    }, 'the agent alive');
    expect(row.configurations.extensions).to.deep.equal(['trunk']);
  });

  it('a VM plugged on its trunk bridge: the trunk ACTIVE, each subport\'s VLAN reaches its network', async () => {
    const { trunk } = await api.post<{ trunk: { id: string } }>('/trunks', {
      trunk: {
        port_id: parent.id, project_id: project, name: 'trunk-e2e',
        sub_ports: [
          { port_id: subports[0]!.id, segmentation_type: 'vlan', segmentation_id: 101 },
          { port_id: subports[1]!.id, segmentation_type: 'vlan', segmentation_id: 102 },
        ],
      },
    });
    trunkId = trunk.id;
    await api.put(`/ports/${parent.id}`, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-${suffix}` } });
    tbr = `tbr-${trunkId}`.slice(0, 14);
    // Peers on the subports' networks, as plain VMs on br-int.
    await plugNs(`tpb-${suffix}`, 'br-int', `tpb${suffix}`, peers[0]!);
    await plugNs(`tpc-${suffix}`, 'br-int', `tpc${suffix}`, peers[1]!);
    // os-vif: the trunk bridge (same datapath as br-int), then the VM's interface on it.
    await sb.vsctl('--may-exist', 'add-br', tbr, '--', 'set', 'Bridge', tbr, 'datapath_type=netdev');
    await plugNs(vm, tbr, `tvm${suffix}`, parent);

    await until(async () => (await status(`/trunks/${trunkId}`, 'trunk')) === 'ACTIVE', 'the trunk ACTIVE', 60_000);
    for (const p of [parent, ...subports.slice(0, 2), ...peers.slice(0, 2)]) {
      await until(async () => (await status(`/ports/${p.id}`, 'port')) === 'ACTIVE', `port ${p.id} ACTIVE`);
    }
    // Neutron's names and external_ids on both sides of each patch.
    const tpi = `tpi-${parent.id}`.slice(0, 15);
    const spi = `spi-${subports[0]!.id}`.slice(0, 15);
    const spt = `spt-${subports[0]!.id}`.slice(0, 15);
    expect(await brIntPorts()).to.include.members([tpi, spi, `spi-${subports[1]!.id}`.slice(0, 15)]);
    expect(await columns('Interface', tpi, 'options:peer')).to.equal(`tpt-${parent.id}`.slice(0, 15));
    expect(await columns('Interface', spi, 'external_ids:iface-id')).to.equal(`"${subports[0]!.id}"`);
    expect(await columns('Interface', spi, 'external_ids:attached-mac')).to.equal(`"${subports[0]!.mac_address}"`);
    expect(await columns('Port', spt, 'tag')).to.equal('101');
    expect((await sb.vsctl('port-to-br', spt)).trim()).to.equal(tbr);

    // Real frames: VLAN 101 reaches the first subport's network, 102 the second's, and not the other way round.
    expect(await probe(101, subports[0]!, peers[0]!), 'VLAN 101 to the first subport\'s network').to.equal(true);
    expect(await probe(102, subports[1]!, peers[1]!), 'VLAN 102 to the second subport\'s network').to.equal(true);
    expect(await probe(101, subports[0]!, peers[1]!), 'VLAN 101 to the second subport\'s network').to.equal(false);
    // The subports' ports are filtered like any port: an address that is not the subport's is dropped (anti-spoofing).
    const spoofed = { ...subports[0]!, fixed_ips: [{ ip_address: '10.42.0.250' }] };
    expect(await probe(101, spoofed, peers[0]!), 'VLAN 101 from an address not the subport\'s').to.equal(false);
  });

  it('a subport added live is wired (VLAN 103 reaches its network), one removed live is unwired', async () => {
    await plugNs(`tpd-${suffix}`, 'br-int', `tpd${suffix}`, peers[2]!);
    await api.put(`/trunks/${trunkId}/add_subports`, { sub_ports: [{ port_id: subports[2]!.id, segmentation_type: 'vlan', segmentation_id: 103 }] });
    await until(async () => (await status(`/ports/${subports[2]!.id}`, 'port')) === 'ACTIVE', 'the added subport ACTIVE');
    expect(await columns('Port', `spt-${subports[2]!.id}`.slice(0, 15), 'tag')).to.equal('103');
    await until(() => probe(103, subports[2]!, peers[2]!), 'VLAN 103 reaching the added subport\'s network', 20_000);

    await api.put(`/trunks/${trunkId}/remove_subports`, { sub_ports: [{ port_id: subports[0]!.id }] });
    const spi = `spi-${subports[0]!.id}`.slice(0, 15);
    await until(async () => !(await brIntPorts()).includes(spi), 'the removed subport\'s patch gone from br-int');
    expect((await sb.vsctl('list-ports', tbr)).split('\n')).not.to.include(`spt-${subports[0]!.id}`.slice(0, 15));
    expect(await probe(101, subports[0]!, peers[0]!), 'VLAN 101 after its subport was removed').to.equal(false);
    expect(await probe(102, subports[1]!, peers[1]!), 'VLAN 102 still').to.equal(true);
    await until(async () => (await status(`/trunks/${trunkId}`, 'trunk')) === 'ACTIVE', 'the trunk ACTIVE after the changes');
  });

  it('a VM interface whose iface-id is written after it joined the trunk bridge is wired all the same', async () => {
    const lone = await port(nets[0]!, false);
    const { trunk } = await api.post<{ trunk: { id: string } }>('/trunks', { trunk: { port_id: lone.id, project_id: project, name: 'trunk-late' } });
    await api.put(`/ports/${lone.id}`, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm2-${suffix}` } });
    const bridge = `tbr-${trunk.id}`.slice(0, 14);
    const dev = `tvl${suffix}`;
    await sb.vsctl('--may-exist', 'add-br', bridge, '--', 'set', 'Bridge', bridge, 'datapath_type=netdev');
    await sb.vsctl('add-port', bridge, dev, '--', 'set', 'Interface', dev, 'type=internal');
    await new Promise((r) => setTimeout(r, 1000));
    await sb.vsctl('set', 'Interface', dev, `external_ids:iface-id=${lone.id}`, `external_ids:attached-mac=${lone.mac_address}`, 'external_ids:iface-status=active');
    await until(async () => (await status(`/trunks/${trunk.id}`, 'trunk')) === 'ACTIVE', 'the second trunk ACTIVE', 30_000);
    expect(await brIntPorts()).to.include(`tpi-${lone.id}`.slice(0, 15));
    await sb.vsctl('del-br', bridge);
    await until(async () => !(await brIntPorts()).includes(`tpi-${lone.id}`.slice(0, 15)), 'its patch gone with its bridge');
  });

  it('restarted after a subport was removed and a trunk bridge lost meanwhile: rewired as the server has it, orphans swept', async () => {
    await agent.stop();
    await api.put(`/trunks/${trunkId}/remove_subports`, { sub_ports: [{ port_id: subports[1]!.id }] });
    // What a trunk bridge deleted while the agent was down leaves on br-int.
    await sb.vsctl('add-port', 'br-int', 'spi-deadbeef-00', '--', 'set', 'Interface', 'spi-deadbeef-00', 'type=patch', 'options:peer=spt-deadbeef-00');
    agent = await startAgent();
    const spi = `spi-${subports[1]!.id}`.slice(0, 15);
    await until(async () => !(await brIntPorts()).some((p) => p === spi || p === 'spi-deadbeef-00'), 'the stale subport\'s patch and the orphan gone');
    expect((await sb.vsctl('list-ports', tbr)).split('\n')).not.to.include(`spt-${subports[1]!.id}`.slice(0, 15));
    await until(async () => (await status(`/trunks/${trunkId}`, 'trunk')) === 'ACTIVE', 'the trunk ACTIVE after the restart');
    expect(await probe(103, subports[2]!, peers[2]!), 'VLAN 103 after the restart').to.equal(true);
    expect(await probe(102, subports[1]!, peers[1]!), 'VLAN 102, removed while the agent was down').to.equal(false);
  });

  it('the VM unplugged and its trunk bridge deleted (os-vif): the patch ports on br-int go', async () => {
    await sb.vsctl('del-port', tbr, `tvm${suffix}`);
    await sb.vsctl('del-br', tbr);
    await until(async () => !(await brIntPorts()).some((p) => p.startsWith('tpi-') || p.startsWith('spi-')), 'no tpi-/spi- port left on br-int', 30_000);
  });
});
