/**
 * Matches in text: reading `field=value` items into the flow view with
 * prerequisite checks, converting the view to and from the codec's `Match`
 * (as OVS's nx_put_raw/nx_pull_raw would for OpenFlow 1.3), and printing the
 * view exactly as OVS's `match_format` does (the field order, the shorthand
 * protocols, `dl_vlan=` vs `vlan_tci=`).
 */
import type { FieldName, Match, Masked } from '../oxm-fields.js';
import { FlowSyntaxError } from './errors.js';
import {
  ALIAS_PREREQ, ETH_TYPE, FIELDS, FIELDS_BY_NAME, IP_PROTO, PROTOCOLS, SLOT, CT_STATE_BITS, TCP_FLAG_BITS, TUN_FLAG_BITS,
  type FieldDef, type Prereq,
} from './fields.js';
import { formatFlags, formatPort, parseFieldValue } from './field-values.js';
import type { Item } from './scanner.js';
import { parseSubfield, subfieldWidth } from './subfield.js';
import {
  formatHexBytes, formatIPv4, formatIPv4Masked, formatIPv6, formatIPv6Masked, formatMac, parseIPv4, parseIPv6, parseMac,
  bigToBytes,
} from './values.js';
import { MatchView, bytesAllOnes, bytesAllZero, fieldRepr, type SlotValue } from './view.js';

/** A field item as written, kept for the prerequisite check. */
export interface UsedField {
  readonly name: string;
  readonly field: FieldDef;
  readonly at: number;
}

/**
 * Applies one match item to `view` if it is a protocol shorthand, a field or
 * a subfield (`reg0[0..7]=5`); returns false for anything else (flow
 * keywords are the caller's).
 */
export function applyMatchItem(view: MatchView, item: Item, used: UsedField[]): boolean {
  const proto = PROTOCOLS.get(item.key);
  if (proto !== undefined && item.delim === '') {
    view.setBits(SLOT.dl_type, 0xffff, proto[0], 0xffff);
    if (proto[1] >= 0) view.setBits(SLOT.nw_proto, 0xff, proto[1], 0xff);
    return true;
  }
  const f = FIELDS_BY_NAME.get(item.key);
  if (f !== undefined) {
    const [v, m] = parseFieldValue(f, item.value, item.valueAt);
    view.setField(f, v, m);
    used.push({ name: item.key, field: f, at: item.at });
    return true;
  }
  if (item.key.includes('[')) {
    const sf = parseSubfield(item.key, item.at);
    applySubfieldValue(view, sf.field, sf.ofs, sf.nBits, item.value, item.valueAt);
    used.push({ name: sf.field.name, field: sf.field, at: item.at });
    return true;
  }
  return false;
}

function applySubfieldValue(view: MatchView, f: FieldDef, ofs: number, nBits: number, text: string, at: number): void {
  let v: bigint;
  try {
    v = BigInt(text);
  } catch {
    throw new FlowSyntaxError('OFTEXT_BAD_VALUE', 'cannot parse integer value', text, at + 1);
  }
  if (v < 0n || v >> BigInt(nBits) !== 0n) {
    throw new FlowSyntaxError('OFTEXT_BAD_VALUE', `value does not fit into ${nBits} bits`, text, at + 1);
  }
  // Merge into what the field already matches, as ovs-ofctl does.
  const [curV, curM] = view.getField(f);
  const bitsMask = ((1n << BigInt(nBits)) - 1n) << BigInt(ofs);
  const bv = toBig(curV, f);
  const bm = toBig(curM, f);
  const nv = (bv & ~bitsMask) | (v << BigInt(ofs));
  const nm = bm | bitsMask;
  view.setField(f, fromBig(nv, f), fromBig(nm, f));
}

export function toBig(v: SlotValue, f: FieldDef): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v >>> 0);
  void f;
  let r = 0n;
  for (let i = 0; i < v.length; i++) r = (r << 8n) | BigInt(v[i]);
  return r;
}

export function fromBig(v: bigint, f: FieldDef): SlotValue {
  switch (fieldRepr(f)) {
    case 'num':
      return Number(v & 0xffffffffn);
    case 'big':
      return v;
    case 'bytes':
      return bigToBytes(v, f.format === 'ethernet' ? 6 : 16);
  }
}

/** OVS's is_ct_valid: a state bit that implies a valid connection, or +trk with -inv. */
function ctValid(view: MatchView): boolean {
  const m = view.numMask(SLOT.ct_state);
  const v = view.num(SLOT.ct_state);
  return (v & 0xcf) !== 0 || ((v & 0x20) !== 0 && (m & 0x10) !== 0 && (v & 0x10) === 0);
}

function prereqHolds(view: MatchView, p: Prereq): boolean {
  const dlType = view.has(SLOT.dl_type) ? view.num(SLOT.dl_type) : -1;
  const proto = view.numMask(SLOT.nw_proto) === 0xff ? view.num(SLOT.nw_proto) : -1;
  const ip = dlType === ETH_TYPE.IP || dlType === ETH_TYPE.IPV6;
  const arp = dlType === ETH_TYPE.ARP || dlType === ETH_TYPE.RARP;
  const icmpType = view.numMask(SLOT.tp_src) === 0xffff ? view.num(SLOT.tp_src) : -1;
  switch (p) {
    case 'none':
    case 'vlan':
      return true;
    case 'ip_any':
      return ip;
    case 'ipv4':
      return dlType === ETH_TYPE.IP;
    case 'ipv6':
      return dlType === ETH_TYPE.IPV6;
    case 'arp':
      return arp;
    case 'ipv4_arp':
      return dlType === ETH_TYPE.IP || arp;
    case 'ip_arp':
      return ip || arp;
    case 'mpls':
      return dlType === ETH_TYPE.MPLS || dlType === ETH_TYPE.MPLS_MCAST;
    case 'tcp':
      return ip && proto === IP_PROTO.TCP;
    case 'udp':
      return ip && proto === IP_PROTO.UDP;
    case 'sctp':
      return ip && proto === IP_PROTO.SCTP;
    case 'l4':
      return ip && (proto === IP_PROTO.TCP || proto === IP_PROTO.UDP || proto === IP_PROTO.SCTP);
    case 'icmpv4':
      return dlType === ETH_TYPE.IP && proto === IP_PROTO.ICMP;
    case 'icmpv6':
      return dlType === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6;
    case 'icmp_any':
      return (dlType === ETH_TYPE.IP && proto === IP_PROTO.ICMP) || (dlType === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6);
    case 'nd':
      return dlType === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6 && (icmpType === 135 || icmpType === 136);
    case 'nd_solicit':
      return dlType === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6 && icmpType === 135;
    case 'nd_advert':
      return dlType === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6 && icmpType === 136;
    case 'ct':
      return ctValid(view);
    case 'ct_ipv4':
      return ctValid(view) && dlType === ETH_TYPE.IP;
    case 'ct_ipv6':
      return ctValid(view) && dlType === ETH_TYPE.IPV6;
  }
}

const PREREQ_TEXT: Record<Prereq, string> = {
  none: '', vlan: 'a VLAN', ip_any: 'ip or ipv6', ipv4: 'ip', ipv6: 'ipv6', arp: 'arp or rarp',
  ipv4_arp: 'ip or arp', ip_arp: 'ip, ipv6 or arp', mpls: 'mpls', tcp: 'tcp or tcp6', udp: 'udp or udp6',
  sctp: 'sctp or sctp6', l4: 'tcp, udp or sctp', icmpv4: 'icmp', icmpv6: 'icmp6', icmp_any: 'icmp or icmp6',
  nd: 'icmp6 with icmp_type=135 or 136', nd_solicit: 'icmp6,icmp_type=135', nd_advert: 'icmp6,icmp_type=136',
  ct: 'a valid connection (ct_state=+trk-inv, +est, ...)', ct_ipv4: 'a valid connection and ip', ct_ipv6: 'a valid connection and ipv6',
};

/** Refuses fields whose prerequisites the rest of the match does not establish. */
export function checkPrereqs(view: MatchView, used: readonly UsedField[]): void {
  for (const u of used) {
    const p = ALIAS_PREREQ.get(u.name) ?? u.field.prereq;
    if (!view.has(u.field.slot) && u.field.span === 1) continue; // matched nothing (e.g. `=0/0`)
    if (!prereqHolds(view, p)) {
      throw new FlowSyntaxError('OFTEXT_PREREQ', `${u.name} requires ${PREREQ_TEXT[p]}`, u.name, u.at + 1);
    }
  }
}

// ---------------------------------------------------------------------------
// view <-> codec Match

function put<K extends FieldName>(out: Match, name: K, value: unknown, mask: unknown, exact: boolean): void {
  (out as Record<string, unknown>)[name] = exact ? value : ({ value, mask } as Masked<unknown>);
}

function putNum(out: Match, name: FieldName, view: MatchView, slot: number, full: number, shift = 0, bits = 32): void {
  const fm = (bits >= 32 ? 0xffffffff : (1 << bits) - 1) >>> 0;
  const m = ((view.numMask(slot) >>> shift) & fm) >>> 0;
  if (m === 0) return;
  const v = ((view.num(slot) >>> shift) & fm) >>> 0;
  put(out, name, v, m, m === full);
}

function putMac(out: Match, name: FieldName, view: MatchView, slot: number): void {
  if (!view.has(slot)) return;
  const m = view.m[slot] as Uint8Array;
  put(out, name, formatMac(view.v[slot] as Uint8Array), formatMac(m), bytesAllOnes(m));
}

function putIPv4(out: Match, name: FieldName, view: MatchView, slot: number): void {
  if (!view.has(slot)) return;
  const m = view.numMask(slot);
  put(out, name, formatIPv4(view.num(slot)), formatIPv4(m), m === 0xffffffff);
}

function putIPv6(out: Match, name: FieldName, view: MatchView, slot: number): void {
  if (!view.has(slot)) return;
  const m = view.m[slot] as Uint8Array;
  put(out, name, formatIPv6(view.v[slot] as Uint8Array), formatIPv6(m), bytesAllOnes(m));
}

function putBig(out: Match, name: FieldName, view: MatchView, slot: number, full: bigint): void {
  if (!view.has(slot)) return;
  const m = view.m[slot] as bigint;
  put(out, name, view.v[slot] as bigint, m, m === full);
}

const U64 = 0xffffffffffffffffn;
const REG_NAMES: readonly string[] = Array.from({ length: 16 }, (_, i) => `reg${i}`);
const U128 = (1n << 128n) - 1n;

/** The codec `Match` for a view, with the fields OVS puts in an OpenFlow 1.3 match. */
export function viewToMatch(view: MatchView): Match {
  const out: Match = {};
  putNum(out, 'in_port', view, SLOT.in_port, 0xffffffff);
  putMac(out, 'eth_dst', view, SLOT.dl_dst);
  putMac(out, 'eth_src', view, SLOT.dl_src);
  putNum(out, 'eth_type', view, SLOT.dl_type, 0xffff);
  // 802.1Q: the VID with its CFI ("present") bit as OXM vlan_vid, the PCP only when a tag is required.
  if (view.has(SLOT.vlan_tci)) {
    const tci = view.num(SLOT.vlan_tci);
    const tm = view.numMask(SLOT.vlan_tci);
    const vid = tci & 0x1fff;
    const vm = tm & 0x1fff;
    if (vm !== 0) put(out, 'vlan_vid', vid, vm, vm === 0x1fff);
    if (vid !== 0 && (tm & 0xe000) !== 0) (out as Record<string, unknown>).vlan_pcp = tci >>> 13;
  }
  const dlType = view.has(SLOT.dl_type) ? view.num(SLOT.dl_type) : -1;
  if (dlType === ETH_TYPE.MPLS || dlType === ETH_TYPE.MPLS_MCAST) {
    putNum(out, 'mpls_label', view, SLOT.mpls_lse, 0xfffff, 12, 20);
    putNum(out, 'mpls_tc', view, SLOT.mpls_lse, 7, 9, 3);
    putNum(out, 'mpls_bos', view, SLOT.mpls_lse, 1, 8, 1);
    putNum(out, 'mpls_ttl', view, SLOT.mpls_lse, 0xff, 0, 8);
  }
  if (dlType === ETH_TYPE.IP || dlType === ETH_TYPE.IPV6) {
    if (dlType === ETH_TYPE.IP) {
      putIPv4(out, 'ip_src', view, SLOT.nw_src);
      putIPv4(out, 'ip_dst', view, SLOT.nw_dst);
    } else {
      putIPv6(out, 'ipv6_src', view, SLOT.ipv6_src);
      putIPv6(out, 'ipv6_dst', view, SLOT.ipv6_dst);
      putNum(out, 'ipv6_label', view, SLOT.ipv6_label, 0xfffff, 0, 20);
    }
    putNum(out, 'ip_proto', view, SLOT.nw_proto, 0xff, 0, 8);
    putNum(out, 'ip_dscp', view, SLOT.nw_tos, 0x3f, 2, 6);
    putNum(out, 'ip_ecn', view, SLOT.nw_tos, 3, 0, 2);
    putNum(out, 'nw_ttl', view, SLOT.nw_ttl, 0xff, 0, 8);
    putNum(out, 'ip_frag', view, SLOT.nw_frag, 0xff, 0, 8);
    const proto = view.numMask(SLOT.nw_proto) ? view.num(SLOT.nw_proto) : -1;
    if (proto === IP_PROTO.TCP) {
      putNum(out, 'tcp_src', view, SLOT.tp_src, 0xffff, 0, 16);
      putNum(out, 'tcp_dst', view, SLOT.tp_dst, 0xffff, 0, 16);
      putNum(out, 'tcp_flags', view, SLOT.tcp_flags, 0xffff, 0, 16);
    } else if (proto === IP_PROTO.UDP) {
      putNum(out, 'udp_src', view, SLOT.tp_src, 0xffff, 0, 16);
      putNum(out, 'udp_dst', view, SLOT.tp_dst, 0xffff, 0, 16);
    } else if (proto === IP_PROTO.SCTP) {
      putNum(out, 'sctp_src', view, SLOT.tp_src, 0xffff, 0, 16);
      putNum(out, 'sctp_dst', view, SLOT.tp_dst, 0xffff, 0, 16);
    } else if (proto === IP_PROTO.ICMP && dlType === ETH_TYPE.IP) {
      putNum(out, 'icmp_type', view, SLOT.tp_src, 0xff, 0, 8);
      putNum(out, 'icmp_code', view, SLOT.tp_dst, 0xff, 0, 8);
    } else if (proto === IP_PROTO.ICMPV6 && dlType === ETH_TYPE.IPV6) {
      putNum(out, 'icmpv6_type', view, SLOT.tp_src, 0xff, 0, 8);
      putNum(out, 'icmpv6_code', view, SLOT.tp_dst, 0xff, 0, 8);
      const t = view.numMask(SLOT.tp_src) ? view.num(SLOT.tp_src) : -1;
      if (t === 135 || t === 136) {
        putIPv6(out, 'nd_target', view, SLOT.nd_target);
        if (t === 135) putMac(out, 'nd_sll', view, SLOT.arp_sha);
        else putMac(out, 'nd_tll', view, SLOT.arp_tha);
      }
    }
  } else if (dlType === ETH_TYPE.ARP || dlType === ETH_TYPE.RARP) {
    putNum(out, 'arp_op', view, SLOT.nw_proto, 0xffff, 0, 8);
    if (out.arp_op !== undefined && typeof out.arp_op !== 'number') out.arp_op = out.arp_op.value;
    putIPv4(out, 'arp_spa', view, SLOT.nw_src);
    putIPv4(out, 'arp_tpa', view, SLOT.nw_dst);
    putMac(out, 'arp_sha', view, SLOT.arp_sha);
    putMac(out, 'arp_tha', view, SLOT.arp_tha);
  }
  putBig(out, 'tun_id', view, SLOT.tun_id, U64);
  putIPv4(out, 'tun_src', view, SLOT.tun_src);
  putIPv4(out, 'tun_dst', view, SLOT.tun_dst);
  putIPv6(out, 'tun_ipv6_src', view, SLOT.tun_ipv6_src);
  putIPv6(out, 'tun_ipv6_dst', view, SLOT.tun_ipv6_dst);
  putNum(out, 'tun_gbp_id', view, SLOT.tun_gbp_id, 0xffff, 0, 16);
  putNum(out, 'tun_gbp_flags', view, SLOT.tun_gbp_flags, 0xff, 0, 8);
  putNum(out, 'tun_flags', view, SLOT.tun_flags, 0xffff, 0, 16);
  putBig(out, 'metadata', view, SLOT.metadata, U64);
  for (let i = 0; i < 16; i++) if (view.nm[SLOT.reg0 + i]) putNum(out, REG_NAMES[i] as FieldName, view, SLOT.reg0 + i, 0xffffffff);
  putNum(out, 'pkt_mark', view, SLOT.pkt_mark, 0xffffffff);
  putNum(out, 'dp_hash', view, SLOT.dp_hash, 0xffffffff);
  putNum(out, 'recirc_id', view, SLOT.recirc_id, 0xffffffff);
  putNum(out, 'conj_id', view, SLOT.conj_id, 0xffffffff);
  putNum(out, 'actset_output', view, SLOT.actset_output, 0xffffffff);
  // ct_state is 8 bits in OVS's flow, 32 on the wire: its mask always shows.
  if (view.has(SLOT.ct_state)) put(out, 'ct_state', view.num(SLOT.ct_state), view.numMask(SLOT.ct_state), false);
  putNum(out, 'ct_zone', view, SLOT.ct_zone, 0xffff, 0, 16);
  putNum(out, 'ct_mark', view, SLOT.ct_mark, 0xffffffff);
  putBig(out, 'ct_label', view, SLOT.ct_label, U128);
  putIPv4(out, 'ct_nw_src', view, SLOT.ct_nw_src);
  putIPv4(out, 'ct_nw_dst', view, SLOT.ct_nw_dst);
  putIPv6(out, 'ct_ipv6_src', view, SLOT.ct_ipv6_src);
  putIPv6(out, 'ct_ipv6_dst', view, SLOT.ct_ipv6_dst);
  putNum(out, 'ct_nw_proto', view, SLOT.ct_nw_proto, 0xff, 0, 8);
  putNum(out, 'ct_tp_src', view, SLOT.ct_tp_src, 0xffff, 0, 16);
  putNum(out, 'ct_tp_dst', view, SLOT.ct_tp_dst, 0xffff, 0, 16);
  return out;
}

/** The text-side field for a codec field name. */
const CODEC_TO_TEXT: ReadonlyMap<string, FieldDef> = (() => {
  const m = new Map<string, FieldDef>();
  for (const [name, f] of FIELDS) m.set(name, f);
  m.set('in_port', FIELDS.get('in_port_oxm')!);
  m.set('ip_proto', FIELDS.get('nw_proto')!);
  m.set('ip_ecn', FIELDS.get('nw_ecn')!);
  return m;
})();

export function textFieldOf(codecName: string): FieldDef | undefined {
  return CODEC_TO_TEXT.get(codecName);
}

/** The codec's name for a text-side field (`nw_proto` → `ip_proto`), or undefined if it has none. */
export function codecFieldName(f: FieldDef): FieldName | undefined {
  switch (f.name) {
    case 'in_port_oxm':
      return 'in_port';
    case 'nw_proto':
      return 'ip_proto';
    case 'nw_ecn':
      return 'ip_ecn';
    case 'dl_vlan':
    case 'dl_vlan_pcp':
      return undefined;
    default:
      return f.name as FieldName;
  }
}

/** A codec value (number, bigint or address text) in the view's representation. */
export function codecToRepr(f: FieldDef, v: unknown, at = 0): SlotValue {
  if (typeof v === 'string') {
    const r = f.format === 'ethernet' ? parseMac(v) : f.format === 'ipv6' ? parseIPv6(v) : parseIPv4(v);
    if (r === undefined) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', `invalid ${f.name} value`, v, at + 1);
    return r;
  }
  if (typeof v === 'bigint') return fieldRepr(f) === 'num' ? Number(v) : v;
  return fieldRepr(f) === 'big' ? BigInt(v as number) : (v as number);
}

/** Back from the view's representation to the codec's. */
export function reprToCodec(f: FieldDef, v: SlotValue): number | bigint | string {
  if (v instanceof Uint8Array) return f.format === 'ethernet' ? formatMac(v) : formatIPv6(v);
  if (f.format === 'ipv4' && typeof v === 'number') return formatIPv4(v);
  return v;
}

function fullMask(f: FieldDef): SlotValue {
  switch (fieldRepr(f)) {
    case 'num':
      return f.bits >= 32 ? 0xffffffff : (1 << f.bits) - 1;
    case 'big':
      return (1n << BigInt(f.bits)) - 1n;
    case 'bytes':
      return new Uint8Array(f.format === 'ethernet' ? 6 : 16).fill(0xff);
  }
}

/** The view of a codec `Match`, as OVS reads one off the wire. */
export function matchToView(match: Match, view: MatchView = new MatchView()): MatchView {
  for (const name in match) {
    const raw = (match as Record<string, unknown>)[name];
    if (raw === undefined) continue;
    const f = CODEC_TO_TEXT.get(name);
    if (f === undefined) {
      throw new FlowSyntaxError('OFTEXT_UNSUPPORTED', 'match field has no ovs-ofctl text form here', name, 1);
    }
    let v: SlotValue;
    let m: SlotValue;
    if (typeof raw === 'object' && raw !== null && 'mask' in raw) {
      v = codecToRepr(f, (raw as Masked<unknown>).value);
      m = codecToRepr(f, (raw as Masked<unknown>).mask);
    } else {
      v = codecToRepr(f, raw);
      m = fullMask(f);
    }
    if (name === 'ct_state') m = (m as number) & 0xff;
    if (name === 'tcp_flags') m = (m as number) & 0xfff;
    if (name === 'tun_flags') m = (m as number) & 0x1;
    view.setField(f, v, m);
  }
  return view;
}

// ---------------------------------------------------------------------------
// printing (OVS lib/match.c match_format)

function hex32(v: number): string {
  return v === 0 ? '0' : '0x' + v.toString(16);
}

function u32Masked(name: string, view: MatchView, slot: number): string {
  const m = view.numMask(slot);
  if (m === 0) return '';
  const v = view.num(slot);
  return m === 0xffffffff ? `${name}=${hex32(v)},` : `${name}=${hex32(v)}/${hex32(m)},`;
}

function u16Masked(name: string, v: number, m: number): string {
  if (m === 0) return '';
  return m === 0xffff ? `${name}=${v},` : `${name}=0x${v.toString(16)}/0x${m.toString(16)},`;
}

function big64Masked(name: string, view: MatchView, slot: number): string {
  if (!view.has(slot)) return '';
  const v = view.v[slot] as bigint;
  const m = view.m[slot] as bigint;
  const vs = v === 0n ? '0' : '0x' + v.toString(16);
  return m === U64 ? `${name}=${vs},` : `${name}=${vs}/${m === 0n ? '0' : '0x' + m.toString(16)},`;
}

function ipMasked(name: string, view: MatchView, slot: number): string {
  return view.has(slot) ? `${name}=${formatIPv4Masked(view.num(slot), view.numMask(slot))},` : '';
}

function ip6Masked(name: string, view: MatchView, slot: number): string {
  if (!view.has(slot)) return '';
  return `${name}=${formatIPv6Masked(view.v[slot] as Uint8Array, view.m[slot] as Uint8Array)},`;
}

function ethMasked(name: string, view: MatchView, slot: number): string {
  if (!view.has(slot)) return '';
  const m = view.m[slot] as Uint8Array;
  if (bytesAllZero(m)) return '';
  const v = formatMac(view.v[slot] as Uint8Array);
  return bytesAllOnes(m) ? `${name}=${v},` : `${name}=${v}/${formatMac(m)},`;
}

/** Prints a view as `match_format` does; `priority` is printed unless it is the default 32768. */
export function formatView(view: MatchView, priority = 0x8000): string {
  let s = '';
  if (priority !== 0x8000) s += `priority=${priority},`;
  s += u32Masked('pkt_mark', view, SLOT.pkt_mark);
  s += u32Masked('recirc_id', view, SLOT.recirc_id);
  s += u32Masked('dp_hash', view, SLOT.dp_hash);
  if (view.has(SLOT.conj_id)) s += `conj_id=${view.num(SLOT.conj_id)},`;
  if (view.has(SLOT.actset_output)) s += `actset_output=${formatPort(view.num(SLOT.actset_output))},`;
  if (view.has(SLOT.ct_state)) {
    const m = view.numMask(SLOT.ct_state);
    s += `ct_state=${formatFlags(CT_STATE_BITS, view.num(SLOT.ct_state), m, 0xff)},`;
  }
  if (view.has(SLOT.ct_zone)) s += u16Masked('ct_zone', view.num(SLOT.ct_zone), view.numMask(SLOT.ct_zone));
  s += u32Masked('ct_mark', view, SLOT.ct_mark);
  if (view.has(SLOT.ct_label)) {
    const v = view.v[SLOT.ct_label] as bigint;
    const m = view.m[SLOT.ct_label] as bigint;
    s += `ct_label=${formatHexBytes(bigToBytes(v, 16))}`;
    if (m !== U128) s += `/${formatHexBytes(bigToBytes(m, 16))}`;
    s += ',';
  }
  s += ipMasked('ct_nw_src', view, SLOT.ct_nw_src);
  s += ip6Masked('ct_ipv6_src', view, SLOT.ct_ipv6_src);
  s += ipMasked('ct_nw_dst', view, SLOT.ct_nw_dst);
  s += ip6Masked('ct_ipv6_dst', view, SLOT.ct_ipv6_dst);
  if (view.has(SLOT.ct_nw_proto)) {
    s += `ct_nw_proto=${view.num(SLOT.ct_nw_proto)},`;
    s += u16Masked('ct_tp_src', view.num(SLOT.ct_tp_src), view.numMask(SLOT.ct_tp_src));
    s += u16Masked('ct_tp_dst', view.num(SLOT.ct_tp_dst), view.numMask(SLOT.ct_tp_dst));
  }

  const hasType = view.has(SLOT.dl_type);
  const dlType = hasType ? view.num(SLOT.dl_type) : -1;
  const hasProto = view.has(SLOT.nw_proto);
  const proto = view.num(SLOT.nw_proto);
  let skipType = false;
  let skipProto = false;
  if (hasType) {
    skipType = true;
    if (dlType === ETH_TYPE.IP || dlType === ETH_TYPE.IPV6) {
      const v6 = dlType === ETH_TYPE.IPV6;
      let name = v6 ? 'ipv6' : 'ip';
      if (hasProto) {
        skipProto = true;
        if (!v6 && proto === IP_PROTO.ICMP) name = 'icmp';
        else if (!v6 && proto === IP_PROTO.IGMP) name = 'igmp';
        else if (v6 && proto === IP_PROTO.ICMPV6) name = 'icmp6';
        else if (proto === IP_PROTO.TCP) name = v6 ? 'tcp6' : 'tcp';
        else if (proto === IP_PROTO.UDP) name = v6 ? 'udp6' : 'udp';
        else if (proto === IP_PROTO.SCTP) name = v6 ? 'sctp6' : 'sctp';
        else skipProto = false;
      }
      s += name + ',';
    } else if (dlType === ETH_TYPE.ARP) s += 'arp,';
    else if (dlType === ETH_TYPE.RARP) s += 'rarp,';
    else if (dlType === ETH_TYPE.MPLS) s += 'mpls,';
    else if (dlType === ETH_TYPE.MPLS_MCAST) s += 'mplsm,';
    else skipType = false;
  }
  for (let i = 0; i < 16; i++) if (view.nm[SLOT.reg0 + i]) s += u32Masked(REG_NAMES[i], view, SLOT.reg0 + i);
  s += big64Masked('tun_id', view, SLOT.tun_id);
  s += ipMasked('tun_src', view, SLOT.tun_src);
  s += ipMasked('tun_dst', view, SLOT.tun_dst);
  s += ip6Masked('tun_ipv6_src', view, SLOT.tun_ipv6_src);
  s += ip6Masked('tun_ipv6_dst', view, SLOT.tun_ipv6_dst);
  if (view.has(SLOT.tun_gbp_id)) s += u16Masked('tun_gbp_id', view.num(SLOT.tun_gbp_id), view.numMask(SLOT.tun_gbp_id));
  if (view.has(SLOT.tun_gbp_flags)) s += `tun_gbp_flags=${hex32(view.num(SLOT.tun_gbp_flags))},`;
  if (view.has(SLOT.tun_flags)) {
    // OVS prints the matchable flags against all its tunnel flags, so always in +/- form.
    s += `tun_flags=${formatFlags(TUN_FLAG_BITS, view.num(SLOT.tun_flags), view.numMask(SLOT.tun_flags) & 1, 0xffff)},`;
  }
  s += big64Masked('metadata', view, SLOT.metadata);
  if (view.has(SLOT.in_port)) s += `in_port=${formatPort(view.num(SLOT.in_port))},`;
  if (view.has(SLOT.vlan_tci)) {
    const tci = view.num(SLOT.vlan_tci);
    const tm = view.numMask(SLOT.vlan_tci);
    const vidMask = tm & 0x0fff;
    const pcpMask = tm & 0xe000;
    if ((tm & 0x1000) && (tci & 0x1000) && (!vidMask || vidMask === 0x0fff) && (!pcpMask || pcpMask === 0xe000)
      && (vidMask || pcpMask)) {
      if (vidMask) s += `dl_vlan=${tci & 0x0fff},`;
      if (pcpMask) s += `dl_vlan_pcp=${tci >>> 13},`;
    } else if (tm === 0xffff) {
      s += `vlan_tci=0x${tci.toString(16).padStart(4, '0')},`;
    } else {
      s += `vlan_tci=0x${tci.toString(16).padStart(4, '0')}/0x${tm.toString(16).padStart(4, '0')},`;
    }
  }
  s += ethMasked('dl_src', view, SLOT.dl_src);
  s += ethMasked('dl_dst', view, SLOT.dl_dst);
  if (!skipType && hasType) s += `dl_type=0x${dlType.toString(16).padStart(4, '0')},`;
  const arp = dlType === ETH_TYPE.ARP || dlType === ETH_TYPE.RARP;
  if (dlType === ETH_TYPE.IPV6) {
    s += ip6Masked('ipv6_src', view, SLOT.ipv6_src);
    s += ip6Masked('ipv6_dst', view, SLOT.ipv6_dst);
    if (view.has(SLOT.ipv6_label)) {
      const v = view.num(SLOT.ipv6_label).toString(16).padStart(5, '0');
      const m = view.numMask(SLOT.ipv6_label);
      s += m === 0xffffffff || m === 0xfffff ? `ipv6_label=0x${v},` : `ipv6_label=0x${v}/0x${m.toString(16).padStart(5, '0')},`;
    }
  } else if (arp) {
    s += ipMasked('arp_spa', view, SLOT.nw_src);
    s += ipMasked('arp_tpa', view, SLOT.nw_dst);
  } else {
    s += ipMasked('nw_src', view, SLOT.nw_src);
    s += ipMasked('nw_dst', view, SLOT.nw_dst);
  }
  if (!skipProto && hasProto) s += arp ? `arp_op=${proto},` : `nw_proto=${proto},`;
  if (arp) {
    s += ethMasked('arp_sha', view, SLOT.arp_sha);
    s += ethMasked('arp_tha', view, SLOT.arp_tha);
  }
  const tos = view.num(SLOT.nw_tos);
  const tosMask = view.numMask(SLOT.nw_tos);
  if (tosMask & 0xfc) s += `nw_tos=${tos & 0xfc},`;
  if (tosMask & 0x03) s += `nw_ecn=${tos & 0x03},`;
  if (view.has(SLOT.nw_ttl)) s += `nw_ttl=${view.num(SLOT.nw_ttl)},`;
  if (view.has(SLOT.mpls_lse)) {
    const lse = view.num(SLOT.mpls_lse);
    const lm = view.numMask(SLOT.mpls_lse);
    if (lm & 0xfffff000) s += `mpls_label=${lse >>> 12},`;
    if (lm & 0x00000e00) s += `mpls_tc=${(lse >>> 9) & 7},`;
    if (lm & 0x000000ff) s += `mpls_ttl=${lse & 0xff},`;
    if (lm & 0x00000100) s += `mpls_bos=${(lse >>> 8) & 1},`;
  }
  if (view.has(SLOT.nw_frag)) {
    const f = view.num(SLOT.nw_frag);
    const fm = view.numMask(SLOT.nw_frag) & 3;
    if (fm === 3) s += `nw_frag=${f & 1 ? (f & 2 ? 'later' : 'first') : f & 2 ? '<error>' : 'no'},`;
    else if (fm === 1) s += `nw_frag=${f & 1 ? 'yes' : 'no'},`;
    else if (fm === 2) s += `nw_frag=${f & 2 ? 'later' : 'not_later'},`;
  }
  const tps = view.num(SLOT.tp_src);
  const tpsm = view.numMask(SLOT.tp_src);
  const tpd = view.num(SLOT.tp_dst);
  const tpdm = view.numMask(SLOT.tp_dst);
  if (dlType === ETH_TYPE.IP && proto === IP_PROTO.ICMP) {
    s += u16Masked('icmp_type', tps, tpsm) + u16Masked('icmp_code', tpd, tpdm);
  } else if (dlType === ETH_TYPE.IP && proto === IP_PROTO.IGMP) {
    s += u16Masked('igmp_type', tps, tpsm) + u16Masked('igmp_code', tpd, tpdm);
  } else if (dlType === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6) {
    s += u16Masked('icmp_type', tps, tpsm) + u16Masked('icmp_code', tpd, tpdm);
    s += ip6Masked('nd_target', view, SLOT.nd_target);
    s += ethMasked('nd_sll', view, SLOT.arp_sha);
    s += ethMasked('nd_tll', view, SLOT.arp_tha);
  } else {
    s += u16Masked('tp_src', tps, tpsm) + u16Masked('tp_dst', tpd, tpdm);
  }
  if ((dlType === ETH_TYPE.IP || dlType === ETH_TYPE.IPV6) && proto === IP_PROTO.TCP && view.has(SLOT.tcp_flags)) {
    s += `tcp_flags=${formatFlags(TCP_FLAG_BITS, view.num(SLOT.tcp_flags), view.numMask(SLOT.tcp_flags) & 0xfff, 0xfff)},`;
  }
  return s.length > 0 ? s.slice(0, -1) : s;
}

export { subfieldWidth };
