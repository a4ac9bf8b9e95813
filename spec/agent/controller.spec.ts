import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent as the bridges\' OpenFlow controller (Neutron\'s way) @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let dir: string;
  let running: RunningAgent | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-ctl-'));
  });
  after(async () => {
    await running?.stop();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on of_listen_address, points Controller rows at itself, wires ports, and survives an ovs-vswitchd restart', async () => {
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({
      networks: [{ id: 'net-v', type: 'vlan', segmentationId: 300, physicalNetwork: 'physnet1' }],
      ports: [{ id: 'port-1', mac: 'fa:16:3e:00:00:01', network: 'net-v' }],
    }));
    const config = loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs.of_listen_port': 0, 'ovs_agent.openflow_channel': 'controller', 'ovs_agent.state_file': state,
      'ovs_agent.ovs_rundir': sb.rundir, 'agent.report_interval': 0, 'agent.polling_interval': 1,
    } }).config;
    running = await runAgent({ config, logger: silentLogger, statusSocket: false });
    const port = config.ovs.of_listen_port;
    expect(port).to.be.greaterThan(0);
    for (const br of ['br-int', 'br-eth1']) {
      expect((await sb.vsctl('get', 'Controller', (await sb.vsctl('get', 'Bridge', br, 'controller')).trim().replace(/[[\]]/g, ''), 'target')).trim())
        .to.equal(`"tcp:127.0.0.1:${port}"`);
    }
    await sb.vsctl('add-port', 'br-int', 'tap1', '--', 'set', 'Interface', 'tap1', 'external_ids:iface-id=port-1',
      'external_ids:attached-mac=fa:16:3e:00:00:01');
    const a = running.agent;
    const deadline = Date.now() + 15_000;
    while (a.port('port-1')?.state !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error('port not wired');
      await sleep(20);
    }
    const flows = () => sb.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br-int');
    expect(await flows()).to.include('dl_vlan=300');

    await sb.restartVswitchd();
    const again = Date.now() + 20_000;
    while (!(await flows()).includes('dl_vlan=300') || !(await flows()).includes('table=23')) {
      if (Date.now() > again) throw new Error('not re-wired after the ovs-vswitchd restart');
      await sleep(100);
    }
    expect(a.port('port-1')?.state).to.equal('ACTIVE');
  });
});
