/**
 * br-int's anti-spoofing with the noop driver, the port's addresses coming
 * from neutron-server 21: a port created through the API with an allowed
 * address pair gets its flows when plugged, and follows a change of its
 * pairs and of its port security made through the API.
 */
import { expect } from 'chai';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';
import { waiter } from '../../testing/until.js';

const until = waiter(45_000, 200);

describe('anti-spoofing with the noop driver and neutron-server 21 @integration', function () {
  this.timeout(180_000);
  let env: NeutronEnv | undefined;
  let sb: OvsSandbox | undefined;
  let agent: RunningAgent | undefined;

  before(async function () {
    this.timeout(240_000);
    env = await sharedNeutronEnv();
    sb = await OvsSandbox.start();
  });

  after(async () => {
    await agent?.stop().catch(() => {});
    await sb?.stop();
  });

  it('installs a port\'s flows from its API addresses and follows a pair added and port security turned off', async () => {
    const host = 'spoof-e2e';
    const config = loadConfig({
      env: {},
      overrides: {
        'DEFAULT.host': host, 'DEFAULT.transport_url': env!.transportUrl, 'DEFAULT.rpc_response_timeout': 30,
        'ovs_agent.control_plane': 'neutron', 'ovs_agent.ovs_rundir': sb!.rundir, 'ovs.ovsdb_connection': sb!.dbRemote,
        'ovs.datapath_type': 'netdev', 'ovs.local_ip': '127.0.0.31', 'agent.tunnel_types': 'vxlan', 'agent.report_interval': 5,
        'securitygroup.firewall_driver': 'neutron.agent.firewall.NoopFirewallDriver',
      },
    }).config;
    agent = await runAgent({ config, logger: silentLogger, statusSocket: false });
    const api = env!.api;
    const { network } = await api.post<{ network: { id: string } }>('/networks', { network: { name: 'spoof-e2e', 'provider:network_type': 'vxlan' } });
    await api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.19.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { port } = await api.post<{ port: { id: string; mac_address: string; fixed_ips: Array<{ ip_address: string }> } }>('/ports', {
      port: {
        network_id: network.id, 'binding:host_id': host, device_owner: 'compute:nova', device_id: 'vm-spoof',
        allowed_address_pairs: [{ ip_address: '10.19.0.200' }],
      },
    });
    await sb!.vsctl('add-port', 'br-int', 'tap-spoof', '--', 'set', 'Interface', 'tap-spoof',
      `external_ids:iface-id=${port.id}`, `external_ids:attached-mac=${port.mac_address}`, 'external_ids:iface-status=active');
    await until(async () => (await api.get<{ port: { status: string } }>(`/ports/${port.id}`)).port.status === 'ACTIVE', 'the port ACTIVE');
    const ofport = Number((await sb!.vsctl('get', 'Interface', 'tap-spoof', 'ofport')).trim());
    const flows = async (): Promise<string[]> => (await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br-int'))
      .split('\n').map((l) => l.trim().replace(/^cookie=0x[0-9a-f]+, /, '')).filter((l) => l.includes(`in_port=${ofport}`));
    const arp = (ip: string): string => `table=24, priority=2,arp,in_port=${ofport},arp_spa=${ip} actions=goto_table:25`;
    const fixed = port.fixed_ips[0].ip_address;
    const now = await flows();
    expect(now).to.include(arp(fixed)).and.include(arp('10.19.0.200'));
    expect(now).to.include(`table=25, priority=2,in_port=${ofport},dl_src=${port.mac_address} actions=goto_table:30`);

    await api.put(`/ports/${port.id}`, { port: { allowed_address_pairs: [{ ip_address: '10.19.0.200' }, { ip_address: '10.19.0.201' }] } });
    await until(async () => (await flows()).includes(arp('10.19.0.201')), 'the new pair\'s ARP flow');

    await api.put(`/ports/${port.id}`, { port: { allowed_address_pairs: [], security_groups: [], port_security_enabled: false } });
    await until(async () => (await flows()).every((f) => !/^table=(24|25),/.test(f) && !/priority=(9|10),/.test(f)), 'the port\'s anti-spoofing flows gone');
  });
});
