/**
 * The flows for given ports and rules, written out by hand, in ovs-ofctl
 * text, as Neutron 21.0.0's OVSFirewallDriver produces them (the tables are
 * described in docs/design.md, "The firewall's tables"; neutron-oracle.spec.ts
 * checks the same kinds of cases against the driver itself);
 * `canon` only makes the comparison independent of field order.
 */
import { expect } from 'chai';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { createFirewall, OvsFirewall } from '../../lib/firewall/index.js';
import { flowModsOf } from '../../lib/flows/installer.js';
import { adds, canon, canonAll, deletes, vmPort, flushOf, initOf } from './helpers.js';

const M = 'fa:16:3e:11:22:33';
const LLA = 'fe80::f816:3eff:fe11:2233';
const REGS = 'set_field:7->reg5,set_field:3->reg6';
const ZONE = 'zone=NXM_NX_REG6[0..15]';

function info(rules: Record<string, Array<Omit<SecurityGroupRule, 'securityGroupId'>>>, members: SecurityGroupInfo['members'] = {}): SecurityGroupInfo {
  const r: SecurityGroupInfo['rules'] = {};
  const stateful: Record<string, boolean> = {};
  for (const [sg, list] of Object.entries(rules)) {
    r[sg] = list.map((x) => ({ securityGroupId: sg, ...x }));
    stateful[sg] = true;
  }
  return { rules: r, stateful, members };
}

const port7 = vmPort(7, { macAddress: M, fixedIps: ['10.0.0.5', '2001:db8::5'], securityGroups: ['sg-empty'] });

/** A port's base flows for P=7, V=3, MAC M, fixed IPs 10.0.0.5 and 2001:db8::5 on a tunnel network. */
const BASE_FLOWS = [
  `table=60 priority=100 in_port=7 actions=${REGS},resubmit(,71)`,
  `table=60 priority=90 dl_vlan=3 dl_dst=${M} actions=${REGS},strip_vlan,resubmit(,81)`,
  `table=71 priority=95 in_port=7 reg5=7 dl_type=0x0806 dl_src=${M} arp_spa=10.0.0.5 actions=resubmit(,94)`,
  `table=71 priority=65 in_port=7 reg5=7 dl_type=0x0800 dl_src=${M} nw_src=10.0.0.5 actions=ct(table=72,${ZONE})`,
  ...[130, 133, 135].flatMap((t) => [LLA, '2001:db8::5'].map((ip) => `table=71 priority=95 in_port=7 reg5=7 dl_type=0x86dd nw_proto=58 icmp_type=${t} dl_src=${M} ipv6_src=${ip} actions=resubmit(,94)`)),
  ...[LLA, '2001:db8::5'].map((ip) => `table=71 priority=95 in_port=7 reg5=7 dl_type=0x86dd nw_proto=58 icmp_type=136 nd_target=${ip} actions=resubmit(,94)`),
  ...[LLA, '2001:db8::5'].map((ip) => `table=71 priority=65 in_port=7 reg5=7 dl_type=0x86dd dl_src=${M} ipv6_src=${ip} actions=ct(table=72,${ZONE})`),
  ...['10.0.0.5', '0.0.0.0'].map((ip) => `table=71 priority=80 in_port=7 reg5=7 dl_type=0x0800 dl_src=${M} nw_src=${ip} nw_proto=17 tp_src=68 tp_dst=67 actions=resubmit(,73)`),
  ...[LLA, '2001:db8::5'].map((ip) => `table=71 priority=80 in_port=7 reg5=7 dl_type=0x86dd dl_src=${M} ipv6_src=${ip} nw_proto=17 tp_src=546 tp_dst=547 actions=resubmit(,73)`),
  'table=71 priority=70 in_port=7 reg5=7 dl_type=0x0800 nw_proto=17 tp_src=67 tp_dst=68 actions=resubmit(,93)',
  'table=71 priority=70 in_port=7 reg5=7 dl_type=0x86dd nw_proto=17 tp_src=547 tp_dst=546 actions=resubmit(,93)',
  'table=71 priority=70 in_port=7 reg5=7 dl_type=0x86dd nw_proto=58 icmp_type=134 actions=resubmit(,93)',
  'table=71 priority=10 in_port=7 reg5=7 actions=ct_clear,resubmit(,93)',
  `table=73 priority=100 reg6=3 dl_dst=${M} actions=set_field:7->reg5,resubmit(,81)`,
  `table=73 priority=90 reg5=7 dl_type=0x0800 ct_state=+new-est actions=ct(commit,${ZONE}),resubmit(,91)`,
  `table=73 priority=90 reg5=7 dl_type=0x86dd ct_state=+new-est actions=ct(commit,${ZONE}),resubmit(,91)`,
  'table=73 priority=80 reg5=7 actions=resubmit(,94)',
  'table=81 priority=100 reg5=7 dl_type=0x0806 actions=output:7',
  ...[130, 135, 136, 134].map((t) => `table=81 priority=100 reg5=7 dl_type=0x86dd nw_proto=58 icmp_type=${t} actions=output:7`),
  'table=81 priority=95 reg5=7 dl_type=0x0800 nw_proto=17 tp_src=67 tp_dst=68 actions=output:7',
  'table=81 priority=95 reg5=7 dl_type=0x86dd nw_proto=17 tp_src=547 tp_dst=546 actions=output:7',
  `table=81 priority=90 reg5=7 dl_type=0x0800 ct_state=-trk actions=ct(table=82,${ZONE})`,
  `table=81 priority=90 reg5=7 dl_type=0x86dd ct_state=-trk actions=ct(table=82,${ZONE})`,
  'table=81 priority=80 reg5=7 ct_state=+trk actions=resubmit(,82)',
  ...(
    [
      [82, 'output:7'],
      [72, 'resubmit(,94)'],
    ] as const
  ).flatMap(([t, accept]) => [
    `table=${t} priority=50 ct_state=+trk+inv actions=resubmit(,93)`,
    `table=${t} priority=50 reg5=7 ct_mark=0x1 actions=resubmit(,93)`,
    `table=${t} priority=50 reg5=7 ct_zone=3 ct_mark=0x0 ct_state=+est-rel+rpl actions=${accept}`,
    `table=${t} priority=50 reg5=7 ct_zone=3 ct_mark=0x0 ct_state=-new-est+rel-inv actions=${accept}`,
    `table=${t} priority=40 reg5=7 ct_state=-est actions=resubmit(,93)`,
    `table=${t} priority=40 reg5=7 dl_type=0x0800 ct_state=+est actions=ct(commit,${ZONE},exec(set_field:0x1->ct_mark))`,
    `table=${t} priority=40 reg5=7 dl_type=0x86dd ct_state=+est actions=ct(commit,${ZONE},exec(set_field:0x1->ct_mark))`,
  ]),
];

describe('firewall flow generation (Neutron\'s openvswitch driver)', () => {
  it('installs the bridge-wide flows on initialize', () => {
    const fw = new OvsFirewall();
    expect(canonAll(initOf(fw))).to.deep.equal(
      [
        ...[71, 72, 73, 81, 82].map((t) => `table=${t} priority=0 actions=drop`),
        'table=71 priority=110 ct_state=+trk actions=ct_clear,resubmit(,71)',
        'table=94 priority=1 actions=normal',
        'table=91 priority=1 actions=resubmit(,94)',
        'table=92 priority=0 actions=drop',
        'table=93 priority=0 actions=drop',
      ].map(canon).sort(),
    );
  });

  it('gives a port with no rules exactly the base flows', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(info({ 'sg-empty': [] }));
    fw.setupPortFilters([port7]);
    const got = flushOf(fw);
    expect(got.every((c) => c.op === 'add')).to.equal(true);
    expect(canonAll(got)).to.deep.equal(BASE_FLOWS.map(canon).sort());
  });

  it('adds allowed-address-pair MACs and addresses to the anti-spoofing and classification flows', () => {
    const fw = new OvsFirewall();
    const aapMac = 'fa:16:3e:aa:bb:cc';
    fw.setupPortFilters([{ ...port7, fixedIps: ['10.0.0.5'], allowedAddressPairs: [{ macAddress: aapMac, ipAddress: '10.0.9.0/24' }] }]);
    const got = canonAll(flushOf(fw));
    for (const f of [
      `table=60 priority=90 dl_vlan=3 dl_dst=${aapMac} actions=${REGS},strip_vlan,resubmit(,81)`,
      `table=71 priority=95 in_port=7 reg5=7 dl_type=0x0806 dl_src=${aapMac} arp_spa=10.0.9.0/24 actions=resubmit(,94)`,
      `table=71 priority=65 in_port=7 reg5=7 dl_type=0x0800 dl_src=${aapMac} nw_src=10.0.9.0/24 actions=ct(table=72,${ZONE})`,
      `table=71 priority=80 in_port=7 reg5=7 dl_type=0x0800 dl_src=${aapMac} nw_src=10.0.9.0/24 nw_proto=17 tp_src=68 tp_dst=67 actions=resubmit(,73)`,
      `table=73 priority=100 reg6=3 dl_dst=${aapMac} actions=set_field:7->reg5,resubmit(,81)`,
    ]) {
      expect(got).to.include(canon(f));
    }
  });

  it('adds the physical-direct T60 flows for VLAN and flat networks', () => {
    const fw = new OvsFirewall();
    fw.setupPortFilters([
      { ...port7, networkType: 'vlan', segmentationId: 100 },
      vmPort(8, { lvid: 4, networkType: 'flat', segmentationId: undefined }),
    ]);
    const got = canonAll(flushOf(fw));
    expect(got).to.include(canon(`table=60 priority=90 dl_vlan=100 dl_dst=${M} actions=${REGS},strip_vlan,resubmit(,81)`));
    expect(got).to.include(canon('table=60 priority=90 vlan_tci=0x0000/0x1fff dl_dst=fa:16:3e:00:00:08 actions=set_field:8->reg5,set_field:4->reg6,resubmit(,81)'));
  });

  it('turns an ingress tcp 22 rule from 10.0.0.0/8 (P=7) into its two flows', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(info({ 'sg-empty': [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.0.0.0/8' }] }));
    fw.setupPortFilters([port7]);
    const ruleFlows = canonAll(flushOf(fw)).filter((f) => !BASE_FLOWS.map(canon).includes(f));
    expect(ruleFlows).to.deep.equal(
      [
        'table=82 priority=77 dl_type=0x0800 nw_src=10.0.0.0/8 nw_proto=6 tcp_dst=0x0016 reg5=7 ct_state=+est-rel-rpl actions=output:7',
        `table=82 priority=77 dl_type=0x0800 nw_src=10.0.0.0/8 nw_proto=6 tcp_dst=0x0016 reg5=7 ct_state=+new-est actions=ct(commit,${ZONE}),output:7,resubmit(,92)`,
      ].map(canon).sort(),
    );
  });

  it('follows Neutron\'s rule priorities, egress actions, ICMP type/code, port ranges and ignored /0 prefixes', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(
      info({
        'sg-empty': [
          { direction: 'egress', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' },
          { direction: 'egress', ethertype: 'IPv6', protocol: 'icmp' },
          { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8 },
          { direction: 'ingress', ethertype: 'IPv4', protocol: '1', portRangeMin: 3, portRangeMax: 4 },
          { direction: 'egress', ethertype: 'IPv6', protocol: 'udp', portRangeMin: 1000, portRangeMax: 1999, remoteIpPrefix: '2001:db8:1::1/48' },
        ],
      }),
    );
    fw.setupPortFilters([port7]);
    const ruleFlows = canonAll(flushOf(fw)).filter((f) => !BASE_FLOWS.map(canon).includes(f));
    const est = (s: string): string[] => [`${s.replace('STATE', '+est-rel-rpl')}`, `${s.replace('STATE', '+new-est')}`];
    const expected = [
      ...est('table=72 priority=74 dl_type=0x0800 reg5=7 ct_state=STATE actions=resubmit(,73)'),
      ...est('table=72 priority=75 dl_type=0x86dd reg5=7 nw_proto=58 ct_state=STATE actions=resubmit(,73)'),
      'table=82 priority=76 dl_type=0x0800 reg5=7 nw_proto=1 icmp_type=8 ct_state=+est-rel-rpl actions=output:7',
      `table=82 priority=76 dl_type=0x0800 reg5=7 nw_proto=1 icmp_type=8 ct_state=+new-est actions=ct(commit,${ZONE}),output:7,resubmit(,92)`,
      'table=82 priority=77 dl_type=0x0800 reg5=7 nw_proto=1 icmp_type=3 icmp_code=4 ct_state=+est-rel-rpl actions=output:7',
      `table=82 priority=77 dl_type=0x0800 reg5=7 nw_proto=1 icmp_type=3 icmp_code=4 ct_state=+new-est actions=ct(commit,${ZONE}),output:7,resubmit(,92)`,
      ...['0x03e8/0xfff8', '0x03f0/0xfff0', '0x0400/0xfe00', '0x0600/0xff00', '0x0700/0xff80', '0x0780/0xffc0', '0x07c0/0xfff0'].flatMap((v) =>
        est(`table=72 priority=77 dl_type=0x86dd reg5=7 ipv6_dst=2001:db8:1::/48 nw_proto=17 udp_dst=${v} ct_state=STATE actions=resubmit(,73)`),
      ),
    ];
    expect(ruleFlows).to.deep.equal(expected.map(canon).sort());
  });

  it('builds a remote-group rule as Neutron does: conjunction(22,2/2)/(23,2/2), accept flows with reg7, and the 1/2 address flows', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(
      info(
        { 'sg-empty': [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteGroupId: 'sg-remote' }] },
        { 'sg-remote': { IPv4: [['10.1.0.9', 'fa:16:3e:99:99:99']], IPv6: [] } },
      ),
    );
    fw.setupPortFilters([port7]);
    const ruleFlows = canonAll(flushOf(fw)).filter((f) => !BASE_FLOWS.map(canon).includes(f));
    expect(ruleFlows).to.deep.equal(
      [
        'table=82 priority=73 reg5=7 dl_type=0x0800 nw_proto=17 udp_dst=0x0035 ct_state=+est-rel-rpl actions=conjunction(22,2/2)',
        'table=82 priority=73 reg5=7 dl_type=0x0800 nw_proto=17 udp_dst=0x0035 ct_state=+new-est actions=conjunction(23,2/2)',
        'table=82 priority=73 conj_id=22 reg5=7 dl_type=0x0800 ct_state=+est-rel-rpl actions=set_field:22->reg7,output:7',
        `table=82 priority=73 conj_id=23 reg5=7 dl_type=0x0800 ct_state=+new-est actions=set_field:23->reg7,ct(commit,${ZONE}),output:7,resubmit(,92)`,
        'table=82 priority=73 reg6=3 dl_type=0x0800 nw_src=10.1.0.9/32 ct_state=+est-rel-rpl actions=conjunction(22,1/2)',
        'table=82 priority=73 reg6=3 dl_type=0x0800 nw_src=10.1.0.9/32 ct_state=+new-est actions=conjunction(23,1/2)',
      ].map(canon).sort(),
    );
  });

  it('merges overlapping remote-group port ranges into pieces listing every conjunction id', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(
      info(
        {
          'sg-empty': [
            { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 81, remoteGroupId: 'sg-a' },
            { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 81, portRangeMax: 82, remoteGroupId: 'sg-b' },
          ],
        },
        { 'sg-a': { IPv4: [['10.1.0.1', null]], IPv6: [] }, 'sg-b': { IPv4: [['10.1.0.1', null], ['10.1.0.2', null]], IPv6: [] } },
      ),
    );
    fw.setupPortFilters([port7]);
    const got = canonAll(flushOf(fw));
    // sg-a → base 16 (tcp offset 3 → 22), sg-b → base 24 (→ 30).
    const conj = (v: string, ids: number[]): string[] => [
      canon(`table=82 priority=73 reg5=7 dl_type=0x0800 nw_proto=6 tcp_dst=${v} ct_state=+est-rel-rpl actions=${ids.map((i) => `conjunction(${i},2/2)`).join(',')}`),
      canon(`table=82 priority=73 reg5=7 dl_type=0x0800 nw_proto=6 tcp_dst=${v} ct_state=+new-est actions=${ids.map((i) => `conjunction(${i + 1},2/2)`).join(',')}`),
    ];
    for (const f of [...conj('0x0050', [22]), ...conj('0x0051', [22, 30]), ...conj('0x0052', [30])]) expect(got).to.include(f);
    expect(got).to.include(canon('table=82 priority=73 reg6=3 dl_type=0x0800 nw_src=10.1.0.1/32 ct_state=+est-rel-rpl actions=conjunction(22,1/2),conjunction(30,1/2)'));
    expect(got).to.include(canon('table=82 priority=73 reg6=3 dl_type=0x0800 nw_src=10.1.0.2/32 ct_state=+new-est actions=conjunction(31,1/2)'));
    expect(got.filter((f) => f.includes('tcp,') && f.includes('tp_dst'))).to.have.length(6);
  });

  it('gives a port without port security only the pass-through flows', () => {
    const fw = new OvsFirewall();
    fw.setupPortFilters([{ ...port7, portSecurityEnabled: false }]);
    expect(canonAll(flushOf(fw))).to.deep.equal(
      [`table=60 priority=100 in_port=7 actions=${REGS},resubmit(,73)`, 'table=73 priority=80 reg5=7 actions=resubmit(,94)'].map(canon).sort(),
    );
  });

  it('adds the permitted ethertypes on both sides', () => {
    const fw = new OvsFirewall({ permittedEthertypes: ['0x4008'] });
    fw.setupPortFilters([port7]);
    const got = canonAll(flushOf(fw));
    expect(got).to.include(canon('table=71 priority=95 reg5=7 dl_type=0x4008 actions=resubmit(,94)'));
    expect(got).to.include(canon('table=81 priority=100 reg5=7 dl_type=0x4008 actions=output:7'));
  });

  it('sends its adds with the bridge cookie and its deletes strictly, by table, priority and match', () => {
    const fw = new OvsFirewall({ cookie: 0xabcdefn });
    fw.setupPortFilters([port7]);
    fw.flush();
    const added = fw.flows.takeChanges();
    const mods = [...flowModsOf(added, fw.flows.cookie)];
    expect(mods.length).to.be.greaterThan(0);
    expect(mods.every((m) => m.command === 'add' && m.cookie === 0xabcdefn)).to.equal(true);
    fw.flows.commit(added);
    fw.removePortFilters([port7.portId]);
    fw.flush();
    const removed = fw.flows.takeChanges();
    const dels = [...flowModsOf(removed, fw.flows.cookie)];
    expect(dels).to.have.length(mods.length);
    expect(dels.every((m) => m.command === 'delete_strict' && m.instructions.length === 0)).to.equal(true);
    expect(dels.map((m) => `${m.tableId}/${m.priority}/${JSON.stringify(m.match)}`).sort())
      .to.deep.equal(mods.map((m) => `${m.tableId}/${m.priority}/${JSON.stringify(m.match)}`).sort());
  });

  it('blocks a port whose addresses cannot be parsed and reports it', () => {
    const errors: string[] = [];
    const fw = new OvsFirewall({ onError: (e, ctx) => errors.push(`${ctx.portId}: ${e.message}`) });
    fw.setupPortFilters([{ ...port7, fixedIps: ['10.0.0.300'] }]);
    expect(canonAll(flushOf(fw))).to.deep.equal([canon(`table=60 priority=100 in_port=7 actions=${REGS},resubmit(,71)`)]);
    expect(fw.failedPorts()).to.deep.equal([port7.portId]);
    expect(errors[0]).to.match(/port-7: not an IP address/);
  });

  it('skips a rule with an unknown protocol and reports it', () => {
    const errors: string[] = [];
    const fw = new OvsFirewall({ onError: (e, ctx) => errors.push(`${ctx.securityGroupId}: ${e.message}`) });
    fw.updateSecurityGroupInfo(info({ 'sg-empty': [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'bogus' }] }));
    fw.setupPortFilters([port7]);
    expect(canonAll(flushOf(fw))).to.deep.equal(BASE_FLOWS.map(canon).sort());
    expect(errors).to.deep.equal(['sg-empty: unknown protocol "bogus"']);
  });

  it('noop driver programs nothing and leaves anti-spoofing to the agent', () => {
    const fw = createFirewall('noop');
    fw.setupPortFilters([port7]);
    expect(initOf(fw)).to.deep.equal([]);
    expect(flushOf(fw)).to.deep.equal([]);
    expect(fw.isPortManaged(port7.portId)).to.equal(true);
    expect(createFirewall(undefined).driver).to.equal('noop');
    expect(() => createFirewall('iptables')).to.throw(/the iptables driver .* is not supported with Open vSwitch/);
    expect(fw.providesArpSpoofingProtection).to.equal(false);
  });

  it('exposes adds/deletes helpers consistently', () => {
    const fw = new OvsFirewall();
    fw.setupPortFilters([port7]);
    const c = flushOf(fw);
    expect(adds(c)).to.have.length(c.length);
    expect(deletes(c)).to.have.length(0);
  });
});
