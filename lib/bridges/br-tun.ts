/**
 * The tunnel bridge's pipeline (Neutron's br_tun.py;
 * docs/design.md#br-tun-tunnel-bridge): local VLANs from br-int become
 * tunnel ids and back, flooding goes to every tunnel of the network, and
 * MACs seen on a tunnel are learnt into table 20.
 */
import {
  apply, applyThenGoto, DROP, gotoTable, IN_PORT, learn, move, output, POP_VLAN, PUSH_VLAN, setField, setTunnelId,
  setVlanVid, whole, type Instructions,
} from '../flows/actions.js';
import { flow } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { address, BROADCAST_DST, dlVlan, ethDst, ethType, inPort, MULTICAST_DST, tunId, UNICAST_DST } from '../flows/match.js';
import type { TunnelType } from '../model/index.js';
import { TUNNEL_TABLE, Table } from './constants.js';

export interface LocalVlanOnTunnel {
  networkId: string;
  networkType: TunnelType;
  segmentationId: number;
  lvid: number;
}

/** How long a MAC learnt from a tunnel is kept (Neutron's learn(hard_timeout=300)). */
const LEARNT_MAC_SECONDS = 300;
const ARP = ethType(0x0806);

/**
 * NXActionLearn of table 10: remember which tunnel a MAC came from (match
 * the frame's VLAN and the MAC as destination; strip the tag, set the tunnel
 * id, out the tunnel port). The flows it learns into table 20 carry the
 * bridge's cookie, as Neutron's do, so they count as the agent's.
 */
function learnFromTunnel(cookie: bigint, patchIntOfport: number): Instructions {
  const vlan12 = { field: 'vlan_tci' as const, ofs: 0, nBits: 12 };
  return apply(learn({
    tableId: Table.UCAST_TO_TUN, priority: 1, idleTimeout: 0, hardTimeout: LEARNT_MAC_SECONDS, cookie, flags: 0,
    finIdleTimeout: 0, finHardTimeout: 0,
    specs: [
      { kind: 'match_field', src: vlan12, dst: vlan12 },
      { kind: 'match_field', src: whole('eth_src', 48), dst: whole('eth_dst', 48) },
      { kind: 'load_immediate', value: 0n, dst: whole('vlan_tci', 16) },
      { kind: 'load_field', src: whole('tun_id', 64), dst: whole('tun_id', 64) },
      { kind: 'output_field', src: whole('in_port', 32) },
    ],
  }), output(patchIntOfport));
}

export class TunnelBridge {
  readonly flows: FlowTable;

  constructor(readonly name: string, cookie: bigint) {
    this.flows = new FlowTable(name, cookie);
  }

  setupDefaultTableFlows(patchIntOfport: number, opts: { arpResponder: boolean }): void {
    const flows = [
      flow(Table.LOCAL_SWITCHING, 1, [inPort(patchIntOfport)], gotoTable(Table.PATCH_LV_TO_TUN)),
      flow(Table.LOCAL_SWITCHING, 0, [], DROP),
      flow(Table.PATCH_LV_TO_TUN, 0, [UNICAST_DST], gotoTable(Table.UCAST_TO_TUN)),
      flow(Table.PATCH_LV_TO_TUN, 0, [MULTICAST_DST], gotoTable(Table.FLOOD_TO_TUN)),
      flow(Table.GRE_TUN_TO_LV, 0, [], DROP),
      flow(Table.VXLAN_TUN_TO_LV, 0, [], DROP),
      flow(Table.GENEVE_TUN_TO_LV, 0, [], DROP),
      flow(Table.LEARN_FROM_TUN, 1, [], learnFromTunnel(this.flows.cookie, patchIntOfport)),
      flow(Table.UCAST_TO_TUN, 0, [], gotoTable(Table.FLOOD_TO_TUN)),
      flow(Table.FLOOD_TO_TUN, 0, [], DROP),
    ];
    if (opts.arpResponder) {
      flows.push(
        flow(Table.PATCH_LV_TO_TUN, 1, [ARP, BROADCAST_DST], gotoTable(Table.ARP_RESPONDER)),
        flow(Table.ARP_RESPONDER, 0, [], gotoTable(Table.FLOOD_TO_TUN)),
      );
    }
    this.flows.replace('setup', flows);
  }

  /** Traffic arriving on a tunnel port goes to its type's tunnel-id table. */
  addTunnelPort(portName: string, ofport: number, tunnelType: TunnelType): void {
    this.flows.replace(`tunnel:${portName}`, [
      flow(Table.LOCAL_SWITCHING, 1, [inPort(ofport)], gotoTable(TUNNEL_TABLE[tunnelType])),
    ]);
  }

  removeTunnelPort(portName: string): void {
    this.flows.remove(`tunnel:${portName}`);
  }

  /** Packets of the network's tunnel id get its local VLAN and go to learning. */
  provisionLocalVlan(v: LocalVlanOnTunnel): void {
    this.flows.replace(`net:${v.networkId}`, [
      flow(TUNNEL_TABLE[v.networkType], 1, [tunId(v.segmentationId)],
        applyThenGoto([PUSH_VLAN, setVlanVid(v.lvid)], Table.LEARN_FROM_TUN)),
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
    const outputs = [...tunnelOfports].sort((a, b) => a - b).map(output);
    this.flows.replace(`flood:${networkId}`, [
      flow(Table.FLOOD_TO_TUN, 1, [dlVlan(lvid)], apply(POP_VLAN, setTunnelId(segmentationId), ...outputs)),
    ]);
  }

  /** l2pop: a known remote MAC goes straight to its tunnel. */
  installUnicastToTun(networkId: string, lvid: number, segmentationId: number, mac: string, ofport: number): void {
    this.flows.replace(`ucast:${networkId}:${mac}`, [
      flow(Table.UCAST_TO_TUN, 2, [dlVlan(lvid), ethDst(mac)], apply(POP_VLAN, setTunnelId(segmentationId), output(ofport))),
    ]);
  }

  deleteUnicastToTun(networkId: string, mac: string): void {
    this.flows.remove(`ucast:${networkId}:${mac}`);
  }

  /** l2pop + arp_responder: answer ARP for a known remote IP locally (turn the request into the reply, back out). */
  installArpResponder(networkId: string, lvid: number, ip: string, mac: string): void {
    this.flows.replace(`arp:${networkId}:${ip}`, [flow(Table.ARP_RESPONDER, 1, [ARP, dlVlan(lvid), address('arp_tpa', ip)], apply(
      setField('arp_op', 2), move(whole('arp_sha', 48), whole('arp_tha', 48)), move(whole('arp_spa', 32), whole('arp_tpa', 32)),
      setField('arp_sha', mac), setField('arp_spa', ip), move(whole('eth_src', 48), whole('eth_dst', 48)),
      setField('eth_src', mac), IN_PORT,
    ))]);
  }

  deleteArpResponder(networkId: string, ip: string): void {
    this.flows.remove(`arp:${networkId}:${ip}`);
  }
}
