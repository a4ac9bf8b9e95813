/**
 * lib/flows against a real ovs-vswitchd: flows built from typed parts, sent
 * as flow-mods, read back by a dump in whatever order and spelling the
 * switch reports them, get back their own keys (so adoption recognises
 * them), and their text is what ovs-ofctl dump-flows prints.
 */
import { expect } from 'chai';
import {
  apply, applyThenGoto, conjunction, ct, CT_CLEAR, DROP, gotoTable, IN_PORT, learn, move, NORMAL, output, POP_VLAN,
  PUSH_VLAN, resubmit, setField, setReg, setTunnelId, setVlanVid, whole,
} from '../../lib/flows/actions.js';
import { addOf, deleteOf, flow, flowText, keyOfStats, type DesiredFlow } from '../../lib/flows/flow.js';
import { FlowTable } from '../../lib/flows/flow-table.js';
import {
  address, BROADCAST_DST, conjId, ctMark, ctState, ctZone, dlVlan, dstPort, ethDst, ethSrc, ethType, icmpType, inPort,
  ipProto, MULTICAST_DST, reg, tunId, UNICAST_DST, UNTAGGED,
} from '../../lib/flows/match.js';
import { OpenFlowSwitch } from '@ovs-agent/openflow';
import { OvsSandbox } from '../../testing/sandbox.js';

const COOKIE = 0x5eedn;
const ARP = ethType(0x0806);
const IPV4 = ethType(0x0800);
const IPV6 = ethType(0x86dd);

/** One of each kind of match and action the agent writes on br-int, br-tun and br-phys. */
function sample(): DesiredFlow[] {
  const zone = { field: 'reg6' as const, ofs: 0, nBits: 16 };
  return [
    flow(0, 0, [], gotoTable(59)),
    flow(0, 65535, [dlVlan(4095)], DROP),
    flow(0, 3, [inPort(7), dlVlan(100)], applyThenGoto([setVlanVid(3)], 59)),
    flow(0, 3, [inPort(7), UNTAGGED], applyThenGoto([PUSH_VLAN, setVlanVid(4)], 59)),
    flow(2, 0, [UNICAST_DST], gotoTable(20)),
    flow(2, 0, [MULTICAST_DST], gotoTable(22)),
    flow(2, 1, [ARP, BROADCAST_DST], gotoTable(21)),
    flow(4, 1, [tunId(0x1234)], applyThenGoto([PUSH_VLAN, setVlanVid(3)], 10)),
    flow(10, 1, [], apply(learn({
      tableId: 20, idleTimeout: 0, hardTimeout: 300, priority: 1, cookie: COOKIE, flags: 0, finIdleTimeout: 0, finHardTimeout: 0,
      specs: [
        { kind: 'match_field', src: { field: 'vlan_tci', ofs: 0, nBits: 12 }, dst: { field: 'vlan_tci', ofs: 0, nBits: 12 } },
        { kind: 'match_field', src: whole('eth_src', 48), dst: whole('eth_dst', 48) },
        { kind: 'load_immediate', value: 0n, dst: whole('vlan_tci', 16) },
        { kind: 'load_field', src: whole('tun_id', 64), dst: whole('tun_id', 64) },
        { kind: 'output_field', src: whole('in_port', 32) },
      ],
    }), output(1))),
    flow(22, 1, [dlVlan(3)], apply(POP_VLAN, setTunnelId(0x1234), output(5), output(6))),
    flow(21, 1, [ARP, dlVlan(3), address('arp_tpa', '10.0.0.5')], apply(
      setField('arp_op', 2), move(whole('arp_sha', 48), whole('arp_tha', 48)), move(whole('arp_spa', 32), whole('arp_tpa', 32)),
      setField('arp_sha', 'fa:16:3e:00:00:05'), setField('arp_spa', '10.0.0.5'), move(whole('eth_src', 48), whole('eth_dst', 48)),
      setField('eth_src', 'fa:16:3e:00:00:05'), IN_PORT)),
    flow(60, 90, [dlVlan(3), ethDst('fa:16:3e:00:00:01')], apply(setReg(5, 7), setReg(6, 3), POP_VLAN, resubmit(81))),
    flow(71, 65, [inPort(7), IPV4, ethSrc('fa:16:3e:00:00:01'), address('ip_src', '10.0.0.0/8'), reg(5, 7)],
      apply(ct({ commit: false, force: false, zone, recircTable: 72, alg: 0, actions: [] }))),
    flow(71, 95, [inPort(7), IPV6, ipProto(58), icmpType(true, 136), address('nd_target', '2001:db8::1/64'), reg(5, 7)], apply(resubmit(94))),
    flow(82, 77, [IPV4, reg(5, 7), ipProto(6), dstPort(6, 0x1f40, 0xffc0), ctState('+est-rel-rpl')], apply(output(7))),
    flow(82, 50, [reg(5, 7), ctState('+est-rel+rpl'), ctMark(0), ctZone(3)], apply(output(7))),
    flow(82, 73, [conjId(22), IPV4, reg(5, 7), ctState('+new-est')],
      apply(setReg(7, 22), ct({ commit: true, force: false, zone, recircTable: 0xff, alg: 0, actions: [] }), output(7), resubmit(92))),
    flow(82, 73, [IPV6, reg(6, 3), address('ipv6_src', '2001:db8::/32'), ctState('+est-rel-rpl')], apply(conjunction(22, 1, 2), conjunction(30, 1, 2))),
    flow(73, 90, [IPV4, reg(5, 7), ctState('+new-est')],
      apply(ct({ commit: true, force: false, zone, recircTable: 0xff, alg: 0, actions: [{ type: 'set_field', field: 'ct_mark', value: 1 }] }))),
    flow(71, 110, [ctState('+trk')], apply(CT_CLEAR, resubmit(71))),
    flow(94, 1, [], apply(NORMAL)),
  ];
}

describe('lib/flows on a real ovs-vswitchd @integration', function () {
  let sb: OvsSandbox | undefined;
  let sw: OpenFlowSwitch | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        sw = await OpenFlowSwitch.connect(`unix:${sb.mgmtSocket('br0')}`);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    await sw?.close();
    await sb?.stop();
  });

  const ofctlDump = async (): Promise<string[]> => (await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br0'))
    .split('\n').filter((l) => l.includes('actions=')).map((l) => l.trim().replace(/^cookie=0x[0-9a-f]+, /, '')).sort();

  it('flows read back from the switch get their own keys, and their text is ovs-ofctl\'s', async () => {
    const flows = sample();
    const texts = flows.map((f) => flowText(f)).sort();
    const bundle = sw!.bundle();
    for (const f of flows) bundle.add(addOf(f, COOKIE));
    await bundle.commit();

    expect(await ofctlDump()).to.deep.equal(texts);
    const stats = await sw!.dumpFlows();
    expect(stats.map((s) => keyOfStats(s)).sort()).to.deep.equal(flows.map((f) => f.key).sort());

    // A table that adopts the dump has nothing to send; one flow changed is the only add.
    const table = new FlowTable('br0', COOKIE);
    table.adopt(stats, { deleteUnwanted: true });
    table.replace('all', sample());
    expect(table.takeChanges()).to.deep.equal({ adds: [], deletes: [] });
    const changed = sample();
    changed[changed.length - 1] = flow(94, 1, [], apply(output(3)));
    table.replace('all', changed);
    const c = table.takeChanges();
    expect(c.adds.map((f) => flowText(f))).to.deep.equal(['table=94, priority=1 actions=output:3']);

    // Deleting by key removes exactly that flow.
    const del = sw!.bundle();
    del.add(deleteOf(flows[0].key));
    await del.commit();
    expect(await ofctlDump()).to.deep.equal(texts.filter((t) => t !== flowText(flows[0])));
  });
});
