/**
 * l2pop's br-tun flows, produced through the agent's TunnelBridge, installed
 * into a real ovs-vswitchd with real vxlan ports, judged by ofproto/trace:
 * ARP for a remote port is answered locally, unicast goes to the right
 * tunnel, broadcast floods only to the network's flood list.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TunnelBridge } from '../../lib/bridges/br-tun.js';
import { flowText, keyText } from '../../lib/flows/flow.js';
import type { FdbEntries } from '../../lib/control-plane/types.js';
import { applyToTunnelBridge, L2Population, type L2popAction } from '../../lib/l2pop/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { trace } from '../firewall/trace-helpers.js';

const BR = 'br-tun';
const LOCAL = '192.0.2.1';
const COOKIE = 0x7e7n;
const PATCH_INT = 1;
const FLOOD: [string, string] = ['00:00:00:00:00:00', '0.0.0.0'];
const REMOTE_MAC = 'fa:16:3e:00:00:05';
const REMOTE_IP = '10.0.0.5';
const VM_MAC = 'fa:16:3e:00:00:01';

const fdb = (ports: Record<string, Array<[string, string]>>): FdbEntries => ({ 'net-a': { segmentId: 1001, networkType: 'vxlan', ports } });

describe('l2pop and the ARP responder on a real br-tun (ofproto/trace) @integration', function () {
  let sb: OvsSandbox | undefined;
  const br = new TunnelBridge(BR, COOKIE);
  const l2 = new L2Population({ localIp: LOCAL, arpResponder: true });

  /** Does what the agent does with l2pop's intentions: OVSDB for tunnels, TunnelBridge for flows, one bundle. */
  async function carryOut(actions: L2popAction[]): Promise<void> {
    for (const a of actions) {
      if (a.kind === 'add_tunnel') {
        await sb!.vsctl('add-port', BR, a.name, '--', 'set', 'interface', a.name, `type=${a.tunnelType}`,
          `options:remote_ip=${a.remoteIp}`, `options:local_ip=${LOCAL}`, 'options:in_key=flow', 'options:out_key=flow');
        const ofport = Number((await sb!.vsctl('get', 'interface', a.name, 'ofport')).trim());
        br.addTunnelPort(a.name, ofport, a.tunnelType);
        actions.push(...l2.tunnelPortReady(a.name, ofport));
      }
    }
    applyToTunnelBridge(br, actions);
    for (const a of actions) if (a.kind === 'remove_tunnel') await sb!.vsctl('del-port', BR, a.name);
    const changes = br.flows.takeChanges();
    const dir = mkdtempSync(join(tmpdir(), 'l2pop-'));
    try {
      const lines = [...changes.adds.map((f) => `add cookie=0x${COOKIE.toString(16)},${flowText(f)}`), ...changes.deletes.map((k) => `delete_strict ${keyText(k)}`)];
      writeFileSync(join(dir, 'f'), lines.join('\n') + '\n');
      await sb!.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', BR, join(dir, 'f'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    br.flows.commit(changes);
  }

  const ofportOf = async (name: string): Promise<number> => Number((await sb!.vsctl('get', 'interface', name, 'ofport')).trim());

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13',
      '--', 'add-port', BR, 'patch-int', '--', 'set', 'interface', 'patch-int', `ofport_request=${PATCH_INT}`);
    await sb.ofctl('del-flows', BR);
    br.setupDefaultTableFlows(PATCH_INT, { arpResponder: true });
    br.provisionLocalVlan({ networkId: 'net-a', networkType: 'vxlan', segmentationId: 1001, lvid: 3 });
    await carryOut(l2.networkProvisioned({ networkId: 'net-a', lvid: 3, segmentationId: 1001, networkType: 'vxlan' }));
    await carryOut(l2.fdbAdd(fdb({ '192.0.2.2': [FLOOD, [REMOTE_MAC, REMOTE_IP]], '192.0.2.3': [FLOOD] })));
  });

  after(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('created exactly the tunnels the fdb names', async () => {
    expect((await sb!.vsctl('list-ports', BR)).trim().split('\n').sort()).to.deep.equal(['patch-int', 'vxlan-c0000202', 'vxlan-c0000203']);
  });

  it('answers an ARP request for a remote port locally, back out of patch-int', async () => {
    const v = await trace(sb!, BR, `in_port=${PATCH_INT},dl_vlan=3,dl_src=${VM_MAC},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=${REMOTE_IP},arp_sha=${VM_MAC}`);
    expect(v.outputs).to.deep.equal(['patch-int']);
    // The reply: op 2, from the remote MAC/IP, to the asker.
    const final = v.trace.split('\n').find((l) => l.startsWith('Final flow:'))!;
    expect(final).to.include('arp_op=2').and.include(`arp_spa=${REMOTE_IP}`).and.include(`arp_sha=${REMOTE_MAC}`);
    expect(final).to.include(`dl_src=${REMOTE_MAC},dl_dst=${VM_MAC}`).and.include('arp_tpa=10.0.0.1').and.include(`arp_tha=${VM_MAC}`);
  });

  it('floods an ARP request for an unknown IP to every tunnel of the flood list, with the segmentation id', async () => {
    const v = await trace(sb!, BR, `in_port=${PATCH_INT},dl_vlan=3,dl_src=${VM_MAC},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.99`);
    expect(v.outputs).to.not.include('patch-int');
    const p2 = await ofportOf('vxlan-c0000202');
    const p3 = await ofportOf('vxlan-c0000203');
    expect(v.trace).to.match(/set_field:0x3e9->tun_id/);
    expect(v.trace).to.match(new RegExp(`output:${p2}\\b`)).and.to.match(new RegExp(`output:${p3}\\b`));
    // Two datapath outputs after popping the local VLAN.
    expect(v.actions).to.match(/^pop_vlan,.+,.+$/);
  });

  it('sends unicast for the remote MAC to its tunnel with the segmentation id', async () => {
    const v = await trace(sb!, BR, `in_port=${PATCH_INT},dl_vlan=3,dl_src=${VM_MAC},dl_dst=${REMOTE_MAC},ip,nw_src=10.0.0.1,nw_dst=${REMOTE_IP}`);
    expect(v.trace).to.match(new RegExp(`output:${await ofportOf('vxlan-c0000202')}\\b`));
    expect(v.trace).to.match(/set_field:0x3e9->tun_id/);
    expect(v.trace).to.not.match(new RegExp(`output:${await ofportOf('vxlan-c0000203')}\\b`));
  });

  it('removes the ARP answer, the unicast flow and the tunnel when the entries go', async () => {
    await carryOut(l2.fdbRemove(fdb({ '192.0.2.2': [FLOOD, [REMOTE_MAC, REMOTE_IP]] })));
    expect((await sb!.vsctl('list-ports', BR)).trim().split('\n').sort()).to.deep.equal(['patch-int', 'vxlan-c0000203']);
    const v = await trace(sb!, BR, `in_port=${PATCH_INT},dl_vlan=3,dl_src=${VM_MAC},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=${REMOTE_IP}`);
    expect(v.outputs).to.not.include('patch-int');
    const dump = await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', BR, 'table=21');
    expect(dump).to.not.include(REMOTE_IP);
    expect(await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', BR, 'table=20')).to.not.include(REMOTE_MAC);
  });
});
