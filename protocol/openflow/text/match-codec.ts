/**
 * The flow view and the codec's `Match`, both ways: the fields OVS puts in an
 * OpenFlow 1.3 match (nx_put_raw: vlan_tci as vlan_vid + vlan_pcp, nw_tos as
 * ip_dscp + ip_ecn, ports by protocol), and a decoded match read back as
 * OVS's nx_pull_raw would store it.
 */
import type { FieldName, Match, Masked } from '../oxm-fields.js';
import { FlowSyntaxError } from './errors.js';
import { ETH_TYPE, FIELDS, IP_PROTO, SLOT, type FieldDef } from './fields.js';
import { formatIpv6 } from '../addr.js';
import { formatIPv4, formatMac, parseIPv4, parseIPv6, parseMac } from './values.js';
import { MatchView, bytesAllOnes, fieldRepr, type SlotValue } from './view.js';

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
  put(out, name, formatIpv6(view.v[slot] as Uint8Array), formatIpv6(m), bytesAllOnes(m));
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
  // OVS sends the conntrack protocol only when nonzero, and the ports only with it.
  if (view.num(SLOT.ct_nw_proto) !== 0) {
    putNum(out, 'ct_nw_proto', view, SLOT.ct_nw_proto, 0xff, 0, 8);
    putNum(out, 'ct_tp_src', view, SLOT.ct_tp_src, 0xffff, 0, 16);
    putNum(out, 'ct_tp_dst', view, SLOT.ct_tp_dst, 0xffff, 0, 16);
  }
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
  if (v instanceof Uint8Array) return f.format === 'ethernet' ? formatMac(v) : formatIpv6(v);
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
