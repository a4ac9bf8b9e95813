/**
 * Taking over from Neutron's agent: Neutron's own hybrid driver
 * (testing/neutron_iptables_oracle.py, its commands run for real) writes its
 * rules and ipsets into a network namespace; our driver, started on the same
 * ports and groups, finds every chain and set already right and writes
 * nothing: the kernel's own spelling of both rule sets is the same, and
 * nothing is flushed on the way.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import type { FirewallPort } from '../../lib/firewall/index.js';
import { commandRunner, HybridIptablesFirewall } from '../../lib/firewall/iptables/index.js';
import { runNeutronIptables } from '../../testing/neutron-iptables-oracle.js';
import { hybridVm } from './iptables-helpers.js';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';

const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });

describe('iptables_hybrid takes over Neutron\'s rules @integration', function () {
  this.timeout(60_000);
  const ns = `hyadopt-${Math.random().toString(36).slice(2, 7)}`;
  before(() => execFileSync('ip', ['netns', 'add', ns]));
  after(() => execFileSync('ip', ['netns', 'del', ns]));

  it('finds every chain, zone and ipset Neutron\'s driver wrote already right', async () => {
    const ports = [
      hybridVm(1, { securityGroups: ['web'], fixedIps: ['10.0.0.1', '2001:db8::1'] }),
      hybridVm(2, { securityGroups: ['web', 'ssh'], allowedAddressPairs: [{ macAddress: 'fa:16:3e:aa:00:02', ipAddress: '10.0.8.0/24' }] }),
      hybridVm(3, { securityGroups: ['ssh'], portSecurityEnabled: false }),
      hybridVm(4, { securityGroups: ['ssh'], fixedIps: [] }),
    ];
    const info: SecurityGroupInfo = {
      rules: {
        web: [
          rule('web', { direction: 'egress', ethertype: 'IPv4' }), rule('web', { direction: 'egress', ethertype: 'IPv6' }),
          rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000, portRangeMax: 8999, remoteIpPrefix: '192.168.0.0/16' }),
          rule('web', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' }),
          rule('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128, portRangeMax: 0 }),
          rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53 }),
        ],
        ssh: [rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 })],
      },
      stateful: { web: true, ssh: true },
      members: { web: { IPv4: [['10.0.0.1', ports[0].macAddress], ['10.0.0.2', ports[1].macAddress], ['10.0.8.0/24', null]], IPv6: [] } },
    };
    runNeutronIptables(ports, info, [], { netns: ns });
    const ours = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', ns]) });
    ours.updateSecurityGroupInfo(info);
    ours.setupPortFilters(ports.map((p, i): FirewallPort => ({ ...p, ofport: i + 1, lvid: 1 })));
    const r = await ours.apply();
    expect(r?.restore).to.deep.equal({ 4: '', 6: '' });
    expect(r?.ipsets).to.equal('');
    const raw = execFileSync('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'raw'], { encoding: 'utf8' });
    expect(raw).to.include('--zone 4097').and.include('--zone 4099');
  });
});
