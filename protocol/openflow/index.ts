/**
 * protocol/openflow: an OpenFlow 1.3 codec with the Nicira and ONF extensions
 * Open vSwitch speaks.
 */
export * from './constants.js';
export * from './errors.js';
export * from './types.js';
export { OXM_FIELDS, FIELDS, FIELD_BY_KEY, fieldKey, isFieldName, isMasked } from './oxm-fields.js';
export type { FieldDef, FieldSpec, FieldKind, Prerequisite } from './oxm-fields.js';
export { OfWriter } from './writer.js';
export { OfReader } from './reader.js';
export { decodeHeader, peekMessageLength, beginMessage, finishMessage } from './header.js';
export type { OfHeader } from './header.js';
