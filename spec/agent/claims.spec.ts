/**
 * Promises the docs make that no other spec checked: the server's "revived"
 * answer to a state report makes a full resync; `[ovs]
 * bridge_mac_table_size`, `of_inactivity_probe` and the Controller's
 * connection mode reach OVSDB; `ovs-agent cleanup --ovs-all-ports` empties
 * every bridge but leaves the bridges' own ports.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupPorts } from '../../lib/agent/cleanup.js';
import { ReplicaDatabase } from '../../lib/agent/ovs/replica-database.js';
import { runAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import type { ControlPlane, ReportStateReply } from '../../lib/control-plane/types.js';
import type { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { silentLogger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

const state = {
  networks: [{ id: 'net-a', type: 'vlan', segmentationId: 101, physicalNetwork: 'physnet1' }],
  ports: [{ id: 'p1', mac: 'fa:16:3e:00:00:01', network: 'net-a' }, { id: 'p2', mac: 'fa:16:3e:00:00:02', network: 'net-a' }],
};

/** The local control plane answering state reports with `replies` in turn (then 'alive'). */
function answering(cp: LocalControlPlane, replies: ReportStateReply[], reports: { n: number }): ControlPlane {
  return new Proxy(cp, {
    get(target, prop, receiver) {
      if (prop === 'reportState') {
        return async () => {
          reports.n++;
          return replies.shift() ?? 'alive';
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('agent promises from the docs @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  const harnesses: AgentHarness[] = [];
  beforeEach(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.stop();
    await sb.stop();
  });

  it('a state report answered "revived" makes a full resync: every port present is looked up and reported up again', async () => {
    const replies: ReportStateReply[] = ['new', 'alive'];
    const reports = { n: 0 };
    const h = new AgentHarness(sb, {
      overrides: { 'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.report_interval': 0.2 },
      wrapControlPlane: (cp) => answering(cp, replies, reports),
    });
    harnesses.push(h);
    h.writeState(state);
    await h.start();
    await h.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await h.plug('tap2', 'p2', 'fa:16:3e:00:00:02');
    await h.until(() => h.portState('p1') === 'ACTIVE' && h.portState('p2') === 'ACTIVE', 'both ports ACTIVE');
    await h.until(() => reports.n >= 2, 'two state reports');
    await h.agent.whenIdle();
    const from = h.passes.length;
    replies.push('revived');
    await h.until(() => h.passes.slice(from).some((p) => p.up.length > 0), 'a pass after the revived answer');
    await h.agent.whenIdle();
    const resync = h.passes.slice(from).flatMap((p) => p.up).sort();
    expect(resync, 'ports re-processed and reported up by the resync').to.deep.equal(['p1', 'p2']);
    expect(h.portState('p1')).to.equal('ACTIVE');
  });

  it('writes [ovs] bridge_mac_table_size as every agent bridge\'s other_config:mac-table-size', async () => {
    const h = new AgentHarness(sb, {
      overrides: { 'ovs.bridge_mappings': 'physnet1:br-eth1', 'ovs.bridge_mac_table_size': 1234, 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1' },
    });
    harnesses.push(h);
    h.writeState(state);
    await h.start();
    for (const br of ['br-int', 'br-tun', 'br-eth1']) {
      expect((await sb.vsctl('get', 'Bridge', br, 'other_config:mac-table-size')).trim(), br).to.equal('"1234"');
    }
  });

  it('points every bridge\'s Controller at its listener with connection_mode out-of-band and [ovs] of_inactivity_probe in ms', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'claims-'));
    const file = join(dir, 'state.json');
    writeFileSync(file, JSON.stringify(state));
    const config = loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs.of_listen_port': 0, 'ovs.of_inactivity_probe': 7, 'ovs_agent.openflow_channel': 'controller', 'ovs_agent.state_file': file,
      'ovs_agent.ovs_rundir': sb.rundir, 'agent.report_interval': 0,
    } }).config;
    const running = await runAgent({ config, logger: silentLogger, statusSocket: false });
    try {
      for (const br of ['br-int', 'br-eth1']) {
        const ctl = (await sb.vsctl('get', 'Bridge', br, 'controller')).trim().replace(/[[\]]/g, '');
        expect((await sb.vsctl('get', 'Controller', ctl, 'connection_mode')).trim(), br).to.equal('out-of-band');
        expect((await sb.vsctl('get', 'Controller', ctl, 'inactivity_probe')).trim(), br).to.equal('7000');
        expect((await sb.vsctl('get', 'Controller', ctl, 'target')).trim(), br).to.equal(`"tcp:127.0.0.1:${config.ovs.of_listen_port}"`);
      }
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cleanup with allPorts (--ovs-all-ports) deletes every port of every bridge but the bridges\' own, VM or not', async () => {
    await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
    await sb.vsctl('add-port', 'br-int', 'tap1', '--', 'set', 'Interface', 'tap1', 'external_ids:iface-id=p1', 'external_ids:attached-mac=fa:16:3e:00:00:01');
    await sb.vsctl('add-port', 'br-int', 'tap-keep', '--', 'set', 'Interface', 'tap-keep', 'external_ids:iface-id=p9',
      'external_ids:attached-mac=fa:16:3e:00:00:09', 'external_ids:skip_cleanup=true');
    await sb.vsctl('add-port', 'br-int', 'plain-int');
    await sb.vsctl('add-port', 'br-eth1', 'eth9');
    const ports = async (br: string) => (await sb.vsctl('list-ports', br)).split('\n').filter(Boolean).sort();
    const db = await ReplicaDatabase.connect(sb.dbRemote);
    try {
      // Without the flag: only br-int's VM ports not marked skip_cleanup.
      const vmOnly = await cleanupPorts(db, { integrationBridge: 'br-int' });
      expect(vmOnly).to.deep.equal([{ bridge: 'br-int', deleted: ['tap1'] }]);
      expect(await ports('br-int')).to.deep.equal(['plain-int', 'tap-keep']);
      await db.replica.waitFor(() => (db.vif('tap1') === undefined ? true : undefined), { timeoutMs: 5000, what: 'tap1 gone from the replica' });
      const all = await cleanupPorts(db, { integrationBridge: 'br-int', allPorts: true });
      expect(Object.fromEntries(all.map((r) => [r.bridge, r.deleted.sort()]))).to.deep.equal({ 'br-int': ['plain-int', 'tap-keep'], 'br-eth1': ['eth9'] });
      expect(await ports('br-int')).to.deep.equal([]);
      expect(await ports('br-eth1')).to.deep.equal([]);
      // The bridges and their own ports stay.
      expect((await sb.vsctl('list-br')).split('\n').filter(Boolean).sort()).to.deep.equal(['br-eth1', 'br-int']);
      expect((await sb.vsctl('get', 'Interface', 'br-int', 'type')).trim()).to.equal('internal');
    } finally {
      await db.close();
    }
  });
});
