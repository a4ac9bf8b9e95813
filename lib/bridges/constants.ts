/**
 * Neutron's OpenFlow table ids and OVS constants
 * (neutron_lib/plugins/ml2/ovs_constants.py; docs/design.md#the-pipeline).
 */
export const Table = {
  // br-int
  LOCAL_SWITCHING: 0,
  CANARY: 23,
  ARP_SPOOF: 24,
  MAC_SPOOF: 25,
  LOCAL_EGRESS: 30,
  LOCAL_IP: 31,
  PACKET_RATE_LIMIT: 59,
  TRANSIENT: 60,
  LOCAL_MAC_DIRECT: 61,
  TRANSIENT_EGRESS: 62,
  // br-tun
  PATCH_LV_TO_TUN: 2,
  GRE_TUN_TO_LV: 3,
  VXLAN_TUN_TO_LV: 4,
  GENEVE_TUN_TO_LV: 6,
  DVR_NOT_LEARN: 9,
  LEARN_FROM_TUN: 10,
  UCAST_TO_TUN: 20,
  ARP_RESPONDER: 21,
  FLOOD_TO_TUN: 22,
} as const;

export const TUNNEL_TABLE = { gre: Table.GRE_TUN_TO_LV, vxlan: Table.VXLAN_TUN_TO_LV, geneve: Table.GENEVE_TUN_TO_LV } as const;

export const DEAD_VLAN_TAG = 4095;
export const MIN_VLAN_TAG = 1;
export const MAX_VLAN_TAG = 4094;
/** OF1.3 OFPVID_PRESENT, or'ed into vlan_vid values. */
export const OFPVID_PRESENT = 0x1000;
export const OFPORT_INVALID = -1;
export const NONEXISTENT_PEER = 'nonexistent-peer';
export const PEER_INTEGRATION_PREFIX = 'int-';
export const PEER_PHYSICAL_PREFIX = 'phy-';
export const DEFAULT_VXLAN_UDP_PORT = 4789;
export const SKIP_CLEANUP = 'skip_cleanup';
