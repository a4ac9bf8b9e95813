/**
 * Typed errors of the OpenFlow codec. Every error the package throws descends
 * from OpenFlowBaseError and carries a stable string `code`, so callers branch
 * on `err.code`, never on message text.
 */

export abstract class OpenFlowBaseError extends Error {
  abstract readonly code: string;
}

/** The codes of OpenFlowDecodeError (a malformed message). */
export type DecodeErrorCode =
  | 'OF_DECODE_TRUNCATED'
  | 'OF_DECODE_BAD_LENGTH'
  | 'OF_DECODE_BAD_VERSION'
  | 'OF_DECODE_BAD_VALUE'
  | 'OF_DECODE_UNKNOWN_FIELD'
  | 'OF_DECODE_TOO_DEEP';

/** The bytes are not a well-formed OpenFlow message; `offset` is where, from the message start. */
export class OpenFlowDecodeError extends OpenFlowBaseError {
  override readonly name = 'OpenFlowDecodeError';
  /** The message without the offset suffix. */
  readonly reason: string;
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.reason = message;
  }
}

/** The codes of OpenFlowEncodeError (a message that cannot be encoded). */
export type EncodeErrorCode =
  | 'OF_ENCODE_UNKNOWN_FIELD'
  | 'OF_ENCODE_PREREQUISITE'
  | 'OF_ENCODE_NOT_MASKABLE'
  | 'OF_ENCODE_BAD_VALUE'
  | 'OF_ENCODE_TOO_LONG'
  | 'OF_ENCODE_UNSUPPORTED';

/** A message could not be encoded; `field` names the offending field or action when there is one. */
export class OpenFlowEncodeError extends OpenFlowBaseError {
  override readonly name = 'OpenFlowEncodeError';
  constructor(
    readonly code: EncodeErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
