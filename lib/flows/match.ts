/**
 * The words flows are matched with. A part is one field = value of a match,
 * encoded once when the part is made: the field's OXM bytes (`oxm`), from
 * which a flow's identity is spelled (flow.ts) and its flow-mod's match
 * written. A port's parts recur in dozens of its flows and are shared by
 * them, so a flow costs a few pointers, not a parse or an encode per field.
 *
 * Field order: a match's fields are put in one canonical order (`rank`):
 * the order the OXM encoder then writes them in, and the order in which a
 * flow's identity lists them, so a flow read back from the switch (whatever
 * order the switch reports its fields in) gets the same identity as the one
 * built here.
 */
import { FIELDS, MAX_OXM_BYTES, fieldDef, putOxm, type FieldName, type Match, type OfWriter } from '@ovs-agent/openflow';
import { parsedAddress } from './address-bytes.js';

/** One `field=value` of a match. */
export interface MatchPart {
  readonly field: FieldName;
  /** Position in the canonical field order. */
  readonly rank: number;
  /**
   * The field's OXM TLV in short (compactOxm): its rank and mask bit in one
   * char, then the value and mask bytes, one byte per char.
   */
  readonly oxm: string;
}

/**
 * The canonical order: the fields a flow is written with here first (the
 * order ovs-ofctl's parser produces them in, prerequisites before the fields
 * that need them), any other field after them, in the codec's table order.
 */
const LEADING: readonly FieldName[] = [
  'in_port', 'eth_dst', 'eth_src', 'eth_type', 'vlan_vid', 'vlan_pcp',
  'ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'ip_proto', 'ip_dscp', 'ip_ecn',
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst',
  'icmp_type', 'icmp_code', 'icmpv6_type', 'icmpv6_code', 'nd_target',
  'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'tun_id',
  'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7',
  'conj_id', 'ct_state', 'ct_zone', 'ct_mark',
] as FieldName[];

const RANK = new Map<string, number>();
LEADING.forEach((f, i) => RANK.set(f, i));
for (const name of Object.keys(FIELDS)) if (!RANK.has(name)) RANK.set(name, RANK.size);
// A rank and a mask bit share one char (compactOxm).
if (RANK.size > 0x80) throw new Error(`${RANK.size} match fields: more than a short OXM header can rank`);

export function rankOf(field: string): number {
  const r = RANK.get(field);
  if (r === undefined) throw new FlowMatchError(`unknown match field ${JSON.stringify(field)}`);
  return r;
}

export class FlowMatchError extends Error {
  override readonly name = 'FlowMatchError';
  readonly code = 'FLOW_BAD_MATCH';
}

const scratch = Buffer.alloc(MAX_OXM_BYTES);

/**
 * OXM headers by rank and mask bit (rank * 2 + mask), as seen: a field's
 * header (class, field, mask bit, length, experimenter id) is the same for
 * every value, so a flow's identity (flow.ts) need not spell it. Every
 * header a key holds was seen when its part was made.
 */
const headers: string[] = [];

/**
 * One OXM TLV (the `n` bytes in `scratch`) in short: one char for its rank
 * and mask bit (its header, 4 or 8 bytes, is in `headers`), then its value
 * and mask bytes. Saves 3 to 7 bytes a field on every key a table keeps.
 */
function compactOxm(rank: number, n: number): string {
  const headerLen = scratch[0] === 0xff && scratch[1] === 0xff ? 8 : 4;
  const masked = scratch[2] & 1;
  headers[rank * 2 + masked] ??= scratch.toString('latin1', 0, headerLen);
  return String.fromCharCode(rank | (masked << 7)) + scratch.toString('latin1', headerLen, n);
}

/** The OXM TLVs (one byte per char) a short spelling (compactOxm, joined) stands for. */
export function expandOxm(short: string): string {
  const out: string[] = [];
  for (let p = 0; p < short.length;) {
    const c = short.charCodeAt(p);
    const header = headers[(c & 0x7f) * 2 + (c >>> 7)];
    if (header === undefined) throw new FlowMatchError(`no OXM header known for rank ${c & 0x7f}`);
    // The header's length byte counts the experimenter id, if any, and the payload.
    const payload = header.charCodeAt(3) - (header.length - 4);
    out.push(header, short.slice(p + 1, p + 1 + payload));
    p += 1 + payload;
  }
  return out.join('');
}

/** A part for any field and codec value (a number, a MAC/IP string, `{ value, mask }`). */
export function matchPart<F extends FieldName>(field: F, value: NonNullable<Match[F]>): MatchPart {
  let n: number;
  try {
    n = putOxm(scratch, 0, fieldDef(field), value as NonNullable<Match[FieldName]>);
  } catch (err) {
    throw new FlowMatchError(`${field}: ${(err as Error).message}`);
  }
  const rank = rankOf(field);
  return { field, rank, oxm: compactOxm(rank, n) };
}

/**
 * A part for an address field from its bytes (and mask bytes): what
 * matchPart makes of the address's text, without writing the text only to
 * parse it back (the bytes putOxm writes: header, value, mask).
 */
function addressBytesPart(field: AddressField, value: Uint8Array, mask: Uint8Array | undefined): MatchPart {
  const def = fieldDef(field);
  const h = mask ? def.headerMasked : def.header;
  scratch[0] = h >>> 24;
  scratch[1] = h >>> 16;
  scratch[2] = h >>> 8;
  scratch[3] = h;
  let n = 4;
  if (def.experimenter !== undefined) {
    scratch.writeUInt32BE(def.experimenter, n);
    n += 4;
  }
  scratch.set(value, n);
  n += value.length;
  if (mask) {
    scratch.set(mask, n);
    n += mask.length;
  }
  const rank = rankOf(field);
  return { field, rank, oxm: compactOxm(rank, n) };
}

/**
 * Parts that many flows share (registers, ports, VLANs) are made once per
 * value. Bounded: values come from outside (ofports, VLAN ids), and a table
 * that outgrew its bound is simply started again.
 */
const CACHE_MAX = 65_536;
function cached<K>(make: (k: K) => MatchPart): (k: K) => MatchPart {
  const cache = new Map<K, MatchPart>();
  return (k) => {
    let p = cache.get(k);
    if (p === undefined) {
      p = make(k);
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(k, p);
    }
    return p;
  };
}

/** 0x1000: the "a VLAN tag is present" bit OpenFlow 1.3 puts in vlan_vid values. */
export const OFPVID_PRESENT = 0x1000;

export const inPort = cached((ofport: number) => matchPart('in_port', ofport));
/** A tag carrying this VLAN id (dl_vlan=N). */
export const dlVlan = cached((vid: number) => matchPart('vlan_vid', OFPVID_PRESENT | vid));
/** No VLAN tag (vlan_tci=0x0000/0x1fff). */
export const UNTAGGED = matchPart('vlan_vid', 0);
export const tunId = cached((id: number) => matchPart('tun_id', BigInt(id)));
const registers = Array.from({ length: 8 }, (_, n) => cached((v: number) => matchPart(`reg${n}` as FieldName, v)));
export const reg = (n: number, v: number): MatchPart => registers[n](v);
export const conjId = cached((id: number) => matchPart('conj_id', id));
export const ctZone = cached((zone: number) => matchPart('ct_zone', zone));
export const ctMark = cached((mark: number) => matchPart('ct_mark', mark));
export const ipProto = cached((proto: number) => matchPart('ip_proto', proto));
export const ethType = cached((type: number) => matchPart('eth_type', type));
export const ethSrc = cached((mac: string) => matchPart('eth_src', mac));
export const ethDst = cached((mac: string) => matchPart('eth_dst', mac));

/** Multicast/broadcast destinations (the group bit set), and unicast ones. */
export const MULTICAST_DST = matchPart('eth_dst', { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' });
export const UNICAST_DST = matchPart('eth_dst', { value: '00:00:00:00:00:00', mask: '01:00:00:00:00:00' });
export const BROADCAST_DST = matchPart('eth_dst', 'ff:ff:ff:ff:ff:ff');

/** ovs-fields(7)'s ct_state flags (OVS's CS_* bits). */
const CT_FLAGS: Readonly<Record<string, number>> = { new: 0x01, est: 0x02, rel: 0x04, rpl: 0x08, inv: 0x10, trk: 0x20, snat: 0x40, dnat: 0x80 };

/** `+est-rel-rpl`: each named flag must be set (+) or clear (-); the others are not looked at. */
export function ctState(flags: string): MatchPart {
  let value = 0;
  let mask = 0;
  let matched = 0;
  for (const m of flags.matchAll(/([+-])([a-z]+)/g)) {
    const bit = CT_FLAGS[m[2]];
    if (bit === undefined) throw new FlowMatchError(`unknown ct_state flag ${JSON.stringify(m[2])} in ${JSON.stringify(flags)}`);
    mask |= bit;
    if (m[1] === '+') value |= bit;
    matched += m[0].length;
  }
  if (matched !== flags.length || mask === 0) throw new FlowMatchError(`ct_state ${JSON.stringify(flags)} is not a list of +flag / -flag`);
  return matchPart('ct_state', { value, mask });
}

/** The transport fields of the protocols that have ports. */
const TRANSPORT: Readonly<Record<number, { src: FieldName; dst: FieldName }>> = {
  6: { src: 'tcp_src', dst: 'tcp_dst' },
  17: { src: 'udp_src', dst: 'udp_dst' },
  132: { src: 'sctp_src', dst: 'sctp_dst' },
};

function transport(proto: number): { src: FieldName; dst: FieldName } {
  const t = TRANSPORT[proto];
  if (!t) throw new FlowMatchError(`IP protocol ${proto} has no transport ports`);
  return t;
}

export const srcPort = (proto: number, port: number): MatchPart => matchPart(transport(proto).src, port);
export const dstPort = (proto: number, port: number, mask = 0xffff): MatchPart =>
  matchPart(transport(proto).dst, mask === 0xffff ? port : { value: port & mask, mask });

/** ICMP type and code: ICMPv6's own fields on IPv6. */
export const icmpType = (v6: boolean, type: number): MatchPart => matchPart(v6 ? 'icmpv6_type' : 'icmp_type', type);
export const icmpCode = (v6: boolean, code: number): MatchPart => matchPart(v6 ? 'icmpv6_code' : 'icmp_code', code);

/** Match fields that hold an address, and whether they are IPv6. */
const ADDRESS_FIELDS = {
  ip_src: false, ip_dst: false, arp_spa: false, arp_tpa: false,
  ipv6_src: true, ipv6_dst: true, nd_target: true,
} as const satisfies Partial<Record<FieldName, boolean>>;
export type AddressField = keyof typeof ADDRESS_FIELDS;

const ADDRESS_CACHE_MAX = 50_000;
/** Per field: address or CIDR → its part (null: /0, no part). */
const addressCaches = new Map<AddressField, Map<string, MatchPart | null>>();

/**
 * An address field matching an address or a CIDR block. A /0 block matches
 * everything and so is no field at all (undefined), as ovs-ofctl does. Each
 * distinct address is worked out once: a port's addresses recur in many of
 * its flows.
 */
export function address(field: AddressField, cidr: string): MatchPart | undefined {
  let cache = addressCaches.get(field);
  if (cache === undefined) addressCaches.set(field, (cache = new Map()));
  let p = cache.get(cidr);
  if (p === undefined) {
    const v6 = ADDRESS_FIELDS[field];
    const a = parsedAddress(v6, cidr);
    if (a === false) throw new FlowMatchError(`${field}=${cidr}: not an IPv${v6 ? 6 : 4} address or CIDR block`);
    p = a === null ? null : addressBytesPart(field, a.value, a.mask);
    if (cache.size >= ADDRESS_CACHE_MAX) cache.clear();
    cache.set(cidr, p);
  }
  return p ?? undefined;
}

/** Parts being sorted (matchKey): reused, so a flow costs no array of its own. */
const sorting: MatchPart[] = [];
let sorted = 0;

/**
 * What a flow's match is written with: parts, and lists of parts shared by
 * many flows (a port's `in_port` and register, a rule's fields), which are
 * read where they are rather than copied into each flow's list; false and
 * undefined are skipped.
 */
export type MatchParts = ReadonlyArray<MatchPart | MatchParts | false | undefined>;

function sortIn(parts: MatchParts): void {
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j];
    if (!p) continue;
    if (Array.isArray(p)) {
      sortIn(p as MatchParts);
      continue;
    }
    const part = p as MatchPart;
    // Insertion sort: a match has a handful of fields.
    let i = sorted++;
    while (i > 0 && sorting[i - 1].rank > part.rank) {
      sorting[i] = sorting[i - 1];
      i--;
    }
    sorting[i] = part;
    if ((i > 0 && sorting[i - 1].rank === part.rank) || (i + 1 < sorted && sorting[i + 1].rank === part.rank)) {
      sorted = 0;
      sorting.length = 0;
      throw new FlowMatchError(`match field ${part.field} given twice`);
    }
  }
}

/**
 * The OXM bytes in short (compactOxm) of a match from parts, fields in
 * canonical order, after `prefix` (a flow's table and priority, flow.ts), as
 * one flat string: the flow's key. No match object is made: the encoder
 * writes the match from the key (writeExpandedOxm). A field given twice is a
 * mistake in the caller (OpenFlow has no "either" match).
 */
export function matchKey(parts: MatchParts, prefix: string): string {
  sorted = 0;
  sortIn(parts);
  const n = sorted;
  // One flat string: `a + b` makes a rope of cons cells a table would keep for the flow's life.
  let key: string;
  if (n === 0) key = prefix;
  else {
    for (let i = 0; i < n; i++) joining[i + 1] = sorting[i].oxm;
    joining[0] = prefix;
    joining.length = n + 1;
    key = joining.join('');
  }
  sorting.length = 0;
  sorted = 0;
  return key;
}
const joining: string[] = [];

/**
 * Appends at `w.pos` the OXM TLVs a short spelling (compactOxm, joined)
 * stands for, from its char `from` on: headers from `headers`, values and
 * masks as they are. Straight into the writer's buffer, nothing allocated.
 */
export function writeExpandedOxm(w: OfWriter, short: string, from: number): void {
  // A field is at least one char and grows by its header's 3 or 7 bytes at most.
  const room = 8 * (short.length - from);
  if (w.pos + room > w.buf.length) w.ensure(room);
  const b = w.buf;
  let p = w.pos;
  for (let i = from; i < short.length;) {
    const c = short.charCodeAt(i++);
    const header = headers[(c & 0x7f) * 2 + (c >>> 7)];
    if (header === undefined) throw new FlowMatchError(`no OXM header known for rank ${c & 0x7f}`);
    for (let k = 0; k < header.length; k++) b[p++] = header.charCodeAt(k);
    const payload = header.charCodeAt(3) - (header.length - 4);
    for (let k = 0; k < payload; k++) b[p++] = short.charCodeAt(i++);
  }
  w.pos = p;
}

/**
 * Where `part` is in a short spelling (compactOxm, joined), read field by
 * field from char `from`: the index of its first char, or -1 when the match
 * has no such field with that value.
 */
export function partOffset(short: string, from: number, part: MatchPart): number {
  for (let p = from; p < short.length;) {
    const c = short.charCodeAt(p);
    const header = headers[(c & 0x7f) * 2 + (c >>> 7)];
    if (header === undefined) throw new FlowMatchError(`no OXM header known for rank ${c & 0x7f}`);
    const len = 1 + header.charCodeAt(3) - (header.length - 4);
    if (len === part.oxm.length && short.startsWith(part.oxm, p)) return p;
    p += len;
  }
  return -1;
}

/** The canonical OXM bytes in short of any match (one read back from the switch): its fields sorted as buildMatch sorts them. */
export function canonicalOxm(match: Match): string {
  const fields = Object.keys(match).filter((f) => match[f as FieldName] !== undefined).sort((a, b) => rankOf(a) - rankOf(b));
  const out: string[] = [];
  for (const f of fields) {
    const n = putOxm(scratch, 0, fieldDef(f), match[f as FieldName]!);
    out.push(compactOxm(rankOf(f), n));
  }
  return out.join('');
}
