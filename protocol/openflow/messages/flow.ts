/** FLOW_MOD, FLOW_REMOVED, PACKET_IN and PACKET_OUT bodies. */
import { OFPFC } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import * as check from '../checks.js';
import { decodeActions, encodeActions } from '../actions.js';
import { decodeInstructions, encodeInstructions } from '../instructions.js';
import { decodeMatch, encodeMatch } from '../match.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type { FlowMod, FlowModCommand, FlowRemoved, PacketIn, PacketOut } from '../types.js';

const COMMAND_CODE: Record<FlowModCommand, number> = {
  add: OFPFC.ADD,
  modify: OFPFC.MODIFY,
  modify_strict: OFPFC.MODIFY_STRICT,
  delete: OFPFC.DELETE,
  delete_strict: OFPFC.DELETE_STRICT,
};
const COMMAND_NAME: FlowModCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];

/** A 64-bit field: two comparisons when it fits 32 bits (cookies usually do), the full check otherwise. */
function u64Field(w: OfWriter, v: bigint, what: string): void {
  if (typeof v === 'bigint' && v >= 0n && v <= 0xffffffffn) {
    w.u32(0);
    w.u32(Number(v));
  } else {
    w.u64(check.u64(v, what));
  }
}

export function encodeFlowMod(w: OfWriter, m: FlowMod): void {
  const command = COMMAND_CODE[m.command];
  if (command === undefined) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `unknown flow_mod command ${JSON.stringify(m.command)}`);
  w.ensure(40);
  u64Field(w, m.cookie, 'cookie');
  u64Field(w, m.cookieMask, 'cookie_mask');
  w.u8(check.u8(m.tableId, 'table_id'));
  w.u8(command);
  w.u16(check.u16(m.idleTimeout, 'idle_timeout'));
  w.u16(check.u16(m.hardTimeout, 'hard_timeout'));
  w.u16(check.u16(m.priority, 'priority'));
  w.u32(check.u32(m.bufferId, 'buffer_id'));
  w.u32(check.u32(m.outPort, 'out_port'));
  w.u32(check.u32(m.outGroup, 'out_group'));
  w.u16(check.u16(m.flags, 'flags'));
  w.u16(0);
  encodeMatch(w, m.match);
  encodeInstructions(w, m.instructions);
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
