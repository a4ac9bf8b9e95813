/**
 * `ovs-agent cleanup` with hybrid plug: the qvo port of a VM goes from
 * br-int, and with it its qvb/qvo veth pair and its qbr bridge, as os-vif's
 * unplug removes them; the VM's tap stays (libvirt's), and so does a Linux
 * bridge of a port that was not deleted.
 */
import { expect } from 'chai';
import { cleanupPorts } from '../../lib/agent/cleanup.js';
import { removeHybridDevices } from '../../lib/agent/hybrid-cleanup.js';
import { ReplicaDatabase } from '../../lib/agent/ovs/replica-database.js';
import { commandRunner, deviceName } from '../../lib/firewall/iptables/index.js';
import { inNs, plugHybrid, unplugHybrid, type HybridVm } from '../../testing/hybrid-plug.js';
import { OvsSandbox } from '../../testing/sandbox.js';

describe('cleanup of hybrid plug devices @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox | undefined;
  const suffix = Math.random().toString(36).slice(2, 7);
  const vm: HybridVm = { portId: `c1${suffix}-aaaa-4bbb-8ccc-000000000001`, mac: 'fa:16:3e:00:0c:01', addresses: ['10.0.0.1/24'], ns: `hyclean-${suffix}` };
  const kept: HybridVm = { portId: `c2${suffix}-aaaa-4bbb-8ccc-000000000002`, mac: 'fa:16:3e:00:0c:02', addresses: ['10.0.0.2/24'], ns: `hyclean2-${suffix}` };

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
    await plugHybrid(sb, 'br-int', vm);
    await plugHybrid(sb, 'br-int', kept);
    // Marked to be kept: cleanup leaves its port, so its devices stay too.
    await sb.vsctl('set', 'Interface', deviceName('qvo', kept.portId), 'external_ids:skip_cleanup=true');
  });

  after(async () => {
    if (sb) for (const v of [vm, kept]) await unplugHybrid(sb, 'br-int', v);
    await sb?.stop();
  });

  it('deletes the deleted qvo port\'s veth pair and qbr bridge and nothing else', async () => {
    const links = async (): Promise<string[]> => (await inNs(sb!.netns!, 'ip', '-o', 'link', 'show')).stdout.split('\n')
      .map((l) => l.split(': ')[1]?.split('@')[0]).filter(Boolean);
    const db = await ReplicaDatabase.connect(sb!.dbRemote);
    try {
      const results = await cleanupPorts(db, { integrationBridge: 'br-int' });
      expect(results).to.deep.equal([{ bridge: 'br-int', deleted: [deviceName('qvo', vm.portId)] }]);
      const gone = await removeHybridDevices(results.flatMap((r) => r.deleted), commandRunner(['ip', 'netns', 'exec', sb!.netns!]));
      expect(gone).to.deep.equal([deviceName('qvb', vm.portId), deviceName('qbr', vm.portId)]);
    } finally {
      await db.close();
    }
    const now = await links();
    for (const p of ['qvb', 'qvo', 'qbr'] as const) expect(now, p).to.not.include(deviceName(p, vm.portId));
    expect(now).to.include(deviceName('tap', vm.portId));
    for (const p of ['tap', 'qvb', 'qvo', 'qbr'] as const) expect(now, `kept ${p}`).to.include(deviceName(p, kept.portId));
  });
});
