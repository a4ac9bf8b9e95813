/**
 * The match-field names of ovs-fields(7): each field's aliases, the NXM/OXM
 * names accepted in subfield syntax (`NXM_NX_REG0[0..15]`), the name OVS
 * prints in `load:`/`move:` (the oldest NXM or OXM name, as
 * `mf_format_subfield` does), its width, text format, maskability and
 * prerequisites, and the slot of the OVS-shaped flow view (view.ts) it lives
 * in.
 *
 * Several fields share one slot, as they share storage in OVS's
 * `struct flow`: `nw_src` is ip_src or arp_spa, `tp_src` is tcp/udp/sctp_src
 * or icmp_type, `vlan_vid`/`vlan_pcp`/`dl_vlan` are bits of `vlan_tci`,
 * `ip_dscp`/`nw_ecn` bits of `nw_tos`, `xreg0` is `reg0:reg1`. Sharing the
 * slot is what makes the printed text canonical.
 */

/** How a field's value is written (ovs-fields(7) "Format"). */
export type FieldFormat =
  | 'decimal'
  | 'hex'
  | 'ethernet'
  | 'ipv4'
  | 'ipv6'
  | 'port'
  | 'ct_state'
  | 'tcp_flags'
  | 'tun_flags'
  | 'frag';

/** ovs-fields(7) "Prerequisites", checked after the whole match is read. */
export type Prereq =
  | 'none'
  | 'vlan' // vlan_pcp: a VLAN header must be present (vlan_tci CFI)
  | 'ip_any' // IPv4 or IPv6
  | 'ipv4'
  | 'ipv6'
  | 'arp' // ARP or RARP
  | 'mpls'
  | 'tcp'
  | 'udp'
  | 'sctp'
  | 'l4' // tp_src/tp_dst: TCP, UDP or SCTP over IPv4 or IPv6
  | 'icmpv4'
  | 'icmpv6'
  | 'icmp_any' // icmp_type/icmp_code: ICMPv4 or ICMPv6 (OVS aliases both onto tp_src/tp_dst)
  | 'nd' // ICMPv6 type 135 or 136
  | 'nd_solicit'
  | 'nd_advert'
  | 'ipv4_arp' // nw_src/nw_dst: IPv4, or ARP where OVS reads them as arp_spa/arp_tpa
  | 'ip_arp' // nw_proto: IPv4/IPv6, or ARP where OVS reads it as arp_op
  | 'ct' // ct_state=+trk-inv
  | 'ct_ipv4'
  | 'ct_ipv6'
  | 'ct_l4'; // ct_tp_*: a valid connection and a nonzero ct_nw_proto, without which OVS drops them

/** Slots of the flow view. Numeric slots hold up to 32 bits. */
export const SLOT = {
  pkt_mark: 0,
  recirc_id: 1,
  dp_hash: 2,
  conj_id: 3,
  actset_output: 4,
  ct_state: 5,
  ct_zone: 6,
  ct_mark: 7,
  ct_label: 8, // bigint, 128 bits
  ct_nw_src: 9,
  ct_ipv6_src: 10, // 16 bytes
  ct_nw_dst: 11,
  ct_ipv6_dst: 12, // 16 bytes
  ct_nw_proto: 13,
  ct_tp_src: 14,
  ct_tp_dst: 15,
  dl_type: 16,
  reg0: 17, // reg0..reg15 are 17..32
  tun_id: 33, // bigint
  tun_src: 34,
  tun_dst: 35,
  tun_ipv6_src: 36, // 16 bytes
  tun_ipv6_dst: 37, // 16 bytes
  metadata: 38, // bigint
  in_port: 39, // OpenFlow 1.1+ 32-bit port number
  vlan_tci: 40,
  dl_src: 41, // 6 bytes
  dl_dst: 42, // 6 bytes
  ipv6_src: 43, // 16 bytes
  ipv6_dst: 44, // 16 bytes
  ipv6_label: 45,
  nw_src: 46,
  nw_dst: 47,
  nw_proto: 48,
  arp_sha: 49, // 6 bytes; also nd_sll
  arp_tha: 50, // 6 bytes; also nd_tll
  nw_tos: 51,
  nw_ttl: 52,
  mpls_lse: 53,
  nw_frag: 54,
  tp_src: 55,
  tp_dst: 56,
  nd_target: 57, // 16 bytes
  tcp_flags: 58,
  tun_gbp_id: 59,
  tun_gbp_flags: 60,
  tun_flags: 61,
} as const;
export const N_SLOTS = 62;

export type SlotKind = 'num' | 'big' | 'bytes';

/** Storage kind and byte width of each slot. */
export const SLOT_KIND: readonly SlotKind[] = (() => {
  const k: SlotKind[] = new Array<SlotKind>(N_SLOTS).fill('num');
  for (const s of [SLOT.ct_label, SLOT.tun_id, SLOT.metadata]) k[s] = 'big';
  for (const s of [
    SLOT.ct_ipv6_src, SLOT.ct_ipv6_dst, SLOT.tun_ipv6_src, SLOT.tun_ipv6_dst, SLOT.dl_src, SLOT.dl_dst,
    SLOT.ipv6_src, SLOT.ipv6_dst, SLOT.arp_sha, SLOT.arp_tha, SLOT.nd_target,
  ]) k[s] = 'bytes';
  return k;
})();

export const SLOT_BYTES: readonly number[] = (() => {
  const b = new Array<number>(N_SLOTS).fill(4);
  for (const s of [SLOT.ct_label]) b[s] = 16;
  for (const s of [SLOT.tun_id, SLOT.metadata]) b[s] = 8;
  for (const s of [SLOT.ct_ipv6_src, SLOT.ct_ipv6_dst, SLOT.tun_ipv6_src, SLOT.tun_ipv6_dst, SLOT.ipv6_src,
    SLOT.ipv6_dst, SLOT.nd_target]) b[s] = 16;
  for (const s of [SLOT.dl_src, SLOT.dl_dst, SLOT.arp_sha, SLOT.arp_tha]) b[s] = 6;
  return b;
})();

export interface FieldDef {
  /** ovs-fields(7) name, printed by `set_field` and in learn specs. */
  readonly name: string;
  /** Name printed in subfield syntax (`load:`, `move:`, learn). */
  readonly nxm: string;
  /** Width in bits, as ovs-fields(7) gives it. */
  readonly bits: number;
  readonly format: FieldFormat;
  readonly maskable: boolean;
  readonly prereq: Prereq;
  readonly slot: number;
  /** Bit offset of the field within a numeric slot (vlan_pcp in vlan_tci). */
  readonly ofs: number;
  /** Number of slots the field spans (xreg: 2, xxreg: 4), most significant first. */
  readonly span: number;
}

/** Every accepted spelling → its field, NXM/OXM names included (subfield syntax: `NXM_NX_REG0[0..3]`). */
export const FIELDS_BY_NAME = new Map<string, FieldDef>();
/** The spellings a match item (`name=value`) takes: ovs-fields(7) names and aliases, not NXM/OXM names. */
export const MATCH_FIELDS_BY_NAME = new Map<string, FieldDef>();
/** Canonical name → field. */
export const FIELDS = new Map<string, FieldDef>();

function def(
  names: string, nxmNames: string, bits: number, format: FieldFormat, maskable: boolean, prereq: Prereq,
  slot: number, ofs = 0, span = 1,
): FieldDef {
  const all = names.split(' ');
  const nx = nxmNames === '' ? [] : nxmNames.split(' ');
  const f: FieldDef = { name: all[0], nxm: nx[0] ?? all[0], bits, format, maskable, prereq, slot, ofs, span };
  FIELDS.set(f.name, f);
  for (const n of [...all, ...nx]) FIELDS_BY_NAME.set(n, f);
  for (const n of all) MATCH_FIELDS_BY_NAME.set(n, f);
  return f;
}

def('pkt_mark', 'NXM_NX_PKT_MARK', 32, 'hex', true, 'none', SLOT.pkt_mark);
def('recirc_id', 'NXM_NX_RECIRC_ID', 32, 'decimal', false, 'none', SLOT.recirc_id);
def('dp_hash', 'NXM_NX_DP_HASH', 32, 'hex', true, 'none', SLOT.dp_hash);
def('conj_id', 'NXM_NX_CONJ_ID', 32, 'decimal', false, 'none', SLOT.conj_id);
def('actset_output', 'ONFOXM_ET_ACTSET_OUTPUT', 32, 'port', false, 'none', SLOT.actset_output);
def('ct_state', 'NXM_NX_CT_STATE', 8, 'ct_state', true, 'none', SLOT.ct_state);
def('ct_zone', 'NXM_NX_CT_ZONE', 16, 'hex', false, 'none', SLOT.ct_zone);
def('ct_mark', 'NXM_NX_CT_MARK', 32, 'hex', true, 'none', SLOT.ct_mark);
def('ct_label', 'NXM_NX_CT_LABEL', 128, 'hex', true, 'none', SLOT.ct_label);
def('ct_nw_src', 'NXM_NX_CT_NW_SRC', 32, 'ipv4', true, 'ct_ipv4', SLOT.ct_nw_src);
def('ct_nw_dst', 'NXM_NX_CT_NW_DST', 32, 'ipv4', true, 'ct_ipv4', SLOT.ct_nw_dst);
def('ct_ipv6_src', 'NXM_NX_CT_IPV6_SRC', 128, 'ipv6', true, 'ct_ipv6', SLOT.ct_ipv6_src);
def('ct_ipv6_dst', 'NXM_NX_CT_IPV6_DST', 128, 'ipv6', true, 'ct_ipv6', SLOT.ct_ipv6_dst);
def('ct_nw_proto', 'NXM_NX_CT_NW_PROTO', 8, 'decimal', false, 'ct', SLOT.ct_nw_proto);
def('ct_tp_src', 'NXM_NX_CT_TP_SRC', 16, 'decimal', true, 'ct_l4', SLOT.ct_tp_src);
def('ct_tp_dst', 'NXM_NX_CT_TP_DST', 16, 'decimal', true, 'ct_l4', SLOT.ct_tp_dst);
for (let i = 0; i < 16; i++) {
  def(`reg${i}`, `NXM_NX_REG${i}`, 32, 'hex', true, 'none', SLOT.reg0 + i);
}
for (let i = 0; i < 8; i++) {
  def(`xreg${i}`, `OXM_OF_PKT_REG${i}`, 64, 'hex', true, 'none', SLOT.reg0 + 2 * i, 0, 2);
}
for (let i = 0; i < 4; i++) {
  def(`xxreg${i}`, `NXM_NX_XXREG${i}`, 128, 'hex', true, 'none', SLOT.reg0 + 4 * i, 0, 4);
}
def('tun_id tunnel_id', 'NXM_NX_TUN_ID OXM_OF_TUNNEL_ID', 64, 'hex', true, 'none', SLOT.tun_id);
def('tun_src', 'NXM_NX_TUN_IPV4_SRC', 32, 'ipv4', true, 'none', SLOT.tun_src);
def('tun_dst', 'NXM_NX_TUN_IPV4_DST', 32, 'ipv4', true, 'none', SLOT.tun_dst);
def('tun_ipv6_src', 'NXM_NX_TUN_IPV6_SRC', 128, 'ipv6', true, 'none', SLOT.tun_ipv6_src);
def('tun_ipv6_dst', 'NXM_NX_TUN_IPV6_DST', 128, 'ipv6', true, 'none', SLOT.tun_ipv6_dst);
def('tun_gbp_id', 'NXM_NX_TUN_GBP_ID', 16, 'decimal', true, 'none', SLOT.tun_gbp_id);
def('tun_gbp_flags', 'NXM_NX_TUN_GBP_FLAGS', 8, 'hex', true, 'none', SLOT.tun_gbp_flags);
def('tun_flags', 'NXM_NX_TUN_FLAGS', 16, 'tun_flags', true, 'none', SLOT.tun_flags);
def('metadata', 'OXM_OF_METADATA', 64, 'hex', true, 'none', SLOT.metadata);
def('in_port', 'NXM_OF_IN_PORT', 32, 'port', false, 'none', SLOT.in_port);
def('in_port_oxm', 'OXM_OF_IN_PORT', 32, 'port', false, 'none', SLOT.in_port);
def('eth_src dl_src', 'NXM_OF_ETH_SRC OXM_OF_ETH_SRC', 48, 'ethernet', true, 'none', SLOT.dl_src);
def('eth_dst dl_dst', 'NXM_OF_ETH_DST OXM_OF_ETH_DST', 48, 'ethernet', true, 'none', SLOT.dl_dst);
def('eth_type dl_type', 'NXM_OF_ETH_TYPE OXM_OF_ETH_TYPE', 16, 'hex', false, 'none', SLOT.dl_type);
def('vlan_tci', 'NXM_OF_VLAN_TCI', 16, 'hex', true, 'none', SLOT.vlan_tci);
def('vlan_vid', 'OXM_OF_VLAN_VID', 13, 'decimal', true, 'none', SLOT.vlan_tci);
def('vlan_pcp', 'OXM_OF_VLAN_PCP', 3, 'decimal', false, 'vlan', SLOT.vlan_tci, 13);
// The OpenFlow 1.0 spellings, with their own semantics (see view.ts).
def('dl_vlan', '', 12, 'decimal', false, 'none', SLOT.vlan_tci);
def('dl_vlan_pcp', '', 3, 'decimal', false, 'none', SLOT.vlan_tci, 13);
def('mpls_label', 'OXM_OF_MPLS_LABEL', 20, 'decimal', false, 'mpls', SLOT.mpls_lse, 12);
def('mpls_tc', 'OXM_OF_MPLS_TC', 3, 'decimal', false, 'mpls', SLOT.mpls_lse, 9);
def('mpls_bos', 'OXM_OF_MPLS_BOS', 1, 'decimal', false, 'mpls', SLOT.mpls_lse, 8);
def('mpls_ttl', 'NXM_NX_MPLS_TTL', 8, 'decimal', false, 'mpls', SLOT.mpls_lse, 0);
def('ip_src nw_src', 'NXM_OF_IP_SRC OXM_OF_IPV4_SRC', 32, 'ipv4', true, 'ipv4', SLOT.nw_src);
def('ip_dst nw_dst', 'NXM_OF_IP_DST OXM_OF_IPV4_DST', 32, 'ipv4', true, 'ipv4', SLOT.nw_dst);
def('ipv6_src', 'NXM_NX_IPV6_SRC OXM_OF_IPV6_SRC', 128, 'ipv6', true, 'ipv6', SLOT.ipv6_src);
def('ipv6_dst', 'NXM_NX_IPV6_DST OXM_OF_IPV6_DST', 128, 'ipv6', true, 'ipv6', SLOT.ipv6_dst);
def('ipv6_label', 'NXM_NX_IPV6_LABEL OXM_OF_IPV6_FLABEL', 20, 'hex', true, 'ipv6', SLOT.ipv6_label);
def('nw_proto ip_proto', 'NXM_OF_IP_PROTO OXM_OF_IP_PROTO', 8, 'decimal', false, 'ip_any', SLOT.nw_proto);
def('nw_ttl', 'NXM_NX_IP_TTL', 8, 'decimal', false, 'ip_any', SLOT.nw_ttl);
def('ip_frag nw_frag', 'NXM_NX_IP_FRAG', 2, 'frag', true, 'ip_any', SLOT.nw_frag);
def('nw_tos', 'NXM_OF_IP_TOS', 8, 'decimal', false, 'ip_any', SLOT.nw_tos);
def('ip_dscp', 'OXM_OF_IP_DSCP', 6, 'decimal', false, 'ip_any', SLOT.nw_tos, 2);
def('nw_ecn ip_ecn', 'NXM_NX_IP_ECN OXM_OF_IP_ECN', 2, 'decimal', false, 'ip_any', SLOT.nw_tos, 0);
def('arp_op', 'NXM_OF_ARP_OP OXM_OF_ARP_OP', 16, 'decimal', false, 'arp', SLOT.nw_proto);
def('arp_spa', 'NXM_OF_ARP_SPA OXM_OF_ARP_SPA', 32, 'ipv4', true, 'arp', SLOT.nw_src);
def('arp_tpa', 'NXM_OF_ARP_TPA OXM_OF_ARP_TPA', 32, 'ipv4', true, 'arp', SLOT.nw_dst);
def('arp_sha', 'NXM_NX_ARP_SHA OXM_OF_ARP_SHA', 48, 'ethernet', true, 'arp', SLOT.arp_sha);
def('arp_tha', 'NXM_NX_ARP_THA OXM_OF_ARP_THA', 48, 'ethernet', true, 'arp', SLOT.arp_tha);
def('tcp_src tp_src', 'NXM_OF_TCP_SRC OXM_OF_TCP_SRC', 16, 'decimal', true, 'tcp', SLOT.tp_src);
def('tcp_dst tp_dst', 'NXM_OF_TCP_DST OXM_OF_TCP_DST', 16, 'decimal', true, 'tcp', SLOT.tp_dst);
def('tcp_flags', 'NXM_NX_TCP_FLAGS ONFOXM_ET_TCP_FLAGS', 12, 'tcp_flags', true, 'tcp', SLOT.tcp_flags);
def('udp_src', 'NXM_OF_UDP_SRC OXM_OF_UDP_SRC', 16, 'decimal', true, 'udp', SLOT.tp_src);
def('udp_dst', 'NXM_OF_UDP_DST OXM_OF_UDP_DST', 16, 'decimal', true, 'udp', SLOT.tp_dst);
def('sctp_src', 'OXM_OF_SCTP_SRC', 16, 'decimal', true, 'sctp', SLOT.tp_src);
def('sctp_dst', 'OXM_OF_SCTP_DST', 16, 'decimal', true, 'sctp', SLOT.tp_dst);
def('icmp_type', 'NXM_OF_ICMP_TYPE OXM_OF_ICMPV4_TYPE', 8, 'decimal', false, 'icmpv4', SLOT.tp_src);
def('icmp_code', 'NXM_OF_ICMP_CODE OXM_OF_ICMPV4_CODE', 8, 'decimal', false, 'icmpv4', SLOT.tp_dst);
def('icmpv6_type', 'NXM_NX_ICMPV6_TYPE OXM_OF_ICMPV6_TYPE', 8, 'decimal', false, 'icmpv6', SLOT.tp_src);
def('icmpv6_code', 'NXM_NX_ICMPV6_CODE OXM_OF_ICMPV6_CODE', 8, 'decimal', false, 'icmpv6', SLOT.tp_dst);
def('nd_target', 'NXM_NX_ND_TARGET OXM_OF_IPV6_ND_TARGET', 128, 'ipv6', true, 'nd', SLOT.nd_target);
def('nd_sll', 'NXM_NX_ND_SLL OXM_OF_IPV6_ND_SLL', 48, 'ethernet', true, 'nd_solicit', SLOT.arp_sha);
def('nd_tll', 'NXM_NX_ND_TLL OXM_OF_IPV6_ND_TLL', 48, 'ethernet', true, 'nd_advert', SLOT.arp_tha);

/**
 * Fields ovs-fields(7) (Open vSwitch 3.1) documents that the codec does not
 * model: valid ovs-ofctl text, refused as OFTEXT_UNSUPPORTED rather than
 * misread or called unknown.
 */
export const UNSUPPORTED_FIELDS: ReadonlySet<string> = new Set([
  'tun_erspan_ver', 'tun_erspan_idx', 'tun_erspan_dir', 'tun_erspan_hwid', 'tun_gtpu_flags', 'tun_gtpu_msgtype',
  ...Array.from({ length: 64 }, (_, i) => `tun_metadata${i}`), 'skb_priority', 'packet_type', 'nsh_flags', 'nsh_ttl',
  'nsh_mdtype', 'nsh_np', 'nsh_spi', 'nsp', 'nsh_si', 'nsi', 'nsh_c1', 'nshc1', 'nsh_c2', 'nshc2', 'nsh_c3', 'nshc3',
  'nsh_c4', 'nshc4', 'nd_reserved', 'nd_options_type',
]);

/**
 * Fields actions may read but not write (OVS's read-only fields: set_field,
 * load or move into one is refused). ct_mark and ct_label are written only
 * inside ct(exec(...)).
 */
export const READ_ONLY_FIELDS: ReadonlySet<string> = new Set([
  'recirc_id', 'dp_hash', 'conj_id', 'actset_output', 'ct_state', 'ct_zone', 'ct_nw_src', 'ct_nw_dst', 'ct_ipv6_src', 'ct_ipv6_dst',
  'ct_nw_proto', 'ct_tp_src', 'ct_tp_dst', 'eth_type', 'mpls_bos', 'nw_proto', 'ip_frag', 'tcp_flags',
]);
export const CT_WRITE_FIELDS: ReadonlySet<string> = new Set(['ct_mark', 'ct_label']);

/** Shorthand protocols of the match syntax: name → [dl_type, nw_proto or -1]. */
export const PROTOCOLS: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['ip', [0x0800, -1]], ['ipv4', [0x0800, -1]], ['ip4', [0x0800, -1]],
  ['icmp', [0x0800, 1]], ['tcp', [0x0800, 6]], ['udp', [0x0800, 17]], ['sctp', [0x0800, 132]],
  ['ipv6', [0x86dd, -1]], ['ip6', [0x86dd, -1]],
  ['icmp6', [0x86dd, 58]], ['tcp6', [0x86dd, 6]], ['udp6', [0x86dd, 17]], ['sctp6', [0x86dd, 132]],
  ['arp', [0x0806, -1]], ['rarp', [0x8035, -1]], ['mpls', [0x8847, -1]], ['mplsm', [0x8848, -1]],
] as const);

export const ETH_TYPE = { IP: 0x0800, ARP: 0x0806, RARP: 0x8035, IPV6: 0x86dd, MPLS: 0x8847, MPLS_MCAST: 0x8848 } as const;
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

/** ct_state bits (lib/packets.h CS_*), in the order OVS prints them. */
export const CT_STATE_BITS: readonly (readonly [string, number])[] = [
  ['new', 0x01], ['est', 0x02], ['rel', 0x04], ['rpl', 0x08], ['inv', 0x10], ['trk', 0x20], ['snat', 0x40], ['dnat', 0x80],
];

/** TCP flag bits (lib/packets.c packet_tcp_flag_to_string). */
export const TCP_FLAG_BITS: readonly (readonly [string, number])[] = [
  ['fin', 0x001], ['syn', 0x002], ['rst', 0x004], ['psh', 0x008], ['ack', 0x010], ['urg', 0x020], ['ece', 0x040],
  ['cwr', 0x080], ['ns', 0x100], ['[200]', 0x200], ['[400]', 0x400], ['[800]', 0x800],
];

/**
 * Spellings whose prerequisite is looser than their field's, because OVS
 * reads them through shared storage (`udp,tp_dst=53`, `arp,nw_src=...`,
 * `icmp6,icmp_type=135`).
 */
export const ALIAS_PREREQ: ReadonlyMap<string, Prereq> = new Map<string, Prereq>([
  ['tp_src', 'l4'], ['tp_dst', 'l4'], ['nw_src', 'ipv4_arp'], ['nw_dst', 'ipv4_arp'], ['nw_proto', 'ip_arp'],
  ['ip_proto', 'ip_arp'], ['icmp_type', 'icmp_any'], ['icmp_code', 'icmp_any'],
]);

/** Tunnel flags OVS lets OpenFlow match (lib/flow.c flow_tun_flag_to_string). */
export const TUN_FLAG_BITS: readonly (readonly [string, number])[] = [['oam', 0x1]];
