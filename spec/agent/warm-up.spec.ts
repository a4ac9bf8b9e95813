import { expect } from 'chai';
import { warmUpFlowPath } from '../../lib/agent/warm-up.js';
import { initFlows } from '../../lib/firewall/base-flows.js';
import { createFirewall } from '../../lib/firewall/index.js';
import { decodeMessage } from '@ovs-agent/openflow';
import { formatFlow } from '@ovs-agent/openflow';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';
import { FlowMonitor } from './support/flow-monitor.js';

/** What the warm-up's made-up ports could leave on a switch: their MACs, addresses and ofports (60,001…). */
const MADE_UP = /fa:16:3e:ff:f[ef]|198\.1[89]\.|2001:2::|in_port=600\d\d|reg5=0xea6/;

describe('flow path warm-up', () => {
  it('builds and encodes the flows of its made-up ports afresh each round: bundle adds of flow-mods, one per flow', () => {
    const chunks: Buffer[] = [];
    const sink = { write: (b: Buffer) => (chunks.push(Buffer.from(b)), true), cork: () => undefined, uncork: () => undefined, writableLength: 0 };
    const one = warmUpFlowPath(10, 1, sink);
    expect(one.flows).to.be.greaterThan(500);
    // A round that reused the last one's firewall or table would find nothing new to add.
    expect(warmUpFlowPath(10, 2).flows).to.equal(2 * one.flows);

    const bytes = Buffer.concat(chunks);
    let n = 0;
    let fingerprinted = 0;
    for (let at = 0; at < bytes.length; n++) {
      const len = bytes.readUInt16BE(at + 2);
      const msg = decodeMessage(bytes.subarray(at, at + len));
      expect(msg.type).to.equal('bundle_add_message');
      if (msg.type !== 'bundle_add_message') break;
      expect(msg.message.type).to.equal('flow_mod');
      if (msg.message.type === 'flow_mod') {
        const text = formatFlow(msg.message);
        if (MADE_UP.test(text)) fingerprinted++;
        else expect(text, 'a flow of no port in particular').to.not.match(/in_port|reg5|reg6|vlan|nw_|ipv6|arp|dl_src|dl_dst|conj/);
      }
      at += len;
    }
    expect(n).to.equal(one.flows);
    // So the agent test below can tell them on a switch: all but the firewall's bridge-wide flows name a made-up port.
    expect(fingerprinted).to.be.at.least(n - 2 * initFlows().length);
  });

  describe('in the agent @integration', function () {
    this.timeout(60_000);
    let sb: OvsSandbox;
    const harnesses: AgentHarness[] = [];
    const monitors: FlowMonitor[] = [];
    before(async () => {
      sb = await OvsSandbox.start();
    });
    afterEach(async () => {
      for (const m of monitors.splice(0)) m.stop();
      for (const h of harnesses.splice(0)) await h.stop();
    });
    after(async () => {
      await sb?.stop();
    });

    const state = {
      networks: [{ id: 'net-a', type: 'vlan', physicalNetwork: 'physnet1', segmentationId: 101 }],
      ports: [{ id: 'p-1', network: 'net-a', mac: 'fa:16:3e:00:00:01', fixedIps: [{ ipAddress: '10.0.0.1' }], securityGroups: ['sg-a'], portSecurityEnabled: true }],
      securityGroups: { 'sg-a': { rules: [{ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sg-a' }, { direction: 'egress', ethertype: 'IPv4' }] } },
    };
    const overrides = { 'ovs.bridge_mappings': 'physnet1:br-eth1' };

    it('runs once the agent is idle after its first sync, with the openvswitch firewall, and puts nothing on the switch', async () => {
      await sb.vsctl('--may-exist', 'add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
      // br-int made first, so that the switch's own account of every flow-mod the agent sends starts before the agent
      // (with every protocol the agent may add: a change of them would close the monitor's connection).
      await sb.vsctl('--may-exist', 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev', 'fail_mode=secure',
        'protocols=OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15');
      const mon = await FlowMonitor.start(sb, 'br-int');
      monitors.push(mon);
      const h = new AgentHarness(sb, { overrides, firewall: () => createFirewall('openvswitch') });
      harnesses.push(h);
      h.writeState(state);
      await h.start();
      await h.until(() => h.agent.warmedUp !== undefined, 'the warm-up');
      expect(h.agent.warmedUp!.flows).to.be.greaterThan(500);
      await h.agent.whenIdle();
      await mon.sync();

      const flows = await h.flowTexts('br-int');
      expect(flows.filter((t) => MADE_UP.test(t)), 'flows of the made-up ports').to.deep.equal([]);
      // Not even for a moment: the switch applied no flow-mod naming them, and only the agent's own flows' adds.
      const changes = mon.changes();
      expect(changes.filter((e) => MADE_UP.test(e.line)).map((e) => e.line), 'flow-mods of the made-up ports').to.deep.equal([]);
      expect(changes.map((e) => e.event), 'the switch saw the agent\'s flows added, nothing else').to.deep.equal(flows.map(() => 'ADDED'));
      expect(flows.length).to.equal(h.agent.status().bridges.find((b) => b.name === 'br-int')!.flows);

      // The agent's own firewall is untouched: a port plugged now is wired with its flows.
      await h.plug('tap1', 'p-1', 'fa:16:3e:00:00:01');
      await h.until(() => h.portState('p-1') === 'ACTIVE', 'p-1 wired');
      const ofport = await h.ofport('tap1');
      const after = await h.flowTexts('br-int');
      expect(after.filter((t) => t.includes(`reg5=0x${ofport.toString(16)},`)), 'p-1\'s firewall flows').to.have.length.greaterThan(5);
      expect(after.filter((t) => MADE_UP.test(t))).to.deep.equal([]);
    });

    it('does not run without the openvswitch firewall', async () => {
      const h = new AgentHarness(sb, { overrides });
      harnesses.push(h);
      h.writeState({ ...state, securityGroups: {} });
      await h.start();
      await h.until(() => h.agent.status().firstSyncDone, 'first sync');
      await h.agent.whenIdle();
      await new Promise((r) => setTimeout(r, 50));
      expect(h.agent.warmedUp).to.equal(undefined);
    });
  });
});
