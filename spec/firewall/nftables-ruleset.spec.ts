import { expect } from 'chai';
import type { SecurityGroupRule } from '../../lib/control-plane/types.js';
import type { GroupsView, HybridPort } from '../../lib/firewall/iptables/index.js';
import { parseSave } from '../../lib/firewall/iptables/index.js';
import { buildNftRuleset, coverAddresses, nftRule, parseOwnTable, remoteSetName, renderTransaction } from '../../lib/firewall/nftables/index.js';
import { renderRemoval } from '../../lib/firewall/nftables/iptables-removal.js';
import { hybridVm } from './iptables-helpers.js';

const r = (x: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: 'sg', ...x });
const sets = (sg: string): string | undefined => (sg === 'known' ? 'rg4-known' : undefined);

describe('iptables_hybrid nftables backend: the ruleset text', () => {
  it('writes each rule with nft\'s matches, as Neutron\'s driver matches', () => {
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.1.2.3/24' }), sets))
      .to.equal('meta nfproto ipv4 ip saddr 10.1.2.0/24 meta l4proto 6 th dport 22 accept');
    expect(nftRule(r({ direction: 'egress', ethertype: 'IPv6', protocol: 'udp', portRangeMin: 100, portRangeMax: 200, remoteIpPrefix: '::/0' }), sets))
      .to.equal('meta nfproto ipv6 meta l4proto 17 th dport 100-200 accept');
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128, portRangeMax: 0 }), sets))
      .to.equal('meta nfproto ipv6 meta l4proto 58 icmpv6 type 128 icmpv6 code 0 accept');
    expect(nftRule(r({ direction: 'egress', ethertype: 'IPv4', remoteGroupId: 'known' }), sets)).to.equal('meta nfproto ipv4 ip daddr @rg4-known accept');
    const groups: GroupsView = { rules: () => [r({ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sg-web', protocol: 'udp' })], stateful: () => true, ipset: (sg, e) => remoteSetName(sg, e) };
    expect(buildNftRuleset([hybridVm(1)], groups, () => 4097, new Map()).structure, 'hosts and networks of a remote group: two sets, one rule each')
      .to.include('    meta nfproto ipv4 ip saddr @rg4-sg-web meta l4proto 17 accept\n    meta nfproto ipv4 ip saddr @rg4n-sg-web meta l4proto 17 accept\n');
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'unknown' }), sets), 'no members known: left out, as Neutron').to.equal(undefined);
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv4', protocol: '112' }), sets)).to.equal('meta nfproto ipv4 meta l4proto 112 accept');
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv4', protocol: 'vrrp' }), sets)).to.equal('meta nfproto ipv4 meta l4proto 112 accept');
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv4', protocol: '0' }), sets), 'protocol 0: any').to.equal('meta nfproto ipv4 accept');
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv4', protocol: 'no-such' }), sets), 'a name the API refuses: left out').to.equal(undefined);
    expect(nftRule(r({ direction: 'ingress', ethertype: 'IPv6', protocol: '1', portRangeMin: 8 }), sets), 'ICMPv4 in an IPv6 rule: matches nothing').to.equal(undefined);
  });

  it('leaves out members inside another member (an interval set refuses overlaps)', () => {
    expect(coverAddresses(['10.0.0.5', '10.0.0.0/24', '10.0.1.1/32', '10.0.0.9', '2001:db8::1', '2001:db8::/64', '10.0.1.1'])).to.deep.equal(['10.0.0.0/24', '10.0.1.1', '2001:db8::/64']);
  });

  it('changes only set elements when only members changed, and replaces both tables in one transaction otherwise', () => {
    const port: HybridPort = hybridVm(1);
    const groups: GroupsView = {
      rules: () => [r({ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sg-web' })],
      stateful: () => true,
      ipset: (sg, e) => remoteSetName(sg, e),
    };
    const build = (members: string[], ports = [port]) => buildNftRuleset(ports, groups, () => 4097, new Map([['rg4-sg-web', { family: 4 as const, interval: false, members }]]));
    const a = build(['10.0.0.1', '10.0.0.2']);
    expect(renderTransaction(a, build(['10.0.0.1', '10.0.0.3']))).to.equal(
      'delete element inet ovs_agent_hybrid rg4-sg-web { 10.0.0.2 }\nadd element inet ovs_agent_hybrid rg4-sg-web { 10.0.0.3 }\n');
    expect(renderTransaction(a, build(['10.0.0.1', '10.0.0.2']))).to.equal('');
    const full = renderTransaction(a, build(['10.0.0.1', '10.0.0.2'], [port, hybridVm(2)]));
    expect(full.split('\n').slice(0, 4)).to.deep.equal(['table inet ovs_agent_hybrid', 'delete table inet ovs_agent_hybrid', 'table bridge ovs_agent_hybrid', 'delete table bridge ovs_agent_hybrid']);
    expect(full).to.include('"qbr02020202-aa" : goto in-sg-web').and.include('add element inet ovs_agent_hybrid rg4-sg-web { 10.0.0.1, 10.0.0.2 }');
  });

  it('the spoof filter: pairs first, IPv6 link-local per MAC, a port without fixed IPs by MAC alone, no family pair: unchecked', () => {
    const groups: GroupsView = { rules: () => [], stateful: () => true, ipset: () => undefined };
    const p = hybridVm(3, { fixedIps: ['10.0.0.3'], allowedAddressPairs: [{ macAddress: 'fa:16:3e:aa:bb:cc', ipAddress: '10.9.0.0/16' }] });
    const text = buildNftRuleset([p, hybridVm(4, { fixedIps: [] })], groups, () => 4097, new Map()).structure;
    expect(text).to.include('set spoof4 { typeof iifname . ether saddr . ip saddr; elements = { "qbr03030303-aa" . fa:16:3e:00:00:03 . 10.0.0.3 }; }');
    expect(text).to.include('set spoof4n { typeof iifname . ether saddr . ip saddr; flags interval; elements = { "qbr03030303-aa" . fa:16:3e:aa:bb:cc . 10.9.0.0/16, '
      + '"qbr04040404-aa" . fa:16:3e:00:00:04 . 0.0.0.0/0 }; }');
    expect(text).to.include('set nospoof6 { typeof iifname; elements = { "qbr03030303-aa" }; }');
    const marking = text.slice(text.indexOf('chain mark_tap'));
    expect(marking.indexOf('iifname "qvb*" meta mark & 0x10000000 == 0x10000000 meta mark set meta mark & 0xefffffff'), 'the bit cleared on frames from br-int, before a tap sets it')
      .to.be.within(0, marking.indexOf('iifname @taps meta mark set'));
    expect(text).to.include('"qbr04040404-aa" . fa:16:3e:00:00:04 . ::/0');
  });

  it('reads back the zones and ports of its own table (nft -j)', () => {
    const json = JSON.stringify({ nftables: [{ metainfo: {} },
      { map: { name: 'ct_zones', elem: [['qbr01010101-aa', 4097], ['qbr02020202-aa', 4100]] } },
      { map: { name: 'port_eg', elem: [['qbr01010101-aa', { goto: { target: 'eg-web' } }]] } }] });
    const own = parseOwnTable(json);
    expect([...own.zones]).to.deep.equal([['01010101-aa', 4097], ['02020202-aa', 4100]]);
    expect([...own.ports]).to.deep.equal(['01010101-aa']);
    expect(parseOwnTable('').zones.size).to.equal(0);
  });

  it('removes iptables chains of ours and the jumps to them, leaving neutron-filter-top\'s jump from FORWARD', () => {
    const save = ['*filter', ':FORWARD ACCEPT [0:0]', ':neutron-filter-top - [0:0]', ':neutron-openvswi-FORWARD - [0:0]', ':neutron-openvswi-local - [0:0]',
      '-A FORWARD -j neutron-filter-top', '-A FORWARD -j neutron-openvswi-FORWARD', '-A neutron-filter-top -j neutron-openvswi-local', 'COMMIT', ''].join('\n');
    expect(renderRemoval(parseSave(save))).to.equal(['*filter', ':neutron-openvswi-FORWARD - [0:0]', ':neutron-openvswi-local - [0:0]',
      '-D FORWARD -j neutron-openvswi-FORWARD', '-D neutron-filter-top -j neutron-openvswi-local', '-X neutron-openvswi-FORWARD', '-X neutron-openvswi-local', 'COMMIT', ''].join('\n'));
  });
});
