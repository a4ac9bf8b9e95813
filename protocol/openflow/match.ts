/**
 * ofp_match (OXM) encoding and decoding, and the value codec shared with
 * set_field and NXAST_REG_LOAD2.
 */
import { ETH_TYPE, IP_PROTO, OFPMT, OFPVID, OFPXMC } from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import { formatIpv4, formatIpv6, formatMac, writeIpv4, writeIpv6, writeMac } from './addr.js';
import { FIELD_BY_KEY, FIELDS, fieldKey } from './oxm-fields.js';
import type { AnyFieldValue, FieldDef, FieldName, Match, Masked } from './oxm-fields.js';
import type { OfReader } from './reader.js';
import type { OfWriter } from './writer.js';
import { putU64 } from './u64.js';

const CT_TRK = 0x20;
const CT_INV = 0x10;
/** CS_NEW | CS_ESTABLISHED | CS_RELATED | CS_REPLY_DIR | CS_SRC_NAT | CS_DST_NAT. */
const CT_IMPLIES_VALID = 0xcf;

function badValue(def: FieldDef, v: unknown, why: string): never {
  throw new OpenFlowEncodeError(
    'OF_ENCODE_BAD_VALUE',
    `field ${def.name}: ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)} ${why}`,
    def.name,
  );
}

/** The most bytes one OXM TLV takes: header, experimenter id, a 16-byte value and its mask. */
export const MAX_OXM_BYTES = 40;

/**
 * Writes one value of `def` at `p` in `b`, which the caller made long enough
 * (def.length bytes); returns the offset after it. The encode hot path: no
 * writer calls, no allocation, BigInt arithmetic only past 32 bits.
 */
function putValue(b: Buffer, p: number, def: FieldDef, v: AnyFieldValue): number {
  switch (def.kind) {
    case 'u32':
      if (def.length !== 4) break;
      if (typeof v !== 'number' || v >>> 0 !== v) badValue(def, v, 'is not an unsigned 32-bit integer');
      b[p] = v >>> 24;
      b[p + 1] = v >>> 16;
      b[p + 2] = v >>> 8;
      b[p + 3] = v;
      return p + 4;
    case 'mac':
      writeMac(b, p, v as string, def.name);
      return p + 6;
    case 'u16':
      if (typeof v !== 'number' || (v & 0xffff) !== v) badValue(def, v, 'is not an unsigned 16-bit integer');
      b[p] = v >>> 8;
      b[p + 1] = v;
      return p + 2;
    case 'ipv4':
      writeIpv4(b, p, v as string, def.name);
      return p + 4;
    case 'u8':
      if (typeof v !== 'number' || (v & 0xff) !== v) badValue(def, v, 'is not an unsigned 8-bit integer');
      b[p] = v;
      return p + 1;
    case 'u64':
      if (!putU64(b, p, v)) badValue(def, v, 'is not an unsigned 64-bit bigint');
      return p + 8;
    case 'ipv6':
      writeIpv6(b, p, v as string, def.name);
      return p + 16;
    case 'u128': {
      if (typeof v !== 'bigint' || v < 0n || v >> 128n !== 0n) badValue(def, v, 'is not an unsigned 128-bit bigint');
      let x = v;
      for (let i = p + 15; i >= p; i--) {
        b[i] = Number(x & 0xffn);
        x >>= 8n;
      }
      return p + 16;
    }
  }
  // pbb_isid, the one 3-byte field.
  if (typeof v !== 'number' || v >>> 0 !== v || v >= 1 << (def.length * 8)) badValue(def, v, `is not an unsigned ${def.length * 8}-bit integer`);
  for (let i = def.length - 1, x = v; i >= 0; i--, x >>>= 8) b[p + i] = x & 0xff;
  return p + def.length;
}

/** Writes one value of `def` (def.length bytes) at `w.pos`. */
export function writeFieldValue(w: OfWriter, def: FieldDef, v: AnyFieldValue): void {
  w.ensure(def.length);
  w.pos = putValue(w.buf, w.pos, def, v);
}

/** Reads one value of `def` from the reader. */
export function readFieldValue(r: OfReader, def: FieldDef): AnyFieldValue {
  const n = def.length;
  r.need(n, `${def.name} value`);
  const b = r.buf;
  const p = r.pos;
  r.pos += n;
  switch (def.kind) {
    case 'u8':
    case 'u16':
    case 'u32': {
      let x = 0;
      for (let i = 0; i < n; i++) x = x * 256 + b[p + i];
      return x;
    }
    case 'u64':
      return b.readBigUInt64BE(p);
    case 'u128':
      return (b.readBigUInt64BE(p) << 64n) | b.readBigUInt64BE(p + 8);
    case 'mac':
      return formatMac(b, p);
    case 'ipv4':
      return formatIpv4(b, p);
    case 'ipv6':
      return formatIpv6(b, p);
  }
}

/** The exact (unmasked) numeric value of a field in the match, or undefined. */
function exact(match: Match, name: FieldName): number | undefined {
  const v = match[name];
  return typeof v === 'number' ? v : undefined;
}

function isIp(match: Match): boolean {
  const t = exact(match, 'eth_type');
  return t === ETH_TYPE.IPV4 || t === ETH_TYPE.IPV6;
}

/**
 * OVS's is_ct_valid for a match: a matched state bit that implies a valid
 * connection (new, est, rel, rpl, snat, dnat), or +trk with -inv.
 */
function ctValid(match: Match): boolean {
  const ct = match.ct_state;
  if (ct === undefined) return false;
  const mask = typeof ct === 'number' ? 0xffffffff : ct.mask;
  const value = (typeof ct === 'number' ? ct : ct.value) & mask;
  return (value & CT_IMPLIES_VALID) !== 0 || ((value & CT_TRK) !== 0 && (mask & CT_INV) !== 0 && (value & CT_INV) === 0);
}

function ipProtoIs(match: Match, proto: number): boolean {
  return isIp(match) && exact(match, 'ip_proto') === proto;
}

/** Whether the prerequisite of `def` holds in `match` (OpenFlow 1.3 7.2.3.6, OVS for ct). */
export function prerequisiteMet(def: FieldDef, match: Match): boolean {
  switch (def.prereq) {
    case 'none':
      return true;
    case 'vlan': {
      const v = match.vlan_vid;
      if (v === undefined) return false;
      return typeof v === 'number' ? (v & OFPVID.PRESENT) !== 0 : (v.value & v.mask & OFPVID.PRESENT) !== 0;
    }
    case 'ip':
      return isIp(match);
    case 'ipv4':
      return exact(match, 'eth_type') === ETH_TYPE.IPV4;
    case 'ipv6':
      return exact(match, 'eth_type') === ETH_TYPE.IPV6;
    case 'arp': {
      const t = exact(match, 'eth_type');
      return t === ETH_TYPE.ARP || t === ETH_TYPE.RARP;
    }
    case 'mpls': {
      const t = exact(match, 'eth_type');
      return t === ETH_TYPE.MPLS || t === ETH_TYPE.MPLS_MCAST;
    }
    case 'pbb':
      return exact(match, 'eth_type') === ETH_TYPE.PBB;
    case 'tcp':
      return ipProtoIs(match, IP_PROTO.TCP);
    case 'udp':
      return ipProtoIs(match, IP_PROTO.UDP);
    case 'sctp':
      return ipProtoIs(match, IP_PROTO.SCTP);
    case 'icmpv4':
      return exact(match, 'eth_type') === ETH_TYPE.IPV4 && exact(match, 'ip_proto') === IP_PROTO.ICMP;
    case 'icmpv6':
      return exact(match, 'eth_type') === ETH_TYPE.IPV6 && exact(match, 'ip_proto') === IP_PROTO.ICMPV6;
    case 'nd':
    case 'nd_solicit':
    case 'nd_advert': {
      if (exact(match, 'eth_type') !== ETH_TYPE.IPV6 || exact(match, 'ip_proto') !== IP_PROTO.ICMPV6) return false;
      const t = exact(match, 'icmpv6_type');
      if (def.prereq === 'nd_solicit') return t === 135;
      if (def.prereq === 'nd_advert') return t === 136;
      return t === 135 || t === 136;
    }
    case 'ct':
      return ctValid(match) && isIp(match);
    case 'ct_ipv4':
      return ctValid(match) && exact(match, 'eth_type') === ETH_TYPE.IPV4;
    case 'ct_ipv6':
      return ctValid(match) && exact(match, 'eth_type') === ETH_TYPE.IPV6;
  }
}

const PREREQ_TEXT: Record<FieldDef['prereq'], string> = {
  none: '',
  vlan: 'vlan_vid with OFPVID_PRESENT',
  ip: 'eth_type=0x0800 or 0x86dd',
  ipv4: 'eth_type=0x0800',
  ipv6: 'eth_type=0x86dd',
  arp: 'eth_type=0x0806 or 0x8035',
  mpls: 'eth_type=0x8847 or 0x8848',
  pbb: 'eth_type=0x88e7',
  tcp: 'eth_type=ip/ipv6 and ip_proto=6',
  udp: 'eth_type=ip/ipv6 and ip_proto=17',
  sctp: 'eth_type=ip/ipv6 and ip_proto=132',
  icmpv4: 'eth_type=0x0800 and ip_proto=1',
  icmpv6: 'eth_type=0x86dd and ip_proto=58',
  nd: 'icmpv6 with icmpv6_type=135 or 136',
  nd_solicit: 'icmpv6 with icmpv6_type=135',
  nd_advert: 'icmpv6 with icmpv6_type=136',
  ct: 'ct_state=+trk-inv (or any of +new, +est, +rel, +rpl, +snat, +dnat) and eth_type=ip/ipv6',
  ct_ipv4: 'ct_state=+trk-inv (or any of +new, +est, +rel, +rpl, +snat, +dnat) and eth_type=0x0800',
  ct_ipv6: 'ct_state=+trk-inv (or any of +new, +est, +rel, +rpl, +snat, +dnat) and eth_type=0x86dd',
};

/** Looks up a field by name; throws OpenFlowEncodeError for unknown names. */
const FIELD_BY_NAME = new Map<string, FieldDef>(Object.entries(FIELDS));

/**
 * The definition (class, field, length, prerequisite) of a match field by name; throws on an
 * unknown name.
 */
export function fieldDef(name: string): FieldDef {
  const def = FIELD_BY_NAME.get(name);
  if (def === undefined) unknownField(name);
  return def;
}

function notMaskable(def: FieldDef): never {
  throw new OpenFlowEncodeError('OF_ENCODE_NOT_MASKABLE', `field ${def.name} cannot be masked`, def.name);
}

function unknownField(name: string): never {
  throw new OpenFlowEncodeError('OF_ENCODE_UNKNOWN_FIELD', `unknown match field "${name}"`, name);
}

function missingPrerequisite(def: FieldDef): never {
  throw new OpenFlowEncodeError(
    'OF_ENCODE_PREREQUISITE',
    `match field ${def.name} requires ${PREREQ_TEXT[def.prereq]} in the same match`,
    def.name,
  );
}

/**
 * Writes one OXM TLV (header, experimenter id if any, value, mask) at `p` in
 * `b`, which has room for MAX_OXM_BYTES; returns the offset after it. The
 * headers are the ones precomputed in the field table.
 */
export function putOxm(b: Buffer, p: number, def: FieldDef, v: AnyFieldValue | Masked<AnyFieldValue>): number {
  const masked = typeof v === 'object' && v !== null && 'mask' in v;
  if (masked && !def.maskable) notMaskable(def);
  const h = masked ? def.headerMasked : def.header;
  b[p] = h >>> 24;
  b[p + 1] = h >>> 16;
  b[p + 2] = h >>> 8;
  b[p + 3] = h;
  p += 4;
  const exp = def.experimenter;
  if (exp !== undefined) {
    b[p] = exp >>> 24;
    b[p + 1] = exp >>> 16;
    b[p + 2] = exp >>> 8;
    b[p + 3] = exp;
    p += 4;
  }
  if (!masked) return putValue(b, p, def, v as AnyFieldValue);
  p = putValue(b, p, def, (v as Masked<AnyFieldValue>).value);
  return putValue(b, p, def, (v as Masked<AnyFieldValue>).mask);
}

/** Writes one OXM TLV (header, experimenter id if any, value, mask) at `w.pos`. */
export function writeOxm(w: OfWriter, def: FieldDef, v: AnyFieldValue | Masked<AnyFieldValue>): void {
  w.ensure(MAX_OXM_BYTES);
  w.pos = putOxm(w.buf, w.pos, def, v);
}

/**
 * Writes an ofp_match of type OXM, padded to 8 bytes; checks prerequisites.
 * Straight into the writer's buffer: one room check per field, the writer's
 * position stored once at the end.
 */
export function encodeMatch(w: OfWriter, match: Match): void {
  const start = w.pos;
  if (start + 4 + MAX_OXM_BYTES > w.buf.length) w.ensure(4 + MAX_OXM_BYTES);
  let b = w.buf;
  let p = start + 4;
  b[start] = 0;
  b[start + 1] = OFPMT.OXM;
  for (const name in match) {
    const v = match[name as FieldName];
    if (v === undefined) continue;
    const def = FIELD_BY_NAME.get(name);
    if (def === undefined) unknownField(name);
    if (def.prereq !== 'none' && !prerequisiteMet(def, match)) missingPrerequisite(def);
    if (p + MAX_OXM_BYTES > b.length) {
      // ensure() may replace the buffer (never moving what is written); continue in the new one.
      w.pos = p;
      w.ensure(MAX_OXM_BYTES);
      b = w.buf;
    }
    p = putOxm(b, p, def, v);
  }
  const len = p - start;
  b[start + 2] = len >>> 8;
  b[start + 3] = len;
  const padded = start + ((len + 7) & ~7);
  if (padded > b.length) {
    w.pos = p;
    w.ensure(padded - p);
    b = w.buf;
  }
  while (p < padded) b[p++] = 0;
  w.pos = p;
}

/**
 * Writes an ofp_match of type OXM whose TLVs `source` appends as they are
 * (a sender that holds its matches encoded: FlowMod.writeOxm), padded to 8
 * bytes.
 */
export function encodeOxmMatch(w: OfWriter, source: { writeOxm(w: OfWriter): void }): void {
  if (w.pos + 4 > w.buf.length) w.ensure(4);
  const start = w.pos;
  w.buf[start] = 0;
  w.buf[start + 1] = OFPMT.OXM;
  w.pos = start + 4;
  source.writeOxm(w);
  const len = w.pos - start;
  w.buf[start + 2] = len >>> 8;
  w.buf[start + 3] = len;
  const pad = ((len + 7) & ~7) - len;
  if (w.pos + pad > w.buf.length) w.ensure(pad);
  for (let i = 0; i < pad; i++) w.buf[w.pos++] = 0;
}

/**
 * Reads one OXM TLV into `out[field]`; returns the field. Unknown
 * classes/fields, length mismatches and duplicates are decode errors.
 */
function readOxmInto(r: OfReader, out: Record<string, unknown>): FieldDef {
  const at = r.pos;
  const h = r.u32('OXM header');
  const cls = h >>> 16;
  const field = (h >>> 9) & 0x7f;
  const hasMask = (h & 0x100) !== 0;
  let len = h & 0xff;
  let exp = 0;
  if (cls === OFPXMC.EXPERIMENTER) {
    if (len < 4) r.fail('OF_DECODE_BAD_LENGTH', `experimenter OXM with length ${len}`, at);
    exp = r.u32('OXM experimenter');
    len -= 4;
  }
  const def = FIELD_BY_KEY.get(fieldKey(cls, field, exp));
  if (def === undefined) {
    r.fail(
      'OF_DECODE_UNKNOWN_FIELD',
      `unknown OXM field class 0x${cls.toString(16)} field ${field}${exp ? ` experimenter 0x${exp.toString(16)}` : ''}`,
      at,
    );
  }
  if (len !== (hasMask ? def.length * 2 : def.length)) {
    r.fail('OF_DECODE_BAD_LENGTH', `OXM ${def.name} has length ${len}, expected ${def.length}${hasMask ? ' x2' : ''}`, at);
  }
  if (hasMask && !def.maskable) r.fail('OF_DECODE_BAD_VALUE', `OXM ${def.name} is not maskable`, at);
  if (out[def.name] !== undefined) r.fail('OF_DECODE_BAD_VALUE', `duplicate OXM field ${def.name}`, at);
  const value = readFieldValue(r, def);
  out[def.name] = hasMask ? { value, mask: readFieldValue(r, def) } : value;
  return def;
}

/** Reads one OXM TLV; returns its field and value (set_field, NXAST_REG_LOAD2). */
export function readOxm(r: OfReader): { def: FieldDef; value: AnyFieldValue | Masked<AnyFieldValue> } {
  const holder: Record<string, AnyFieldValue | Masked<AnyFieldValue>> = {};
  const def = readOxmInto(r, holder);
  return { def, value: holder[def.name] };
}

/** Reads an ofp_match (OXM type) including its padding. */
export function decodeMatch(r: OfReader): Match {
  const at = r.pos;
  const type = r.u16('ofp_match type');
  const len = r.u16('ofp_match length');
  if (type !== OFPMT.OXM) r.fail('OF_DECODE_BAD_VALUE', `ofp_match type ${type} is not OFPMT_OXM`, at);
  if (len < 4) r.fail('OF_DECODE_BAD_LENGTH', `ofp_match length ${len}`, at);
  const padded = (len + 7) & ~7;
  r.need(padded - 4, 'ofp_match');
  // Read the fields in place, bounded by the match's own length (no sub-reader per match).
  const end = r.end;
  r.end = at + len;
  const match: Record<string, unknown> = {};
  while (r.pos < r.end) readOxmInto(r, match);
  r.end = end;
  r.pos = at + padded;
  return match as Match;
}
