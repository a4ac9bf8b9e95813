/**
 * protocol/openflow: an OpenFlow 1.3 codec with the Nicira and ONF extensions
 * Open vSwitch speaks (plus OF1.4 bundles).
 *
 *   const w = new OfWriter();
 *   encodeMessage(w, flowMod({ match: { in_port: 1 }, instructions: [...] }));
 *   socket.write(w.take());
 *   const msg = decodeMessage(frame); // msg.type === 'flow_mod' | 'error' | ...
 *
 * @module @ovs-agent/openflow
 */
export * from './constants.js';
export * from './errors.js';
export * from './types.js';
export { OXM_FIELDS, FIELDS, FIELD_BY_KEY, FIELD_BY_REF, fieldKey, isFieldName, isMasked } from './oxm-fields.js';
export type { FieldDef, FieldSpec, FieldKind, Prerequisite } from './oxm-fields.js';
export { OfWriter } from './writer.js';
export { OfReader } from './reader.js';
export { decodeHeader, peekMessageLength, beginMessage, finishMessage } from './header.js';
export type { OfHeader } from './header.js';
export { encodeMessage, decodeMessage, decodeErrorRequest } from './messages.js';
export { encodeMatch, decodeMatch, prerequisiteMet, fieldDef, writeFieldValue, readFieldValue, putOxm, MAX_OXM_BYTES } from './match.js';
export { encodeActions, decodeActions, encodeAction, decodeAction } from './actions.js';
export { encodeInstructions, decodeInstructions, instructionBytes } from './instructions.js';
export {
  OpenFlowError,
  errorTypeName,
  errorCodeName,
  describeErrorMsg,
  normalizeError,
  errorRequestBytes,
  NX_ERRORS,
  ONF_ERRORS,
} from './ofp-errors.js';
export { flowMod, multipartRequest, flowStatsRequest } from './builders.js';
export { formatMac, formatIpv4, formatIpv6, writeMac, writeIpv4, writeIpv6 } from './addr.js';

// Switch connections (controller and active), the ovs-ofctl flow syntax and the packet library.
export * from './connection/index.js';
export * from './text/index.js';
export * from './packet/index.js';
