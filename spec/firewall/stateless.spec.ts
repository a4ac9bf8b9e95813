/**
 * Stateless security groups (SecurityGroupInfo.stateful = false): the port's
 * own pipeline never uses conntrack, so its rules see replies too and only
 * explicit rules let anything through. Neutron 21.0.0's driver ignores the
 * flag (all rules stateful); this is our extension of its pipeline.
 */
import { expect } from 'chai';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall, type FirewallPort } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { canon, canonAll, vmPort, flushOf, initOf } from './helpers.js';
import { applyChanges, trace } from './trace-helpers.js';

const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });
const SL_RULES = [
  rule('sl', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
  rule('sl', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', remoteGroupId: 'sl' }),
  rule('sl', { direction: 'egress', ethertype: 'IPv4', protocol: 'udp' }),
];
const REPLIES = rule('sl', { direction: 'egress', ethertype: 'IPv4', protocol: 'tcp' });
const SF_RULES = [rule('sf', { direction: 'egress', ethertype: 'IPv4' }), rule('sf', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp' })];

function info(slRules: SecurityGroupRule[]): SecurityGroupInfo {
  return {
    rules: { sl: slRules, sf: SF_RULES },
    stateful: { sl: false, sf: true },
    members: { sl: { IPv4: [['10.0.0.1', null], ['10.0.0.3', null]], IPv6: [] } },
  };
}

const a = vmPort(1, { securityGroups: ['sl'] });
const b = vmPort(2, { securityGroups: ['sf'] });
const c = vmPort(3, { securityGroups: ['sl'] });

describe('stateless security groups', () => {
  it('builds conntrack-free flows for a port whose groups are all stateless', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(info(SL_RULES));
    fw.setupPortFilters([a]);
    const got = canonAll(flushOf(fw));
    const Z = 'zone=NXM_NX_REG6[0..15]';
    for (const f of [
      `table=71 priority=65 in_port=1 reg5=1 dl_type=0x0800 dl_src=${a.macAddress} nw_src=10.0.0.1 actions=resubmit(,72)`,
      'table=81 priority=90 reg5=1 dl_type=0x0800 ct_state=-trk actions=resubmit(,82)',
      'table=81 priority=80 reg5=1 ct_state=+trk actions=ct_clear,resubmit(,82)',
      'table=82 priority=77 dl_type=0x0800 reg5=1 nw_proto=6 tcp_dst=0x0016 ct_state=-trk actions=output:1',
      'table=82 priority=73 dl_type=0x0800 reg5=1 nw_proto=17 ct_state=-trk actions=conjunction(22,2/2)',
      'table=82 priority=73 conj_id=22 dl_type=0x0800 reg5=1 ct_state=-trk actions=set_field:22->reg7,output:1',
      'table=82 priority=73 dl_type=0x0800 reg6=3 nw_src=10.0.0.3/32 ct_state=-trk actions=conjunction(22,1/2)',
    ]) {
      expect(got).to.include(canon(f));
    }
    expect(got.filter((f) => /ct\(table=72|ct\(table=82|\+new-est|\+est-rel-rpl/.test(f) && /reg5=1\b|reg6=3/.test(f))).to.deep.equal([]);
    expect(got.some((f) => f.includes(`ct(table=72,${Z})`))).to.equal(false);
  });

  it('switches a port between stateful and stateless when its group\'s flag changes', () => {
    const fw = new OvsFirewall();
    fw.updateSecurityGroupInfo(info(SL_RULES));
    fw.setupPortFilters([a]);
    flushOf(fw);
    fw.updateSecurityGroupInfo({ ...info(SL_RULES), stateful: { sl: true, sf: true } });
    const back = flushOf(fw);
    expect(back.some((x) => x.op === 'add' && x.text.includes('ct(table=72,zone=NXM_NX_REG6[0..15])'))).to.equal(true);
    expect(back.some((x) => x.op === 'delete_strict' && x.text.includes('ct_state=-trk') && x.text.includes('tp_dst'))).to.equal(true);
  });

  describe('in a real ovs-vswitchd (ofproto/trace) @integration', function () {
    let sb: OvsSandbox | undefined;
    let fw: OvsFirewall;
    const tcp = (from: FirewallPort, to: FirewallPort, sport: number, dport: number): string =>
      `in_port=${from.ofport},tcp,dl_src=${from.macAddress},dl_dst=${to.macAddress},nw_src=${from.fixedIps[0]},nw_dst=${to.fixedIps[0]},tp_src=${sport},tp_dst=${dport}`;

    before(async () => {
      sb = await OvsSandbox.start();
      await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14',
        ...[a, b, c].flatMap((p) => ['--', 'add-port', 'br-int', `vm${p.ofport}`, 'tag=3', '--', 'set', 'interface', `vm${p.ofport}`, `ofport_request=${p.ofport}`]));
      for (const p of [a, b, c]) await sb.appctl('ovs-vswitchd', 'fdb/add', 'br-int', `vm${p.ofport}`, '3', p.macAddress);
      fw = new OvsFirewall();
      const init = initOf(fw);
      fw.updateSecurityGroupInfo(info(SL_RULES));
      fw.setupPortFilters([a, b, c]);
      await applyChanges(sb, 'br-int', [...init, ...flushOf(fw)], 'add table=0,priority=0 actions=resubmit(,60)\nadd table=60,priority=3 actions=NORMAL\n');
    });

    after(async () => {
      await sb?.stop();
      sb = undefined;
    });

    it('lets in what a rule allows, from a stateful port too, and nothing else', async () => {
      expect((await trace(sb!, 'br-int', tcp(b, a, 40000, 22), 'trk,new')).outputs).to.deep.equal(['vm1']);
      expect((await trace(sb!, 'br-int', tcp(b, a, 40000, 80), 'trk,new')).outputs).to.deep.equal([]);
      // The remote-group conjunction, untracked on both sides (the sender needs its own egress rule).
      const udp = `in_port=3,udp,dl_src=${c.macAddress},dl_dst=${a.macAddress},nw_src=10.0.0.3,nw_dst=10.0.0.1,udp_src=5000,udp_dst=53`;
      const v = await trace(sb!, 'br-int', udp);
      expect(v.outputs).to.deep.equal(['vm1']);
      expect(v.actions).to.not.match(/ct\(/);
    });

    it('drops the stateless port\'s replies until an egress rule allows them', async () => {
      expect((await trace(sb!, 'br-int', tcp(a, b, 22, 40000), 'trk,est,rpl')).outputs).to.deep.equal([]);
      fw.updateSecurityGroupInfo(info([...SL_RULES, REPLIES]));
      await applyChanges(sb!, 'br-int', flushOf(fw));
      // Out of the stateless port without conntrack, into the stateful one as a reply.
      const v = await trace(sb!, 'br-int', tcp(a, b, 22, 40000), 'trk,est,rpl');
      expect(v.outputs).to.deep.equal(['vm2']);
    });
  });
});
