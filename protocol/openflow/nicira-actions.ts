/**
 * The Nicira extension actions with bodies of their own (controller/controller2,
 * ct and nat, learn) and the decoder of every Nicira action subtype, as Open
 * vSwitch encodes them (ofp-actions.c).
 */
import { NX_CT_F, NX_LEARN, NX_NAT_RANGE, NXAC2PT, NXAST, OFPCML, OFPR } from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import { formatIpv4, formatIpv6, writeIpv4, writeIpv6 } from './addr.js';
import { readOxm } from './match.js';
import { beginNx, end, ofsNbits, port32, readRef, readSubfieldOfsNbits, refHeader, subfield, u16Arg } from './action-helpers.js';
import type { OfReader } from './reader.js';
import type { OfWriter } from './writer.js';
import type { Action, CtAction, LearnAction, LearnSpec, NatAction, Subfield } from './types.js';

export function encodeController(w: OfWriter, a: Extract<Action, { type: 'controller' }>): void {
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

/**
 * The action-list codec, for the actions that nest a list (ct's exec, clone).
 * actions.ts owns it and hands it in: the list codec dispatches to this
 * module, so importing it back would make the two modules a cycle.
 */
export interface ActionListCodec {
  encode(w: OfWriter, actions: readonly Action[]): void;
  decode(r: OfReader, depth: number): Action[];
}

export function encodeCt(w: OfWriter, a: CtAction, list: ActionListCodec): void {
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
  list.encode(w, a.actions);
  end(w, s);
}

export function encodeNat(w: OfWriter, a: NatAction): void {
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

export function encodeLearn(w: OfWriter, a: LearnAction): void {
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


/** Decodes a Nicira action body (reader at the subtype); undefined for subtypes kept raw. */
export function decodeNx(a: OfReader, at: number, depth: number, list: ActionListCodec): Action | undefined {
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
      return decodeCt(a, at, depth, list);
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
      return { type: 'clone', actions: list.decode(a, depth + 1) };
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

function decodeCt(a: OfReader, at: number, depth: number, list: ActionListCodec): CtAction {
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
    actions: list.decode(a, depth + 1),
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

