/**
 * OpenFlow 1.3 actions and the Nicira extension actions, encoded as Open
 * vSwitch encodes them in OF1.3 (ofp-actions.c) and decoded back into the
 * Action union. Every action is padded to a multiple of 8 bytes.
 */
import {
  EXPERIMENTER_ID,
  NX_CT_F,
  NX_LEARN,
  NX_NAT_RANGE,
  NXAC2PT,
  NXAST,
  OFPAT,
  OFPCML,
  OFPR,
  OFPXMC,
} from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import * as check from './checks.js';
import { formatIpv4, formatIpv6, writeIpv4, writeIpv6 } from './addr.js';
import { fieldDef, readOxm, writeOxm } from './match.js';
import { FIELD_BY_REF, fieldKey } from './oxm-fields.js';
import type { FieldDef } from './oxm-fields.js';
import type { OfReader } from './reader.js';
import type { OfWriter } from './writer.js';
import type { Action, CtAction, LearnAction, LearnSpec, NatAction, Subfield } from './types.js';

/** Nesting limit for ct/clone when decoding, so hostile input cannot recurse without bound. */
const MAX_NESTING = 8;

// ---------------------------------------------------------------------------
// Helpers

/** OF1.0-style 16-bit port (Nicira actions) from a 32-bit OF1.1+ port. */
function port16(port: number, what: string): number {
  if (port >= 0xffffff00) return port - 0xffff0000;
  if (port >= 0xff00 || port < 0 || !Number.isInteger(port)) {
    throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `${what}: port ${port} does not fit a 16-bit Nicira port`, what);
  }
  return port;
}
function port32(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

/**
 * The header naming `sf`'s field in an action, after checking the bits lie in
 * the field: the NXM header when it covers them (as OVS encodes), else the
 * wider OXM one (in_port bits past 15).
 */
function refHeader(sf: Subfield, what: string): number {
  const def = fieldDef(sf.field);
  if (def.refHeader === 0) {
    throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', `${what}: field ${sf.field} cannot be referenced by actions`, sf.field);
  }
  const top = sf.ofs + sf.nBits;
  if (!Number.isInteger(sf.ofs) || !Number.isInteger(sf.nBits) || sf.ofs < 0 || sf.nBits < 1 || top > def.wideRefBits) {
    throw new OpenFlowEncodeError(
      'OF_ENCODE_BAD_VALUE',
      `${what}: ${sf.field}[${sf.ofs}..${top - 1}] is outside the ${def.wideRefBits}-bit field`,
      sf.field,
    );
  }
  return top <= def.refBits ? def.refHeader : def.wideRefHeader;
}

function ofsNbits(sf: Subfield): number {
  return (sf.ofs << 6) | (sf.nBits - 1);
}

/** Reads an action field reference header (4 bytes, or 8 for experimenter class). */
function readRef(r: OfReader, what: string): FieldDef {
  const at = r.pos;
  const h = r.u32(what);
  const cls = h >>> 16;
  const exp = cls === OFPXMC.EXPERIMENTER ? r.u32(what) : 0;
  const def = FIELD_BY_REF.get(fieldKey(cls, (h >>> 9) & 0x7f, exp));
  if (def === undefined) r.fail('OF_DECODE_UNKNOWN_FIELD', `${what}: unknown field header 0x${h.toString(16)}`, at);
  return def;
}

function subfield(r: OfReader, def: FieldDef, ofs: number, nBits: number, at: number): Subfield {
  if (nBits < 1 || ofs + nBits > def.wideRefBits) {
    r.fail('OF_DECODE_BAD_VALUE', `subfield ${def.name}[${ofs}..${ofs + nBits - 1}] exceeds the field`, at);
  }
  return { field: def.name, ofs, nBits };
}

function readSubfieldOfsNbits(r: OfReader, ofsNbitsValue: number, def: FieldDef, at: number): Subfield {
  return subfield(r, def, ofsNbitsValue >>> 6, (ofsNbitsValue & 0x3f) + 1, at);
}

/** Starts an action: type and a length placeholder. Returns its offset. */
function begin(w: OfWriter, type: number): number {
  const start = w.pos;
  w.u16(type);
  w.u16(0);
  return start;
}

/** Starts a Nicira action: OFPAT_EXPERIMENTER, length, NX id, subtype (10 bytes). */
function beginNx(w: OfWriter, subtype: number): number {
  const start = begin(w, OFPAT.EXPERIMENTER);
  w.u32(EXPERIMENTER_ID.NICIRA);
  w.u16(subtype);
  return start;
}

/** Pads to 8 and back-patches the action length. */
function end(w: OfWriter, start: number): void {
  w.pad8(start);
  const len = w.pos - start;
  if (len > 0xffff) throw new OpenFlowEncodeError('OF_ENCODE_TOO_LONG', `action of ${len} bytes exceeds 65535`);
  w.patchU16(start + 2, len);
}

function u16Arg(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `${what}: ${v} is not a 16-bit value`, what);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Encoding

export function encodeActions(w: OfWriter, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) encodeAction(w, actions[i]);
}

export function encodeAction(w: OfWriter, a: Action): void {
  let s: number;
  switch (a.type) {
    case 'output':
      w.ensure(16);
      w.u16(OFPAT.OUTPUT);
      w.u16(16);
      w.u32(check.u32(a.port, 'output port'));
      w.u16(check.u16(a.maxLen, 'output max_len'));
      w.zeros(6);
      return;
    case 'group':
      s = begin(w, OFPAT.GROUP);
      w.u32(a.groupId);
      return end(w, s);
    case 'set_queue':
      s = begin(w, OFPAT.SET_QUEUE);
      w.u32(a.queueId);
      return end(w, s);
    case 'copy_ttl_out':
    case 'copy_ttl_in':
    case 'dec_mpls_ttl':
    case 'pop_vlan':
    case 'pop_pbb':
    case 'dec_nw_ttl':
      s = begin(w, STANDARD_VOID[a.type]);
      w.zeros(4);
      return end(w, s);
    case 'set_mpls_ttl':
    case 'set_nw_ttl':
      s = begin(w, a.type === 'set_mpls_ttl' ? OFPAT.SET_MPLS_TTL : OFPAT.SET_NW_TTL);
      w.u8(a.ttl);
      return end(w, s);
    case 'push_vlan':
    case 'push_mpls':
    case 'pop_mpls':
    case 'push_pbb':
      s = begin(w, ETHERTYPE_ACTIONS[a.type]);
      w.u16(a.ethertype);
      return end(w, s);
    case 'set_field': {
      const def = fieldDef(a.field);
      if (a.mask === undefined) {
        s = begin(w, OFPAT.SET_FIELD);
        writeOxm(w, def, a.value);
      } else {
        // OF1.3 set_field cannot carry a mask; OVS uses NXAST_REG_LOAD2, whose OXM starts right after the subtype.
        s = beginNx(w, NXAST.REG_LOAD2);
        writeOxm(w, def, { value: a.value, mask: a.mask });
      }
      return end(w, s);
    }
    case 'reg_load': {
      const header = refHeader(a.dst, 'reg_load');
      if (a.dst.nBits > 64) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', 'reg_load: at most 64 bits', a.dst.field);
      if (a.value < 0n || a.value >> BigInt(a.dst.nBits) !== 0n) {
        throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `reg_load: ${a.value} does not fit ${a.dst.field}[${a.dst.ofs}..${a.dst.ofs + a.dst.nBits - 1}]`, a.dst.field);
      }
      s = beginNx(w, NXAST.REG_LOAD);
      w.u16(ofsNbits(a.dst));
      w.u32(header);
      w.u64(a.value);
      return end(w, s);
    }
    case 'reg_move': {
      const src = refHeader(a.src, 'reg_move source');
      const dst = refHeader(a.dst, 'reg_move destination');
      if (a.src.nBits !== a.dst.nBits) {
        throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `reg_move: source is ${a.src.nBits} bits, destination ${a.dst.nBits}`);
      }
      s = beginNx(w, NXAST.REG_MOVE);
      w.u16(a.src.nBits);
      w.u16(a.src.ofs);
      w.u16(a.dst.ofs);
      w.u32(src);
      w.u32(dst);
      return end(w, s);
    }
    case 'resubmit': {
      // OVS sends RESUBMIT_TABLE even for "resubmit(port)" (table 255).
      s = beginNx(w, a.ct ? NXAST.RESUBMIT_TABLE_CT : NXAST.RESUBMIT_TABLE);
      w.u16(port16(a.port, 'resubmit'));
      w.u8(a.table);
      w.zeros(3);
      return end(w, s);
    }
    case 'output_reg': {
      const header = refHeader(a.src, 'output_reg');
      s = beginNx(w, NXAST.OUTPUT_REG);
      w.u16(ofsNbits(a.src));
      w.u32(header);
      w.u16(a.maxLen);
      w.zeros(6);
      return end(w, s);
    }
    case 'conjunction':
      if (a.nClauses < 2 || a.nClauses > 64 || a.clause < 1 || a.clause > a.nClauses) {
        throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `conjunction: clause ${a.clause}/${a.nClauses} is out of range`);
      }
      s = beginNx(w, NXAST.CONJUNCTION);
      w.u8(a.clause - 1);
      w.u8(a.nClauses);
      w.u32(a.id);
      return end(w, s);
    case 'note':
      s = beginNx(w, NXAST.NOTE);
      w.bytes(a.data);
      // nx_action_note is at least 16 bytes.
      if (w.pos - s < 16) w.zeros(16 - (w.pos - s));
      return end(w, s);
    case 'dec_ttl':
      s = beginNx(w, NXAST.DEC_TTL_CNT_IDS);
      w.u16(a.controllerIds.length);
      w.zeros(4);
      for (const id of a.controllerIds) w.u16(u16Arg(id, 'dec_ttl controller id'));
      return end(w, s);
    case 'controller':
      return encodeController(w, a);
    case 'ct':
      return encodeCt(w, a);
    case 'nat':
      return encodeNat(w, a);
    case 'ct_clear':
    case 'exit':
      s = beginNx(w, a.type === 'ct_clear' ? NXAST.CT_CLEAR : NXAST.EXIT);
      w.zeros(6);
      return end(w, s);
    case 'learn':
      return encodeLearn(w, a);
    case 'multipath': {
      const header = refHeader(a.dst, 'multipath');
      s = beginNx(w, NXAST.MULTIPATH);
      w.u16(a.fields);
      w.u16(a.basis);
      w.zeros(2);
      w.u16(a.algorithm);
      w.u16(a.maxLink);
      w.u32(a.arg);
      w.zeros(2);
      w.u16(ofsNbits(a.dst));
      w.u32(header);
      return end(w, s);
    }
    case 'set_tunnel':
      s = beginNx(w, NXAST.SET_TUNNEL64);
      w.zeros(6);
      w.u64(a.tunId);
      return end(w, s);
    case 'clone':
      s = beginNx(w, NXAST.CLONE);
      w.zeros(6);
      encodeActions(w, a.actions);
      return end(w, s);
    case 'experimenter':
      s = begin(w, OFPAT.EXPERIMENTER);
      w.u32(a.experimenter);
      w.bytes(a.data);
      return end(w, s);
    default: {
      const never: never = a;
      throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', `unknown action ${JSON.stringify((never as Action).type)}`);
    }
  }
}

const STANDARD_VOID = {
  copy_ttl_out: OFPAT.COPY_TTL_OUT,
  copy_ttl_in: OFPAT.COPY_TTL_IN,
  dec_mpls_ttl: OFPAT.DEC_MPLS_TTL,
  pop_vlan: OFPAT.POP_VLAN,
  pop_pbb: OFPAT.POP_PBB,
  dec_nw_ttl: OFPAT.DEC_NW_TTL,
} as const;

const ETHERTYPE_ACTIONS = {
  push_vlan: OFPAT.PUSH_VLAN,
  push_mpls: OFPAT.PUSH_MPLS,
  pop_mpls: OFPAT.POP_MPLS,
  push_pbb: OFPAT.PUSH_PBB,
} as const;

function encodeController(w: OfWriter, a: Extract<Action, { type: 'controller' }>): void {
  const simple = a.userdata === undefined && !a.pause && a.meterId === undefined;
  if (simple) {
    const s = beginNx(w, NXAST.CONTROLLER);
    w.u16(a.maxLen);
    w.u16(a.controllerId);
    w.u8(a.reason);
    w.u8(0);
    return end(w, s);
  }
  const s = beginNx(w, NXAST.CONTROLLER2);
  w.zeros(6);
  const prop = (type: number, write: () => void): void => {
    const p = w.pos;
    w.u16(type);
    w.u16(0);
    write();
    w.patchU16(p + 2, w.pos - p);
    w.pad8(p);
  };
  // Like OVS's ofpprop_put_u16/u8, small values are padded to 4 bytes inside the property length.
  if (a.maxLen !== OFPCML.NO_BUFFER) prop(NXAC2PT.MAX_LEN, () => (w.u16(a.maxLen), w.u16(0)));
  if (a.controllerId !== 0) prop(NXAC2PT.CONTROLLER_ID, () => (w.u16(a.controllerId), w.u16(0)));
  if (a.reason !== OFPR.ACTION) prop(NXAC2PT.REASON, () => (w.u8(a.reason), w.zeros(3)));
  if (a.userdata !== undefined && a.userdata.length > 0) prop(NXAC2PT.USERDATA, () => w.bytes(a.userdata!));
  if (a.pause) prop(NXAC2PT.PAUSE, () => undefined);
  if (a.meterId !== undefined) prop(NXAC2PT.METER_ID, () => w.u32(a.meterId!));
  end(w, s);
}

function encodeCt(w: OfWriter, a: CtAction): void {
  const s = beginNx(w, NXAST.CT);
  w.u16((a.commit ? NX_CT_F.COMMIT : 0) | (a.force ? NX_CT_F.FORCE : 0));
  if (typeof a.zone === 'number') {
    w.u32(0);
    w.u16(u16Arg(a.zone, 'ct zone'));
  } else {
    const header = refHeader(a.zone, 'ct zone');
    if (a.zone.nBits !== 16) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', 'ct zone subfield must be 16 bits', a.zone.field);
    w.u32(header);
    w.u16(ofsNbits(a.zone));
  }
  w.u8(a.recircTable);
  w.zeros(3);
  w.u16(a.alg);
  encodeActions(w, a.actions);
  end(w, s);
}

function encodeNat(w: OfWriter, a: NatAction): void {
  const s = beginNx(w, NXAST.NAT);
  w.zeros(2);
  w.u16(a.flags);
  let present = 0;
  if (a.ipv4Min !== undefined) present |= NX_NAT_RANGE.IPV4_MIN;
  if (a.ipv4Max !== undefined) present |= NX_NAT_RANGE.IPV4_MAX;
  if (a.ipv6Min !== undefined) present |= NX_NAT_RANGE.IPV6_MIN;
  if (a.ipv6Max !== undefined) present |= NX_NAT_RANGE.IPV6_MAX;
  if (a.protoMin !== undefined) present |= NX_NAT_RANGE.PROTO_MIN;
  if (a.protoMax !== undefined) present |= NX_NAT_RANGE.PROTO_MAX;
  w.u16(present);
  const addr = (len: number, write: (b: Buffer, at: number) => void): void => {
    w.ensure(len);
    write(w.buf, w.pos);
    w.pos += len;
  };
  if (a.ipv4Min !== undefined) addr(4, (b, at) => writeIpv4(b, at, a.ipv4Min!, 'nat ipv4'));
  if (a.ipv4Max !== undefined) addr(4, (b, at) => writeIpv4(b, at, a.ipv4Max!, 'nat ipv4'));
  if (a.ipv6Min !== undefined) addr(16, (b, at) => writeIpv6(b, at, a.ipv6Min!, 'nat ipv6'));
  if (a.ipv6Max !== undefined) addr(16, (b, at) => writeIpv6(b, at, a.ipv6Max!, 'nat ipv6'));
  if (a.protoMin !== undefined) w.u16(u16Arg(a.protoMin, 'nat port'));
  if (a.protoMax !== undefined) w.u16(u16Arg(a.protoMax, 'nat port'));
  end(w, s);
}

function immediateBytes(nBits: number): number {
  return 2 * Math.ceil(nBits / 16);
}

function encodeLearn(w: OfWriter, a: LearnAction): void {
  const s = beginNx(w, NXAST.LEARN);
  w.u16(a.idleTimeout);
  w.u16(a.hardTimeout);
  w.u16(a.priority);
  w.u64(a.cookie);
  w.u16(a.flags);
  w.u8(a.tableId);
  w.u8(0);
  w.u16(a.finIdleTimeout);
  w.u16(a.finHardTimeout);
  for (const spec of a.specs) {
    const dst = spec.kind === 'output_field' ? undefined : spec.dst;
    const src = spec.kind === 'match_field' || spec.kind === 'load_field' || spec.kind === 'output_field' ? spec.src : undefined;
    const nBits = (dst ?? src!).nBits;
    if (src && dst && src.nBits !== dst.nBits) {
      throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `learn: source is ${src.nBits} bits, destination ${dst.nBits}`);
    }
    if (nBits > NX_LEARN.N_BITS_MASK) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', 'learn: spec wider than 1023 bits');
    const srcType = src ? NX_LEARN.SRC_FIELD : NX_LEARN.SRC_IMMEDIATE;
    const dstType =
      spec.kind === 'output_field' ? NX_LEARN.DST_OUTPUT : spec.kind.startsWith('match') ? NX_LEARN.DST_MATCH : NX_LEARN.DST_LOAD;
    w.u16(srcType | dstType | nBits);
    if (src) {
      w.u32(refHeader(src, 'learn source'));
      w.u16(src.ofs);
    } else {
      const value = (spec as { value: bigint }).value;
      const n = immediateBytes(nBits);
      if (value < 0n || value >> BigInt(n * 8) !== 0n) {
        throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `learn: immediate ${value} does not fit ${nBits} bits`);
      }
      w.uintN(value, n);
    }
    if (dst) {
      w.u32(refHeader(dst, 'learn destination'));
      w.u16(dst.ofs);
    }
  }
  end(w, s);
}

// ---------------------------------------------------------------------------
// Decoding

/** Decodes actions until the reader's end. */
export function decodeActions(r: OfReader, depth = 0): Action[] {
  if (depth > MAX_NESTING) r.fail('OF_DECODE_TOO_DEEP', `actions nested more than ${MAX_NESTING} deep`);
  const out: Action[] = [];
  while (r.remaining > 0) out.push(decodeAction(r, depth));
  return out;
}

export function decodeAction(r: OfReader, depth = 0): Action {
  const at = r.pos;
  r.need(4, 'action header');
  const type = r.buf.readUInt16BE(r.pos);
  const len = r.buf.readUInt16BE(r.pos + 2);
  if (len < 8 || len % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `action type ${type} has length ${len}`, at);
  r.need(len, `action type ${type}`);
  // Decode in place with the reader bounded to this action (no sub-reader per action).
  const end = r.end;
  r.end = at + len;
  r.pos = at + 4;
  const action = decodeActionBody(r, type, len, at, depth);
  r.end = end;
  r.pos = at + len;
  return action;
}

function decodeActionBody(a: OfReader, type: number, len: number, at: number, depth: number): Action {
  switch (type) {
    case OFPAT.OUTPUT: {
      if (len !== 16) a.fail('OF_DECODE_BAD_LENGTH', `output action length ${len}`, at);
      const port = a.u32();
      return { type: 'output', port, maxLen: a.u16() };
    }
    case OFPAT.GROUP:
      return { type: 'group', groupId: a.u32('group id') };
    case OFPAT.SET_QUEUE:
      return { type: 'set_queue', queueId: a.u32('queue id') };
    case OFPAT.COPY_TTL_OUT:
      return { type: 'copy_ttl_out' };
    case OFPAT.COPY_TTL_IN:
      return { type: 'copy_ttl_in' };
    case OFPAT.DEC_MPLS_TTL:
      return { type: 'dec_mpls_ttl' };
    case OFPAT.POP_VLAN:
      return { type: 'pop_vlan' };
    case OFPAT.POP_PBB:
      return { type: 'pop_pbb' };
    case OFPAT.DEC_NW_TTL:
      return { type: 'dec_nw_ttl' };
    case OFPAT.SET_MPLS_TTL:
      return { type: 'set_mpls_ttl', ttl: a.u8('ttl') };
    case OFPAT.SET_NW_TTL:
      return { type: 'set_nw_ttl', ttl: a.u8('ttl') };
    case OFPAT.PUSH_VLAN:
      return { type: 'push_vlan', ethertype: a.u16('ethertype') };
    case OFPAT.PUSH_MPLS:
      return { type: 'push_mpls', ethertype: a.u16('ethertype') };
    case OFPAT.POP_MPLS:
      return { type: 'pop_mpls', ethertype: a.u16('ethertype') };
    case OFPAT.PUSH_PBB:
      return { type: 'push_pbb', ethertype: a.u16('ethertype') };
    case OFPAT.SET_FIELD: {
      const { def, value } = readOxm(a);
      if (typeof value === 'object' && value !== null && 'mask' in value) {
        return { type: 'set_field', field: def.name, value: value.value, mask: value.mask };
      }
      return { type: 'set_field', field: def.name, value };
    }
    case OFPAT.EXPERIMENTER: {
      const experimenter = a.u32('experimenter id');
      if (experimenter === EXPERIMENTER_ID.NICIRA && a.remaining >= 2) {
        const decoded = decodeNx(a, at, depth);
        if (decoded) return decoded;
        a.pos = at + 8;
      }
      return { type: 'experimenter', experimenter, data: a.bytes(a.remaining) };
    }
    default:
      return a.fail('OF_DECODE_BAD_VALUE', `unknown action type ${type}`, at);
  }
}

/** Decodes a Nicira action body (reader at the subtype); undefined for subtypes kept raw. */
function decodeNx(a: OfReader, at: number, depth: number): Action | undefined {
  const subtype = a.u16('NX subtype');
  switch (subtype) {
    case NXAST.RESUBMIT:
    case NXAST.RESUBMIT_TABLE:
    case NXAST.RESUBMIT_TABLE_CT: {
      const port = port32(a.u16('resubmit port'));
      const table = a.u8('resubmit table');
      return { type: 'resubmit', port, table: subtype === NXAST.RESUBMIT ? 0xff : table, ct: subtype === NXAST.RESUBMIT_TABLE_CT };
    }
    case NXAST.REG_MOVE: {
      const nBits = a.u16('n_bits');
      const srcOfs = a.u16('src_ofs');
      const dstOfs = a.u16('dst_ofs');
      const src = readRef(a, 'reg_move src');
      const dst = readRef(a, 'reg_move dst');
      return { type: 'reg_move', src: subfield(a, src, srcOfs, nBits, at), dst: subfield(a, dst, dstOfs, nBits, at) };
    }
    case NXAST.REG_LOAD: {
      const on = a.u16('ofs_nbits');
      const dst = readSubfieldOfsNbits(a, on, readRef(a, 'reg_load dst'), at);
      const value = a.u64('reg_load value');
      if (dst.nBits < 64 && value >> BigInt(dst.nBits) !== 0n) a.fail('OF_DECODE_BAD_VALUE', 'reg_load value wider than its subfield', at);
      return { type: 'reg_load', dst, value };
    }
    case NXAST.REG_LOAD2: {
      const { def, value } = readOxm(a);
      if (typeof value === 'object' && value !== null && 'mask' in value) {
        return { type: 'set_field', field: def.name, value: value.value, mask: value.mask };
      }
      return { type: 'set_field', field: def.name, value };
    }
    case NXAST.OUTPUT_REG: {
      const on = a.u16('ofs_nbits');
      const src = readSubfieldOfsNbits(a, on, readRef(a, 'output_reg src'), at);
      return { type: 'output_reg', src, maxLen: a.u16('max_len') };
    }
    case NXAST.OUTPUT_REG2: {
      const on = a.u16('ofs_nbits');
      const maxLen = a.u16('max_len');
      const src = readSubfieldOfsNbits(a, on, readRef(a, 'output_reg2 src'), at);
      return { type: 'output_reg', src, maxLen };
    }
    case NXAST.CONJUNCTION: {
      const clause = a.u8('clause') + 1;
      const nClauses = a.u8('n_clauses');
      return { type: 'conjunction', clause, nClauses, id: a.u32('conjunction id') };
    }
    case NXAST.NOTE:
      return { type: 'note', data: a.bytes(a.remaining) };
    case NXAST.DEC_TTL_CNT_IDS: {
      const n = a.u16('n_controllers');
      a.skip(4);
      a.need(n * 2, 'controller ids');
      const controllerIds: number[] = [];
      for (let i = 0; i < n; i++) controllerIds.push(a.u16());
      return { type: 'dec_ttl', controllerIds };
    }
    case NXAST.CONTROLLER: {
      const maxLen = a.u16('max_len');
      const controllerId = a.u16('controller_id');
      return { type: 'controller', maxLen, controllerId, reason: a.u8('reason') };
    }
    case NXAST.CONTROLLER2:
      return decodeController2(a);
    case NXAST.CT:
      return decodeCt(a, at, depth);
    case NXAST.NAT:
      return decodeNat(a, at);
    case NXAST.CT_CLEAR:
      return { type: 'ct_clear' };
    case NXAST.EXIT:
      return { type: 'exit' };
    case NXAST.LEARN:
      return decodeLearn(a);
    case NXAST.MULTIPATH: {
      const fields = a.u16('fields');
      const basis = a.u16('basis');
      a.skip(2);
      const algorithm = a.u16('algorithm');
      const maxLink = a.u16('max_link');
      const arg = a.u32('arg');
      a.skip(2);
      const on = a.u16('ofs_nbits');
      const dst = readSubfieldOfsNbits(a, on, readRef(a, 'multipath dst'), at);
      return { type: 'multipath', fields, basis, algorithm, maxLink, arg, dst };
    }
    case NXAST.SET_TUNNEL: {
      a.skip(2);
      return { type: 'set_tunnel', tunId: BigInt(a.u32('tun_id')) };
    }
    case NXAST.SET_TUNNEL64: {
      a.skip(6);
      return { type: 'set_tunnel', tunId: a.u64('tun_id') };
    }
    case NXAST.CLONE: {
      a.skip(6);
      return { type: 'clone', actions: decodeActions(a, depth + 1) };
    }
    default:
      return undefined;
  }
}

function decodeController2(a: OfReader): Action {
  a.skip(6);
  const out: Extract<Action, { type: 'controller' }> = {
    type: 'controller',
    maxLen: OFPCML.NO_BUFFER,
    controllerId: 0,
    reason: OFPR.ACTION,
  };
  while (a.remaining >= 4) {
    const at = a.pos;
    const type = a.u16('property type');
    const len = a.u16('property length');
    if (len < 4) a.fail('OF_DECODE_BAD_LENGTH', `controller2 property length ${len}`, at);
    const p = a.sub(len - 4, 'controller2 property');
    const padded = (len + 7) & ~7;
    a.pos = Math.min(at + padded, a.end);
    switch (type) {
      case NXAC2PT.MAX_LEN:
        out.maxLen = p.u16('max_len');
        break;
      case NXAC2PT.CONTROLLER_ID:
        out.controllerId = p.u16('controller_id');
        break;
      case NXAC2PT.REASON:
        out.reason = p.u8('reason');
        break;
      case NXAC2PT.USERDATA:
        out.userdata = p.bytes(p.remaining);
        break;
      case NXAC2PT.PAUSE:
        out.pause = true;
        break;
      case NXAC2PT.METER_ID:
        out.meterId = p.u32('meter_id');
        break;
      default:
        a.fail('OF_DECODE_BAD_VALUE', `unknown controller2 property ${type}`, at);
    }
  }
  return out;
}

function decodeCt(a: OfReader, at: number, depth: number): CtAction {
  const flags = a.u16('ct flags');
  const zoneSrc = a.u32('ct zone_src');
  let zone: number | Subfield;
  if (zoneSrc === 0) {
    zone = a.u16('ct zone');
  } else {
    a.pos -= 4;
    const def = readRef(a, 'ct zone_src');
    zone = readSubfieldOfsNbits(a, a.u16('ct zone ofs_nbits'), def, at);
  }
  const recircTable = a.u8('ct recirc_table');
  a.skip(3);
  const alg = a.u16('ct alg');
  return {
    type: 'ct',
    commit: (flags & NX_CT_F.COMMIT) !== 0,
    force: (flags & NX_CT_F.FORCE) !== 0,
    zone,
    recircTable,
    alg,
    actions: decodeActions(a, depth + 1),
  };
}

function decodeNat(a: OfReader, at: number): NatAction {
  a.skip(2);
  const flags = a.u16('nat flags');
  const present = a.u16('nat range_present');
  if (present & ~0x3f) a.fail('OF_DECODE_BAD_VALUE', `nat range_present 0x${present.toString(16)}`, at);
  const out: NatAction = { type: 'nat', flags };
  if (present & NX_NAT_RANGE.IPV4_MIN) out.ipv4Min = formatIpv4(a.bytes(4, 'nat ipv4'), 0);
  if (present & NX_NAT_RANGE.IPV4_MAX) out.ipv4Max = formatIpv4(a.bytes(4, 'nat ipv4'), 0);
  if (present & NX_NAT_RANGE.IPV6_MIN) out.ipv6Min = formatIpv6(a.bytes(16, 'nat ipv6'), 0);
  if (present & NX_NAT_RANGE.IPV6_MAX) out.ipv6Max = formatIpv6(a.bytes(16, 'nat ipv6'), 0);
  if (present & NX_NAT_RANGE.PROTO_MIN) out.protoMin = a.u16('nat port');
  if (present & NX_NAT_RANGE.PROTO_MAX) out.protoMax = a.u16('nat port');
  return out;
}

function decodeLearn(a: OfReader): LearnAction {
  const out: LearnAction = {
    type: 'learn',
    idleTimeout: a.u16('idle_timeout'),
    hardTimeout: a.u16('hard_timeout'),
    priority: a.u16('priority'),
    cookie: a.u64('cookie'),
    flags: a.u16('flags'),
    tableId: a.u8('table_id'),
    finIdleTimeout: 0,
    finHardTimeout: 0,
    specs: [],
  };
  a.skip(1);
  out.finIdleTimeout = a.u16('fin_idle_timeout');
  out.finHardTimeout = a.u16('fin_hard_timeout');
  while (a.remaining >= 2) {
    const specAt = a.pos;
    const header = a.u16('learn spec header');
    if (header === 0) break;
    const nBits = header & NX_LEARN.N_BITS_MASK;
    const srcType = header & NX_LEARN.SRC_MASK;
    const dstType = header & NX_LEARN.DST_MASK;
    if (nBits === 0 || dstType === NX_LEARN.DST_RESERVED || (dstType === NX_LEARN.DST_OUTPUT && srcType === NX_LEARN.SRC_IMMEDIATE)) {
      a.fail('OF_DECODE_BAD_VALUE', `bad learn spec header 0x${header.toString(16)}`, specAt);
    }
    let src: Subfield | undefined;
    let value = 0n;
    if (srcType === NX_LEARN.SRC_FIELD) {
      const def = readRef(a, 'learn src');
      src = subfield(a, def, a.u16('learn src ofs'), nBits, specAt);
    } else {
      value = a.uintN(immediateBytes(nBits), 'learn immediate');
    }
    let spec: LearnSpec;
    if (dstType === NX_LEARN.DST_OUTPUT) {
      spec = { kind: 'output_field', src: src! };
    } else {
      const def = readRef(a, 'learn dst');
      const dst = subfield(a, def, a.u16('learn dst ofs'), nBits, specAt);
      const isMatch = dstType === NX_LEARN.DST_MATCH;
      spec = src
        ? { kind: isMatch ? 'match_field' : 'load_field', src, dst }
        : { kind: isMatch ? 'match_immediate' : 'load_immediate', value, dst };
    }
    out.specs.push(spec);
  }
  // The rest is zero padding.
  while (a.remaining > 0) if (a.u8() !== 0) a.fail('OF_DECODE_BAD_VALUE', 'non-zero bytes after learn specs', a.pos - 1);
  return out;
}
