/**
 * iptables_hybrid end to end with neutron-server 21: the agent reports
 * ovs_hybrid_plug, so the server binds ports with hybrid vif_details; two
 * VMs plugged as os-vif then plugs them (tap → qbr → qvb/qvo → br-int, in
 * the sandbox's namespace, where the agent's iptables rules go) become
 * ACTIVE, and their security group's rules filter real traffic.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { inNs, plugHybrid, unplugHybrid, type HybridVm } from '../../testing/hybrid-plug.js';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';

const run = promisify(execFile);

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface ApiPort { id: string; mac_address: string; status: string; fixed_ips: Array<{ ip_address: string }>; 'binding:vif_details'?: Record<string, unknown> }

describe('iptables_hybrid with neutron-server 21 @integration', function () {
  this.timeout(240_000);
  let env: NeutronEnv | undefined;
  let sb: OvsSandbox | undefined;
  let agent: RunningAgent | undefined;
  const vms: HybridVm[] = [];
  const suffix = Math.random().toString(36).slice(2, 7);

  before(async function () {
    this.timeout(240_000);
    env = await sharedNeutronEnv();
    sb = await OvsSandbox.start({ devices: 'netns' });
  });

  after(async () => {
    await agent?.stop().catch(() => {});
    if (sb) for (const v of vms) await unplugHybrid(sb, 'br-int', v);
    await sb?.stop();
  });

  for (const backend of ['iptables', 'nftables'] as const) it(`reports ovs_hybrid_plug, gets hybrid vif_details, wires qvo ports ACTIVE and filters on their qbr bridges (hybrid_backend = ${backend})`, async () => {
    // The other backend's agent and VMs go (its iptables rules stay: the nftables backend removes them); the same subnet is reused.
    await agent?.stop();
    agent = undefined;
    for (const v of vms.splice(0)) await unplugHybrid(sb!, 'br-int', v);
    const host = `hybrid-e2e-${suffix}-${backend}`;
    const config = loadConfig({
      env: {},
      overrides: {
        'DEFAULT.host': host, 'DEFAULT.transport_url': env!.transportUrl, 'DEFAULT.rpc_response_timeout': 30,
        'ovs_agent.control_plane': 'neutron', 'ovs_agent.ovs_rundir': sb!.rundir, 'ovs.ovsdb_connection': sb!.dbRemote,
        'ovs.datapath_type': 'netdev', 'ovs.local_ip': '127.0.0.33', 'agent.tunnel_types': 'vxlan', 'agent.report_interval': 5,
        'securitygroup.firewall_driver': 'iptables_hybrid', 'ovs_agent.openflow_channel': 'mgmt', 'ovs_agent.hybrid_backend': backend,
      },
    }).config;
    agent = await runAgent({ config, logger: process.env.HYBRID_E2E_LOG ? createLogger({}) : silentLogger, statusSocket: false, netfilterPrefix: ['ip', 'netns', 'exec', sb!.netns!] });
    const api = env!.api;
    const reported = await until(async () => {
      const { agents } = await api.get<{ agents: Array<{ host: string; configurations: Record<string, unknown> }> }>('/agents');
      return agents.find((a) => a.host === host);
    }, 'the agent in GET /agents');
    expect(reported.configurations.ovs_hybrid_plug).to.equal(true);

    const { network } = await api.post<{ network: { id: string } }>('/networks', { network: { name: `hybrid-${suffix}`, 'provider:network_type': 'vxlan' } });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.23.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { security_group: sg } = await api.post<{ security_group: { id: string } }>('/security-groups', { security_group: { name: `hybrid-${suffix}` } });
    await api.post('/security-group-rules', { security_group_rule: {
      security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 8022, port_range_max: 8022 } });
    const ports: ApiPort[] = [];
    for (const n of [1, 2]) {
      const { port } = await api.post<{ port: ApiPort }>('/ports', { port: {
        network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-hybrid-${n}`, security_groups: [sg.id] } });
      ports.push(port);
      expect(port['binding:vif_details']?.ovs_hybrid_plug, 'bound with hybrid plug').to.equal(true);
      const vm: HybridVm = { portId: port.id, mac: port.mac_address, addresses: [`${port.fixed_ips[0].ip_address}/24`], ns: `hye2e${backend[0]}${n}-${suffix}` };
      vms.push(vm);
      await plugHybrid(sb!, 'br-int', vm);
    }
    for (const p of ports) {
      await until(async () => (await api.get<{ port: ApiPort }>(`/ports/${p.id}`)).port.status === 'ACTIVE', `port ${p.id} ACTIVE`);
    }
    if (backend === 'iptables') {
      const save = (await inNs(sb!.netns!, 'iptables-save', '-t', 'filter')).stdout;
      expect(save).to.include(`-A neutron-openvswi-i${ports[0].id.slice(0, 10)} -p tcp -m tcp --dport 8022 -j RETURN`);
    } else {
      const table = (await inNs(sb!.netns!, 'nft', 'list', 'table', 'inet', 'ovs_agent_hybrid')).stdout;
      expect(table).to.include(`"qbr${ports[0].id.slice(0, 11)}" : goto in-${sg.id}`).and.include('meta nfproto ipv4 tcp dport 8022 accept');
      expect((await inNs(sb!.netns!, 'iptables-save', '-t', 'filter')).stdout, 'the iptables backend\'s chains, gone').to.not.include('neutron-openvswi');
    }

    const [ip1] = ports[0].fixed_ips.map((f) => f.ip_address);
    const server = execFile('ip', ['netns', 'exec', vms[0].ns, 'socat', '-T10', 'TCP-LISTEN:8022,reuseaddr,fork', 'EXEC:cat']);
    const server2 = execFile('ip', ['netns', 'exec', vms[0].ns, 'socat', '-T10', 'TCP-LISTEN:8080,reuseaddr,fork', 'EXEC:cat']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const echo = async (port: number): Promise<string> => {
        try {
          const { stdout } = await run('sh', ['-c', `echo hello | ip netns exec ${vms[1].ns} socat -T2 - TCP:${ip1}:${port},connect-timeout=2`], { timeout: 8000 });
          return stdout.trim();
        } catch (err) {
          return `failed: ${(err as { stderr?: string }).stderr?.trim() ?? ''}`;
        }
      };
      // The first frames may wait for ARP and the bridge's learning; the rule's port answers within the bound.
      expect(await until(async () => (await echo(8022)) === 'hello', 'TCP 8022 allowed by the group\'s rule', 15_000)).to.equal(true);
      expect(await echo(8080)).to.match(/^failed: .*timed out/);
    } finally {
      server.kill('SIGKILL');
      server2.kill('SIGKILL');
    }

    // An agent restart: the new agent finds every rule already right; not one ping of 120 at 50 ms is lost.
    await api.post('/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' } });
    const ping = async (args: string[]): Promise<string> => (await run('ip', ['netns', 'exec', vms[1].ns, 'ping', ...args, ip1], { timeout: 30_000 })).stdout;
    await until(async () => /1 received/.test(await ping(['-c1', '-W1']).catch(() => '')), 'ICMP allowed by the new rule', 20_000);
    const pings = ping(['-c', '120', '-i', '0.05', '-W', '1']);
    await new Promise((r) => setTimeout(r, 1000));
    await agent.stop();
    agent = await runAgent({ config, logger: silentLogger, statusSocket: false, netfilterPrefix: ['ip', 'netns', 'exec', sb!.netns!] });
    expect(await pings).to.match(/120 packets transmitted, 120 received/);
    for (const p of ports) expect((await api.get<{ port: ApiPort }>(`/ports/${p.id}`)).port.status).to.equal('ACTIVE');
  });
});
