/**
 * The flow monitor as Open vSwitch speaks it in OpenFlow 1.3: requests and
 * updates as the ONF experimenter multipart 1870 (OVS's ONFST13_FLOW_MONITOR),
 * cancel/paused/resumed as ONF experimenter messages 1870-1872. The bodies
 * are Nicira's (nx_flow_monitor_request's fields with a 32-bit port and an
 * OXM match; nx_flow_update_full with an OXM match and instructions): OVS
 * 3.1 does not take the Nicira vendor stats form (NXST_FLOW_MONITOR) in
 * OpenFlow 1.3, it answers OFPBRC_BAD_SUBTYPE.
 */
import { NXFME, NXFMF } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import { decodeInstructions, encodeInstructions } from '../instructions.js';
import { decodeMatch, encodeMatch } from '../match.js';
import type { OfReader } from '../reader.js';
import type { FlowMonitorRequest, FlowUpdate, FlowUpdateFull } from '../types.js';
import type { OfWriter } from '../writer.js';

/** onf_flow_monitor_request before its match. */
const REQUEST_LEN = 16;
/** nx_flow_update_header + the rest of nx_flow_update_full, before the match. */
const UPDATE_FULL_LEN = 24;
/** nx_flow_update_abbrev. */
const UPDATE_ABBREV_LEN = 8;
const ALL_FLAGS = NXFMF.INITIAL | NXFMF.ADD | NXFMF.DELETE | NXFMF.MODIFY | NXFMF.ACTIONS | NXFMF.OWN;

const EVENT_NAME = ['added', 'deleted', 'modified'] as const;
const EVENT_CODE: Record<FlowUpdateFull['event'], number> = { added: NXFME.ADDED, deleted: NXFME.DELETED, modified: NXFME.MODIFIED };

/** Appends the monitors of a flow monitor request (after the experimenter multipart header). */
export function encodeFlowMonitorRequests(w: OfWriter, monitors: readonly FlowMonitorRequest[]): void {
  for (const m of monitors) {
    if ((m.flags & (NXFMF.ADD | NXFMF.DELETE | NXFMF.MODIFY)) === 0 || (m.flags & ~ALL_FLAGS) !== 0) {
      throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `flow monitor ${m.id}: flags 0x${m.flags.toString(16)} need ADD, DELETE or MODIFY and nothing beyond NXFMF`, 'flags');
    }
    const start = w.pos;
    w.u32(m.id);
    w.u16(m.flags);
    w.u16(0); // match_len, patched below
    w.u32(m.outPort);
    w.u8(m.tableId);
    w.zeros(3);
    const matchAt = w.pos;
    encodeMatch(w, m.match);
    // match_len is the ofp_match's own length, without its padding (as OVS's oxm_put_match returns).
    w.patchU16(start + 6, w.buf.readUInt16BE(matchAt + 2));
  }
}

/** Reads the monitors of a flow monitor request. */
export function decodeFlowMonitorRequests(r: OfReader): FlowMonitorRequest[] {
  const out: FlowMonitorRequest[] = [];
  while (r.remaining > 0) {
    r.need(REQUEST_LEN, 'flow monitor request');
    const id = r.u32('monitor id');
    const flags = r.u16('monitor flags');
    r.skip(2); // match_len: the ofp_match carries its own
    const outPort = r.u32('out_port');
    const tableId = r.u8('table_id');
    r.skip(3);
    out.push({ id, flags, outPort, tableId, match: decodeMatch(r) });
  }
  return out;
}

/** Appends flow updates (a flow monitor reply's body). */
export function encodeFlowUpdates(w: OfWriter, updates: readonly FlowUpdate[]): void {
  for (const u of updates) {
    const start = w.pos;
    if (u.event === 'abbrev') {
      w.u16(UPDATE_ABBREV_LEN);
      w.u16(NXFME.ABBREV);
      w.u32(u.xid);
      continue;
    }
    w.u16(0); // length, patched below
    w.u16(EVENT_CODE[u.event]);
    w.u16(u.reason);
    w.u16(u.priority);
    w.u16(u.idleTimeout);
    w.u16(u.hardTimeout);
    w.u16(0); // match_len, patched below
    w.u8(u.tableId);
    w.u8(0);
    w.u64(u.cookie);
    const matchAt = w.pos;
    encodeMatch(w, u.match);
    w.patchU16(start + 12, w.buf.readUInt16BE(matchAt + 2));
    encodeInstructions(w, u.instructions);
    w.patchU16(start, w.pos - start);
  }
}

/** Reads the flow updates of a flow monitor reply. */
export function decodeFlowUpdates(r: OfReader): FlowUpdate[] {
  const out: FlowUpdate[] = [];
  const end = r.end;
  while (r.remaining > 0) {
    const at = r.pos;
    const length = r.u16('flow update length');
    const event = r.u16('flow update event');
    if (length % 8 !== 0 || length < UPDATE_ABBREV_LEN) r.fail('OF_DECODE_BAD_LENGTH', `flow update length ${length}`, at);
    r.pos = at;
    r.need(length, 'flow update');
    // Decode in place with the reader bounded to this update: a reply holds hundreds, no sub-reader for each.
    r.end = at + length;
    r.pos = at + 4;
    if (event === NXFME.ABBREV) {
      if (length !== UPDATE_ABBREV_LEN) r.fail('OF_DECODE_BAD_LENGTH', `abbreviated flow update of ${length} bytes`, at);
      out.push({ event: 'abbrev', xid: r.u32('abbrev xid') });
    } else {
      if (event > NXFME.MODIFIED) r.fail('OF_DECODE_BAD_VALUE', `flow update event ${event}`, at + 2);
      if (length < UPDATE_FULL_LEN) r.fail('OF_DECODE_BAD_LENGTH', `full flow update of ${length} bytes`, at);
      const reason = r.u16('reason');
      const priority = r.u16('priority');
      const idleTimeout = r.u16('idle_timeout');
      const hardTimeout = r.u16('hard_timeout');
      r.skip(2); // match_len: the ofp_match carries its own
      const tableId = r.u8('table_id');
      r.skip(1);
      const cookie = r.u64('cookie');
      const match = decodeMatch(r);
      out.push({ event: EVENT_NAME[event], reason, priority, idleTimeout, hardTimeout, tableId, cookie, match, instructions: decodeInstructions(r) });
    }
    r.end = end;
    r.pos = at + length;
  }
  return out;
}
