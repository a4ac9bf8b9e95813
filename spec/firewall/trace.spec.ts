/**
 * The computed firewall flows installed into a real ovs-vswitchd, judged by
 * `ofproto/trace` (with `--ct-next` answering each conntrack recirculation).
 */
import { expect } from 'chai';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall, type FirewallPort } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { canon, vmPort, flushOf, initOf, flowCount } from './helpers.js';
import { flowText } from '../../lib/flows/flow.js';
import { applyChanges, trace } from './trace-helpers.js';

const BR = 'br-int';
const COOKIE = 0x5eca11n;
/** The agent's part of the pipeline the firewall plugs into (docs/design.md, "br-int (integration bridge)"): T0 → 60, T60 p3 NORMAL. */
const AGENT_PIPELINE = 'add table=0,priority=0 actions=resubmit(,60)\nadd table=60,priority=3 actions=NORMAL\n';

const vm1 = vmPort(1, { securityGroups: ['web'] });
const vm2 = vmPort(2, { securityGroups: ['web'] });
const vm3 = vmPort(3, { securityGroups: ['other'] });

const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });
const WEB_RULES: SecurityGroupRule[] = [
  rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
  rule('web', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' }),
  rule('web', { direction: 'egress', ethertype: 'IPv4' }),
  rule('web', { direction: 'egress', ethertype: 'IPv6' }),
];
const OTHER_RULES: SecurityGroupRule[] = [rule('other', { direction: 'egress', ethertype: 'IPv4' })];

function sgInfo(webRules: SecurityGroupRule[], webMembers: FirewallPort[]): SecurityGroupInfo {
  return {
    rules: { web: webRules, other: OTHER_RULES },
    stateful: { web: true, other: true },
    members: { web: { IPv4: webMembers.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), IPv6: [] } },
  };
}

const tcp = (from: FirewallPort, to: FirewallPort, dst: number, src = 40000, inPort: number | string = from.ofport): string =>
  `in_port=${inPort},tcp,dl_src=${from.macAddress},dl_dst=${to.macAddress},nw_src=${from.fixedIps[0]},nw_dst=${to.fixedIps[0]},tp_src=${src},tp_dst=${dst}`;

describe('firewall flows in a real ovs-vswitchd (ofproto/trace) @integration', function () {
  let sb: OvsSandbox | undefined;
  let fw: OvsFirewall;

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl(
      'add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14',
      ...[vm1, vm2, vm3].flatMap((p) => ['--', 'add-port', BR, `vm${p.ofport}`, 'tag=3', '--', 'set', 'interface', `vm${p.ofport}`, `ofport_request=${p.ofport}`]),
      '--', 'add-port', BR, 'patch-tun', '--', 'set', 'interface', 'patch-tun', 'ofport_request=100',
    );
    // Pre-learn the VMs' MACs so NORMAL forwards instead of flooding (traces do not learn).
    for (const p of [vm1, vm2, vm3]) await sb.appctl('ovs-vswitchd', 'fdb/add', BR, `vm${p.ofport}`, '3', p.macAddress);
    fw = new OvsFirewall({ cookie: COOKIE });
    const init = initOf(fw);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vm1, vm2]));
    fw.setupPortFilters([vm1, vm2, vm3]);
    await applyChanges(sb, BR, [...init, ...flushOf(fw)], AGENT_PIPELINE);
  });

  after(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('accepts every computed flow and holds exactly the flows the firewall believes installed', async () => {
    const dump = await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', BR, `cookie=${'0x' + COOKIE.toString(16)}/-1`);
    const lines = dump.split('\n').filter((l) => l.includes('actions='));
    expect(lines).to.have.length(flowCount(fw));
  });

  it('allows a new connection a rule allows (tcp 22 from a port of another group) and commits it', async () => {
    const v = await trace(sb!, BR, tcp(vm3, vm1, 22), 'trk,new');
    expect(v.outputs).to.deep.equal(['vm1']);
    expect(v.actions).to.match(/ct\(commit,zone=3\)/);
  });

  it('drops a new connection no rule allows (tcp 80 from another group)', async () => {
    const v = await trace(sb!, BR, tcp(vm3, vm1, 80), 'trk,new');
    expect(v.actions).to.equal('drop');
  });

  it('allows any IPv4 from a member of the remote group (conjunction)', async () => {
    const v = await trace(sb!, BR, tcp(vm2, vm1, 80), 'trk,new');
    expect(v.outputs).to.deep.equal(['vm1']);
  });

  it('lets established return traffic back although no ingress rule allows it', async () => {
    // vm1 answers vm3's ssh connection: vm3 has no ingress rule, but the reply is +est+rpl.
    const v = await trace(sb!, BR, tcp(vm1, vm3, 40000, 22), 'trk,est,rpl');
    expect(v.outputs).to.deep.equal(['vm3']);
    const fresh = await trace(sb!, BR, tcp(vm1, vm3, 40000, 22), 'trk,new');
    // A *new* connection from vm1 to vm3 is allowed out by vm1's egress rule but vm3's ingress drops it.
    expect(fresh.actions).to.equal('drop');
  });

  it('drops invalid packets', async () => {
    const v = await trace(sb!, BR, tcp(vm3, vm1, 22), 'trk,inv');
    expect(v.actions).to.equal('drop');
  });

  it('drops a spoofed source MAC or IP, and spoofed ARP', async () => {
    const spoofMac = await trace(sb!, BR, tcp({ ...vm3, macAddress: 'fa:16:3e:de:ad:00' }, vm1, 22, 40000, 3), 'trk,new');
    expect(spoofMac.actions).to.equal('drop');
    const spoofIp = await trace(sb!, BR, tcp({ ...vm3, fixedIps: ['10.0.0.77'] }, vm1, 22, 40000, 3), 'trk,new');
    expect(spoofIp.actions).to.equal('drop');
    const arp = (spa: string): string => `in_port=3,arp,dl_src=${vm3.macAddress},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=${spa},arp_tpa=10.0.0.1,arp_op=1`;
    expect((await trace(sb!, BR, arp('10.0.0.3'))).outputs).to.include('vm1');
    expect((await trace(sb!, BR, arp('10.0.0.1'))).actions).to.equal('drop');
  });

  it('stops a VM acting as a DHCP server or sending router advertisements', async () => {
    const dhcp = await trace(sb!, BR, `in_port=1,udp,dl_src=${vm1.macAddress},dl_dst=ff:ff:ff:ff:ff:ff,nw_src=10.0.0.1,nw_dst=255.255.255.255,udp_src=67,udp_dst=68`);
    expect(dhcp.actions).to.equal('drop');
    const ra = await trace(sb!, BR, `in_port=1,icmp6,dl_src=${vm1.macAddress},dl_dst=33:33:00:00:00:01,ipv6_src=fe80::f816:3eff:fe00:1,ipv6_dst=ff02::1,icmpv6_type=134,icmpv6_code=0`);
    expect(ra.actions).to.equal('drop');
    // A DHCP request goes out without conntrack.
    const req = await trace(sb!, BR, `in_port=1,udp,dl_src=${vm1.macAddress},dl_dst=ff:ff:ff:ff:ff:ff,nw_src=0.0.0.0,nw_dst=255.255.255.255,udp_src=68,udp_dst=67`);
    expect(req.outputs).to.include('patch-tun');
  });

  it('filters traffic arriving tagged from the tunnel bridge by the ingress rules', async () => {
    const outside = { ...vm3, macAddress: 'fa:16:3e:77:77:77', fixedIps: ['192.168.5.5'] };
    const ssh = await trace(sb!, BR, `${tcp(outside, vm1, 22, 40000, 100)},dl_vlan=3`, 'trk,new');
    expect(ssh.outputs).to.deep.equal(['vm1']);
    const web = await trace(sb!, BR, `${tcp(outside, vm1, 80, 40000, 100)},dl_vlan=3`, 'trk,new');
    expect(web.actions).to.equal('drop');
  });

  it('follows remote-group membership: a port joining the group is allowed, leaving it is not', async () => {
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vm1, vm2, vm3]));
    const join = flushOf(fw);
    expect(join.map((c) => c.op)).to.deep.equal(['add', 'add']);
    await applyChanges(sb!, BR, join);
    expect((await trace(sb!, BR, tcp(vm3, vm1, 80), 'trk,new')).outputs).to.deep.equal(['vm1']);

    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vm1, vm2]));
    const leave = flushOf(fw);
    expect(leave.map((c) => c.op)).to.deep.equal(['delete_strict', 'delete_strict']);
    await applyChanges(sb!, BR, leave);
    expect((await trace(sb!, BR, tcp(vm3, vm1, 80), 'trk,new')).actions).to.equal('drop');
  });

  it('applies a rule added and removed without disturbing established connections of other rules', async () => {
    const https = rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 443, portRangeMax: 443 });
    fw.updateSecurityGroupInfo(sgInfo([...WEB_RULES, https], [vm1, vm2]));
    const added = flushOf(fw);
    expect(added.every((c) => c.op === 'add' && c.text.includes('tp_dst=443'))).to.equal(true);
    await applyChanges(sb!, BR, added);
    expect((await trace(sb!, BR, tcp(vm3, vm1, 443), 'trk,new')).outputs).to.deep.equal(['vm1']);
    // An established ssh connection keeps flowing (and is not re-marked).
    const est = await trace(sb!, BR, tcp(vm3, vm1, 22), 'trk,est');
    expect(est.outputs).to.deep.equal(['vm1']);
    expect(est.actions).to.not.match(/ct_mark|0x1/);

    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vm1, vm2]));
    const removed = flushOf(fw);
    expect(removed.every((c) => c.op === 'delete_strict')).to.equal(true);
    await applyChanges(sb!, BR, removed);
    expect((await trace(sb!, BR, tcp(vm3, vm1, 443), 'trk,new')).actions).to.equal('drop');
    // An established https connection is now marked (ct_mark=1) and not delivered; ssh still is.
    const revoked = await trace(sb!, BR, tcp(vm3, vm1, 443), 'trk,est');
    expect(revoked.outputs).to.deep.equal([]);
    expect(revoked.trace).to.match(/set_field:0x1->ct_mark/);
    expect((await trace(sb!, BR, tcp(vm3, vm1, 22), 'trk,est')).outputs).to.deep.equal(['vm1']);
  });

  it('passes traffic of a port without port security unfiltered, still filtering what it sends to others', async () => {
    fw.updatePortFilters([{ ...vm3, portSecurityEnabled: false }]);
    await applyChanges(sb!, BR, flushOf(fw));
    // Spoofed source now leaves vm3 (no anti-spoofing) but vm1's ingress still rejects tcp 80.
    const toVm1 = await trace(sb!, BR, tcp({ ...vm3, fixedIps: ['10.0.0.77'] }, vm1, 80, 40000, 3), 'trk,new');
    expect(toVm1.actions).to.equal('drop');
    const toVm1Ssh = await trace(sb!, BR, tcp({ ...vm3, fixedIps: ['10.0.0.77'] }, vm1, 22, 40000, 3), 'trk,new');
    expect(toVm1Ssh.outputs).to.deep.equal(['vm1']);
    fw.updatePortFilters([vm3]);
    await applyChanges(sb!, BR, flushOf(fw));
    const dump = await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', BR, `cookie=${'0x' + COOKIE.toString(16)}/-1`);
    const onSwitch = dump.split('\n').filter((l) => l.includes('actions=')).map((l) => canon(l.replace(/^ *cookie=[^ ]+ /, ''))).sort();
    expect(onSwitch).to.deep.equal(fw.wantedFlows().map((f) => canon(flowText(f))).sort());
  });
});
