/**
 * The iptables_hybrid driver's rules against Neutron's own
 * OVSHybridIptablesFirewallDriver (python3-neutron 21, run by
 * testing/neutron_iptables_oracle.py with its commands captured): for the
 * same ports and groups, every chain of the filter and raw tables, IPv4 and
 * IPv6, holds the same rules in the same order, and the ipsets the same
 * members.
 */
import { expect } from 'chai';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { buildRuleset, ipsetName, setMembers, Zones, type GroupsView, type HybridPort, type Ruleset } from '../../lib/firewall/iptables/index.js';
import { runNeutronIptables, tablesFromRestore, type OracleCommand } from '../../testing/neutron-iptables-oracle.js';
import { hybridVm } from './iptables-helpers.js';

const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });


const PORTS: HybridPort[] = [
  hybridVm(1, { securityGroups: ['web', 'ssh'], fixedIps: ['10.0.0.1', '2001:db8::1'] }),
  hybridVm(2, { securityGroups: ['web'], allowedAddressPairs: [{ macAddress: 'fa:16:3e:aa:00:02', ipAddress: '10.0.8.0/24' }, { macAddress: 'fa:16:3e:00:00:02', ipAddress: '2001:db8:2::/64' }] }),
  hybridVm(3, { securityGroups: ['db'], fixedIps: ['10.1.0.3'] }),
  hybridVm(4, { securityGroups: ['db', 'ssh'], fixedIps: [] }),
  hybridVm(5, { securityGroups: ['web'], portSecurityEnabled: false }),
  hybridVm(6, { securityGroups: ['web'], fixedIps: ['2001:db8::6'] }),
  hybridVm(7, { securityGroups: ['loose'], fixedIps: ['10.0.0.7'] }),
  hybridVm(8, { securityGroups: ['web'], deviceOwner: 'network:dhcp', fixedIps: ['10.0.0.8'] }),
  hybridVm(9, { securityGroups: [], fixedIps: ['10.0.0.9'] }),
];

const RULES: Record<string, SecurityGroupRule[]> = {
  web: [
    rule('web', { direction: 'egress', ethertype: 'IPv4' }),
    rule('web', { direction: 'egress', ethertype: 'IPv6' }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000, portRangeMax: 8999, remoteIpPrefix: '192.168.0.0/16' }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' }),
    rule('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', remoteGroupId: 'web' }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 5000, portRangeMax: 5100, remoteGroupId: 'db' }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteIpPrefix: '10.9.9.9' }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 }),
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 3 }),
    rule('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', portRangeMin: 128, portRangeMax: 0 }),
    rule('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '2001:db8:9::/48' }),
  ],
  ssh: [
    rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
    rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: '6', portRangeMin: 22, portRangeMax: 22 }),
    rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }),
    rule('ssh', { direction: 'egress', ethertype: 'IPv4', protocol: 'udplite', portRangeMin: 7, portRangeMax: 7, remoteIpPrefix: '0.0.0.0/0' }),
  ],
  db: [
    rule('db', { direction: 'ingress', ethertype: 'IPv4', protocol: 'sctp', portRangeMin: 5432, portRangeMax: 5440, remoteGroupId: 'web' }),
    rule('db', { direction: 'egress', ethertype: 'IPv4', protocol: '132', remoteIpPrefix: '10.0.0.0/8' }),
    rule('db', { direction: 'egress', ethertype: 'IPv6', remoteGroupId: 'db' }),
    rule('db', { direction: 'ingress', ethertype: 'IPv4', protocol: '47' }),
  ],
  loose: [
    rule('loose', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
    rule('loose', { direction: 'egress', ethertype: 'IPv4' }),
  ],
};

const member = (p: HybridPort, ip: string): [string, string] => [ip, p.macAddress];

function infoOf(rules = RULES): SecurityGroupInfo {
  return {
    rules,
    stateful: { web: true, ssh: true, db: true, loose: false },
    members: {
      web: { IPv4: [member(PORTS[0], '10.0.0.1'), member(PORTS[1], '10.0.0.2'), member(PORTS[1], '10.0.8.0/24')], IPv6: [member(PORTS[0], '2001:db8::1')] },
      db: { IPv4: [member(PORTS[2], '10.1.0.3'), ['0.0.0.0/0', null]], IPv6: [] },
    },
  };
}

/** The generator's view of the info, the ipsets existing for every group with members (as the oracle's helper sends them). */
function view(info: SecurityGroupInfo): GroupsView {
  return {
    rules: (sg) => info.rules[sg] ?? [],
    stateful: (sg) => info.stateful[sg] !== false,
    ipset: (sg, e) => (info.members[sg] && Object.values(info.rules).some((rs) => rs.some((r) => r.remoteGroupId === sg && r.ethertype === e)) ? ipsetName(sg, e) : undefined),
  };
}

function ours(ports: HybridPort[], info: SecurityGroupInfo): Ruleset {
  const zones = new Zones();
  const sorted = ports.filter((p) => p.portSecurityEnabled).map((p) => p.portId).sort();
  for (const id of sorted) zones.zoneOf(id, () => sorted);
  return buildRuleset(ports, view(info), (id) => zones.zoneOf(id, () => sorted));
}

function neutronTables(cmds: OracleCommand[], tool: string): Map<string, Map<string, string[]>> {
  const c = cmds.find((x) => x.cmd[0] === tool);
  expect(c, `Neutron ran ${tool}`).to.not.equal(undefined);
  return tablesFromRestore(c!.input!);
}

const asObject = (m: Map<string, string[]>): Record<string, string[]> => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

describe('iptables_hybrid rules against Neutron\'s OVSHybridIptablesFirewallDriver', function () {
  this.timeout(60_000);

  it('builds every chain of both tables, IPv4 and IPv6, rule for rule as Neutron does', () => {
    const info = infoOf();
    const neutron = runNeutronIptables(PORTS, info).applies[0];
    const mine = ours(PORTS, info);
    for (const [family, tool] of [[4, 'iptables-restore'], [6, 'ip6tables-restore']] as const) {
      const theirs = neutronTables(neutron, tool);
      // 8 filtered ports with i/o chains, most with a spoof chain, plus the fixed ones: a real comparison.
      expect(theirs.get('filter')!.size, `IPv${family} chains`).to.be.greaterThan(25);
      for (const table of ['filter', 'raw'] as const) {
        expect(asObject(mine[family][table]), `IPv${family} ${table}`).to.deep.equal(asObject(theirs.get(table)!));
      }
    }
  });

  it('fills the same ipsets with the same members', () => {
    const info = infoOf();
    const neutron = runNeutronIptables(PORTS, info).applies[0];
    const theirs = new Map<string, Set<string>>();
    for (const c of neutron) {
      if (c.cmd[0] !== 'ipset' || c.cmd[1] !== 'restore') continue;
      for (const line of c.input!.split('\n')) {
        const [op, set, ip] = line.split(' ');
        const name = set.replace(/-n$/, '');
        if (op === 'create') theirs.set(name, new Set());
        if (op === 'add') theirs.get(name)!.add(ip);
      }
    }
    expect(theirs.size).to.be.greaterThan(0);
    const fw = { members: info.members };
    for (const [name, members] of theirs) {
      const [, e, sg] = /^N(IPv[46])(.*)$/.exec(name)!;
      const m = fw.members[sg][e as 'IPv4' | 'IPv6'].map(([ip]) => ip);
      expect(new Set(setMembers(m)), name).to.deep.equal(members);
    }
  });
});
