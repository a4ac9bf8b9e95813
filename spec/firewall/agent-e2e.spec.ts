/**
 * End to end through the agent: a local control-plane file with security
 * groups and fdb entries, the agent wiring plugged ports with the
 * `openvswitch` firewall and l2population, judged by ofproto/trace on the
 * sandbox's bridges (across the patch ports).
 */
import { expect } from 'chai';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsAgent } from '../../lib/agent/agent.js';
import { OpenFlowBridgeChannel } from '../../lib/agent/ovs/openflow-channel.js';
import { ReplicaDatabase } from '../../lib/agent/ovs/replica-database.js';
import { loadConfig } from '../../lib/config/index.js';
import { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { createFirewall } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { trace } from './trace-helpers.js';

const NET = 'net-a';
const MAC = (n: number): string => `fa:16:3e:00:0a:0${n}`;
const IP = (n: number): string => `10.0.0.${n}`;
const REMOTE_MAC = 'fa:16:3e:00:0b:32';
const REMOTE_IP = '10.0.0.50';

function state(p3Groups: string[]): unknown {
  return {
    networks: [{ id: NET, type: 'vxlan', segmentationId: 1001 }],
    ports: [1, 2, 3].map((n) => ({
      id: `p${n}`, mac: MAC(n), network: NET, fixedIps: [{ ipAddress: IP(n) }], securityGroups: n === 3 ? p3Groups : ['web'],
    })),
    securityGroups: {
      web: {
        rules: [
          { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
          { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' },
          { direction: 'egress', ethertype: 'IPv4' },
        ],
      },
      other: { rules: [{ direction: 'egress', ethertype: 'IPv4' }] },
    },
    fdb: { [NET]: { segmentId: 1001, networkType: 'vxlan', ports: { '192.0.2.2': [['00:00:00:00:00:00', '0.0.0.0'], [REMOTE_MAC, REMOTE_IP]] } } },
  };
}

const tcp = (from: number, to: number, dport: number, mac = MAC(from)): string =>
  `in_port=tap${from},tcp,dl_src=${mac},dl_dst=${MAC(to)},nw_src=${IP(from)},nw_dst=${IP(to)},tp_src=40000,tp_dst=${dport}`;

describe('security groups and l2pop through the agent and the local control-plane file @integration', function () {
  let sb: OvsSandbox | undefined;
  let agent: OvsAgent | undefined;
  let db: ReplicaDatabase | undefined;
  let dir: string | undefined;
  let stateFile: string;

  const writeState = (s: unknown): void => {
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(s));
    renameSync(`${stateFile}.tmp`, stateFile);
  };

  async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent status ${JSON.stringify(agent?.status().ports)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'fw-e2e-'));
    stateFile = join(dir, 'state.json');
    writeState(state(['other']));
    const { config } = loadConfig({
      env: {},
      overrides: {
        'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs_agent.state_file': stateFile,
        'ovs_agent.ovs_rundir': sb.rundir, 'agent.report_interval': 0, 'DEFAULT.host': 'test-host',
        'ovs.local_ip': '192.0.2.1', 'agent.tunnel_types': 'vxlan', 'agent.l2_population': true, 'agent.arp_responder': true,
        'securitygroup.firewall_driver': 'openvswitch',
      },
    });
    db = await ReplicaDatabase.connect(sb.dbRemote);
    const cp = new LocalControlPlane({ file: stateFile, debounceMs: 10, onError: () => {} });
    agent = new OvsAgent({
      config, controlPlane: cp, db,
      firewall: createFirewall(config.securitygroup.firewall_driver, {}),
      openFlowChannel: (bridge) => OpenFlowBridgeChannel.connect(bridge, `unix:${sb!.mgmtSocket(bridge)}`),
    });
    await agent.start();
    for (const n of [1, 2, 3]) {
      await sb.vsctl('--', '--may-exist', 'add-port', 'br-int', `tap${n}`, '--', 'set', 'Interface', `tap${n}`,
        `external_ids:iface-id=p${n}`, `external_ids:attached-mac=${MAC(n)}`, 'external_ids:iface-status=active');
    }
    await until(async () => ['p1', 'p2', 'p3'].every((id) => agent!.status().ports.find((p) => p.portId === id)?.state === 'ACTIVE'), 'ports ACTIVE');
    // Learn the MACs so NORMAL forwards rather than floods (traces do not learn).
    const tag = (await sb.vsctl('get', 'Port', 'tap1', 'tag')).trim();
    for (const n of [1, 2, 3]) await sb.appctl('ovs-vswitchd', 'fdb/add', 'br-int', `tap${n}`, tag, MAC(n));
  });

  after(async () => {
    await agent?.stop();
    await db?.close();
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('filters by the file\'s security groups: rule, remote group, anti-spoofing', async () => {
    expect((await trace(sb!, 'br-int', tcp(3, 1, 22), 'trk,new')).outputs).to.deep.equal(['tap1']);
    expect((await trace(sb!, 'br-int', tcp(3, 1, 80), 'trk,new')).actions).to.equal('drop');
    expect((await trace(sb!, 'br-int', tcp(2, 1, 80), 'trk,new')).outputs).to.deep.equal(['tap1']);
    expect((await trace(sb!, 'br-int', tcp(3, 1, 22, 'fa:16:3e:de:ad:00'), 'trk,new')).actions).to.equal('drop');
  });

  it('follows a port joining and leaving a group through the file (remote-group membership)', async () => {
    writeState(state(['other', 'web']));
    await until(async () => (await trace(sb!, 'br-int', tcp(3, 1, 80), 'trk,new')).outputs.includes('tap1'), 'p3 allowed as a member of web');
    writeState(state(['other']));
    await until(async () => (await trace(sb!, 'br-int', tcp(3, 1, 80), 'trk,new')).actions === 'drop', 'p3 dropped again after leaving web');
  });

  it('answers an ARP request for a port behind the tunnel locally (l2pop ARP responder), through the firewall', async () => {
    await until(async () => (await sb!.vsctl('list-ports', 'br-tun')).includes('vxlan-c0000202'), 'tunnel from the fdb');
    const arp = `in_port=tap1,arp,dl_src=${MAC(1)},dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=${IP(1)},arp_tpa=${REMOTE_IP},arp_sha=${MAC(1)}`;
    await until(async () => (await trace(sb!, 'br-int', arp)).trace.includes(`set_field:${REMOTE_MAC}->arp_sha`), 'the ARP responder');
    const v = await trace(sb!, 'br-int', arp);
    expect(v.outputs).to.include('tap1');
    expect(v.outputs).to.not.include('vxlan_sys_4789');
    // The reply (op 2, from the remote port) is what reaches tap1.
    expect(v.actions).to.include(`set(arp(sip=${REMOTE_IP},tip=${IP(1)},op=2,sha=${REMOTE_MAC}`);
  });
});
