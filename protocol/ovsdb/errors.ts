/**
 * Typed errors of the OVSDB client.
 *
 * Every error thrown or emitted by `protocol/ovsdb` is an {@link OvsdbError}
 * with a stable string `code` from {@link OvsdbErrorCode}: callers branch on
 * `err.code` (or `instanceof` the kind), never on message text.
 */

/** Stable error codes, one per distinct failure callers may want to handle. */
export const OvsdbErrorCode = {
  /** The remote string (`unix:`, `tcp:`, `ssl:`) could not be parsed. */
  BAD_REMOTE: 'ERR_OVSDB_BAD_REMOTE',
  /** Connecting failed (refused, no such socket, DNS, timeout...): worth retrying. */
  CONNECT_FAILED: 'ERR_OVSDB_CONNECT_FAILED',
  /**
   * TLS failed on its own terms, which a retry does not fix until files or
   * certificates change: a key, certificate or CA file that cannot be read or
   * loaded, a server certificate that does not verify against the CA, a
   * server that refuses our certificate, a remote that does not speak TLS.
   */
  TLS: 'ERR_OVSDB_TLS',
  /**
   * A member of a clustered database that must not be used: not the leader
   * (with `leaderOnly`), or cut off from its cluster. Worth retrying: another
   * member may be, or this one may become, usable.
   */
  CLUSTER_MEMBER: 'ERR_OVSDB_CLUSTER_MEMBER',
  /** The connection dropped while the request was in flight or queued. */
  DISCONNECTED: 'ERR_OVSDB_DISCONNECTED',
  /** The client was closed by its owner. */
  CLOSED: 'ERR_OVSDB_CLOSED',
  /** The request got no reply within its timeout. */
  TIMEOUT: 'ERR_OVSDB_TIMEOUT',
  /** The peer answered nothing, not even our echo, for two probe intervals. */
  INACTIVITY: 'ERR_OVSDB_INACTIVITY',
  /** The peer broke the protocol: invalid JSON, unknown id, wrong shapes or types. */
  PROTOCOL: 'ERR_OVSDB_PROTOCOL',
  /** A JSON-RPC reply carried a non-null `error`. */
  RPC: 'ERR_OVSDB_RPC',
  /** A transaction failed: an operation error or a trailing commit error. */
  TRANSACTION: 'ERR_OVSDB_TRANSACTION',
  /** A schema could not be parsed. */
  BAD_SCHEMA: 'ERR_OVSDB_BAD_SCHEMA',
  /** The database is not served by the server. */
  UNKNOWN_DATABASE: 'ERR_OVSDB_UNKNOWN_DATABASE',
  /** The table is not in the schema. */
  UNKNOWN_TABLE: 'ERR_OVSDB_UNKNOWN_TABLE',
  /** The column is not in the table. */
  UNKNOWN_COLUMN: 'ERR_OVSDB_UNKNOWN_COLUMN',
  /** A consumer fell behind: more events were queued for it than its bound (`Replica.changes`). */
  OVERFLOW: 'ERR_OVSDB_OVERFLOW',
  /** A value does not fit its column's type (type, enum, range, length, set size). */
  VALIDATION: 'ERR_OVSDB_VALIDATION',
} as const;

export type OvsdbErrorCode = (typeof OvsdbErrorCode)[keyof typeof OvsdbErrorCode];

/** The root of every error raised by the OVSDB client. */
export class OvsdbError extends Error {
  override readonly name: string = 'OvsdbError';
  readonly code: OvsdbErrorCode;

  constructor(code: OvsdbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Transport and session failures: connect, disconnect, close, timeout, inactivity. */
export class OvsdbConnectionError extends OvsdbError {
  override readonly name = 'OvsdbConnectionError';
  /** The remote (`unix:/path`, `tcp:host:port`...) the failure concerns. */
  readonly remote: string | undefined;

  constructor(
    code:
      | typeof OvsdbErrorCode.BAD_REMOTE
      | typeof OvsdbErrorCode.CONNECT_FAILED
      | typeof OvsdbErrorCode.TLS
      | typeof OvsdbErrorCode.CLUSTER_MEMBER
      | typeof OvsdbErrorCode.DISCONNECTED
      | typeof OvsdbErrorCode.CLOSED
      | typeof OvsdbErrorCode.TIMEOUT
      | typeof OvsdbErrorCode.INACTIVITY,
    message: string,
    remote?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.remote = remote;
  }
}

/** The peer violated JSON or JSON-RPC 1.0 or RFC 7047 (bad JSON, unknown id, ill-typed update). */
export class OvsdbProtocolError extends OvsdbError {
  override readonly name = 'OvsdbProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(OvsdbErrorCode.PROTOCOL, message, options);
  }
}

/** A JSON-RPC reply with a non-null `error` (e.g. `unknown database`, `not supported`). */
export class OvsdbRpcError extends OvsdbError {
  override readonly name = 'OvsdbRpcError';
  /** The method of the failed request. */
  readonly method: string;
  /** The `error` member of the reply: usually a string, or an `{error, details}` object. */
  readonly error: unknown;
  /** `details` when the server sent one. */
  readonly details: string | undefined;

  constructor(method: string, error: unknown, code: OvsdbErrorCode = OvsdbErrorCode.RPC) {
    const e = describeRpcError(error);
    super(code, `${method} failed: ${e.error}${e.details ? ` (${e.details})` : ''}`);
    this.method = method;
    this.error = error;
    this.details = e.details;
  }
}

function describeRpcError(error: unknown): { error: string; details: string | undefined } {
  if (typeof error === 'string') return { error, details: undefined };
  if (error && typeof error === 'object') {
    const o = error as { error?: unknown; details?: unknown };
    if (typeof o.error === 'string') {
      return { error: o.error, details: typeof o.details === 'string' ? o.details : undefined };
    }
  }
  return { error: JSON.stringify(error), details: undefined };
}

/**
 * A transaction failed. `index` is the index of the operation that failed in
 * the request's operation list; when the error is the trailing one that
 * RFC 7047 §4.1.3 adds after all operations (e.g. a commit-time constraint or
 * referential-integrity violation), `index` equals the operation count and
 * `op` is undefined.
 */
export class OvsdbTransactionError extends OvsdbError {
  override readonly name = 'OvsdbTransactionError';
  /** Index of the failed operation (== number of operations for a commit-time error). */
  readonly index: number;
  /** The server's error string: `constraint violation`, `referential integrity violation`, `timed out`, `not owner`... */
  readonly error: string;
  /** The server's `details`, if any. */
  readonly details: string | undefined;
  /** The failed operation's `op` (`insert`, `wait`...), undefined for a commit-time error. */
  readonly op: string | undefined;
  /** The raw result array of the transaction. */
  readonly results: readonly unknown[];

  constructor(index: number, error: string, details: string | undefined, op: string | undefined, results: readonly unknown[]) {
    super(
      OvsdbErrorCode.TRANSACTION,
      `transaction failed at ${op === undefined ? `commit (after ${index} operations)` : `operation ${index} (${op})`}: ${error}${details ? `: ${details}` : ''}`,
    );
    this.index = index;
    this.error = error;
    this.details = details;
    this.op = op;
    this.results = results;
  }
}

/** A schema is malformed, or names a database/table/column the schema lacks. */
export class OvsdbSchemaError extends OvsdbError {
  override readonly name = 'OvsdbSchemaError';
  readonly table: string | undefined;
  readonly column: string | undefined;

  constructor(
    code:
      | typeof OvsdbErrorCode.BAD_SCHEMA
      | typeof OvsdbErrorCode.UNKNOWN_DATABASE
      | typeof OvsdbErrorCode.UNKNOWN_TABLE
      | typeof OvsdbErrorCode.UNKNOWN_COLUMN,
    message: string,
    where: { table?: string; column?: string } = {},
  ) {
    super(code, message);
    this.table = where.table;
    this.column = where.column;
  }
}

/** A value does not fit its column's type. Names the table, the column and the value. */
export class OvsdbValidationError extends OvsdbError {
  override readonly name = 'OvsdbValidationError';
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly value: unknown;

  constructor(reason: string, where: { table?: string; column?: string; value?: unknown } = {}) {
    const at = where.table !== undefined || where.column !== undefined ? ` in ${where.table ?? '?'}.${where.column ?? '?'}` : '';
    super(OvsdbErrorCode.VALIDATION, `invalid value${at}: ${reason} (value: ${preview(where.value)})`);
    this.table = where.table;
    this.column = where.column;
    this.value = where.value;
  }
}

/** A short printable form of a value for messages (never the whole of a huge value). */
export function preview(value: unknown): string {
  let s: string;
  try {
    s = value instanceof Map ? `Map(${JSON.stringify([...value])})` : value instanceof Set ? `Set(${JSON.stringify([...value])})` : JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
