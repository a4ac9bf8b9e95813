import { OFP_HEADER_LEN, OFP_MAX_MSG_LEN } from './constants.js';
import { OpenFlowDecodeError, OpenFlowEncodeError } from './errors.js';
import type { OfWriter } from './writer.js';

/** ofp_header: every OpenFlow message starts with these 8 bytes. */
export interface OfHeader {
  version: number;
  /** The ofp_type number. */
  type: number;
  /** Total message length, header included. */
  length: number;
  xid: number;
}

/** Reads the header at `offset`; throws OpenFlowDecodeError if fewer than 8 bytes or a length below 8. */
export function decodeHeader(buf: Buffer, offset = 0): OfHeader {
  if (buf.length - offset < OFP_HEADER_LEN) {
    throw new OpenFlowDecodeError('OF_DECODE_TRUNCATED', `truncated ofp_header: ${buf.length - offset} bytes`, 0);
  }
  const length = buf.readUInt16BE(offset + 2);
  if (length < OFP_HEADER_LEN) {
    throw new OpenFlowDecodeError('OF_DECODE_BAD_LENGTH', `ofp_header length ${length} is below 8`, 2);
  }
  return { version: buf[offset], type: buf[offset + 1], length, xid: buf.readUInt32BE(offset + 4) };
}

/**
 * The length of the message starting at `offset`, or -1 if fewer than 8 bytes
 * are available. For framers: a whole message is there once `length` bytes are.
 */
export function peekMessageLength(buf: Buffer, offset = 0): number {
  if (buf.length - offset < OFP_HEADER_LEN) return -1;
  return buf.readUInt16BE(offset + 2);
}

/** Writes an ofp_header with a zero length; returns its offset for `finishMessage`. */
export function beginMessage(w: OfWriter, version: number, type: number, xid: number): number {
  const start = w.pos;
  w.ensure(OFP_HEADER_LEN);
  const b = w.buf;
  b[start] = version;
  b[start + 1] = type;
  b[start + 2] = 0;
  b[start + 3] = 0;
  b[start + 4] = xid >>> 24;
  b[start + 5] = xid >>> 16;
  b[start + 6] = xid >>> 8;
  b[start + 7] = xid;
  w.pos = start + OFP_HEADER_LEN;
  return start;
}

/** Back-patches the length of the message begun at `start`. */
export function finishMessage(w: OfWriter, start: number): void {
  const len = w.pos - start;
  if (len > OFP_MAX_MSG_LEN) {
    throw new OpenFlowEncodeError('OF_ENCODE_TOO_LONG', `message of ${len} bytes exceeds the 65535-byte OpenFlow limit`);
  }
  w.patchU16(start + 2, len);
}
