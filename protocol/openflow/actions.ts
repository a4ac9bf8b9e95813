/**
 * Actions: the dispatch for every kind, the OpenFlow 1.3 standard actions and
 * the fixed-size Nicira ones, encoded as Open vSwitch encodes them in OF1.3
 * (ofp-actions.c). The Nicira actions with bodies of their own live in
 * nicira-actions.ts. Every action is padded to a multiple of 8 bytes.
 */
import { EXPERIMENTER_ID, NXAST, OFPAT } from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import * as check from './checks.js';
import { MAX_OXM_BYTES, fieldDef, putOxm, readOxm, writeOxm } from './match.js';
import { MAX_NESTING, begin, beginNx, end, ofsNbits, port16, refHeader, u16Arg } from './action-helpers.js';
import { decodeNx, encodeController, encodeCt, encodeLearn, encodeNat, type ActionListCodec } from './nicira-actions.js';
import type { OfReader } from './reader.js';
import type { OfWriter } from './writer.js';
import type { Action } from './types.js';
// ---------------------------------------------------------------------------
// Encoding

/** Encodes a list of actions, in order. */
export function encodeActions(w: OfWriter, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) encodeAction(w, actions[i]);
}

/** Room a set_field action is given: 4 bytes of header, the largest OXM, padding. */
const MAX_SET_FIELD_BYTES = 4 + MAX_OXM_BYTES + 8;

/** Encodes one action at the writer's position, padded to 8 bytes. */
export function encodeAction(w: OfWriter, a: Action): void {
  // The actions of nearly every flow (output, set_field, VLAN push/pop) are
  // written straight into the buffer after one room check, in a function
  // small enough for the compiler to inline; the rest are encoded below.
  switch (a.type) {
    case 'output': {
      const port = check.u32(a.port, 'output port');
      const maxLen = check.u16(a.maxLen, 'output max_len');
      if (w.pos + 16 > w.buf.length) w.ensure(16);
      const b = w.buf;
      const p = w.pos;
      b[p] = 0;
      b[p + 1] = OFPAT.OUTPUT;
      b[p + 2] = 0;
      b[p + 3] = 16;
      b[p + 4] = port >>> 24;
      b[p + 5] = port >>> 16;
      b[p + 6] = port >>> 8;
      b[p + 7] = port;
      b[p + 8] = maxLen >>> 8;
      b[p + 9] = maxLen;
      for (let i = p + 10; i < p + 16; i++) b[i] = 0;
      w.pos = p + 16;
      return;
    }
    case 'pop_vlan':
      if (w.pos + 8 > w.buf.length) w.ensure(8);
      putVoid(w.buf, w.pos, OFPAT.POP_VLAN);
      w.pos += 8;
      return;
    case 'push_vlan': {
      const ethertype = check.u16(a.ethertype, 'push_vlan ethertype');
      if (w.pos + 8 > w.buf.length) w.ensure(8);
      const b = w.buf;
      const p = w.pos;
      putVoid(b, p, OFPAT.PUSH_VLAN);
      b[p + 4] = ethertype >>> 8;
      b[p + 5] = ethertype;
      w.pos = p + 8;
      return;
    }
    case 'set_field': {
      if (a.mask === undefined) {
        const def = fieldDef(a.field);
        if (w.pos + MAX_SET_FIELD_BYTES > w.buf.length) w.ensure(MAX_SET_FIELD_BYTES);
        const b = w.buf;
        const p = w.pos;
        const q = putOxm(b, p + 4, def, a.value);
        const len = (q - p + 7) & ~7;
        for (let i = q; i < p + len; i++) b[i] = 0;
        b[p] = 0;
        b[p + 1] = OFPAT.SET_FIELD;
        b[p + 2] = 0;
        b[p + 3] = len;
        w.pos = p + len;
        return;
      }
      break;
    }
  }
  encodeOtherAction(w, a);
}

function encodeOtherAction(w: OfWriter, a: Action): void {
  let s: number;
  switch (a.type) {
    // Encoded by encodeAction (listed so the compiler checks every kind is handled).
    case 'output':
    case 'pop_vlan':
    case 'push_vlan':
      return encodeAction(w, a);
    case 'set_field': {
      if (a.mask === undefined) return encodeAction(w, a);
      // OF1.3 set_field cannot carry a mask; OVS uses NXAST_REG_LOAD2, whose OXM starts right after the subtype.
      const def = fieldDef(a.field);
      s = beginNx(w, NXAST.REG_LOAD2);
      writeOxm(w, def, { value: a.value, mask: a.mask });
      return end(w, s);
    }
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
    case 'push_mpls':
    case 'pop_mpls':
    case 'push_pbb':
      s = begin(w, ETHERTYPE_ACTIONS[a.type]);
      w.u16(a.ethertype);
      return end(w, s);
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
      return encodeCt(w, a, LIST_CODEC);
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

/** An 8-byte action of `type` with a zero body (the caller fills it when it has one). */
function putVoid(b: Buffer, p: number, type: number): void {
  b[p] = 0;
  b[p + 1] = type;
  b[p + 2] = 0;
  b[p + 3] = 8;
  b[p + 4] = 0;
  b[p + 5] = 0;
  b[p + 6] = 0;
  b[p + 7] = 0;
}

const STANDARD_VOID = {
  copy_ttl_out: OFPAT.COPY_TTL_OUT,
  copy_ttl_in: OFPAT.COPY_TTL_IN,
  dec_mpls_ttl: OFPAT.DEC_MPLS_TTL,
  pop_pbb: OFPAT.POP_PBB,
  dec_nw_ttl: OFPAT.DEC_NW_TTL,
} as const;

const ETHERTYPE_ACTIONS = {
  push_mpls: OFPAT.PUSH_MPLS,
  pop_mpls: OFPAT.POP_MPLS,
  push_pbb: OFPAT.PUSH_PBB,
} as const;

// ---------------------------------------------------------------------------
// Decoding

/** Decodes actions until the reader's end. */
export function decodeActions(r: OfReader, depth = 0): Action[] {
  if (depth > MAX_NESTING) r.fail('OF_DECODE_TOO_DEEP', `actions nested more than ${MAX_NESTING} deep`);
  const out: Action[] = [];
  while (r.remaining > 0) out.push(decodeAction(r, depth));
  return out;
}

/** Decodes one action at the reader's position (standard, Nicira or ONF), advancing past it. */
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
        const decoded = decodeNx(a, at, depth, LIST_CODEC);
        if (decoded) return decoded;
        a.pos = at + 8;
      }
      return { type: 'experimenter', experimenter, data: a.bytes(a.remaining) };
    }
    default:
      return a.fail('OF_DECODE_BAD_VALUE', `unknown action type ${type}`, at);
  }
}

/** This module's list codec, for the Nicira actions that nest a list. */
const LIST_CODEC: ActionListCodec = { encode: encodeActions, decode: decodeActions };
