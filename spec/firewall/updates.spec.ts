/** Updates change only the flows they concern; conjunction ids; flow count linear in ports. */
import { expect } from 'chai';
import { keyText } from '../../lib/flows/flow.js';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall } from '../../lib/firewall/index.js';
import { ConjIdMap } from '../../lib/firewall/conj-ids.js';
import { adds, canon, deletes, vmPort, flushOf, initOf, flowCount } from './helpers.js';

const remoteRule: SecurityGroupRule = { securityGroupId: 'sg-web', direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sg-web' };
const ssh: SecurityGroupRule = { securityGroupId: 'sg-web', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 };

function members(ips: string[]): SecurityGroupInfo['members'][string] {
  return { IPv4: ips.map((ip, i) => [ip, `fa:16:3e:00:01:${(i % 256).toString(16).padStart(2, '0')}`] as [string, string]), IPv6: [] };
}

function webInfo(rules: SecurityGroupRule[], memberIps: string[]): SecurityGroupInfo {
  return { rules: { 'sg-web': rules }, stateful: { 'sg-web': true }, members: { 'sg-web': members(memberIps) } };
}

/** A firewall with n ports of sg-web (which allows all IPv4 from its own members). */
function programmed(n: number, rules: SecurityGroupRule[] = [remoteRule]): { fw: OvsFirewall; ips: string[] } {
  const fw = new OvsFirewall();
  initOf(fw);
  const ports = Array.from({ length: n }, (_, i) => vmPort(i + 1, { fixedIps: [`10.0.${(i + 1) >> 8}.${(i + 1) & 255}`] }));
  const ips = ports.map((p) => p.fixedIps[0]);
  fw.updateSecurityGroupInfo(webInfo(rules, ips));
  fw.setupPortFilters(ports);
  flushOf(fw);
  return { fw, ips };
}

describe('firewall updates', () => {
  it('a member joining a remote group adds only its two 1/2 flows; leaving deletes only them', () => {
    const { fw, ips } = programmed(20);
    fw.updateSecurityGroupInfo(webInfo([remoteRule], [...ips, '10.9.9.9']));
    const join = flushOf(fw);
    // Remote rule, no protocol → offset 0, base id 16: conjunction(16)/(17).
    expect(adds(join)).to.deep.equal(
      [
        'table=82 priority=70 reg6=3 dl_type=0x0800 nw_src=10.9.9.9/32 ct_state=+est-rel-rpl actions=conjunction(16,1/2)',
        'table=82 priority=70 reg6=3 dl_type=0x0800 nw_src=10.9.9.9/32 ct_state=+new-est actions=conjunction(17,1/2)',
      ].map(canon).sort(),
    );
    expect(deletes(join)).to.deep.equal([]);

    fw.updateSecurityGroupInfo(webInfo([remoteRule], ips.filter((ip) => ip !== '10.0.0.5').concat('10.9.9.9')));
    const leave = flushOf(fw);
    expect(adds(leave)).to.deep.equal([]);
    expect(deletes(leave)).to.deep.equal(
      ['table=82 priority=70 reg6=3 dl_type=0x0800 nw_src=10.0.0.5/32 ct_state=+est-rel-rpl', 'table=82 priority=70 reg6=3 dl_type=0x0800 nw_src=10.0.0.5/32 ct_state=+new-est']
        .map(canon)
        .sort(),
    );
  });

  it('re-sending unchanged security group info changes nothing', () => {
    const { fw, ips } = programmed(10, [remoteRule, ssh]);
    fw.updateSecurityGroupInfo(webInfo([remoteRule, ssh], ips));
    expect(flushOf(fw)).to.deep.equal([]);
    fw.updatePortFilters([vmPort(3, { fixedIps: ['10.0.0.3'] })]);
    expect(flushOf(fw)).to.deep.equal([]);
  });

  it('adding a rule adds its flows on each port of the group and nothing else; removing it deletes exactly those', () => {
    const { fw, ips } = programmed(5);
    const before = flowCount(fw);
    fw.updateSecurityGroupInfo(webInfo([remoteRule, ssh], ips));
    const add = flushOf(fw);
    expect(deletes(add)).to.deep.equal([]);
    // 2 flows (established, new) per port.
    expect(add).to.have.length(10);
    expect(add.every((c) => /table=82, priority=77,.*tp_dst=22\b/.test(c.text))).to.equal(true);
    fw.updateSecurityGroupInfo(webInfo([remoteRule], ips));
    const del = flushOf(fw);
    expect(adds(del)).to.deep.equal([]);
    expect(deletes(del)).to.deep.equal(adds(add).map((f) => f.replace(/ -> .*$/, '')).sort());
    expect(flowCount(fw)).to.equal(before);
  });

  it('a rule change in one group leaves ports of other groups alone', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo({ rules: { a: [], b: [] }, stateful: {}, members: {} });
    fw.setupPortFilters([vmPort(1, { securityGroups: ['a'] }), vmPort(2, { securityGroups: ['b'] })]);
    flushOf(fw);
    fw.updateSecurityGroupInfo({ rules: { a: [{ ...ssh, securityGroupId: 'a' }] }, stateful: {}, members: {} });
    const c = flushOf(fw);
    expect(c).to.have.length(2);
    expect(c.every((x) => /reg5=0x1\b/.test(x.text))).to.equal(true);
  });

  it('a port update (new fixed IP) rewrites only that port\'s address flows', () => {
    const { fw } = programmed(3);
    fw.updatePortFilters([vmPort(2, { fixedIps: ['10.0.0.2', '10.0.0.22'] })]);
    const c = flushOf(fw);
    expect(deletes(c)).to.deep.equal([]);
    expect(c.every((x) => x.text.includes('10.0.0.22'))).to.equal(true);
    // ARP, IPv4 anti-spoofing and DHCP for the new address.
    expect(c).to.have.length(3);
  });

  it('removing a port deletes all of its flows but keeps the shared ones other ports still need', () => {
    const { fw } = programmed(2);
    const before = fw.wantedFlows().map((f) => canon(keyText(f.key)));
    fw.removePortFilters(['port-2']);
    const c = flushOf(fw);
    expect(adds(c)).to.deep.equal([]);
    const gone = deletes(c);
    expect(gone.every((f) => /reg5=0x2\b|in_port=2\b|dl_dst=fa:16:3e:00:00:02/.test(f))).to.equal(true);
    // The shared +trk+inv drops stay for port 1.
    expect(gone.some((f) => f.includes('+trk+inv'))).to.equal(false);
    const after = fw.wantedFlows().map((f) => canon(keyText(f.key)));
    expect(after).to.include(canon('table=82,priority=50,ct_state=+trk+inv'));
    expect(before.length - after.length).to.equal(gone.length);
  });

  it('allocates conjunction ids like Neutron: 16 first on an empty bridge, +8 each, freed ids reused, above existing ones', () => {
    const m = new ConjIdMap();
    expect(m.acquire('p1', 'sg1', 'r1', 'ingress', 'IPv4')).to.equal(16);
    expect(m.acquire('p1', 'sg1', 'r1', 'egress', 'IPv4')).to.equal(24);
    expect(m.acquire('p2', 'sg1', 'r1', 'ingress', 'IPv4')).to.equal(16);
    m.releaseUser('p1');
    expect(m.peek('sg1', 'r1', 'ingress', 'IPv4')).to.equal(16);
    expect(m.peek('sg1', 'r1', 'egress', 'IPv4')).to.equal(undefined);
    expect(m.acquire('p3', 'sg2', 'r1', 'ingress', 'IPv6')).to.equal(24);
    expect(new ConjIdMap(37).acquire('p', 's', 'r', 'ingress', 'IPv4')).to.equal(48);
  });

  it('keeps a port\'s conjunction ids stable when it is updated alone', () => {
    const { fw } = programmed(1);
    fw.updatePortFilters([vmPort(1, { fixedIps: ['10.0.0.1'], macAddress: 'fa:16:3e:00:00:99' })]);
    const c = flushOf(fw);
    expect(c.some((x) => /conj/.test(x.text))).to.equal(false);
  });

  it('flow count is linear in ports for one group with a remote-group rule and port-range rules', () => {
    const rules: SecurityGroupRule[] = [remoteRule];
    for (let i = 0; i < 10; i++) rules.push({ securityGroupId: 'sg-web', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000 + 100 * i, portRangeMax: 8049 + 100 * i });
    const count = (n: number): number => flowCount(programmed(n, rules).fw);
    const [c50, c100, c200] = [count(50), count(100), count(200)];
    expect(c200 - c100).to.equal(2 * (c100 - c50));
    // Every member adds its own address flows and every port its own filter: no N×M term.
    const perPort = (c100 - c50) / 50;
    expect(perPort).to.be.below(150);
  });
});
