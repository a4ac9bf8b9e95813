/**
 * Whole OpenFlow messages: `encodeMessage` appends one message to a writer,
 * `decodeMessage` turns one message's bytes into the OpenFlowMessage union.
 * The per-family bodies live in messages/.
 */
import { EXPERIMENTER_ID, OFP_HEADER_LEN, OFP_VERSION, OFPT, ONFT } from './constants.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import { beginMessage, finishMessage } from './header.js';
import { OfReader } from './reader.js';
import { decodeBundleControlBody, encodeBundleControlBody } from './messages/bundle.js';
import { decodeFlowMod, decodeFlowRemoved, decodePacketIn, decodePacketOut, encodeFlowModMessage, encodeFlowRemoved, encodePacketIn, encodePacketOut } from './messages/flow.js';
import { decodeGroupMod, decodeMeterMod, decodeTableMod, encodeGroupMod, encodeMeterMod, encodeTableMod } from './messages/group-meter.js';
import { decodeMultipartReply, decodeMultipartRequest, encodeMultipartReply, encodeMultipartRequest } from './messages/multipart.js';
import { decodePort, encodePort } from './messages/port.js';
import {
  decodeAsync,
  decodeError,
  decodeFeaturesReply,
  decodeHello,
  decodePortMod,
  decodeRole,
  encodeAsync,
  encodeError,
  encodeFeaturesReply,
  encodeHello,
  encodePortMod,
  encodeRole,
} from './messages/switch.js';
import { decodeErrorRequest as decodeErrorRequestWith } from './ofp-errors.js';
import type { OfWriter } from './writer.js';
import type { BundleAddMessage, ErrorMsg, OpenFlowMessage } from './types.js';

/** Bundles may nest messages; nothing legitimate nests more than once. */
const MAX_BUNDLE_NESTING = 2;

/**
 * Appends one message at `w.pos`. `version` is the negotiated OpenFlow
 * version (OF1.3 by default); it selects the bundle encoding (ONF extension in
 * OF1.3, native messages from OF1.4) and is written in the header.
 */
export function encodeMessage(w: OfWriter, msg: OpenFlowMessage, version: number = OFP_VERSION.OF13): void {
  encodeWithXid(w, msg, version, msg.xid ?? 0);
}

function encodeWithXid(w: OfWriter, m: OpenFlowMessage, version: number, xid: number): void {
  let start: number;
  // The hot path (thousands of flow-mods per tick) skips the dispatch below.
  if (m.type === 'flow_mod') {
    encodeFlowModMessage(w, m, version, xid);
    return;
  }
  switch (m.type) {
    case 'hello':
      start = beginMessage(w, version, OFPT.HELLO, xid);
      encodeHello(w, m);
      break;
    case 'error':
      start = beginMessage(w, version, OFPT.ERROR, xid);
      encodeError(w, m);
      break;
    case 'echo_request':
    case 'echo_reply':
      start = beginMessage(w, version, m.type === 'echo_request' ? OFPT.ECHO_REQUEST : OFPT.ECHO_REPLY, xid);
      w.bytes(m.data);
      break;
    case 'experimenter':
      start = beginMessage(w, version, OFPT.EXPERIMENTER, xid);
      w.u32(m.experimenter);
      w.u32(m.expType);
      w.bytes(m.data);
      break;
    case 'features_request':
      start = beginMessage(w, version, OFPT.FEATURES_REQUEST, xid);
      break;
    case 'features_reply':
      start = beginMessage(w, version, OFPT.FEATURES_REPLY, xid);
      encodeFeaturesReply(w, m);
      break;
    case 'get_config_request':
      start = beginMessage(w, version, OFPT.GET_CONFIG_REQUEST, xid);
      break;
    case 'get_config_reply':
    case 'set_config':
      start = beginMessage(w, version, m.type === 'set_config' ? OFPT.SET_CONFIG : OFPT.GET_CONFIG_REPLY, xid);
      w.u16(m.flags);
      w.u16(m.missSendLen);
      break;
    case 'packet_in':
      start = beginMessage(w, version, OFPT.PACKET_IN, xid);
      encodePacketIn(w, m);
      break;
    case 'flow_removed':
      start = beginMessage(w, version, OFPT.FLOW_REMOVED, xid);
      encodeFlowRemoved(w, m);
      break;
    case 'port_status':
      start = beginMessage(w, version, OFPT.PORT_STATUS, xid);
      w.u8(m.reason);
      w.zeros(7);
      encodePort(w, m.port, version);
      break;
    case 'packet_out':
      start = beginMessage(w, version, OFPT.PACKET_OUT, xid);
      encodePacketOut(w, m);
      break;
    case 'group_mod':
      start = beginMessage(w, version, OFPT.GROUP_MOD, xid);
      encodeGroupMod(w, m);
      break;
    case 'port_mod':
      start = beginMessage(w, version, OFPT.PORT_MOD, xid);
      requireOf13Layout(version, m.type);
      encodePortMod(w, m);
      break;
    case 'table_mod':
      start = beginMessage(w, version, OFPT.TABLE_MOD, xid);
      encodeTableMod(w, m);
      break;
    case 'multipart_request':
      start = beginMessage(w, version, OFPT.MULTIPART_REQUEST, xid);
      encodeMultipartRequest(w, m, version);
      break;
    case 'multipart_reply':
      start = beginMessage(w, version, OFPT.MULTIPART_REPLY, xid);
      encodeMultipartReply(w, m, version);
      break;
    case 'barrier_request':
      start = beginMessage(w, version, OFPT.BARRIER_REQUEST, xid);
      break;
    case 'barrier_reply':
      start = beginMessage(w, version, OFPT.BARRIER_REPLY, xid);
      break;
    case 'role_request':
    case 'role_reply':
      start = beginMessage(w, version, m.type === 'role_request' ? OFPT.ROLE_REQUEST : OFPT.ROLE_REPLY, xid);
      encodeRole(w, m.role, m.generationId);
      break;
    case 'get_async_request':
      start = beginMessage(w, version, OFPT.GET_ASYNC_REQUEST, xid);
      break;
    case 'get_async_reply':
    case 'set_async':
      start = beginMessage(w, version, m.type === 'set_async' ? OFPT.SET_ASYNC : OFPT.GET_ASYNC_REPLY, xid);
      encodeAsync(w, m, version);
      break;
    case 'meter_mod':
      start = beginMessage(w, version, OFPT.METER_MOD, xid);
      encodeMeterMod(w, m);
      break;
    case 'bundle_control':
      start = beginBundle(w, version, xid, OFPT.BUNDLE_CONTROL, ONFT.BUNDLE_CONTROL);
      encodeBundleControlBody(w, m);
      break;
    case 'bundle_add_message':
      start = beginBundle(w, version, xid, OFPT.BUNDLE_ADD_MESSAGE, ONFT.BUNDLE_ADD_MESSAGE);
      w.u32(m.bundleId);
      w.u16(0);
      w.u16(m.flags);
      // OVS requires the inner message to carry the outer xid and version.
      encodeWithXid(w, m.message, version, xid);
      break;
    case 'flow_monitor_cancel':
      start = beginOnfMessage(w, version, xid, ONFT.FLOW_MONITOR_CANCEL);
      w.u32(m.id);
      break;
    case 'flow_monitor_paused':
      start = beginOnfMessage(w, version, xid, ONFT.FLOW_MONITOR_PAUSED);
      break;
    case 'flow_monitor_resumed':
      start = beginOnfMessage(w, version, xid, ONFT.FLOW_MONITOR_RESUMED);
      break;
    case 'unknown':
      start = beginMessage(w, version, m.msgType, xid);
      w.bytes(m.body);
      break;
    default:
      throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', `unknown message type ${JSON.stringify((m as { type: unknown }).type)}`);
  }
  finishMessage(w, start);
}

/** Messages whose OF1.4+ body (properties) the codec does not model are only encoded in OF1.3. */
function requireOf13Layout(version: number, what: string): void {
  if (version >= OFP_VERSION.OF14) {
    throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', `${what} is only supported in OpenFlow 1.3 (its OF1.4+ body differs)`);
  }
}

/** An ONF experimenter message (OFPT_EXPERIMENTER, experimenter ONF, `expType`). */
function beginOnfMessage(w: OfWriter, version: number, xid: number, expType: number): number {
  const start = beginMessage(w, version, OFPT.EXPERIMENTER, xid);
  w.u32(EXPERIMENTER_ID.ONF);
  w.u32(expType);
  return start;
}

function beginBundle(w: OfWriter, version: number, xid: number, nativeType: number, onfType: number): number {
  if (version >= OFP_VERSION.OF14) return beginMessage(w, version, nativeType, xid);
  const start = beginMessage(w, version, OFPT.EXPERIMENTER, xid);
  w.u32(EXPERIMENTER_ID.ONF);
  w.u32(onfType);
  return start;
}

/**
 * Decodes one whole message. `buf` must hold exactly the message (its header
 * length must equal buf.length). Payloads (packet data, echo data, an
 * error's quoted request) are views into `buf`. Throws only
 * OpenFlowDecodeError.
 */
export function decodeMessage(buf: Buffer): OpenFlowMessage {
  return decodeAt(buf, 0, buf.length, 0);
}

function decodeAt(buf: Buffer, offset: number, end: number, nesting: number): OpenFlowMessage {
  if (end - offset < OFP_HEADER_LEN) {
    throw new OpenFlowDecodeError('OF_DECODE_TRUNCATED', `message of ${end - offset} bytes is shorter than ofp_header`, 0);
  }
  const version = buf[offset];
  const type = buf[offset + 1];
  const length = buf.readUInt16BE(offset + 2);
  const xid = buf.readUInt32BE(offset + 4);
  if (length !== end - offset) {
    throw new OpenFlowDecodeError('OF_DECODE_BAD_LENGTH', `ofp_header length ${length} but ${end - offset} bytes given`, 2);
  }
  const r = new OfReader(buf, offset + OFP_HEADER_LEN, end, offset);
  // HELLO, ERROR and ECHO have the same layout in every version; the rest is decoded as OF1.3+.
  if (version < OFP_VERSION.OF13 && type > OFPT.ECHO_REPLY) {
    throw new OpenFlowDecodeError('OF_DECODE_BAD_VERSION', `OpenFlow version 0x${version.toString(16)} message type ${type} is not supported`, 0);
  }
  const m = decodeBody(r, type, xid, version, nesting);
  if (r.remaining !== 0) r.fail('OF_DECODE_BAD_LENGTH', `${r.remaining} trailing bytes after ${m.type}`);
  return m;
}

function decodeBody(r: OfReader, type: number, xid: number, version: number, nesting: number): OpenFlowMessage {
  switch (type) {
    case OFPT.HELLO:
      return decodeHello(r, xid);
    case OFPT.ERROR:
      return decodeError(r, xid);
    case OFPT.ECHO_REQUEST:
      return { type: 'echo_request', xid, data: r.bytes(r.remaining) };
    case OFPT.ECHO_REPLY:
      return { type: 'echo_reply', xid, data: r.bytes(r.remaining) };
    case OFPT.EXPERIMENTER: {
      const experimenter = r.u32('experimenter');
      const expType = r.u32('exp_type');
      if (experimenter === EXPERIMENTER_ID.ONF && version < OFP_VERSION.OF14) {
        if (expType === ONFT.BUNDLE_CONTROL) return decodeBundleControlBody(r, xid);
        if (expType === ONFT.BUNDLE_ADD_MESSAGE) return decodeBundleAdd(r, xid, nesting);
      }
      if (experimenter === EXPERIMENTER_ID.ONF) {
        if (expType === ONFT.FLOW_MONITOR_CANCEL) return { type: 'flow_monitor_cancel', xid, id: r.u32('monitor id') };
        if (expType === ONFT.FLOW_MONITOR_PAUSED) return { type: 'flow_monitor_paused', xid };
        if (expType === ONFT.FLOW_MONITOR_RESUMED) return { type: 'flow_monitor_resumed', xid };
      }
      return { type: 'experimenter', xid, experimenter, expType, data: r.bytes(r.remaining) };
    }
    case OFPT.FEATURES_REQUEST:
      return { type: 'features_request', xid };
    case OFPT.FEATURES_REPLY:
      return decodeFeaturesReply(r, xid);
    case OFPT.GET_CONFIG_REQUEST:
      return { type: 'get_config_request', xid };
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const flags = r.u16('flags');
      const missSendLen = r.u16('miss_send_len');
      return { type: type === OFPT.SET_CONFIG ? 'set_config' : 'get_config_reply', xid, flags, missSendLen };
    }
    case OFPT.PACKET_IN:
      return decodePacketIn(r, xid);
    case OFPT.FLOW_REMOVED:
      return decodeFlowRemoved(r, xid);
    case OFPT.PORT_STATUS: {
      const reason = r.u8('reason');
      r.skip(7);
      return { type: 'port_status', xid, reason, port: decodePort(r, version) };
    }
    case OFPT.PACKET_OUT:
      return decodePacketOut(r, xid);
    case OFPT.FLOW_MOD:
      return decodeFlowMod(r, xid);
    case OFPT.GROUP_MOD:
      return decodeGroupMod(r, xid);
    case OFPT.PORT_MOD:
      of13Layout(r, version, 'port_mod');
      return decodePortMod(r, xid);
    case OFPT.TABLE_MOD:
      return decodeTableMod(r, xid);
    case OFPT.MULTIPART_REQUEST:
      return decodeMultipartRequest(r, xid, version);
    case OFPT.MULTIPART_REPLY:
      return decodeMultipartReply(r, xid, version);
    case OFPT.BARRIER_REQUEST:
      return { type: 'barrier_request', xid };
    case OFPT.BARRIER_REPLY:
      return { type: 'barrier_reply', xid };
    case OFPT.ROLE_REQUEST:
      return { type: 'role_request', xid, ...decodeRole(r) };
    case OFPT.ROLE_REPLY:
      return { type: 'role_reply', xid, ...decodeRole(r) };
    case OFPT.GET_ASYNC_REQUEST:
      return { type: 'get_async_request', xid };
    case OFPT.GET_ASYNC_REPLY:
      return { type: 'get_async_reply', xid, ...decodeAsync(r, version) };
    case OFPT.SET_ASYNC:
      return { type: 'set_async', xid, ...decodeAsync(r, version) };
    case OFPT.METER_MOD:
      return decodeMeterMod(r, xid);
    case OFPT.BUNDLE_CONTROL:
      if (version >= OFP_VERSION.OF14) return decodeBundleControlBody(r, xid);
      break;
    case OFPT.BUNDLE_ADD_MESSAGE:
      if (version >= OFP_VERSION.OF14) return decodeBundleAdd(r, xid, nesting);
      break;
  }
  return { type: 'unknown', xid, msgType: type, body: r.bytes(r.remaining) };
}

/** Refuses an OF1.4+ body the codec would misread with the OF1.3 layout. */
function of13Layout(r: OfReader, version: number, what: string): void {
  if (version >= OFP_VERSION.OF14) r.fail('OF_DECODE_BAD_VERSION', `${what} in OpenFlow version 0x${version.toString(16)} is not supported`, r.base);
}

function decodeBundleAdd(r: OfReader, xid: number, nesting: number): BundleAddMessage {
  if (nesting >= MAX_BUNDLE_NESTING) r.fail('OF_DECODE_TOO_DEEP', 'bundle messages nested too deep');
  const bundleId = r.u32('bundle_id');
  r.skip(2);
  const flags = r.u16('bundle flags');
  const at = r.pos;
  r.need(OFP_HEADER_LEN, 'bundled message header');
  const len = r.buf.readUInt16BE(at + 2);
  if (len < OFP_HEADER_LEN) r.fail('OF_DECODE_BAD_LENGTH', `bundled message length ${len}`, at);
  r.need(len, 'bundled message');
  let message: OpenFlowMessage;
  try {
    message = decodeAt(r.buf, at, at + len, nesting + 1);
  } catch (err) {
    // Report offsets from the start of the outer message.
    if (err instanceof OpenFlowDecodeError) throw new OpenFlowDecodeError(err.code, `in bundled message: ${err.reason}`, at - r.base + err.offset);
    throw err;
  }
  r.pos = at + len;
  // Trailing bundle properties (OF1.4) are not modelled; skip them.
  r.pos = r.end;
  return { type: 'bundle_add_message', xid, bundleId, flags, message };
}

/** The request an ERROR quotes, decoded when it was quoted whole; undefined otherwise. */
export function decodeErrorRequest(e: ErrorMsg): OpenFlowMessage | undefined {
  return decodeErrorRequestWith(e, decodeMessage);
}
