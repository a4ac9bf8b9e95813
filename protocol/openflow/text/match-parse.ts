/**
 * Matches in text, inbound: `field=value` items (protocol shorthands,
 * fields, `reg0[0..7]=` subfields) written into the flow view with OVS's
 * semantics, then the prerequisite check ovs-fields(7) describes.
 */
import { FlowSyntaxError } from './errors.js';
import { ALIAS_PREREQ, ETH_TYPE, IP_PROTO, MATCH_FIELDS_BY_NAME, PROTOCOLS, SLOT, UNSUPPORTED_FIELDS, type FieldDef, type Prereq } from './fields.js';
import { parsePort, parseFieldValue } from './field-values.js';
import type { Item } from './scanner.js';
import { parseSubfield, subfieldWidth } from './subfield.js';
import { bigToBytes } from './values.js';
import { fieldRepr, type MatchView, type SlotValue } from './view.js';

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
  if (proto !== undefined) {
    // ovs-ofctl ignores a value given to a protocol (`tcp=80`); whoever wrote one meant something else.
    if (item.delim !== '') throw new FlowSyntaxError('OFTEXT_SYNTAX', `${item.key} takes no value`, item.key, item.at + 1);
    view.setBits(SLOT.dl_type, 0xffff, proto[0], 0xffff);
    if (proto[1] >= 0) view.setBits(SLOT.nw_proto, 0xff, proto[1], 0xff);
    return true;
  }
  if (UNSUPPORTED_FIELDS.has(item.key)) {
    throw new FlowSyntaxError('OFTEXT_UNSUPPORTED', 'a field of Open vSwitch that this codec does not model', item.key, item.at + 1);
  }
  const f = MATCH_FIELDS_BY_NAME.get(item.key);
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
  const whole = ofs === 0 && nBits === subfieldWidth(f);
  if (!f.maskable && !whole) {
    // Part of a field that cannot be masked matches nothing OVS can install (it refuses the flow).
    throw new FlowSyntaxError('OFTEXT_BAD_MASK', `${f.name} cannot be masked, so it cannot be matched in part`, text, at + 1);
  }
  if (f.name === 'in_port') {
    // NXM_OF_IN_PORT is OpenFlow 1.0's 16-bit port: its reserved numbers map up as a written port's do.
    view.setField(f, parsePort(String(v))!, 0xffffffff);
    return;
  }
  // Merge into what the field already matches, as ovs-ofctl does.
  const [curV, curM] = view.getField(f);
  const bitsMask = ((1n << BigInt(nBits)) - 1n) << BigInt(ofs);
  const bv = toBig(curV);
  const bm = toBig(curM);
  const nv = (bv & ~bitsMask) | (v << BigInt(ofs));
  const nm = bm | bitsMask;
  view.setField(f, fromBig(nv, f), fromBig(nm, f));
}

export function toBig(v: SlotValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v >>> 0);
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
export function ctValid(view: MatchView): boolean {
  const m = view.numMask(SLOT.ct_state);
  const v = view.num(SLOT.ct_state);
  return (v & 0xcf) !== 0 || ((v & 0x20) !== 0 && (m & 0x10) !== 0 && (v & 0x10) === 0);
}

/**
 * Whether the match in `view` meets prerequisite `p`; `dlTypeNow` is the
 * Ethernet type where actions changed it (push_mpls, pop_mpls).
 */
export function prereqHolds(view: MatchView, p: Prereq, dlTypeNow?: number): boolean {
  const dlType = dlTypeNow ?? (view.has(SLOT.dl_type) ? view.num(SLOT.dl_type) : -1);
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
    case 'ct_l4':
      return ctValid(view) && view.num(SLOT.ct_nw_proto) !== 0;
  }
}

export const PREREQ_TEXT: Record<Prereq, string> = {
  none: '', vlan: 'a VLAN', ip_any: 'ip or ipv6', ipv4: 'ip', ipv6: 'ipv6', arp: 'arp or rarp',
  ipv4_arp: 'ip or arp', ip_arp: 'ip, ipv6 or arp', mpls: 'mpls', tcp: 'tcp or tcp6', udp: 'udp or udp6',
  sctp: 'sctp or sctp6', l4: 'tcp, udp or sctp', icmpv4: 'icmp', icmpv6: 'icmp6', icmp_any: 'icmp or icmp6',
  nd: 'icmp6 with icmp_type=135 or 136', nd_solicit: 'icmp6,icmp_type=135', nd_advert: 'icmp6,icmp_type=136',
  ct: 'a valid connection (ct_state=+trk-inv, +est, ...)', ct_ipv4: 'a valid connection and ip', ct_ipv6: 'a valid connection and ipv6',
  ct_l4: 'a valid connection and a nonzero ct_nw_proto',
};

const VLAN_CFI = 0x1000;

/**
 * vlan_tci bits OpenFlow 1.3 cannot express: a priority without the CFI
 * "header present" bit (unless the match is "no VLAN header", 0 with CFI
 * matched). OVS drops such a priority from the match, or sends bytes it then
 * refuses itself.
 */
function checkVlanTci(view: MatchView, used: readonly UsedField[]): void {
  if (!view.has(SLOT.vlan_tci)) return;
  const m = view.numMask(SLOT.vlan_tci);
  const v = view.num(SLOT.vlan_tci);
  if (!(m & 0xe000) || (m & VLAN_CFI && (v & VLAN_CFI || v === 0))) return;
  const u = [...used].reverse().find((x) => x.field.slot === SLOT.vlan_tci)!;
  if (m & VLAN_CFI) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', 'vlan_tci gives a priority but matches no VLAN header (CFI 0)', u.name, u.at + 1);
  throw new FlowSyntaxError('OFTEXT_PREREQ', 'a VLAN priority needs the VLAN header matched present (CFI bit 0x1000)', u.name, u.at + 1);
}

/** Refuses fields whose prerequisites the rest of the match does not establish. */
export function checkPrereqs(view: MatchView, used: readonly UsedField[]): void {
  checkVlanTci(view, used);
  for (const u of used) {
    const p = ALIAS_PREREQ.get(u.name) ?? u.field.prereq;
    if (!view.has(u.field.slot) && u.field.span === 1) continue; // matched nothing (e.g. `=0/0`)
    if (!prereqHolds(view, p)) {
      throw new FlowSyntaxError('OFTEXT_PREREQ', `${u.name} requires ${PREREQ_TEXT[p]}`, u.name, u.at + 1);
    }
  }
}
