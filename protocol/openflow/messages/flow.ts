/** FLOW_MOD, FLOW_REMOVED, PACKET_IN and PACKET_OUT bodies. */
import { OFPFC, OFPT } from '../constants.js';
import { finishMessage } from '../header.js';
import { OpenFlowEncodeError } from '../errors.js';
import * as check from '../checks.js';
import { decodeActions, encodeActions } from '../actions.js';
import { decodeInstructions, encodeInstructions } from '../instructions.js';
import { decodeMatch, encodeMatch, encodeOxmMatch } from '../match.js';
import type { OfReader } from '../reader.js';
import { putU64 } from '../u64.js';
import type { OfWriter } from '../writer.js';
import type { FlowMod, FlowModCommand, FlowRemoved, PacketIn, PacketOut } from '../types.js';

const COMMAND_NAME: FlowModCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];

/** The OFPFC code; compares interned strings rather than looking them up. */
function commandCode(c: FlowModCommand): number {
  if (c === 'add') return OFPFC.ADD;
  if (c === 'delete_strict') return OFPFC.DELETE_STRICT;
  if (c === 'modify_strict') return OFPFC.MODIFY_STRICT;
  if (c === 'delete') return OFPFC.DELETE;
  if (c === 'modify') return OFPFC.MODIFY;
  throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `unknown flow_mod command ${JSON.stringify(c)}`);
}

/** A 64-bit field at `p`, or the checker's error naming it. */
function putU64Field(b: Buffer, p: number, v: bigint, what: string): void {
  if (!putU64(b, p, v)) check.u64(v, what);
}

/** ofp_header + the fixed part of ofp_flow_mod. */
const FLOW_MOD_FIXED = 8 + 40;

/**
 * A whole FLOW_MOD (header, fixed part, match, instructions) at `w.pos`: the
 * hot path of installing flows. The 48 fixed bytes are written straight into
 * the buffer after one room check; the length is back-patched.
 */
export function encodeFlowModMessage(w: OfWriter, m: FlowMod, version: number, xid: number): void {
  const command = commandCode(m.command);
  const start = w.pos;
  if (start + FLOW_MOD_FIXED > w.buf.length) w.ensure(FLOW_MOD_FIXED);
  const b = w.buf;
  const p = start;
  b[p] = version;
  b[p + 1] = OFPT.FLOW_MOD;
  b[p + 4] = xid >>> 24;
  b[p + 5] = xid >>> 16;
  b[p + 6] = xid >>> 8;
  b[p + 7] = xid;
  putU64Field(b, p + 8, m.cookie, 'cookie');
  putU64Field(b, p + 16, m.cookieMask, 'cookie_mask');
  b[p + 24] = check.u8(m.tableId, 'table_id');
  b[p + 25] = command;
  const idle = check.u16(m.idleTimeout, 'idle_timeout');
  b[p + 26] = idle >>> 8;
  b[p + 27] = idle;
  const hard = check.u16(m.hardTimeout, 'hard_timeout');
  b[p + 28] = hard >>> 8;
  b[p + 29] = hard;
  const priority = check.u16(m.priority, 'priority');
  b[p + 30] = priority >>> 8;
  b[p + 31] = priority;
  putU32(b, p + 32, check.u32(m.bufferId, 'buffer_id'));
  putU32(b, p + 36, check.u32(m.outPort, 'out_port'));
  putU32(b, p + 40, check.u32(m.outGroup, 'out_group'));
  const flags = check.u16(m.flags, 'flags');
  b[p + 44] = flags >>> 8;
  b[p + 45] = flags;
  b[p + 46] = 0;
  b[p + 47] = 0;
  w.pos = p + FLOW_MOD_FIXED;
  if (m.writeOxm !== undefined) encodeOxmMatch(w, m as { writeOxm(w: OfWriter): void });
  else encodeMatch(w, m.match);
  encodeInstructions(w, m.instructions);
  finishMessage(w, start);
}

function putU32(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

export function decodeFlowMod(r: OfReader, xid: number): FlowMod {
  const cookie = r.u64('cookie');
  const cookieMask = r.u64('cookie_mask');
  const tableId = r.u8('table_id');
  const at = r.pos;
  const command = COMMAND_NAME[r.u8('command')];
  if (command === undefined) r.fail('OF_DECODE_BAD_VALUE', `unknown flow_mod command ${r.buf[at]}`, at);
  const idleTimeout = r.u16('idle_timeout');
  const hardTimeout = r.u16('hard_timeout');
  const priority = r.u16('priority');
  const bufferId = r.u32('buffer_id');
  const outPort = r.u32('out_port');
  const outGroup = r.u32('out_group');
  const flags = r.u16('flags');
  r.skip(2);
  const match = decodeMatch(r);
  const instructions = decodeInstructions(r);
  return {
    type: 'flow_mod',
    xid,
    cookie,
    cookieMask,
    tableId,
    command,
    idleTimeout,
    hardTimeout,
    priority,
    bufferId,
    outPort,
    outGroup,
    flags,
    match,
    instructions,
  };
}

export function encodeFlowRemoved(w: OfWriter, m: FlowRemoved): void {
  w.u64(m.cookie);
  w.u16(m.priority);
  w.u8(m.reason);
  w.u8(m.tableId);
  w.u32(m.durationSec);
  w.u32(m.durationNsec);
  w.u16(m.idleTimeout);
  w.u16(m.hardTimeout);
  w.u64(m.packetCount);
  w.u64(m.byteCount);
  encodeMatch(w, m.match);
}

export function decodeFlowRemoved(r: OfReader, xid: number): FlowRemoved {
  return {
    type: 'flow_removed',
    xid,
    cookie: r.u64('cookie'),
    priority: r.u16('priority'),
    reason: r.u8('reason'),
    tableId: r.u8('table_id'),
    durationSec: r.u32('duration_sec'),
    durationNsec: r.u32('duration_nsec'),
    idleTimeout: r.u16('idle_timeout'),
    hardTimeout: r.u16('hard_timeout'),
    packetCount: r.u64('packet_count'),
    byteCount: r.u64('byte_count'),
    match: decodeMatch(r),
  };
}

export function encodePacketIn(w: OfWriter, m: PacketIn): void {
  w.u32(m.bufferId);
  w.u16(m.totalLen);
  w.u8(m.reason);
  w.u8(m.tableId);
  w.u64(m.cookie);
  encodeMatch(w, m.match);
  w.zeros(2);
  w.bytes(m.data);
}

export function decodePacketIn(r: OfReader, xid: number): PacketIn {
  const bufferId = r.u32('buffer_id');
  const totalLen = r.u16('total_len');
  const reason = r.u8('reason');
  const tableId = r.u8('table_id');
  const cookie = r.u64('cookie');
  const match = decodeMatch(r);
  r.skip(2);
  return { type: 'packet_in', xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.bytes(r.remaining) };
}

export function encodePacketOut(w: OfWriter, m: PacketOut): void {
  w.u32(m.bufferId);
  w.u32(m.inPort);
  const lenAt = w.pos;
  w.u16(0);
  w.zeros(6);
  const start = w.pos;
  encodeActions(w, m.actions);
  w.patchU16(lenAt, w.pos - start);
  w.bytes(m.data);
}

export function decodePacketOut(r: OfReader, xid: number): PacketOut {
  const bufferId = r.u32('buffer_id');
  const inPort = r.u32('in_port');
  const actionsLen = r.u16('actions_len');
  r.skip(6);
  const actions = decodeActions(r.sub(actionsLen, 'packet_out actions'));
  return { type: 'packet_out', xid, bufferId, inPort, actions, data: r.bytes(r.remaining) };
}
