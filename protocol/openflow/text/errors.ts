/**
 * The one error the text syntax throws. Callers branch on `code`; `token` and
 * `column` (1-based, into the text given to the parser) say where.
 */
import { OpenFlowBaseError } from '../errors.js';

/** The codes of FlowSyntaxError: what is wrong with a flow's text. */
export type FlowSyntaxErrorCode =
  | 'OFTEXT_SYNTAX' // unbalanced parentheses, missing value, stray characters
  | 'OFTEXT_UNKNOWN_KEYWORD' // neither a field, a protocol, nor a flow keyword
  | 'OFTEXT_UNKNOWN_ACTION'
  | 'OFTEXT_BAD_VALUE' // a value that does not parse for its field or action
  | 'OFTEXT_BAD_MASK' // a mask on a field that cannot be masked, or a malformed one
  | 'OFTEXT_PREREQ' // e.g. tp_dst without tcp/udp/sctp, as ovs-ofctl refuses
  | 'OFTEXT_MISSING_ACTIONS'
  | 'OFTEXT_NOT_ALLOWED' // a keyword the command does not take (a cookie mask on add)
  | 'OFTEXT_UNSUPPORTED'; // valid ovs-ofctl text that the codec cannot represent

export class FlowSyntaxError extends OpenFlowBaseError {
  override readonly name = 'FlowSyntaxError';
  constructor(
    readonly code: FlowSyntaxErrorCode,
    detail: string,
    /** The offending token, as written. */
    readonly token: string,
    /** 1-based column of `token` in the parsed text (in its line, for multi-line input). */
    readonly column: number,
    /** 1-based line, when parsing multi-line input (parseFlowFile). */
    readonly line?: number,
  ) {
    super(`${detail} at ${line !== undefined ? `line ${line}, ` : ''}column ${column}: "${token}"`);
  }

  /** The same error, placed on line `line` of a multi-line input. */
  atLine(line: number): FlowSyntaxError {
    const detail = this.message.slice(0, this.message.lastIndexOf(' at '));
    return new FlowSyntaxError(this.code, detail, this.token, this.column, line);
  }
}
