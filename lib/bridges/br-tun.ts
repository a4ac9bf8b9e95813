/**
 * The tunnel bridge's pipeline (Neutron's br_tun.py; reference §3.9): local
 * VLANs from br-int become tunnel ids and back, flooding goes to every tunnel
 * of the network's type, and MACs seen on a tunnel are learnt into table 20.
 */
import { TUNNEL_TABLE, Table } from './constants.js';
import { formatCookie } from './cookie.js';
import { flow, tunIdField, vlanVidField } from './flow.js';
import { FlowTable } from './flow-table.js';
import type { TunnelType } from '../control-plane/types.js';

export interface LocalVlanOnTunnel {
  networkId: string;
  networkType: TunnelType;
  segmentationId: number;
  lvid: number;
}

/**
 * NXActionLearn of table 10: remember which tunnel a MAC came from. The
 * flows it learns into table 20 carry the bridge's cookie, as Neutron's do
 * (docs/agent.md, "Bridge settings"), so they count as the agent's.
 */
function learnAction(cookie: bigint): string {
  return `learn(table=20,hard_timeout=300,priority=1,cookie=${formatCookie(cookie)},NXM_OF_VLAN_TCI[0..11],` +
    'NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[])';
}

export class TunnelBridge {
  readonly flows: FlowTable;

  constructor(readonly name: string, cookie: bigint) {
    this.flows = new FlowTable(name, cookie);
  }

  setupDefaultTableFlows(patchIntOfport: number, opts: { arpResponder: boolean }): void {
    const flows = [
      flow(Table.LOCAL_SWITCHING, 1, `in_port=${patchIntOfport}`, `goto_table:${Table.PATCH_LV_TO_TUN}`),
      flow(Table.LOCAL_SWITCHING, 0, '', 'drop'),
      flow(Table.PATCH_LV_TO_TUN, 0, 'dl_dst=00:00:00:00:00:00/01:00:00:00:00:00', `goto_table:${Table.UCAST_TO_TUN}`),
      flow(Table.PATCH_LV_TO_TUN, 0, 'dl_dst=01:00:00:00:00:00/01:00:00:00:00:00', `goto_table:${Table.FLOOD_TO_TUN}`),
      flow(Table.GRE_TUN_TO_LV, 0, '', 'drop'),
      flow(Table.VXLAN_TUN_TO_LV, 0, '', 'drop'),
      flow(Table.GENEVE_TUN_TO_LV, 0, '', 'drop'),
      flow(Table.LEARN_FROM_TUN, 1, '', `${learnAction(this.flows.cookie)},output:${patchIntOfport}`),
      flow(Table.UCAST_TO_TUN, 0, '', `goto_table:${Table.FLOOD_TO_TUN}`),
      flow(Table.FLOOD_TO_TUN, 0, '', 'drop'),
    ];
    if (opts.arpResponder) {
      flows.push(
        flow(Table.PATCH_LV_TO_TUN, 1, 'arp,dl_dst=ff:ff:ff:ff:ff:ff', `goto_table:${Table.ARP_RESPONDER}`),
        flow(Table.ARP_RESPONDER, 0, '', `goto_table:${Table.FLOOD_TO_TUN}`),
      );
    }
    this.flows.replace('setup', flows);
  }

  /** Traffic arriving on a tunnel port goes to its type's tunnel-id table. */
  addTunnelPort(portName: string, ofport: number, tunnelType: TunnelType): void {
    this.flows.replace(`tunnel:${portName}`, [
      flow(Table.LOCAL_SWITCHING, 1, `in_port=${ofport}`, `goto_table:${TUNNEL_TABLE[tunnelType]}`),
    ]);
  }

  removeTunnelPort(portName: string): void {
    this.flows.remove(`tunnel:${portName}`);
  }

  /** Packets of the network's tunnel id get its local VLAN and go to learning. */
  provisionLocalVlan(v: LocalVlanOnTunnel): void {
    this.flows.replace(`net:${v.networkId}`, [
      flow(TUNNEL_TABLE[v.networkType], 1, `tun_id=0x${v.segmentationId.toString(16)}`,
        `push_vlan:0x8100,${vlanVidField(v.lvid)},goto_table:${Table.LEARN_FROM_TUN}`),
    ]);
  }

  /** Removes everything the network had on br-tun: tunnel-id, flood, unicast and ARP flows. */
  reclaimLocalVlan(networkId: string): void {
    this.flows.remove(`net:${networkId}`);
    this.flows.remove(`flood:${networkId}`);
    this.flows.removeByPrefix(`ucast:${networkId}:`);
    this.flows.removeByPrefix(`arp:${networkId}:`);
  }

  /** One flood flow per network listing every tunnel; none when there is no tunnel. */
  setFloodFlow(networkId: string, lvid: number, segmentationId: number, tunnelOfports: readonly number[]): void {
    if (!tunnelOfports.length) {
      this.flows.remove(`flood:${networkId}`);
      return;
    }
    const outputs = [...tunnelOfports].sort((a, b) => a - b).map((p) => `output:${p}`).join(',');
    this.flows.replace(`flood:${networkId}`, [
      flow(Table.FLOOD_TO_TUN, 1, `dl_vlan=${lvid}`, `pop_vlan,${tunIdField(segmentationId)},${outputs}`),
    ]);
  }

  /** l2pop: a known remote MAC goes straight to its tunnel. */
  installUnicastToTun(networkId: string, lvid: number, segmentationId: number, mac: string, ofport: number): void {
    this.flows.replace(`ucast:${networkId}:${mac}`, [
      flow(Table.UCAST_TO_TUN, 2, `dl_vlan=${lvid},dl_dst=${mac}`, `pop_vlan,${tunIdField(segmentationId)},output:${ofport}`),
    ]);
  }

  deleteUnicastToTun(networkId: string, mac: string): void {
    this.flows.remove(`ucast:${networkId}:${mac}`);
  }

  /** l2pop + arp_responder: answer ARP for a known remote IP locally. */
  installArpResponder(networkId: string, lvid: number, ip: string, mac: string): void {
    const actions = [
      'set_field:2->arp_op', 'move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]', 'move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]',
      `set_field:${mac}->arp_sha`, `set_field:${ip}->arp_spa`, 'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]',
      `set_field:${mac}->eth_src`, 'IN_PORT',
    ].join(',');
    this.flows.replace(`arp:${networkId}:${ip}`, [flow(Table.ARP_RESPONDER, 1, `arp,dl_vlan=${lvid},arp_tpa=${ip}`, actions)]);
  }

  deleteArpResponder(networkId: string, ip: string): void {
    this.flows.remove(`arp:${networkId}:${ip}`);
  }
}
