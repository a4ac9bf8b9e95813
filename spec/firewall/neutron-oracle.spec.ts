/**
 * Our flows against the flows Neutron's own driver (python3-neutron 21.0.0,
 * run on a fake bridge by testing/neutron_firewall_oracle.py) produces for the same ports and
 * rules. Both sets are loaded into real bridges and compared as ovs-ofctl
 * dumps them, so spelling differences (field order, hex vs decimal) cancel
 * out and only real differences remain. Updates are compared by the state
 * each side's flow-mods leave on the bridge.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall, type FirewallPort } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { vmPort, flushOf, initOf } from './helpers.js';
import { asOfctlFile, runNeutron } from '../../testing/neutron-firewall-oracle.js';
import { applyChanges } from './trace-helpers.js';

const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });

const PORTS: FirewallPort[] = [
  vmPort(1, { securityGroups: ['web', 'ssh'], fixedIps: ['10.0.0.1', '2001:db8::1'] }),
  vmPort(2, { securityGroups: ['web'], allowedAddressPairs: [{ macAddress: 'fa:16:3e:aa:00:02', ipAddress: '10.0.8.0/24' }, { macAddress: 'fa:16:3e:00:00:02', ipAddress: '2001:db8:2::/64' }] }),
  vmPort(3, { securityGroups: ['db'], lvid: 4, networkType: 'vlan', segmentationId: 100, fixedIps: ['10.1.0.3'] }),
  vmPort(4, { securityGroups: ['db', 'ssh'], lvid: 5, networkType: 'flat', segmentationId: undefined, fixedIps: ['10.2.0.4'] }),
  vmPort(5, { securityGroups: ['web'], portSecurityEnabled: false }),
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
    rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 5050, portRangeMax: 6000, remoteAddressGroupId: 'office' }),
  ],
  ssh: [
    rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
    rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 }),
    rule('ssh', { direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', portRangeMin: 128 }),
    rule('ssh', { direction: 'egress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteIpPrefix: '10.0.0.0/8' }),
  ],
  db: [
    rule('db', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 5432, portRangeMax: 5432, remoteGroupId: 'web' }),
    rule('db', { direction: 'ingress', ethertype: 'IPv4', protocol: '132' }),
    rule('db', { direction: 'egress', ethertype: 'IPv4', remoteGroupId: 'db' }),
  ],
};

function members(extraWeb: Array<[string, string]> = []): SecurityGroupInfo['members'] {
  return {
    web: {
      IPv4: [['10.0.0.1', 'fa:16:3e:00:00:01'], ['10.0.0.2', 'fa:16:3e:00:00:02'], ['10.0.8.0/24', 'fa:16:3e:aa:00:02'], ...extraWeb],
      IPv6: [['2001:db8::1', 'fa:16:3e:00:00:01'], ['2001:db8:2::/64', 'fa:16:3e:00:00:02']],
    },
    db: { IPv4: [['10.1.0.3', 'fa:16:3e:00:00:03'], ['10.2.0.4', 'fa:16:3e:00:00:04']], IPv6: [] },
    office: { IPv4: [['198.51.100.0/24', null]], IPv6: [] },
  };
}

const info = (rules = RULES, m = members()): SecurityGroupInfo => ({
  rules,
  stateful: Object.fromEntries(Object.keys(rules).map((k) => [k, true])),
  members: m,
});

describe('firewall flows against Neutron 21.0.0\'s own driver @integration', function () {
  let sb: OvsSandbox | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    for (const br of ['br-neutron', 'br-ours']) {
      await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14');
    }
  });

  after(async () => {
    await sb?.stop();
    sb = undefined;
  });

  async function loadNeutron(lines: string[]): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'neutron-flows-'));
    try {
      writeFileSync(join(dir, 'f'), asOfctlFile(lines));
      await sb!.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', 'br-neutron', join(dir, 'f'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function dump(br: string): Promise<string[]> {
    const out = await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', br);
    return out
      .split('\n')
      .filter((l) => l.includes('actions='))
      .map((l) => l.trim().replace(/^cookie=0x[0-9a-f]+, /, ''))
      .sort();
  }

  it('installs the same flows as Neutron for ports with AAPs, IPv6, VLAN/flat networks, remote groups, address groups and no port security, and after membership and rule updates', async () => {
    const fw = new OvsFirewall();
    const ours = [...initOf(fw)];
    fw.updateSecurityGroupInfo(info());
    fw.setupPortFilters(PORTS);
    ours.push(...flushOf(fw));

    // Neutron's agent refreshes every port whose groups name the changed group as remote: here all filtered ports.
    const allPorts = PORTS.filter((p) => p.portSecurityEnabled).map((p) => p.portId);
    const joined = info(RULES, members([['10.0.0.9', 'fa:16:3e:00:00:09']]));
    const moreRules = { ...RULES, ssh: [...RULES.ssh, rule('ssh', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 1000, portRangeMax: 1999 })] };
    const neutron = runNeutron(PORTS, info(), [
      { info: joined, updatePorts: allPorts },
      { info: info(moreRules, joined.members), updatePorts: allPorts },
    ]);

    await loadNeutron(neutron.initial);
    await applyChanges(sb!, 'br-ours', ours);
    const n0 = await dump('br-neutron');
    expect(n0.length).to.be.greaterThan(200);
    expect(await dump('br-ours')).to.deep.equal(n0);

    // A member joins "web": Neutron rewrites every port of the group; we send two flow-mods per
    // network that refers to "web" (lvid 3 via web's own rule, 4 and 5 via db's rule).
    fw.updateSecurityGroupInfo(joined);
    const join = flushOf(fw);
    expect(join.map((c) => String(parseInt(/reg6=0x([0-9a-f]+)/.exec(c.text)?.[1] ?? '', 16))).sort()).to.deep.equal(['3', '3', '4', '4', '5', '5']);
    await loadNeutron(neutron.steps[0]);
    await applyChanges(sb!, 'br-ours', join);
    expect(await dump('br-ours')).to.deep.equal(await dump('br-neutron'));
    expect(neutron.steps[0].length).to.be.greaterThan(50);

    // A rule is added to "ssh".
    fw.updateSecurityGroupInfo(info(moreRules, joined.members));
    const added = flushOf(fw);
    expect(added.every((c) => c.op === 'add')).to.equal(true);
    await loadNeutron(neutron.steps[1]);
    await applyChanges(sb!, 'br-ours', added);
    expect(await dump('br-ours')).to.deep.equal(await dump('br-neutron'));
  });
});
