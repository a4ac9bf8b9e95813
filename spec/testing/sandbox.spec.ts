import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { OvsSandbox, pidAlive } from '../../testing/sandbox.js';
import { waiter } from '../../testing/until.js';

const alive = (pid: number | undefined): boolean => pid !== undefined && pidAlive(pid);

const until = waiter(10_000, 50);

describe('OvsSandbox @integration', function () {
  let sb: OvsSandbox | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('runs a real ovsdb-server and ovs-vswitchd that survive a vswitchd restart and leave nothing behind', async () => {
    sb = await OvsSandbox.start();
    const { ovsdbServer, ovsVswitchd } = sb.pids;
    expect(alive(ovsdbServer), 'ovsdb-server running').to.equal(true);
    expect(alive(ovsVswitchd), 'ovs-vswitchd running').to.equal(true);
    expect(existsSync(sb.dbSocket)).to.equal(true);

    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev',
      '--', 'add-port', 'br0', 'p1', '--', 'set', 'interface', 'p1', 'ofport_request=7');
    expect((await sb.vsctl('list-ports', 'br0')).trim()).to.equal('p1');
    // ofport is assigned by ovs-vswitchd, not by ovs-vsctl: proof that the switch is real.
    const ofport = await until(async () => {
      const v = (await sb!.vsctl('get', 'interface', 'p1', 'ofport')).trim();
      return v === '7' ? v : undefined;
    }, 'ofport of p1');
    expect(ofport).to.equal('7');

    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'table=3,priority=42,in_port=7,actions=drop');
    const flows = await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0', 'table=3');
    expect(flows).to.match(/table=3, .*priority=42,in_port=7 actions=drop/);

    const oldVswitchd = ovsVswitchd;
    await sb.restartVswitchd();
    expect(alive(oldVswitchd), 'old ovs-vswitchd gone').to.equal(false);
    expect(sb.pids.ovsVswitchd).to.not.equal(oldVswitchd);
    expect(alive(sb.pids.ovsVswitchd)).to.equal(true);
    // The bridge lives in the database, so the new ovs-vswitchd brings it back (with empty tables).
    const back = await until(async () => {
      const out = await sb!.ofctl('-O', 'OpenFlow13', 'show', 'br0');
      return out.includes('7(p1)') ? out : undefined;
    }, 'br0 back after restart');
    expect(back).to.include('7(p1)');
    expect(await sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0', 'table=3')).to.not.include('priority=42');

    const { dir } = sb;
    const pids = sb.pids;
    await sb.stop();
    sb = undefined;
    expect(alive(pids.ovsdbServer), 'ovsdb-server stopped').to.equal(false);
    expect(alive(pids.ovsVswitchd), 'ovs-vswitchd stopped').to.equal(false);
    expect(existsSync(dir), 'sandbox dir removed').to.equal(false);
  });

  it('restarts ovsdb-server alone with the database intact', async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br1', '--', 'set', 'bridge', 'br1', 'datapath_type=netdev');
    const old = sb.pids.ovsdbServer;
    await sb.restartOvsdbServer();
    expect(alive(old)).to.equal(false);
    expect((await sb.vsctl('list-br')).trim()).to.equal('br1');
  });

  it('runs two sandboxes side by side without collisions', async () => {
    sb = await OvsSandbox.start();
    const other = await OvsSandbox.start();
    try {
      await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
      await other.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
      expect(other.dir).to.not.equal(sb.dir);
      for (const s of [sb, other]) {
        await until(async () => ((await s.ofctl('show', 'br-int')).includes('LOCAL(br-int)') ? true : undefined), 'br-int');
      }
    } finally {
      await other.stop();
    }
  });

  it('gives a sandbox its own network namespace with real devices when asked', async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    expect(sb.netns).to.be.a('string');
    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
    // The userspace datapath's tap device exists inside the namespace only.
    const links = await until(async () => {
      const out = await sb!.run('ip', ['-o', 'link', 'show']);
      return out.includes('ovs-netdev') ? out : undefined;
    }, 'ovs-netdev tap in the namespace');
    expect(links).to.include('br0');
    const ns = sb.netns!;
    await sb.stop();
    sb = undefined;
    expect(existsSync(`/run/netns/${ns}`)).to.equal(false);
  });
});
