/**
 * A flow view printed exactly as OVS's `match_format` prints it: its field
 * order, the shorthand protocols (`tcp`, `arp`, `icmp6`), `dl_vlan=` vs
 * `vlan_tci=`, `arp_spa` vs `nw_src`, hex registers and decimal ports.
 */
import { CT_STATE_BITS, ETH_TYPE, IP_PROTO, SLOT, TCP_FLAG_BITS, TUN_FLAG_BITS } from './fields.js';
import { formatFlags, formatPort } from './field-values.js';
import { bigToBytes, formatHexBytes, formatIPv4Masked, formatIPv6Masked, formatMac } from './values.js';
import { bytesAllOnes, bytesAllZero, type MatchView } from './view.js';

const U64 = 0xffffffffffffffffn;
const U128 = (1n << 128n) - 1n;
const REG_NAMES: readonly string[] = Array.from({ length: 16 }, (_, i) => `reg${i}`);

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
        // Open vSwitch 3.1 has no `igmp` shorthand (nor igmp_type): IPv4 protocol 2 prints as nw_proto=2.
        if (!v6 && proto === IP_PROTO.ICMP) name = 'icmp';
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
