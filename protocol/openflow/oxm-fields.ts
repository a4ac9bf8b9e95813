import { EXPERIMENTER_ID, OFPXMC } from './constants.js';

/**
 * The match fields the codec knows, as one table: for each field (named as in
 * ovs-fields(7)), the OXM/NXM class and field number Open vSwitch uses for it
 * in OpenFlow 1.3, the value length in bytes, whether a mask is allowed, the
 * prerequisite that must hold in the same match, and how the value is
 * represented in JavaScript (`kind`).
 *
 * Classes: 0x8000 OXM basic, 0x8001 OXM packet registers (xreg), 0x0000/0x0001
 * the Nicira NXM_OF/NXM_NX classes (OVS puts NXM headers in OF1.3 matches for
 * fields without a standard OXM), 0xffff experimenter OXM (tcp_flags and
 * actset_output use ONF's, as OVS does in OF1.3).
 *
 * Representation by kind: u8/u16/u32 -> number; u64/u128 -> bigint;
 * mac -> "aa:bb:cc:dd:ee:ff"; ipv4 -> "10.0.0.1"; ipv6 -> RFC 5952 text.
 * vlan_vid is the raw OXM value: OFPVID_PRESENT (0x1000) | vid.
 *
 * Prerequisites (OpenFlow 1.3 section 7.2.3.6, plus OVS's for conntrack):
 * vlan: vlan_vid present; ip: eth_type 0x0800 or 0x86dd; ipv4/ipv6/arp/mpls/pbb:
 * that eth_type; tcp/udp/sctp/icmpv4/icmpv6: ip plus ip_proto; nd: icmpv6 type
 * 135 or 136; nd_solicit: 135; nd_advert: 136; ct: ct_state with +trk;
 * ct_ipv4/ct_ipv6: ct plus eth_type.
 */
export const OXM_FIELDS = {
  in_port: { oxmClass: 0x8000, field: 0, length: 4, maskable: false, prereq: 'none', kind: 'u32' },
  in_phy_port: { oxmClass: 0x8000, field: 1, length: 4, maskable: false, prereq: 'none', kind: 'u32' },
  metadata: { oxmClass: 0x8000, field: 2, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  eth_dst: { oxmClass: 0x8000, field: 3, length: 6, maskable: true, prereq: 'none', kind: 'mac' },
  eth_src: { oxmClass: 0x8000, field: 4, length: 6, maskable: true, prereq: 'none', kind: 'mac' },
  eth_type: { oxmClass: 0x8000, field: 5, length: 2, maskable: false, prereq: 'none', kind: 'u16' },
  vlan_vid: { oxmClass: 0x8000, field: 6, length: 2, maskable: true, prereq: 'none', kind: 'u16' },
  vlan_pcp: { oxmClass: 0x8000, field: 7, length: 1, maskable: false, prereq: 'vlan', kind: 'u8' },
  ip_dscp: { oxmClass: 0x8000, field: 8, length: 1, maskable: false, prereq: 'ip', kind: 'u8' },
  ip_ecn: { oxmClass: 0x8000, field: 9, length: 1, maskable: false, prereq: 'ip', kind: 'u8' },
  ip_proto: { oxmClass: 0x8000, field: 10, length: 1, maskable: false, prereq: 'ip', kind: 'u8' },
  ip_src: { oxmClass: 0x8000, field: 11, length: 4, maskable: true, prereq: 'ipv4', kind: 'ipv4' },
  ip_dst: { oxmClass: 0x8000, field: 12, length: 4, maskable: true, prereq: 'ipv4', kind: 'ipv4' },
  tcp_src: { oxmClass: 0x8000, field: 13, length: 2, maskable: true, prereq: 'tcp', kind: 'u16' },
  tcp_dst: { oxmClass: 0x8000, field: 14, length: 2, maskable: true, prereq: 'tcp', kind: 'u16' },
  udp_src: { oxmClass: 0x8000, field: 15, length: 2, maskable: true, prereq: 'udp', kind: 'u16' },
  udp_dst: { oxmClass: 0x8000, field: 16, length: 2, maskable: true, prereq: 'udp', kind: 'u16' },
  sctp_src: { oxmClass: 0x8000, field: 17, length: 2, maskable: true, prereq: 'sctp', kind: 'u16' },
  sctp_dst: { oxmClass: 0x8000, field: 18, length: 2, maskable: true, prereq: 'sctp', kind: 'u16' },
  icmp_type: { oxmClass: 0x8000, field: 19, length: 1, maskable: false, prereq: 'icmpv4', kind: 'u8' },
  icmp_code: { oxmClass: 0x8000, field: 20, length: 1, maskable: false, prereq: 'icmpv4', kind: 'u8' },
  arp_op: { oxmClass: 0x8000, field: 21, length: 2, maskable: false, prereq: 'arp', kind: 'u16' },
  arp_spa: { oxmClass: 0x8000, field: 22, length: 4, maskable: true, prereq: 'arp', kind: 'ipv4' },
  arp_tpa: { oxmClass: 0x8000, field: 23, length: 4, maskable: true, prereq: 'arp', kind: 'ipv4' },
  arp_sha: { oxmClass: 0x8000, field: 24, length: 6, maskable: true, prereq: 'arp', kind: 'mac' },
  arp_tha: { oxmClass: 0x8000, field: 25, length: 6, maskable: true, prereq: 'arp', kind: 'mac' },
  ipv6_src: { oxmClass: 0x8000, field: 26, length: 16, maskable: true, prereq: 'ipv6', kind: 'ipv6' },
  ipv6_dst: { oxmClass: 0x8000, field: 27, length: 16, maskable: true, prereq: 'ipv6', kind: 'ipv6' },
  ipv6_label: { oxmClass: 0x8000, field: 28, length: 4, maskable: true, prereq: 'ipv6', kind: 'u32' },
  icmpv6_type: { oxmClass: 0x8000, field: 29, length: 1, maskable: false, prereq: 'icmpv6', kind: 'u8' },
  icmpv6_code: { oxmClass: 0x8000, field: 30, length: 1, maskable: false, prereq: 'icmpv6', kind: 'u8' },
  nd_target: { oxmClass: 0x8000, field: 31, length: 16, maskable: true, prereq: 'nd', kind: 'ipv6' },
  nd_sll: { oxmClass: 0x8000, field: 32, length: 6, maskable: true, prereq: 'nd_solicit', kind: 'mac' },
  nd_tll: { oxmClass: 0x8000, field: 33, length: 6, maskable: true, prereq: 'nd_advert', kind: 'mac' },
  mpls_label: { oxmClass: 0x8000, field: 34, length: 4, maskable: false, prereq: 'mpls', kind: 'u32' },
  mpls_tc: { oxmClass: 0x8000, field: 35, length: 1, maskable: false, prereq: 'mpls', kind: 'u8' },
  mpls_bos: { oxmClass: 0x8000, field: 36, length: 1, maskable: false, prereq: 'mpls', kind: 'u8' },
  pbb_isid: { oxmClass: 0x8000, field: 37, length: 3, maskable: true, prereq: 'pbb', kind: 'u32' },
  tun_id: { oxmClass: 0x8000, field: 38, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  ipv6_exthdr: { oxmClass: 0x8000, field: 39, length: 2, maskable: true, prereq: 'ipv6', kind: 'u16' },
  reg0: { oxmClass: 0x0001, field: 0, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg1: { oxmClass: 0x0001, field: 1, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg2: { oxmClass: 0x0001, field: 2, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg3: { oxmClass: 0x0001, field: 3, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg4: { oxmClass: 0x0001, field: 4, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg5: { oxmClass: 0x0001, field: 5, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg6: { oxmClass: 0x0001, field: 6, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg7: { oxmClass: 0x0001, field: 7, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg8: { oxmClass: 0x0001, field: 8, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg9: { oxmClass: 0x0001, field: 9, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg10: { oxmClass: 0x0001, field: 10, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg11: { oxmClass: 0x0001, field: 11, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg12: { oxmClass: 0x0001, field: 12, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg13: { oxmClass: 0x0001, field: 13, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg14: { oxmClass: 0x0001, field: 14, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  reg15: { oxmClass: 0x0001, field: 15, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  xreg0: { oxmClass: 0x8001, field: 0, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg1: { oxmClass: 0x8001, field: 1, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg2: { oxmClass: 0x8001, field: 2, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg3: { oxmClass: 0x8001, field: 3, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg4: { oxmClass: 0x8001, field: 4, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg5: { oxmClass: 0x8001, field: 5, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg6: { oxmClass: 0x8001, field: 6, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xreg7: { oxmClass: 0x8001, field: 7, length: 8, maskable: true, prereq: 'none', kind: 'u64' },
  xxreg0: { oxmClass: 0x0001, field: 111, length: 16, maskable: true, prereq: 'none', kind: 'u128' },
  xxreg1: { oxmClass: 0x0001, field: 112, length: 16, maskable: true, prereq: 'none', kind: 'u128' },
  xxreg2: { oxmClass: 0x0001, field: 113, length: 16, maskable: true, prereq: 'none', kind: 'u128' },
  xxreg3: { oxmClass: 0x0001, field: 114, length: 16, maskable: true, prereq: 'none', kind: 'u128' },
  vlan_tci: { oxmClass: 0x0000, field: 4, length: 2, maskable: true, prereq: 'none', kind: 'u16' },
  nw_tos: { oxmClass: 0x0000, field: 5, length: 1, maskable: false, prereq: 'ip', kind: 'u8' },
  tun_src: { oxmClass: 0x0001, field: 31, length: 4, maskable: true, prereq: 'none', kind: 'ipv4' },
  tun_dst: { oxmClass: 0x0001, field: 32, length: 4, maskable: true, prereq: 'none', kind: 'ipv4' },
  tun_ipv6_src: { oxmClass: 0x0001, field: 109, length: 16, maskable: true, prereq: 'none', kind: 'ipv6' },
  tun_ipv6_dst: { oxmClass: 0x0001, field: 110, length: 16, maskable: true, prereq: 'none', kind: 'ipv6' },
  tun_flags: { oxmClass: 0x0001, field: 104, length: 2, maskable: true, prereq: 'none', kind: 'u16' },
  tun_gbp_id: { oxmClass: 0x0001, field: 38, length: 2, maskable: true, prereq: 'none', kind: 'u16' },
  tun_gbp_flags: { oxmClass: 0x0001, field: 39, length: 1, maskable: true, prereq: 'none', kind: 'u8' },
  ip_frag: { oxmClass: 0x0001, field: 26, length: 1, maskable: true, prereq: 'ip', kind: 'u8' },
  nw_ttl: { oxmClass: 0x0001, field: 29, length: 1, maskable: false, prereq: 'ip', kind: 'u8' },
  mpls_ttl: { oxmClass: 0x0001, field: 30, length: 1, maskable: false, prereq: 'mpls', kind: 'u8' },
  pkt_mark: { oxmClass: 0x0001, field: 33, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  dp_hash: { oxmClass: 0x0001, field: 35, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  recirc_id: { oxmClass: 0x0001, field: 36, length: 4, maskable: false, prereq: 'none', kind: 'u32' },
  conj_id: { oxmClass: 0x0001, field: 37, length: 4, maskable: false, prereq: 'none', kind: 'u32' },
  ct_state: { oxmClass: 0x0001, field: 105, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  ct_zone: { oxmClass: 0x0001, field: 106, length: 2, maskable: false, prereq: 'none', kind: 'u16' },
  ct_mark: { oxmClass: 0x0001, field: 107, length: 4, maskable: true, prereq: 'none', kind: 'u32' },
  ct_label: { oxmClass: 0x0001, field: 108, length: 16, maskable: true, prereq: 'none', kind: 'u128' },
  ct_nw_proto: { oxmClass: 0x0001, field: 119, length: 1, maskable: false, prereq: 'ct', kind: 'u8' },
  ct_nw_src: { oxmClass: 0x0001, field: 120, length: 4, maskable: true, prereq: 'ct_ipv4', kind: 'ipv4' },
  ct_nw_dst: { oxmClass: 0x0001, field: 121, length: 4, maskable: true, prereq: 'ct_ipv4', kind: 'ipv4' },
  ct_ipv6_src: { oxmClass: 0x0001, field: 122, length: 16, maskable: true, prereq: 'ct_ipv6', kind: 'ipv6' },
  ct_ipv6_dst: { oxmClass: 0x0001, field: 123, length: 16, maskable: true, prereq: 'ct_ipv6', kind: 'ipv6' },
  ct_tp_src: { oxmClass: 0x0001, field: 124, length: 2, maskable: true, prereq: 'ct', kind: 'u16' },
  ct_tp_dst: { oxmClass: 0x0001, field: 125, length: 2, maskable: true, prereq: 'ct', kind: 'u16' },
  tcp_flags: { oxmClass: 0xffff, field: 42, length: 2, maskable: true, prereq: 'tcp', kind: 'u16', experimenter: EXPERIMENTER_ID.ONF },
  actset_output: { oxmClass: 0xffff, field: 43, length: 4, maskable: false, prereq: 'none', kind: 'u32', experimenter: EXPERIMENTER_ID.ONF },
} as const satisfies Record<string, FieldSpec>;

/** How a field's value is typed: an integer width, or an address. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'u128' | 'mac' | 'ipv4' | 'ipv6';
/** What a match must hold for a field to be allowed in it (an IPv4 field needs eth_type=0x0800...). */
export type Prerequisite =
  | 'none'
  | 'vlan'
  | 'ip'
  | 'ipv4'
  | 'ipv6'
  | 'arp'
  | 'tcp'
  | 'udp'
  | 'sctp'
  | 'icmpv4'
  | 'icmpv6'
  | 'nd'
  | 'nd_solicit'
  | 'nd_advert'
  | 'mpls'
  | 'pbb'
  | 'ct'
  | 'ct_ipv4'
  | 'ct_ipv6';

/** How a field is on the wire: its class, number, length, maskability, prerequisite and value kind. */
export interface FieldSpec {
  oxmClass: number;
  field: number;
  /** Value length in bytes (the mask, when present, has the same length). */
  length: number;
  maskable: boolean;
  prereq: Prerequisite;
  kind: FieldKind;
  /** Experimenter id, for oxmClass 0xffff. */
  experimenter?: number;
}

/** The name of a match field (`in_port`, `eth_dst`, `reg0`, `ct_state`...). */
export type FieldName = keyof typeof OXM_FIELDS;

interface KindValues {
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  u128: bigint;
  mac: string;
  ipv4: string;
  ipv6: string;
}
/** The JavaScript type of field K's value. */
export type FieldValue<K extends FieldName> = KindValues[(typeof OXM_FIELDS)[K]['kind']];
/** Any match field's value: a number, a bigint (64 and 128 bits) or a string (addresses). */
export type AnyFieldValue = number | bigint | string;

/** A masked field value: only the bits set in `mask` are matched. */
export interface Masked<T> {
  value: T;
  mask: T;
}

/**
 * A match: field name to value, or to `{value, mask}` for a masked match.
 * Absent fields are wildcarded. Order does not matter on the wire.
 */
export type Match = { [K in FieldName]?: FieldValue<K> | Masked<FieldValue<K>> };

/** A table row with its name and precomputed wire headers. */
export interface FieldDef extends FieldSpec {
  name: FieldName;
  /** The 32-bit OXM/NXM header without and with the has-mask bit. */
  header: number;
  headerMasked: number;
  /** Bits of the field (length * 8), for subfield bounds. */
  nBits: number;
  /**
   * The 32-bit header used to name the field in actions (reg_move, reg_load,
   * output_reg, learn, multipath, ct zone): the NXM header when the field has
   * one (as OVS does), else the OXM header. 0 for experimenter-class fields
   * without an NXM form, which actions cannot reference.
   */
  refHeader: number;
  /** Width of the field as referenced by refHeader (in_port: 16 bits as NXM_OF_IN_PORT). */
  refBits: number;
  /**
   * The OXM header, for references past refBits: OVS names bits 16..31 of
   * in_port as OXM_OF_IN_PORT (e.g. Neutron's `output:OXM_OF_IN_PORT[]` in learn).
   * Equal to refHeader/refBits for every other field.
   */
  wideRefHeader: number;
  wideRefBits: number;
}

/**
 * NXM forms of fields whose match header in OF1.3 is OXM: OVS names fields
 * by these in actions, and older peers use them in matches. The optional
 * fourth element is the NXM length when it differs (in_port is 16-bit in NXM).
 */
const NXM_HEADERS: [number, number, FieldName, number?][] = [
  [OFPXMC.NXM_0, 0, 'in_port', 2],
  [OFPXMC.NXM_0, 1, 'eth_dst'],
  [OFPXMC.NXM_0, 2, 'eth_src'],
  [OFPXMC.NXM_0, 3, 'eth_type'],
  [OFPXMC.NXM_0, 6, 'ip_proto'],
  [OFPXMC.NXM_0, 7, 'ip_src'],
  [OFPXMC.NXM_0, 8, 'ip_dst'],
  [OFPXMC.NXM_0, 9, 'tcp_src'],
  [OFPXMC.NXM_0, 10, 'tcp_dst'],
  [OFPXMC.NXM_0, 11, 'udp_src'],
  [OFPXMC.NXM_0, 12, 'udp_dst'],
  [OFPXMC.NXM_0, 13, 'icmp_type'],
  [OFPXMC.NXM_0, 14, 'icmp_code'],
  [OFPXMC.NXM_0, 15, 'arp_op'],
  [OFPXMC.NXM_0, 16, 'arp_spa'],
  [OFPXMC.NXM_0, 17, 'arp_tpa'],
  [OFPXMC.NXM_1, 16, 'tun_id'],
  [OFPXMC.NXM_1, 17, 'arp_sha'],
  [OFPXMC.NXM_1, 18, 'arp_tha'],
  [OFPXMC.NXM_1, 19, 'ipv6_src'],
  [OFPXMC.NXM_1, 20, 'ipv6_dst'],
  [OFPXMC.NXM_1, 21, 'icmpv6_type'],
  [OFPXMC.NXM_1, 22, 'icmpv6_code'],
  [OFPXMC.NXM_1, 23, 'nd_target'],
  [OFPXMC.NXM_1, 24, 'nd_sll'],
  [OFPXMC.NXM_1, 25, 'nd_tll'],
  [OFPXMC.NXM_1, 27, 'ipv6_label'],
  [OFPXMC.NXM_1, 28, 'ip_ecn'],
  [OFPXMC.NXM_1, 34, 'tcp_flags'],
];

function oxmHeader(cls: number, field: number, hasMask: boolean, length: number): number {
  return ((cls << 16) | (field << 9) | (hasMask ? 0x100 : 0) | length) >>> 0;
}

/** Every match field the codec knows, by name, with its OXM or NXM class, field, length and prerequisite. */
export const FIELDS: { readonly [K in FieldName]: FieldDef } = (() => {
  const nxm = new Map<FieldName, [number, number, number]>();
  for (const [cls, field, name, len] of NXM_HEADERS) nxm.set(name, [cls, field, len ?? OXM_FIELDS[name].length]);
  const out: Record<string, FieldDef> = {};
  for (const [name, spec] of Object.entries(OXM_FIELDS) as [FieldName, FieldSpec][]) {
    // Experimenter OXMs carry the 4-byte experimenter id inside the payload length.
    const extra = spec.oxmClass === OFPXMC.EXPERIMENTER ? 4 : 0;
    out[name] = {
      ...spec,
      name,
      header: oxmHeader(spec.oxmClass, spec.field, false, spec.length + extra),
      headerMasked: oxmHeader(spec.oxmClass, spec.field, true, spec.length * 2 + extra),
      nBits: spec.length * 8,
      refHeader: 0,
      refBits: spec.length * 8,
      wideRefHeader: 0,
      wideRefBits: spec.length * 8,
    };
    const alt = nxm.get(name);
    if (alt) {
      out[name].refHeader = oxmHeader(alt[0], alt[1], false, alt[2]);
      out[name].refBits = alt[2] * 8;
      out[name].wideRefHeader = alt[2] < spec.length && spec.oxmClass !== OFPXMC.EXPERIMENTER ? out[name].header : out[name].refHeader;
      out[name].wideRefBits = alt[2] < spec.length && spec.oxmClass !== OFPXMC.EXPERIMENTER ? spec.length * 8 : alt[2] * 8;
    } else if (spec.oxmClass !== OFPXMC.EXPERIMENTER) {
      out[name].refHeader = out[name].header;
      out[name].wideRefHeader = out[name].header;
    }
  }
  return out as { [K in FieldName]: FieldDef };
})();

/** Lookup key for a (class, field) pair, or (experimenter, field) for class 0xffff. */
export function fieldKey(oxmClass: number, field: number, experimenter = 0): number {
  return oxmClass === OFPXMC.EXPERIMENTER ? 0x1_0000_0000 * 128 + experimenter * 128 + field : oxmClass * 128 + field;
}


/** Field by (class, field[, experimenter]) key; see `fieldKey`. */
export const FIELD_BY_KEY: ReadonlyMap<number, FieldDef> = (() => {
  const m = new Map<number, FieldDef>();
  for (const def of Object.values(FIELDS) as FieldDef[]) {
    m.set(fieldKey(def.oxmClass, def.field, def.experimenter ?? 0), def);
  }
  for (const [cls, field, name, len] of NXM_HEADERS) {
    const key = fieldKey(cls, field);
    // NXM in_port has another width: it is only accepted as an action reference.
    if (!m.has(key) && len === undefined) m.set(key, FIELDS[name]);
  }
  return m;
})();

/** Field by the class/field of an action reference header (refHeader or the match header). */
export const FIELD_BY_REF: ReadonlyMap<number, FieldDef> = (() => {
  const m = new Map<number, FieldDef>(FIELD_BY_KEY);
  for (const [cls, field, name] of NXM_HEADERS) m.set(fieldKey(cls, field), FIELDS[name]);
  return m;
})();

/** Whether `name` is a match field the codec knows. */
export function isFieldName(name: string): name is FieldName {
  return Object.prototype.hasOwnProperty.call(OXM_FIELDS, name);
}

/** Whether a field value is masked. */
export function isMasked<T>(v: T | Masked<T>): v is Masked<T> {
  return typeof v === 'object' && v !== null && 'mask' in v;
}
