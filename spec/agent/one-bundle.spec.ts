/**
 * A pass sends at most one bundle per bridge: whatever it does at once
 * (wire a new port on a new network, rewrite every port's filter after a
 * security-group change, remove a port and reclaim its network, create a
 * tunnel, delete stale flows at the end of the first sync), each bridge gets
 * one atomic bundle (the pass summary counts the bundles the installer sent).
 */
import { expect } from 'chai';
import type { ControlPlane } from '../../lib/control-plane/types.js';
import type { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { createFirewall } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

/** Lookups go on, but the one naming `port` waits for `gate` to open (so changes pile up behind a pass). */
function gated(cp: LocalControlPlane, port: string, gate: { open?: () => void; waiting: boolean; promise?: Promise<void> }): ControlPlane {
  return new Proxy(cp, {
    get(target, prop, receiver) {
      if (prop === 'getDevicesDetails') {
        return async (devices: string[]) => {
          if (devices.includes(port) && gate.promise) {
            gate.waiting = true;
            await gate.promise;
          }
          return target.getDevicesDetails(devices);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const SG_A = { rules: [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }, { direction: 'egress', ethertype: 'IPv4' }] };
const SG_B = { rules: [...SG_A.rules, { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }] };
const port = (id: string, n: number, network: string) => ({
  id, mac: `fa:16:3e:00:01:0${n}`, network, securityGroups: ['sg'], portSecurityEnabled: true, fixedIps: [{ ipAddress: `10.0.0.${n}` }],
});
const FLOOD = ['00:00:00:00:00:00', '0.0.0.0'];
const networks = [
  { id: 'net-vlan', type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
  { id: 'net-vx', type: 'vxlan', segmentationId: 1001 },
  { id: 'net-vx2', type: 'vxlan', segmentationId: 1002 },
];

describe('one bundle per bridge per pass @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness | undefined;
  beforeEach(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await sb.stop();
  });

  it('plugging, a security-group change and a removal in one pass make one bundle per bridge', async () => {
    const gate: { open?: () => void; waiting: boolean; promise?: Promise<void> } = { waiting: false };
    h = new AgentHarness(sb, {
      firewall: () => createFirewall('openvswitch'),
      wrapControlPlane: (cp) => gated(cp, 'p-gate', gate),
      overrides: {
        'ovs.bridge_mappings': 'physnet1:br-eth1', 'agent.tunnel_types': 'vxlan', 'ovs.local_ip': '192.0.2.1', 'agent.l2_population': true,
      },
    });
    h.writeState({
      networks,
      ports: [port('p1', 1, 'net-vlan'), port('p2', 2, 'net-vx'), port('p3', 3, 'net-vx2'), port('p-gate', 9, 'net-vlan')],
      securityGroups: { sg: SG_A },
      fdb: { 'net-vx': { segmentId: 1001, networkType: 'vxlan', ports: { '192.0.2.2': [FLOOD, ['fa:16:3e:00:02:02', '10.0.0.22']] } } },
    });
    await h.start();
    await h.plug('tap1', 'p1', 'fa:16:3e:00:01:01');
    await h.plug('tap2', 'p2', 'fa:16:3e:00:01:02');
    await h.until(() => h!.portState('p1') === 'ACTIVE' && h!.portState('p2') === 'ACTIVE', 'p1 and p2 ACTIVE');
    await h.agent.whenIdle();

    // A pass held in its lookup while changes pile up behind it: all of them make the next pass.
    gate.promise = new Promise((r) => { gate.open = r; });
    await h.plug('tap9', 'p-gate', 'fa:16:3e:00:01:09');
    await h.until(() => gate.waiting, 'a pass holding');
    await h.plug('tap3', 'p3', 'fa:16:3e:00:01:03'); // a new port on a new VXLAN network: br-int, br-tun
    h.writeState({
      networks,
      ports: [port('p1', 1, 'net-vlan'), port('p2', 2, 'net-vx'), port('p3', 3, 'net-vx2'), port('p-gate', 9, 'net-vlan')],
      securityGroups: { sg: SG_B }, // a rule more: every filtered port's flows on br-int
      fdb: {
        'net-vx': { segmentId: 1001, networkType: 'vxlan', ports: { '192.0.2.2': [FLOOD, ['fa:16:3e:00:02:02', '10.0.0.22']] } },
        // For the network p3 brings: a tunnel to a new host, made once the pass has provisioned net-vx2.
        'net-vx2': { segmentId: 1002, networkType: 'vxlan', ports: { '192.0.2.3': [FLOOD, ['fa:16:3e:00:02:03', '10.0.0.23']] } },
      },
    });
    await h.unplug('tap2'); // net-vx's last port: its flows go from br-int and br-tun
    await new Promise((r) => setTimeout(r, 300)); // the file and OVSDB events are in before the held pass ends
    const before = h.passes.length;
    gate.open!();
    await h.until(() => h!.portState('p3') === 'ACTIVE' && h!.portState('p-gate') === 'ACTIVE', 'p3 and p-gate ACTIVE');
    await h.agent.whenIdle();

    const after = h.passes.slice(before);
    const big = after.find((p) => p.removed.includes('p2') && p.up.includes('p3'));
    expect(big, `a pass with p3 up and p2 removed, among ${JSON.stringify(after.map((p) => ({ up: p.up, removed: p.removed })))}`).to.not.equal(undefined);
    expect(big!.up, 'the security-group change re-wired p1 in the same pass').to.include('p1');
    expect(big!.flowMods).to.be.greaterThan(0);
    expect(big!.bundles.sort(), 'one bundle to br-int, one to br-tun').to.deep.equal(['br-int', 'br-tun']);
    for (const p of h.passes) expect(new Set(p.bundles).size, `every pass: at most one bundle per bridge (${p.bundles})`).to.equal(p.bundles.length);

    // The new tunnel and its flows came with the same pass.
    expect((await sb.vsctl('list-ports', 'br-tun')).split('\n')).to.include('vxlan-c0000203');
    expect((await h.flowTexts('br-tun')).some((f) => f.includes('dl_dst=fa:16:3e:00:02:03')), 'the unicast flow to the new host').to.equal(true);
  });
});
