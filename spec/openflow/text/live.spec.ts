/**
 * Against a real ovs-vswitchd: the corpus is installed with ovs-ofctl (one
 * add-flows for all), read back with dump-flows, and
 *  - every dumped line is reproduced by formatFlowStats(parseFlowStats(line)),
 *    and every `--no-stats` line by formatFlow(parseFlow(line));
 *  - formatFlow(parseFlow(desired)) equals what the switch reports installed,
 *    which is how the agent compares desired flows with installed ones;
 *  - the same holds for the flow stats the codec decodes from the switch's own
 *    bytes (our flow-stats request over the bridge's management socket);
 *  - flows we parse and send ourselves (codec, our connection) are reported by
 *    ovs-ofctl dump-flows as formatFlow predicts.
 * Each corpus flow gets its own `metadata=` match so that none replaces another.
 * dp_hash and recirc_id are left out: ovs-vswitchd refuses them from a
 * controller (OFPBRC_EPERM), they are datapath-internal.
 */
import { expect } from 'chai';
import { OvsSandbox } from '../../../testing/sandbox.js';
import { connectSwitch } from '@ovs-agent/openflow';
import { formatFlow, formatFlowStats, parseDumpFlows, parseFlow, parseFlowFile, parseFlowStats } from '@ovs-agent/openflow';
import { corpus } from './helpers.js';

function dumpLines(out: string): string[] {
  return out.split('\n').filter((l) => l.trim() !== '' && !/^(OFPST_FLOW|NXST_FLOW)/.test(l)).map((l) => l.trim());
}

describe('openflow text: flows installed in ovs-vswitchd @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox | undefined;
  const desired = corpus().filter((l) => !/dp_hash|recirc_id/.test(l)).map((l, i) => `metadata=0x${(i + 1).toString(16)},${l.trim()}`);
  let raw = '';
  let stats: string[] = [];
  let noStats: string[] = [];

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev',
      'protocols=OpenFlow10,OpenFlow13,OpenFlow14');
    await sb.ofctl('del-flows', 'br0'); // the bridge's own priority=0 NORMAL flow
    // Groups and meters the corpus refers to.
    for (const g of [1, 5]) await sb.ofctl('-O', 'OpenFlow13', 'add-group', 'br0', `group_id=${g},type=all,bucket=output:1`);
    for (const m of [1, 2, 5]) await sb.ofctl('-O', 'OpenFlow13', 'add-meter', 'br0', `meter=${m},kbps,band=type=drop,rate=1000`);
    await sb.run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flows', 'br0', '-'], { input: desired.join('\n') + '\n' });
    raw = await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0');
    stats = dumpLines(raw);
    noStats = dumpLines(await sb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br0'));
  });
  after(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('installed every corpus flow', () => {
    expect(stats).to.have.length(desired.length);
    expect(noStats).to.have.length(desired.length);
  });

  it('reproduces every dump-flows line, statistics included', () => {
    const bad = stats.filter((l) => formatFlowStats(parseFlowStats(l)) !== l)
      .map((l) => ({ dumped: l, ours: formatFlowStats(parseFlowStats(l)) }));
    expect(bad, JSON.stringify(bad.slice(0, 5), null, 1)).to.deep.equal([]);
  });

  it('reads a whole dump-flows output, reply header included', () => {
    expect(raw).to.match(/^OFPST_FLOW reply/);
    expect(parseDumpFlows(raw).map(formatFlowStats)).to.deep.equal(stats);
  });

  it('reproduces every dump-flows --no-stats line', () => {
    const bad = noStats.filter((l) => formatFlow(parseFlow(l)) !== l).map((l) => ({ dumped: l, ours: formatFlow(parseFlow(l)) }));
    expect(bad, JSON.stringify(bad.slice(0, 5), null, 1)).to.deep.equal([]);
  });

  it('prints the flow stats the codec decodes from ovs-vswitchd exactly as dump-flows does', async () => {
    const sw = await connectSwitch(`unix:${sb!.mgmtSocket('br0')}`, { reconnect: false });
    try {
      const decoded = (await sw.dumpFlows()).map((f) => formatFlow(f)).sort();
      expect(decoded).to.deep.equal([...noStats].sort());
      const withStats = (await sw.dumpFlows()).map((f) => formatFlowStats({ ...f, durationSec: 0, durationNsec: 0 })).sort();
      const dumped = stats.map((l) => l.replace(/duration=[0-9.]+s/, 'duration=0s')).sort();
      expect(withStats).to.deep.equal(dumped);
    } finally {
      await sw.close();
    }
  });

  it('installs our own parse through our connection, and ovs-ofctl reports what formatFlow predicts', async () => {
    await sb!.vsctl('add-br', 'br1', '--', 'set', 'bridge', 'br1', 'datapath_type=netdev');
    await sb!.ofctl('del-flows', 'br1');
    for (const g of [1, 5]) await sb!.ofctl('-O', 'OpenFlow13', 'add-group', 'br1', `group_id=${g},type=all,bucket=output:1`);
    for (const m of [1, 2, 5]) await sb!.ofctl('-O', 'OpenFlow13', 'add-meter', 'br1', `meter=${m},kbps,band=type=drop,rate=1000`);
    const sw = await connectSwitch(`unix:${sb!.mgmtSocket('br1')}`, { reconnect: false });
    try {
      for (const l of desired) sw.send(parseFlow(l));
      await sw.barrier();
    } finally {
      await sw.close();
    }
    const installed = dumpLines(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br1')).sort();
    expect(installed).to.deep.equal(desired.map((l) => formatFlow(parseFlow(l))).sort());
  });

  it("prints the flows Neutron's br-tun learn action creates, read back both ways", async () => {
    await sb!.vsctl('add-br', 'br2', '--', 'set', 'bridge', 'br2', 'datapath_type=netdev',
      '--', 'add-port', 'br2', 'p1', '--', 'set', 'interface', 'p1', 'ofport_request=1');
    await sb!.ofctl('del-flows', 'br2');
    const sw = await connectSwitch(`unix:${sb!.mgmtSocket('br2')}`, { reconnect: false });
    try {
      sw.send(parseFlow('table=0,priority=1,actions=learn(table=20,hard_timeout=300,priority=1,cookie=0x8a3c,'
        + 'NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],'
        + 'load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:1'));
      await sw.barrier();
      await sb!.appctl('ovs-vswitchd', 'ofproto/trace', 'br2',
        'in_port=1,dl_vlan=5,dl_src=fa:16:3e:00:00:09,dl_dst=ff:ff:ff:ff:ff:ff,tun_id=0x64', '-generate');
      const learned = dumpLines(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br2', 'table=20'));
      expect(learned).to.deep.equal([
        'cookie=0x8a3c, table=20, hard_timeout=300, priority=1,vlan_tci=0x0005/0x0fff,dl_dst=fa:16:3e:00:00:09 '
        + 'actions=load:0->NXM_OF_VLAN_TCI[],load:0x64->NXM_NX_TUN_ID[],output:1',
      ]);
      expect(learned.map((l) => formatFlow(parseFlow(l)))).to.deep.equal(learned);
      const decoded = (await sw.dumpFlows({ tableId: 20 })).map((f) => formatFlow(f));
      expect(decoded).to.deep.equal(learned);
    } finally {
      await sw.close();
    }
  });

  it('applies an add-flows file with command words as ovs-ofctl add-flows does', async () => {
    const file = [
      '# a Neutron-style batch',
      'add table=0,priority=3,in_port=5,vlan_tci=0x0000/0x1fff,actions=mod_vlan_vid:3,goto_table:59',
      'add table=0,priority=2,in_port=5,actions=drop',
      'table=60,priority=3,actions=NORMAL',
      '',
      'modify_strict table=0,priority=2,in_port=5,actions=output:7',
      'add cookie=0x77,table=71,priority=110,ct_state=+trk,actions=ct_clear,resubmit(,71)',
      'add cookie=0x78,table=71,priority=10,reg5=0x7,in_port=7,actions=ct_clear,resubmit(,93)',
      'delete cookie=0x78/-1',
      'delete_strict table=0,priority=0',
    ].join('\n') + '\n';
    for (const br of ['br3', 'br4']) await sb!.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
    await sb!.run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flows', 'br3', '-'], { input: file });
    const sw = await connectSwitch(`unix:${sb!.mgmtSocket('br4')}`, { reconnect: false });
    try {
      for (const fm of parseFlowFile(file)) sw.send(fm);
      await sw.barrier();
    } finally {
      await sw.close();
    }
    const theirs = dumpLines(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br3')).sort();
    const ours = dumpLines(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br4')).sort();
    expect(theirs).to.have.length(4);
    expect(ours).to.deep.equal(theirs);
  });

  it('reads port names given the bridge\'s port map, as ovs-ofctl does', async () => {
    await sb!.vsctl('add-br', 'br5', '--', 'set', 'bridge', 'br5', 'datapath_type=netdev',
      '--', 'add-port', 'br5', 'patch-tun', '--', 'set', 'interface', 'patch-tun', 'ofport_request=11',
      '--', 'add-port', 'br5', 'tap.x', '--', 'set', 'interface', 'tap.x', 'ofport_request=12');
    await sb!.ofctl('del-flows', 'br5');
    const text = 'table=3,in_port=patch-tun,actions=output:"tap.x",resubmit("patch-tun",4),tap.x';
    const sw = await connectSwitch(`unix:${sb!.mgmtSocket('br5')}`, { reconnect: false });
    try {
      const ports = new Map((await sw.portDesc()).map((p) => [p.name, p.portNo] as [string, number]));
      expect(ports.get('patch-tun')).to.equal(11);
      sw.send(parseFlow(text, { ports }));
      await sw.barrier();
    } finally {
      await sw.close();
    }
    const ours = dumpLines(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br5'));
    await sb!.ofctl('del-flows', 'br5');
    await sb!.ofctl('-O', 'OpenFlow13', 'add-flow', 'br5', text);
    const theirs = dumpLines(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br5'));
    expect(ours).to.deep.equal(theirs);
    expect(ours).to.deep.equal(['table=3, in_port=11 actions=output:12,resubmit(11,4),output:12']);
  });

  it('prints each desired flow exactly as the switch reports it installed', () => {
    const ours = desired.map((l) => formatFlow(parseFlow(l))).sort();
    const installed = [...noStats].sort();
    const missing = ours.filter((l) => !installed.includes(l));
    const unexpected = installed.filter((l) => !ours.includes(l));
    expect({ missing, unexpected }).to.deep.equal({ missing: [], unexpected: [] });
  });
});
