import { expect } from 'chai';
import { strictDeleteOf } from '../../lib/agent/ovs/openflow-channel.js';
import {
  FlowTable, applyExtensionChange, canonicalOf, extensionAdd, extensionFlow, extensionKey, flowKey, flowModOf, flowText, parseDumpLine, parseExtensionFlow,
} from '../../lib/bridges/index.js';
import type { SecurityGroupRule } from '../../lib/control-plane/types.js';
import { createFirewall, type FirewallPort, type FlowChange } from '../../lib/firewall/index.js';
import { formatFlow, parseFlow } from '../../protocol/openflow/text/index.js';

const rule = (r: Omit<SecurityGroupRule, 'securityGroupId'>, sg = 'sg-a'): SecurityGroupRule => ({ securityGroupId: sg, ...r });

function port(i: number, o: Partial<FirewallPort> = {}): FirewallPort {
  return {
    portId: `port-${i}`, ofport: 10 + i, lvid: 1 + (i % 3), macAddress: `fa:16:3e:00:00:${(16 + i).toString(16)}`,
    fixedIps: [`10.0.0.${i}`, `2001:db8::${i}`], allowedAddressPairs: i % 2 ? [{ macAddress: 'fa:16:3e:aa:00:01', ipAddress: '192.0.2.0/24' }] : [],
    portSecurityEnabled: true, securityGroups: ['sg-a'], networkType: (['vlan', 'flat', 'vxlan'] as const)[i % 3],
    segmentationId: i % 3 === 1 ? undefined : 100 + i, ...o,
  };
}

/** Every flow-mod the firewall writes for a mix of networks, groups (stateful, stateless, remote) and address pairs. */
function firewallChanges(): FlowChange[] {
  const fw = createFirewall('openvswitch', { cookie: 0x5a5an });
  const out = [...fw.initialize()];
  fw.updateSecurityGroupInfo({
    rules: {
      'sg-a': [
        rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 25 }),
        rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8 }),
        rule({ direction: 'ingress', ethertype: 'IPv6', protocol: 'udp', portRangeMin: 53, portRangeMax: 53 }),
        rule({ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sg-a' }),
        rule({ direction: 'egress', ethertype: 'IPv4', remoteIpPrefix: '198.51.100.0/24' }),
        rule({ direction: 'egress', ethertype: 'IPv6' }),
      ],
      'sg-free': [rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }, 'sg-free')],
    },
    stateful: { 'sg-a': true, 'sg-free': false },
    members: { 'sg-a': { IPv4: [['10.0.0.1', 'fa:16:3e:00:00:11'], ['10.0.0.2', 'fa:16:3e:00:00:12']], IPv6: [] } },
  });
  fw.setupPortFilters([port(1), port(2), port(3), port(4, { securityGroups: ['sg-free'] }), port(5, { portSecurityEnabled: false })]);
  out.push(...fw.flush());
  fw.removePortFilters(['port-2']);
  out.push(...fw.flush());
  return out;
}

describe('agent extension flows (the firewall\'s text, parsed once)', () => {
  const changes = firewallChanges();
  const adds = changes.filter((c) => c.op === 'add');
  const deletes = changes.filter((c) => c.op === 'delete_strict');

  it('parses each flow exactly as the text codec does, with cached action lists', () => {
    expect(adds.length).to.be.greaterThan(100);
    for (const c of adds) {
      // Twice: the second parse reuses the cached action list.
      expect(parseExtensionFlow(c.text), c.text).to.deep.equal(parseFlow(c.text));
      expect(parseExtensionFlow(c.text), c.text).to.deep.equal(parseFlow(c.text));
    }
  });

  it('does not reuse an action list across matches OVS reads differently (VLAN present or not)', () => {
    const tagged = 'table=60,priority=90,dl_vlan=100,dl_dst=fa:16:3e:00:00:01 actions=mod_vlan_vid:5,resubmit(,81)';
    const untagged = 'table=60,priority=90,dl_dst=fa:16:3e:00:00:01 actions=mod_vlan_vid:5,resubmit(,81)';
    expect(parseExtensionFlow(tagged)).to.deep.equal(parseFlow(tagged));
    expect(parseExtensionFlow(untagged)).to.deep.equal(parseFlow(untagged));
    expect(parseFlow(tagged).instructions).to.not.deep.equal(parseFlow(untagged).instructions);
  });

  it('keeps the firewall\'s spelling as identity: a delete names the key its add had', () => {
    const added = new Set(adds.map((c) => extensionKey(c)));
    expect(deletes.length).to.be.greaterThan(0);
    for (const c of deletes) expect(added.has(extensionKey(c)), c.text).to.equal(true);
  });

  it('keys a change by the ledger\'s key when it carries one, the same key its text gives', () => {
    for (const c of changes) {
      expect(c.key, c.text).to.be.a('string');
      expect(extensionKey(c), c.text).to.equal(c.key);
      expect(extensionKey({ text: c.text }), c.text).to.equal(c.key);
    }
  });

  it('removes from br-int\'s table, by the delete\'s key, the flow put under its add\'s key', () => {
    const t = new FlowTable('br-int', 0x5a5an);
    for (const c of adds) applyExtensionChange(t, 'fw', c);
    const before = t.size;
    t.commit(t.takeChanges());
    for (const c of deletes) applyExtensionChange(t, 'fw', c);
    const gone = t.takeChanges();
    expect(gone.adds).to.deep.equal([]);
    expect(gone.deletes.map((f) => extensionKey({ text: `table=${f.table},priority=${f.priority}${f.match ? `,${f.match}` : ''}` })))
      .to.have.members(deletes.map((c) => c.key!));
    expect(t.size).to.equal(before - new Set(deletes.map((c) => c.key)).size);
  });

  it('deletes strictly exactly what ovs-ofctl\'s delete_strict of the same text deletes', () => {
    for (const c of deletes) {
      const key = extensionKey(c);
      const add = adds.find((a) => extensionKey(a) === key)!;
      const expected = parseFlow(c.text.replace(/^cookie=[^,]+,/, ''), { command: 'delete_strict' });
      expect(strictDeleteOf(extensionFlow(add.text).mod!), c.text).to.deep.equal(expected);
    }
  });

  it('drops the parse once the flow is committed, and parses the same flow-mod again when it must be re-sent', () => {
    const t = new FlowTable('br-int', 0x5a5an);
    const flows = adds.slice(0, 30).map((c) => extensionFlow(c.text));
    const parsed = flows.map((f) => f.mod);
    t.add('fw', flows);
    t.commit(t.takeChanges());
    expect(flows.every((f) => f.mod === undefined)).to.equal(true);
    // The cookie aside (the channel sends the bridge's).
    flows.forEach((f, i) => expect({ ...flowModOf(f), cookie: 0n }, flowText(f)).to.deep.equal({ ...parsed[i], cookie: 0n }));
    t.forgetInstalled();
    expect(t.takeChanges().adds).to.have.length(30);
  });

  it('takes an add the firewall built with its OpenFlow form as it is: sent with the bridge cookie, equal to the parse of its text, dropped once committed', () => {
    const t = new FlowTable('br-int', 0x5a5an);
    const flows = adds.map((c) => extensionAdd(c));
    expect(flows.every((f) => f.of !== undefined && f.mod === undefined), 'nothing parsed').to.equal(true);
    flows.forEach((f, i) => {
      expect(flowKey(f)).to.equal(flowKey(extensionFlow(adds[i].text)));
      expect({ ...flowModOf(f, 0x77n), xid: 0 }, adds[i].text).to.deep.equal({ ...parseFlow(adds[i].text), cookie: 0x77n, xid: 0 });
      expect(flowText(canonicalOf(f))).to.equal(flowText(parseDumpLine(formatFlow(parseFlow(adds[i].text)))!.flow));
    });
    t.add('fw', flows);
    t.commit(t.takeChanges());
    expect(flows.every((f) => f.of === undefined)).to.equal(true);
    // A re-send (the switch lost its tables) parses the text: the same flow-mod.
    for (const [i, f] of flows.slice(0, 30).entries()) {
      expect({ ...flowModOf(f, 0x77n), xid: 0 }, adds[i].text).to.deep.equal({ ...parseFlow(adds[i].text), cookie: 0x77n, xid: 0 });
    }
  });

  it('works out the canonical spelling only when asked, as the switch prints it', () => {
    for (const c of adds.slice(0, 40)) {
      const f = extensionFlow(c.text);
      const expected = parseDumpLine(formatFlow(parseFlow(c.text)))!.flow;
      expect(flowText(canonicalOf(f))).to.equal(flowText(expected));
    }
  });

  it('lets a restarted agent adopt an identical flow the switch reports in its own spelling, and replace a different one', () => {
    const [same, changed] = adds.slice(10, 12).map((c) => extensionFlow(c.text));
    const t = new FlowTable('br-int', 0x5a5an);
    t.add('fw', [same, changed]);
    const dump = [same, changed].map((f) => ({ flow: canonicalOf(f), cookie: 0x5a5an }));
    t.adoptInstalled([dump[0], { ...dump[1], flow: { ...dump[1].flow, actions: 'drop' } }], { deleteUnwanted: false });
    const c = t.takeChanges();
    expect(c.adds).to.deep.equal([changed]);
    expect(c.deletes).to.deep.equal([]);
  });
});
