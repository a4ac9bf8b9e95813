/**
 * Names for ofp_error types and codes, the Nicira/ONF experimenter errors OVS
 * sends, and OpenFlowError: an OFPT_ERROR from a switch as a typed error.
 */
import {
  EXPERIMENTER_ID,
  NXET_VENDOR,
  OFPACFC,
  OFPBAC,
  OFPBFC,
  OFPBIC,
  OFPBMC,
  OFPBPC,
  OFPBRC,
  OFPET,
  OFPFMFC,
  OFPGMFC,
  OFPHFC,
  OFPMMFC,
  OFPMOFC,
  OFPPMFC,
  OFPQOFC,
  OFPRRFC,
  OFPSCFC,
  OFPTFFC,
  OFPTMFC,
  ONFERR_BUNDLE_BASE,
} from './constants.js';
import { OpenFlowBaseError, OpenFlowDecodeError } from './errors.js';
import type { ErrorMsg, OpenFlowMessage } from './types.js';

/** Per error type: the code table and the prefix of its code names. */
const CODE_TABLES: Record<number, [string, Record<string, number>]> = {
  [OFPET.HELLO_FAILED]: ['OFPHFC', OFPHFC],
  [OFPET.BAD_REQUEST]: ['OFPBRC', OFPBRC],
  [OFPET.BAD_ACTION]: ['OFPBAC', OFPBAC],
  [OFPET.BAD_INSTRUCTION]: ['OFPBIC', OFPBIC],
  [OFPET.BAD_MATCH]: ['OFPBMC', OFPBMC],
  [OFPET.FLOW_MOD_FAILED]: ['OFPFMFC', OFPFMFC],
  [OFPET.GROUP_MOD_FAILED]: ['OFPGMFC', OFPGMFC],
  [OFPET.PORT_MOD_FAILED]: ['OFPPMFC', OFPPMFC],
  [OFPET.TABLE_MOD_FAILED]: ['OFPTMFC', OFPTMFC],
  [OFPET.QUEUE_OP_FAILED]: ['OFPQOFC', OFPQOFC],
  [OFPET.SWITCH_CONFIG_FAILED]: ['OFPSCFC', OFPSCFC],
  [OFPET.ROLE_REQUEST_FAILED]: ['OFPRRFC', OFPRRFC],
  [OFPET.METER_MOD_FAILED]: ['OFPMMFC', OFPMMFC],
  [OFPET.TABLE_FEATURES_FAILED]: ['OFPTFFC', OFPTFFC],
  [OFPET.BAD_PROPERTY]: ['OFPBPC', OFPBPC],
  [OFPET.ASYNC_CONFIG_FAILED]: ['OFPACFC', OFPACFC],
  [OFPET.FLOW_MONITOR_FAILED]: ['OFPMOFC', OFPMOFC],
  [OFPET.BUNDLE_FAILED]: ['OFPBFC', OFPBFC],
};

/**
 * Nicira extension errors as OVS encodes them in OF1.2+: OFPET_EXPERIMENTER,
 * experimenter NX_VENDOR_ID, exp_code below (the "NX1.2+(N)" column of OVS's
 * ofp-errors.h). Codes 6-8 are the OF1.2/1.3 flow-monitor errors.
 */
export const NX_ERRORS: Record<number, string> = {
  2: 'NXBRC_NXM_INVALID',
  3: 'NXBRC_NXM_BAD_TYPE',
  4: 'NXBRC_MUST_BE_ZERO',
  5: 'NXBRC_BAD_REASON',
  6: 'OFPMOFC_MONITOR_EXISTS',
  7: 'OFPMOFC_BAD_FLAGS',
  8: 'OFPMOFC_UNKNOWN_MONITOR',
  9: 'NXBRC_FM_BAD_EVENT',
  10: 'NXBRC_UNENCODABLE_ERROR',
  11: 'NXBAC_MUST_BE_ZERO',
  12: 'NXFMFC_HARDWARE',
  13: 'NXFMFC_BAD_TABLE_ID',
  15: 'NXBAC_BAD_CONJUNCTION',
  16: 'NXTTMFC_BAD_COMMAND',
  17: 'NXTTMFC_BAD_OPT_LEN',
  18: 'NXTTMFC_BAD_FIELD_IDX',
  19: 'NXTTMFC_TABLE_FULL',
  20: 'NXTTMFC_ALREADY_MAPPED',
  21: 'NXTTMFC_DUP_ENTRY',
  22: 'OFPBFC_BAD_VERSION',
  23: 'NXQOFC_QUEUE_ERROR',
  34: 'NXR_NOT_SUPPORTED',
  35: 'NXR_STALE',
  36: 'NXST_NOT_CONFIGURED',
  37: 'NXFMFC_INVALID_TLV_FIELD',
  38: 'NXTTMFC_INVALID_TLV_DEL',
  39: 'NXBAC_BAD_HEADER_TYPE',
  40: 'NXBAC_UNKNOWN_ED_PROP',
  41: 'NXBAC_BAD_ED_PROP',
  42: 'NXBAC_CT_DATAPATH_SUPPORT',
  43: 'NXBMC_CT_DATAPATH_SUPPORT',
};

/** ONF extension errors OVS uses in OF1.3 besides the bundle ones (ONF1.3(N) in ofp-errors.h). */
export const ONF_ERRORS: Record<number, string> = {
  2600: 'OFPBIC_DUP_INST',
  4250: 'OFPBAC_BAD_SET_MASK',
  4443: 'OFPBPC_TOO_MANY',
  4444: 'OFPBPC_DUP_TYPE',
  4445: 'OFPBPC_BAD_EXPERIMENTER',
  4446: 'OFPBPC_BAD_EXP_TYPE',
  4447: 'OFPBPC_BAD_EXP_VALUE',
  4448: 'OFPBPC_EPERM',
};

/** The name of an error type (`OFPET_BAD_MATCH`), or its number when unknown. */
export function errorTypeName(errType: number): string {
  if (errType === NXET_VENDOR) return 'NXET_VENDOR';
  for (const [k, v] of Object.entries(OFPET)) if (v === errType) return `OFPET_${k}`;
  return `OFPET_${errType}`;
}

/** The symbolic name of an error code, e.g. OFPBMC_BAD_FIELD, OFPBFC_MSG_FAILED or NXBRC_NXM_INVALID. */
export function errorCodeName(errType: number, errCode: number, experimenter?: number): string {
  if (errType === OFPET.EXPERIMENTER) {
    if (experimenter === EXPERIMENTER_ID.ONF && errCode >= ONFERR_BUNDLE_BASE && errCode < ONFERR_BUNDLE_BASE + 16) {
      return codeIn('OFPBFC', OFPBFC, errCode - ONFERR_BUNDLE_BASE);
    }
    if (experimenter === EXPERIMENTER_ID.NICIRA && NX_ERRORS[errCode] !== undefined) return NX_ERRORS[errCode];
    if (experimenter === EXPERIMENTER_ID.ONF && ONF_ERRORS[errCode] !== undefined) return ONF_ERRORS[errCode];
    return `experimenter 0x${(experimenter ?? 0).toString(16)} code ${errCode}`;
  }
  const t = CODE_TABLES[errType];
  if (!t) return `code ${errCode}`;
  return codeIn(t[0], t[1], errCode);
}

function codeIn(prefix: string, table: Record<string, number>, code: number): string {
  for (const [k, v] of Object.entries(table)) if (v === code) return `${prefix}_${k}`;
  return `${prefix}_${code}`;
}

/** The standard error equivalent to an error message (ONF bundle errors in OF1.3 map to OFPET_BUNDLE_FAILED). */
export function normalizeError(e: ErrorMsg): { errType: number; errCode: number; experimenter?: number } {
  if (e.errType === OFPET.EXPERIMENTER && e.experimenter === EXPERIMENTER_ID.ONF && e.errCode >= ONFERR_BUNDLE_BASE && e.errCode < ONFERR_BUNDLE_BASE + 16) {
    return { errType: OFPET.BUNDLE_FAILED, errCode: e.errCode - ONFERR_BUNDLE_BASE };
  }
  if (e.errType === NXET_VENDOR && e.data.length >= 8) {
    // OF1.0/1.1 Nicira form: nx_vendor_error {vendor, type, code} precedes the request.
    const vendor = e.data.readUInt32BE(0);
    const type = e.data.readUInt16BE(4);
    const code = e.data.readUInt16BE(6);
    return vendor === EXPERIMENTER_ID.NICIRA ? { errType: OFPET.EXPERIMENTER, errCode: code, experimenter: vendor } : { errType: type, errCode: code };
  }
  return e.experimenter === undefined ? { errType: e.errType, errCode: e.errCode } : { errType: e.errType, errCode: e.errCode, experimenter: e.experimenter };
}

/** "OFPET_BAD_MATCH/OFPBMC_BAD_FIELD" for an error message. */
export function describeErrorMsg(e: ErrorMsg): string {
  const n = normalizeError(e);
  return `${errorTypeName(n.errType)}/${errorCodeName(n.errType, n.errCode, n.experimenter)}`;
}

/** The failed request carried in an error's data (bytes after nx_vendor_error for NXET_VENDOR). */
export function errorRequestBytes(e: ErrorMsg): Buffer {
  return e.errType === NXET_VENDOR && e.data.length >= 8 ? e.data.subarray(8) : e.data;
}

/**
 * Decodes the failed request an error quotes, when the switch quoted enough of
 * it (OpenFlow requires only the first 64 bytes); undefined otherwise.
 */
export function decodeErrorRequest(
  e: ErrorMsg,
  decode: (buf: Buffer) => OpenFlowMessage,
): OpenFlowMessage | undefined {
  const data = errorRequestBytes(e);
  if (data.length < 8 || data.readUInt16BE(2) !== data.length) return undefined;
  try {
    return decode(data);
  } catch (err) {
    if (err instanceof OpenFlowDecodeError) return undefined;
    throw err;
  }
}

/** An OFPT_ERROR received from a switch, as a typed error with names. */
export class OpenFlowError extends OpenFlowBaseError {
  override readonly name = 'OpenFlowError';
  readonly code = 'OF_SWITCH_ERROR';
  readonly errType: number;
  readonly errCode: number;
  readonly experimenter?: number;
  /** e.g. OFPET_BAD_MATCH. */
  readonly typeName: string;
  /** e.g. OFPBMC_BAD_FIELD. */
  readonly codeName: string;
  /** The failed request's bytes as quoted by the switch. */
  readonly data: Buffer;
  /** The failed request, when it could be decoded from `data`. */
  readonly request?: OpenFlowMessage;

  constructor(msg: ErrorMsg, request?: OpenFlowMessage) {
    const n = normalizeError(msg);
    const typeName = errorTypeName(n.errType);
    const codeName = errorCodeName(n.errType, n.errCode, n.experimenter);
    super(`switch error ${typeName}/${codeName}${request ? ` for ${request.type}` : ''} (xid ${msg.xid ?? 0})`);
    this.errType = n.errType;
    this.errCode = n.errCode;
    if (n.experimenter !== undefined) this.experimenter = n.experimenter;
    this.typeName = typeName;
    this.codeName = codeName;
    this.data = errorRequestBytes(msg);
    if (request) this.request = request;
  }
}
