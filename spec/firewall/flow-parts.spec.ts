/**
 * The firewall builds each flow in OpenFlow terms (lib/firewall/flow-parts.ts
 * over lib/flows), keyed by its canonical match bytes; text is only a view.
 * Every flow of many random firewalls must (a) keep its identity across the
 * wire: the flow-mod the agent sends, decoded again, gives the same key (so
 * a dump of the switch is recognised), and (b) have a faithful text view:
 * its ovs-ofctl text, parsed back by protocol/openflow (which spec/openflow
 * checks against ovs-ofctl), encodes to the very same bytes.
 */
import { expect } from 'chai';
import type { AddressPair, NetworkType, SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall, type FirewallPort } from '../../lib/firewall/index.js';
import { actions, address, CT, dlType, FlowPartError, output, portBlock, resubmit } from '../../lib/firewall/flow-parts.js';
import { DROP } from '../../lib/flows/actions.js';
import { addOf, flowText, keyOfStats, type DesiredFlow } from '../../lib/flows/flow.js';
import { ctState } from '../../lib/flows/match.js';
import { decodeMessage, encodeMessage, OfWriter } from '@ovs-agent/openflow';
import { parseFlow } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { prng } from '../support/prng.js';
import { flushOf, initOf } from './helpers.js';

function scenario(seed: number): { fw: OvsFirewall; flows: DesiredFlow[] } {
  const r = prng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  const mac = (): string => `fa:16:3e:${hex(int(256))}:${hex(int(256))}:${hex(int(256))}`;
  const v4 = (): string => `10.${int(256)}.${int(256)}.${1 + int(254)}`;
  const v6 = (): string => `2001:db8:${int(0xffff).toString(16)}::${(1 + int(0xfffe)).toString(16)}`;
  const groups = ['sg-a', 'sg-b', 'sg-c'];
  const prefixes = ['10.0.0.0/8', '192.168.4.0/24', '10.1.2.3/32', '0.0.0.0/0', '2001:db8::/32', '2001:db8:1:2::/64', '::/0', '2001:db8::7/128'];
  const protocols = [undefined, 'tcp', 'udp', 'sctp', 'icmp', '112', 'ipv6-icmp', '6', '17'];

  const rules: Record<string, SecurityGroupRule[]> = {};
  const stateful: Record<string, boolean> = {};
  for (const sg of groups) {
    stateful[sg] = r() < 0.7;
    rules[sg] = [];
    for (let k = int(7); k > 0; k--) {
      const ethertype = pick(['IPv4', 'IPv6'] as const);
      const protocol = pick(protocols);
      const rule: SecurityGroupRule = { securityGroupId: sg, direction: pick(['ingress', 'egress'] as const), ethertype };
      if (protocol) rule.protocol = ethertype === 'IPv4' && protocol === 'ipv6-icmp' ? 'icmp' : protocol;
      if (protocol === 'icmp' || protocol === 'ipv6-icmp') {
        if (r() < 0.6) rule.portRangeMin = int(256);
        if (rule.portRangeMin !== undefined && r() < 0.5) rule.portRangeMax = int(256);
      } else if (protocol && r() < 0.7) {
        const lo = 1 + int(65000);
        rule.portRangeMin = lo;
        rule.portRangeMax = Math.min(65535, lo + int(3000));
      }
      const remote = r();
      if (remote < 0.35) rule.remoteGroupId = pick(groups);
      else if (remote < 0.7) {
        const p = pick(prefixes.filter((x) => x.includes(':') === (ethertype === 'IPv6')));
        rule.remoteIpPrefix = p;
      }
      rules[sg].push(rule);
    }
  }
  const ports: FirewallPort[] = [];
  for (let i = 1 + int(8); i > 0; i--) {
    const aaps: AddressPair[] = [];
    for (let k = int(3); k > 0; k--) {
      aaps.push({ ipAddress: pick([v4(), `${v4()}/32`, '10.9.0.0/16', '0.0.0.0/0', v6(), '2001:db8:9::/48']), macAddress: r() < 0.5 ? mac() : '' });
    }
    const networkType = pick(['vlan', 'flat', 'vxlan', 'geneve'] as NetworkType[]);
    ports.push({
      portId: `port-${i}`,
      ofport: 1 + int(60000),
      lvid: 1 + int(4094),
      macAddress: mac(),
      fixedIps: [v4(), ...(r() < 0.5 ? [v6()] : [])],
      allowedAddressPairs: aaps,
      portSecurityEnabled: r() < 0.85,
      securityGroups: groups.filter(() => r() < 0.5),
      networkType,
      segmentationId: networkType === 'flat' ? undefined : 1 + int(4000),
    });
  }
  const members: SecurityGroupInfo['members'] = {};
  for (const sg of groups) {
    members[sg] = {
      IPv4: [...ports.slice(0, int(ports.length + 1)).map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), ...(r() < 0.3 ? [['0.0.0.0/0', mac().toUpperCase()] as [string, string]] : [])],
      IPv6: ports.filter((p) => p.fixedIps[1]).map((p) => [p.fixedIps[1], r() < 0.5 ? p.macAddress : null] as [string, string | null]),
    };
  }
  const fw = new OvsFirewall({ cookie: 0xabcdn, permittedEthertypes: r() < 0.5 ? ['0x4008', '0x88cc'] : [], onError: () => {} });
  fw.initialize();
  fw.updateSecurityGroupInfo({ rules, stateful, members });
  fw.setupPortFilters(ports);
  fw.flush();
  return { fw, flows: fw.wantedFlows() };
}

function bytes(fm: FlowMod): Buffer {
  const w = new OfWriter();
  encodeMessage(w, { ...fm, xid: 1 });
  return w.take();
}

describe('firewall flows: identity kept across the wire, text view faithful', () => {
  it('for every flow of 200 random firewalls (ports with pairs and IPv6, stateful and stateless groups, remote groups, ranges, ICMP, prefixes)', function () {
    // ~10 s alone, 35-60 s on a loaded machine: the bound is for a hang, not for speed.
    this.timeout(300_000);
    let compared = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { flows } = scenario(seed);
      for (const f of flows) {
        const text = flowText(f);
        const sent = bytes(addOf(f, 0xabcdn));
        const back = decodeMessage(sent);
        if (back.type !== 'flow_mod') throw new Error(`seed ${seed}: ${text} decodes as ${back.type}`);
        expect(keyOfStats({ tableId: back.tableId, priority: back.priority, match: back.match }) === f.key, `seed ${seed}: key of ${text} after the wire`).to.equal(true);
        const parsed = parseFlow(`cookie=0xabcd,${text}`);
        expect(bytes(parsed).equals(sent), `seed ${seed}: bytes of ${text} parsed back`).to.equal(true);
        compared++;
      }
    }
    expect(compared).to.be.greaterThan(20_000);
  });

  it('refuses what has no OpenFlow meaning, naming it', () => {
    expect(() => dlType('0x80000')).to.throw(FlowPartError, /ethertype "0x80000"/);
    expect(() => dlType('IPv4')).to.throw(FlowPartError, /"IPv4"/);
    expect(() => ctState('+est-bogus')).to.throw(/"bogus"/);
    expect(() => address('nw_src', '10.0.0.300')).to.throw(FlowPartError, /nw_src=10\.0\.0\.300/);
    expect(() => address('ipv6_dst', '2001:db8::/129')).to.throw(FlowPartError, /ipv6_dst=2001:db8::\/129/);
    expect(() => portBlock(1, '0x0016')).to.throw(FlowPartError, /protocol 1 has no transport ports/);
  });

  it('reports a permitted ethertype that is not a hex number and leaves only it out, as Neutron does', () => {
    const errors: string[] = [];
    const fw = new OvsFirewall({ permittedEthertypes: ['0x4008', 'bogus'], onError: (e) => errors.push(e.message) });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/permitted_ethertypes: ethertype "bogus".*ignored/);
    initOf(fw);
    const port: FirewallPort = { portId: 'p', ofport: 7, lvid: 3, macAddress: 'fa:16:3e:00:00:07', fixedIps: ['10.0.0.7'], allowedAddressPairs: [],
      portSecurityEnabled: true, securityGroups: [] };
    fw.setupPortFilters([port]);
    const texts = flushOf(fw).map((c) => c.text);
    expect(texts.filter((t) => t.includes('dl_type=0x4008'))).to.have.length(2);
    expect(texts.some((t) => t.includes('bogus'))).to.equal(false);
  });

  it('writes an empty action list as drop, with no instruction', () => {
    expect(actions()).to.equal(DROP);
    expect(DROP).to.deep.equal([]);
    expect(flowText({ key: String.fromCharCode(82, 0, 50), instructions: actions(output(3), resubmit(92)) }))
      .to.equal('table=82, priority=50 actions=output:3,resubmit(,92)');
    expect(CT.INVALID.field).to.equal('ct_state');
  });
});
