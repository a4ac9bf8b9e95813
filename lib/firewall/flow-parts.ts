/**
 * The words the firewall writes its flows with. Each carries two spellings
 * of the same thing: the ovs-ofctl text (a flow's identity in the ledger and
 * in br-int's desired table, what tests and logs read, and what Neutron's
 * driver would have written) and the OpenFlow value the switch gets.
 *
 * Writing the value directly is the point: a port has ~50 flows, and parsing
 * their text back was most of a pass's CPU (and, on a freshly started agent,
 * tens of microseconds a flow while V8 still interprets the big generic
 * parser). The two spellings must mean the same; spec/firewall/flow-parts.spec.ts
 * checks every flow the firewall writes against protocol/openflow's parse of
 * its text, field for field and in the same order, so the bytes sent are the
 * ones the text would have given.
 */
import type { Action, Instruction, Match } from '../../protocol/openflow/types.js';
import { OFPP } from '../../protocol/openflow/constants.js';
import { formatIPv4, formatIPv6, ipv4PrefixMask, ipv6PrefixMask, parseIPv4, parseIPv6 } from '../../protocol/openflow/text/values.js';
import { CT_ZONE, CtState, EtherType, Reg } from './constants.js';

type FieldName = keyof Match & string;

/**
 * The order protocol/openflow's text parser puts match fields in (its
 * viewToMatch): the encoder writes OXM fields in the object's key order, so
 * building in this order gives the same bytes as the parse.
 */
const FIELD_ORDER = [
  'in_port', 'eth_dst', 'eth_src', 'eth_type', 'vlan_vid',
  'ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'ip_proto',
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst',
  'icmp_type', 'icmp_code', 'icmpv6_type', 'icmpv6_code', 'nd_target',
  'arp_spa',
  'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7',
  'conj_id', 'ct_state', 'ct_zone', 'ct_mark',
] as const satisfies readonly FieldName[];

const RANK = new Map<string, number>(FIELD_ORDER.map((f, i) => [f, i]));

/**
 * Texts are written with this tag rather than as plain templates: a plain
 * template makes a rope of cons cells, and the ledger keeps a flow's text as
 * long as the flow; String.raw writes one flat string. (No text here has a
 * backslash, which is all String.raw would read differently.)
 */
const flat = String.raw;

/** One `name=value` of a match. `field` is absent for a part that matches everything (`nw_src=0.0.0.0/0`). */
export interface MatchPart {
  readonly text: string;
  readonly field?: FieldName;
  readonly value?: Match[FieldName];
  readonly rank: number;
}

export class FlowPartError extends Error {
  override readonly name = 'FlowPartError';
  readonly code = 'FW_BAD_FLOW_PART';
}

function part(text: string, field: FieldName, value: Match[FieldName]): MatchPart {
  return { text, field, value, rank: RANK.get(field)! };
}

const masked = (value: number, mask: number, full: number): Match[FieldName] => (mask === full ? value : { value, mask });

export const inPort = (ofport: number): MatchPart => part(flat`in_port=${ofport}`, 'in_port', ofport);
export const reg = (n: number, v: number): MatchPart => part(flat`reg${n}=${v}`, `reg${n}` as FieldName, v);
export const portReg = (ofport: number): MatchPart => reg(Reg.PORT, ofport);
export const netReg = (lvid: number): MatchPart => reg(Reg.NET, lvid);
export const conjId = (id: number): MatchPart => part(flat`conj_id=${id}`, 'conj_id', id);
export const ctZone = (zone: number): MatchPart => part(flat`ct_zone=${zone}`, 'ct_zone', zone);
export const nwProto = (proto: number): MatchPart => part(flat`nw_proto=${proto}`, 'ip_proto', proto);
/** `dl_vlan=N`: a tag with that VID (OpenFlow's vlan_vid carries the "present" bit). */
export const dlVlan = (vid: number): MatchPart => part(flat`dl_vlan=${vid}`, 'vlan_vid', 0x1000 | vid);
/** No VLAN tag. */
export const UNTAGGED: MatchPart = part('vlan_tci=0x0000/0x1fff', 'vlan_vid', 0);
/** MACs as the firewall normalises them (lower case, colons), which is also the codec's spelling. */
export const dlSrc = (mac: string): MatchPart => part(flat`dl_src=${mac}`, 'eth_src', mac);
export const dlDst = (mac: string): MatchPart => part(flat`dl_dst=${mac}`, 'eth_dst', mac);

/** `dl_type=0x0800`: the text is the hex spelling given, the value its number. */
export function dlType(hex: string): MatchPart {
  const v = /^0x[0-9a-fA-F]{1,4}$/.test(hex) ? Number(hex) : NaN;
  if (Number.isNaN(v)) throw new FlowPartError(`ethertype ${JSON.stringify(hex)} is not a 16-bit hex number such as 0x0800`);
  return part(flat`dl_type=${hex}`, 'eth_type', v);
}

/** ovs-fields(7) ct_state flags (OVS's CS_* bits). */
const CT_FLAGS: Readonly<Record<string, number>> = { new: 0x01, est: 0x02, rel: 0x04, rpl: 0x08, inv: 0x10, trk: 0x20, snat: 0x40, dnat: 0x80 };

/** `ct_state=+est-rel-rpl`: each named flag must be set (+) or clear (-); the rest are wildcarded. */
export function ctState(flags: string): MatchPart {
  let value = 0;
  let mask = 0;
  for (const m of flags.matchAll(/([+-])([a-z]+)/g)) {
    const bit = CT_FLAGS[m[2]];
    if (bit === undefined) throw new FlowPartError(`unknown ct_state flag ${JSON.stringify(m[2])} in ${JSON.stringify(flags)}`);
    mask |= bit;
    if (m[1] === '+') value |= bit;
  }
  return part(flat`ct_state=${flags}`, 'ct_state', { value, mask });
}

/** `ct_mark=0x1`: the text as given, the value its number. */
export function ctMark(hex: string): MatchPart {
  return part(flat`ct_mark=${hex}`, 'ct_mark', Number(hex));
}

/** Every conntrack state the firewall matches (constants.ts), as a part made once for all flows. */
export const CT = Object.fromEntries(Object.entries(CtState).map(([name, flags]) => [name, ctState(flags)])) as Record<keyof typeof CtState, MatchPart>;

/** The Ethernet types the firewall matches, made once. */
export const ETH = { IPV4: dlType(EtherType.IPV4), IPV6: dlType(EtherType.IPV6), ARP: dlType(EtherType.ARP) } as const;

/** `tp_src=68` etc.: the transport field named after the protocol, as the parser resolves `tp_*`. */
const TRANSPORT: Readonly<Record<number, { src: FieldName; dst: FieldName }>> = {
  6: { src: 'tcp_src', dst: 'tcp_dst' },
  17: { src: 'udp_src', dst: 'udp_dst' },
  132: { src: 'sctp_src', dst: 'sctp_dst' },
};

function transport(proto: number): { src: FieldName; dst: FieldName } {
  const t = TRANSPORT[proto];
  if (!t) throw new FlowPartError(`IP protocol ${proto} has no transport ports`);
  return t;
}

export const tpSrc = (proto: number, port: number): MatchPart => part(flat`tp_src=${port}`, transport(proto).src, port);
export const tpDst = (proto: number, port: number): MatchPart => part(flat`tp_dst=${port}`, transport(proto).dst, port);

/** `tcp_dst=0x1f40/0xffc0` (a block of port-range.ts's cover), under the protocol's own name. */
export function portBlock(proto: number, name: string, block: string): MatchPart {
  const slash = block.indexOf('/');
  const value = Number(slash < 0 ? block : block.slice(0, slash));
  const mask = slash < 0 ? 0xffff : Number(block.slice(slash + 1));
  return part(flat`${name}_dst=${block}`, transport(proto).dst, masked(value & mask, mask, 0xffff));
}

/** `icmp_type`/`icmp_code`: ICMPv6's own fields on IPv6 (ovs-ofctl spells both the same). */
export const icmpType = (v6: boolean, type: number): MatchPart => part(flat`icmp_type=${type}`, v6 ? 'icmpv6_type' : 'icmp_type', type);
export const icmpCode = (v6: boolean, code: number): MatchPart => part(flat`icmp_code=${code}`, v6 ? 'icmpv6_code' : 'icmp_code', code);

/**
 * Address parts (`nw_src=`, `ipv6_dst=`, `arp_spa=`, `nd_target=` …) with an
 * address or CIDR as the firewall normalised it. A /0 matches everything and
 * so puts no field on the wire, as ovs-ofctl does. Each distinct text is
 * worked out once: a port's addresses recur in many of its flows.
 */
const ADDRESS_FIELDS: Readonly<Record<string, { field: FieldName; v6: boolean }>> = {
  nw_src: { field: 'ip_src', v6: false },
  nw_dst: { field: 'ip_dst', v6: false },
  arp_spa: { field: 'arp_spa', v6: false },
  ipv6_src: { field: 'ipv6_src', v6: true },
  ipv6_dst: { field: 'ipv6_dst', v6: true },
  nd_target: { field: 'nd_target', v6: true },
};
const ADDRESS_CACHE_MAX = 50_000;
const addressCache = new Map<string, MatchPart>();

export function address(name: keyof typeof ADDRESS_FIELDS, cidr: string): MatchPart {
  const text = flat`${name}=${cidr}`;
  let p = addressCache.get(text);
  if (!p) {
    p = addressPart(text, ADDRESS_FIELDS[name], cidr);
    if (addressCache.size >= ADDRESS_CACHE_MAX) addressCache.clear();
    addressCache.set(text, p);
  }
  return p;
}

function addressPart(text: string, spec: { field: FieldName; v6: boolean }, cidr: string): MatchPart {
  const slash = cidr.indexOf('/');
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  const len = slash < 0 ? (spec.v6 ? 128 : 32) : Number(cidr.slice(slash + 1));
  const bad = (): FlowPartError => new FlowPartError(`${text}: not an IPv${spec.v6 ? 6 : 4} address or CIDR`);
  if (!Number.isInteger(len) || len < 0 || len > (spec.v6 ? 128 : 32)) throw bad();
  if (len === 0) return { text, rank: -1 };
  if (!spec.v6) {
    const v = parseIPv4(addr);
    if (v === undefined) throw bad();
    const mask = ipv4PrefixMask(len);
    const value = formatIPv4((v & mask) >>> 0);
    return part(text, spec.field, len === 32 ? value : { value, mask: formatIPv4(mask) });
  }
  const bytes = parseIPv6(addr);
  if (bytes === undefined) throw bad();
  const mask = ipv6PrefixMask(len);
  const v = new Uint8Array(16);
  for (let i = 0; i < 16; i++) v[i] = bytes[i] & mask[i];
  const value = formatIPv6(v);
  return part(text, spec.field, len === 128 ? value : { value, mask: formatIPv6(mask) });
}

/** A match's text (parts joined in the order written) and its OpenFlow match (fields in the codec's order). */
export function buildMatch(parts: ReadonlyArray<MatchPart | false | undefined>): { text: string; match: Match } {
  // Joined, not concatenated: `a + b` makes a rope of cons cells that the ledger would keep for as long as the
  // flow (a dozen 32-byte cells a flow); join writes one flat string.
  const texts: string[] = [];
  const fields: MatchPart[] = [];
  for (const p of parts) {
    if (!p) continue;
    texts.push(p.text);
    if (p.field === undefined) continue;
    // Insertion sort: a firewall match has at most ~8 fields.
    let i = fields.length;
    fields.push(p);
    while (i > 0 && fields[i - 1].rank > p.rank) {
      fields[i] = fields[i - 1];
      i--;
    }
    fields[i] = p;
  }
  const match: Record<string, unknown> = {};
  for (const f of fields) match[f.field!] = f.value;
  return { text: texts.length === 1 ? texts[0] : texts.join(','), match: match as Match };
}

/** One action, both spellings. */
export interface ActionPart {
  readonly text: string;
  readonly action: Action;
}

/** An action list, both spellings: the text after `actions=` and the instructions sent. */
export interface Actions {
  readonly text: string;
  readonly instructions: Instruction[];
}

/**
 * An action list. Its instructions are frozen, and so is every action in
 * them: protocol/openflow encodes a frozen list once and copies its bytes
 * after, and a port's lists are shared by many of its flows.
 */
export function actions(...list: ActionPart[]): Actions {
  if (list.length === 0) return DROP;
  const texts: string[] = [];
  const out: Action[] = [];
  for (const a of list) {
    texts.push(a.text);
    out.push(a.action);
  }
  const apply: Instruction = Object.freeze({ type: 'apply_actions', actions: Object.freeze(out) as Action[] });
  // Joined for the same reason as a match's text (buildMatch).
  return { text: texts.length === 1 ? texts[0] : texts.join(','), instructions: Object.freeze([apply]) as Instruction[] };
}

/** Freezes an action and what it holds (a ct action's zone and nested actions). */
function frozen<A extends Action>(a: A): A {
  for (const v of Object.values(a)) if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) frozen(v as Action);
  return Object.freeze(a);
}

/** No instructions at all, which is how OpenFlow drops. */
export const DROP: Actions = { text: 'drop', instructions: Object.freeze<Instruction[]>([]) as Instruction[] };

export const resubmit = (table: number): ActionPart => ({ text: flat`resubmit(,${table})`, action: frozen({ type: 'resubmit', port: OFPP.IN_PORT, table, ct: false }) });
export const output = (ofport: number): ActionPart => ({ text: flat`output:${ofport}`, action: frozen({ type: 'output', port: ofport, maxLen: 0 }) });
export const NORMAL: ActionPart = { text: 'normal', action: frozen({ type: 'output', port: OFPP.NORMAL, maxLen: 0 }) };
export const STRIP_VLAN: ActionPart = { text: 'strip_vlan', action: frozen({ type: 'pop_vlan' }) };
export const CT_CLEAR: ActionPart = { text: 'ct_clear', action: frozen({ type: 'ct_clear' }) };
export const setReg = (n: number, v: number): ActionPart => ({ text: flat`set_field:${v}->reg${n}`, action: frozen({ type: 'set_field', field: `reg${n}` as FieldName, value: v }) });
export const conjunction = (id: number, clause: number, nClauses: number): ActionPart => ({
  text: flat`conjunction(${id},${clause}/${nClauses})`,
  action: frozen({ type: 'conjunction', id, clause, nClauses }),
});

/** The conntrack zone is the local VLAN, held in reg6 (CT_ZONE). */
const ZONE = { field: `reg${Reg.NET}` as FieldName, ofs: 0, nBits: 16 };
const NO_RECIRC = 0xff;

/** `ct(table=T,zone=…)`: send through conntrack, continue in table T. */
export const ctTrack = (table: number): ActionPart => ({
  text: flat`ct(table=${table},zone=${CT_ZONE})`,
  action: frozen({ type: 'ct', commit: false, force: false, zone: ZONE, recircTable: table, alg: 0, actions: [] }),
});

/** `ct(commit,zone=…)`, optionally setting ct_mark on the committed connection. */
export function ctCommit(mark?: string): ActionPart {
  if (mark === undefined) {
    return { text: flat`ct(commit,zone=${CT_ZONE})`, action: frozen({ type: 'ct', commit: true, force: false, zone: ZONE, recircTable: NO_RECIRC, alg: 0, actions: [] }) };
  }
  return {
    text: flat`ct(commit,zone=${CT_ZONE},exec(set_field:${mark}->ct_mark))`,
    action: frozen({ type: 'ct', commit: true, force: false, zone: ZONE, recircTable: NO_RECIRC, alg: 0, actions: [{ type: 'set_field', field: 'ct_mark', value: Number(mark) }] }),
  };
}
