/**
 * An OFPT_ERROR from the switch (the codec's OpenFlowError, with its names),
 * tied back to the request we sent with the quoted xid.
 */
import { OpenFlowError } from '../ofp-errors.js';
import type { ErrorMsg, FlowMod, OpenFlowMessage } from '../types.js';

export class OpenFlowSwitchError extends OpenFlowError {
  /** The decoded OFPT_ERROR as received. */
  readonly error: ErrorMsg;
  /** The xid the switch quoted. */
  readonly xid: number;
  /**
   * Every error covered by the same barrier or bundle, this one first: a
   * barrier rejects with the first and lists them all here.
   */
  errors: OpenFlowSwitchError[];

  /** `request` is the message we sent with that xid, when the session still remembers it (its errorWindow). */
  constructor(error: ErrorMsg, request: OpenFlowMessage | undefined) {
    super(error, request);
    Object.defineProperty(this, 'name', { value: 'OpenFlowSwitchError' });
    this.error = error;
    this.xid = error.xid ?? 0;
    this.errors = [this];
    this.message = `switch rejected ${describeRequest(request)} (xid ${this.xid}): ${this.typeName}/${this.codeName}`;
  }

  /** The offending message itself: the request, or the message a bundle add carried. */
  get failedMessage(): OpenFlowMessage | undefined {
    const r = this.request;
    return r?.type === 'bundle_add_message' ? r.message : r;
  }
}

function describeFlowMod(m: FlowMod): string {
  return `flow_mod ${m.command} table=${m.tableId} priority=${m.priority} cookie=0x${m.cookie.toString(16)}`;
}

function describeRequest(m: OpenFlowMessage | undefined): string {
  if (m === undefined) return 'a message this session no longer remembers (or could not decode)';
  switch (m.type) {
    case 'flow_mod':
      return describeFlowMod(m);
    case 'multipart_request':
      return `multipart_request ${m.body.kind}`;
    case 'bundle_control':
      return `bundle_control ${m.ctrlType} id=${m.bundleId}`;
    case 'bundle_add_message':
      return `bundle ${m.bundleId} add of ${describeRequest(m.message)}`;
    case 'group_mod':
      return `group_mod ${m.command} group_id=${m.groupId}`;
    case 'meter_mod':
      return `meter_mod ${m.command} meter=${m.meterId}`;
    default:
      return m.type;
  }
}
