/** Typed errors of the packet library, with stable codes. */
import { OpenFlowBaseError } from '../errors.js';

/** The codes of PacketError. */
export type PacketErrorCode =
  /** The frame ends inside a header. */
  | 'PKT_TRUNCATED'
  /** A header's own fields are inconsistent (IPv4 IHL below 5, a TCP data offset below 5, a length beyond the frame...). */
  | 'PKT_BAD_HEADER'
  /** A value to encode is out of range or not an address. */
  | 'PKT_BAD_VALUE'
  /** The buffer given to encode into is too small for the frame. */
  | 'PKT_BUFFER_TOO_SMALL';

/** A frame could not be decoded or built; `offset` is where in the frame, when known. */
export class PacketError extends OpenFlowBaseError {
  override readonly name = 'PacketError';
  constructor(
    readonly code: PacketErrorCode,
    message: string,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}
