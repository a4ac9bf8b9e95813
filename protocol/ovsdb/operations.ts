/**
 * Transaction operations (RFC 7047 §5.2) as typed objects with natural
 * values, their builders (`op.insert(...)`...), and their encoding to wire
 * JSON, validated against the schema before anything is sent. Also the
 * decoding of each operation's result.
 */
import { OvsdbProtocolError, OvsdbSchemaError, OvsdbTransactionError, OvsdbValidationError, preview } from './errors.js';
import {
  decodeRow,
  encodeAtom,
  encodeDatum,
  encodeRow,
  isUuid,
  isUuidName,
  type Row,
  type RowInput,
  type Uuid,
  type ValueInput,
  type WireDatum,
  type WireRow,
} from './datum.js';
import { anySizeType, getColumn, getTable, type BaseType, type ColumnType, type DatabaseSchema, type TableSchema } from './schema.js';

/** A condition's function: comparisons, and `includes`/`excludes` for sets and maps. */
export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
/** `[column, function, value]`, value in natural form. */
export type Condition = readonly [column: string, fn: ConditionFunction, value: ValueInput];
/** A mutation's operator: arithmetic on numbers, insert/delete on sets and maps. */
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
/** `[column, mutator, value]`, value in natural form. */
export type Mutation = readonly [column: string, mutator: Mutator, value: ValueInput];

/** `insert`: adds a row; `uuidName` lets later operations of the transaction refer to it. */
export interface InsertOp {
  readonly op: 'insert';
  readonly table: string;
  readonly row: RowInput;
  /** Names the new row so later operations can refer to it with `namedUuid(uuidName)`. */
  readonly uuidName?: string;
}
/**
 * `select`: reads the rows that match `where`, the given columns or all. `R` is the type of the rows
 * it returns: `Row` from `op.select`, the model's row (or the columns picked) from `typedOps`.
 */
export interface SelectOp<R = Row> {
  readonly op: 'select';
  readonly table: string;
  readonly where: readonly Condition[];
  readonly columns?: readonly string[];
  /** Type-level only, never set: the type of the rows the select returns. */
  readonly rowType?: R;
}
/** `update`: sets columns of the rows that match `where`. */
export interface UpdateOp {
  readonly op: 'update';
  readonly table: string;
  readonly where: readonly Condition[];
  readonly row: RowInput;
}
/** `mutate`: changes columns in place (arithmetic, set and map insert/delete) in the rows that match. */
export interface MutateOp {
  readonly op: 'mutate';
  readonly table: string;
  readonly where: readonly Condition[];
  readonly mutations: readonly Mutation[];
}
/** `delete`: removes the rows that match `where`. */
export interface DeleteOp {
  readonly op: 'delete';
  readonly table: string;
  readonly where: readonly Condition[];
}
/**
 * `wait`: blocks or fails the transaction until the matching rows do (`==`) or do not (`!=`) equal
 * `rows`.
 */
export interface WaitOp {
  readonly op: 'wait';
  readonly table: string;
  readonly where: readonly Condition[];
  readonly columns: readonly string[];
  readonly until: '==' | '!=';
  readonly rows: readonly RowInput[];
  /** Milliseconds; omitted = wait forever (0 = fail at once if not satisfied). */
  readonly timeout?: number;
}
/** `commit`: with `durable`, the reply waits until the transaction is on disk. */
export interface CommitOp {
  readonly op: 'commit';
  readonly durable: boolean;
}
/** `abort`: makes the transaction fail, undoing everything (RFC 7047 5.2.9). */
export interface AbortOp {
  readonly op: 'abort';
}
/** `comment`: a note written to the database log with the transaction. */
export interface CommentOp {
  readonly op: 'comment';
  readonly comment: string;
}
/** `assert`: fails the transaction unless this session owns the lock (RFC 7047 5.2.11). */
export interface AssertOp {
  readonly op: 'assert';
  readonly lock: string;
}

/** Any operation of a transaction, discriminated by `op`; built with {@link op}. */
export type Operation = InsertOp | SelectOp<unknown> | UpdateOp | MutateOp | DeleteOp | WaitOp | CommitOp | AbortOp | CommentOp | AssertOp;

/** The result of insert: the new row's uuid. */
export interface InsertResult {
  readonly uuid: Uuid;
}
/** The result of select: the rows, decoded by the schema (typed by the model with `typedOps`). */
export interface SelectResult<R = Row> {
  readonly rows: R[];
}
/** The result of update, mutate and delete: how many rows matched. */
export interface CountResult {
  readonly count: number;
}
/** The result of the operations that return nothing (wait, commit, abort, comment, assert). */
export type EmptyResult = Record<string, never>;

/** The result type of one operation. */
export type OperationResult<O> = O extends InsertOp
  ? InsertResult
  : O extends SelectOp<infer R>
    ? SelectResult<R>
    : O extends UpdateOp | MutateOp | DeleteOp
      ? CountResult
      : EmptyResult;

/** The results of a transaction, one per operation, in order. */
export type TransactionResults<T extends readonly Operation[]> = { -readonly [K in keyof T]: OperationResult<T[K]> };

/** A wire operation, as sent in `transact` params. */
export type WireOperation = Record<string, unknown> & { op: string };

/** Builders for every operation. `where` defaults to all rows where the RFC allows it. */
export const op = {
  /**
   * Inserts `row` into `table`; name it with `uuidName` to refer to it later in the same
   * transaction (`namedUuid`).
   */
  insert(table: string, row: RowInput, uuidName?: string): InsertOp {
    return uuidName === undefined ? { op: 'insert', table, row } : { op: 'insert', table, row, uuidName };
  },
  /** Selects the rows of `table` that match `where` (all rows by default), with the given columns or all. */
  select(table: string, where: readonly Condition[] = [], columns?: readonly string[]): SelectOp {
    return columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
  },
  /** Sets the columns of `row` in the rows of `table` that match `where`. */
  update(table: string, where: readonly Condition[], row: RowInput): UpdateOp {
    return { op: 'update', table, where, row };
  },
  /** Applies `mutations` (`[column, mutator, value]`) to the rows of `table` that match `where`. */
  mutate(table: string, where: readonly Condition[], mutations: readonly Mutation[]): MutateOp {
    return { op: 'mutate', table, where, mutations };
  },
  /** Deletes the rows of `table` that match `where`. */
  delete(table: string, where: readonly Condition[]): DeleteOp {
    return { op: 'delete', table, where };
  },
  /**
   * Waits (up to `timeout` ms; 0: checks once) until the `columns` of the rows matching `where` are
   * (`==`) or are not (`!=`) `rows`; the transaction fails with `timed out` otherwise.
   */
  wait(
    table: string,
    where: readonly Condition[],
    columns: readonly string[],
    until: '==' | '!=',
    rows: readonly RowInput[],
    timeout?: number,
  ): WaitOp {
    return timeout === undefined ? { op: 'wait', table, where, columns, until, rows } : { op: 'wait', table, where, columns, until, rows, timeout };
  },
  /** Asks for the transaction to be on disk before the reply (`durable`). */
  commit(durable = false): CommitOp {
    return { op: 'commit', durable };
  },
  /** Makes the transaction fail with `aborted`: nothing it did is kept. */
  abort(): AbortOp {
    return { op: 'abort' };
  },
  /** Adds `comment` to the database log entry of the transaction. */
  comment(comment: string): CommentOp {
    return { op: 'comment', comment };
  },
  /** Fails the transaction with `not owner` unless this session holds `lock`. */
  assert(lock: string): AssertOp {
    return { op: 'assert', lock };
  },
} as const;

const RELATIONAL = new Set<string>(['<', '<=', '>=', '>']);
const CONDITION_FUNCTIONS = new Set<string>(['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes']);
const ARITHMETIC = new Set<string>(['+=', '-=', '*=', '/=', '%=']);

function unconstrained(base: BaseType): BaseType {
  return { type: base.type };
}

/** Encodes a `where` clause of a table, validated. */
export function encodeConditions(table: TableSchema, where: readonly Condition[]): unknown[] {
  if (!Array.isArray(where)) throw new OvsdbValidationError('"where" must be an array of [column, function, value]', { table: table.name, value: where });
  return where.map((c) => encodeCondition(table, c));
}

/** Encodes one condition; monitor_cond also allows the literals `true`/`false`. */
export function encodeCondition(table: TableSchema, cond: Condition | boolean): unknown {
  if (typeof cond === 'boolean') return cond;
  if (!Array.isArray(cond) || cond.length !== 3) {
    throw new OvsdbValidationError('a condition is [column, function, value]', { table: table.name, value: cond });
  }
  const [name, fn, value] = cond;
  const col = getColumn(table, name);
  const where = { table: table.name, column: name };
  if (!CONDITION_FUNCTIONS.has(fn)) throw new OvsdbValidationError(`unknown condition function ${JSON.stringify(fn)}`, { ...where, value: fn });
  let wire: WireDatum;
  if (RELATIONAL.has(fn)) {
    const t = col.type;
    if (t.value !== undefined || t.max !== 1 || (t.key.type !== 'integer' && t.key.type !== 'real')) {
      throw new OvsdbValidationError(`${fn} needs an integer or real column with at most one value`, { ...where, value });
    }
    wire = encodeAtom(unconstrained(t.key), value, where);
  } else if (fn === 'includes' || fn === 'excludes') {
    wire = encodeDatum(anySizeType(col.type), value, where);
  } else {
    wire = encodeDatum(col.type, value, where);
  }
  return [name, fn, wire];
}

function encodeMutation(table: TableSchema, m: Mutation): unknown {
  if (!Array.isArray(m) || m.length !== 3) throw new OvsdbValidationError('a mutation is [column, mutator, value]', { table: table.name, value: m });
  const [name, mutator, value] = m;
  const col = getColumn(table, name);
  const where = { table: table.name, column: name };
  if (!col.mutable || name === '_uuid' || name === '_version') throw new OvsdbValidationError('column is immutable', { ...where, value });
  const t: ColumnType = col.type;
  if (ARITHMETIC.has(mutator)) {
    const numeric = t.value === undefined && (t.key.type === 'integer' || (t.key.type === 'real' && mutator !== '%='));
    if (!numeric) throw new OvsdbValidationError(`${mutator} needs an integer${mutator === '%=' ? '' : ' or real'} column (or set of them)`, { ...where, value });
    return [name, mutator, encodeAtom(unconstrained(t.key), value, where)];
  }
  if (mutator === 'insert' || mutator === 'delete') {
    if (t.min === 1 && t.max === 1) throw new OvsdbValidationError(`${mutator} needs a set or map column`, { ...where, value });
    if (mutator === 'delete' && t.value !== undefined && !(value instanceof Map) && (Array.isArray(value) || value instanceof Set)) {
      // Deleting from a map by keys: a set of keys.
      return [name, mutator, encodeDatum({ key: t.key, min: 0, max: Infinity }, value, where)];
    }
    return [name, mutator, encodeDatum(anySizeType(t), value, where)];
  }
  throw new OvsdbValidationError(`unknown mutator ${JSON.stringify(mutator)}`, { ...where, value: mutator });
}

function checkColumns(table: TableSchema, columns: readonly string[]): string[] {
  return columns.map((c) => getColumn(table, c).name);
}

/** Encodes one operation against a schema; throws validation and schema errors. */
export function encodeOperation(schema: DatabaseSchema, o: Operation): WireOperation {
  switch (o.op) {
    case 'insert': {
      const table = getTable(schema, o.table);
      const w: WireOperation = { op: 'insert', table: table.name, row: encodeRow(table, o.row) };
      if (o.uuidName !== undefined) {
        if (!isUuidName(o.uuidName)) throw new OvsdbValidationError('uuid-name must be an identifier', { table: table.name, value: o.uuidName });
        w['uuid-name'] = o.uuidName;
      }
      return w;
    }
    case 'select': {
      const table = getTable(schema, o.table);
      const w: WireOperation = { op: 'select', table: table.name, where: encodeConditions(table, o.where) };
      if (o.columns !== undefined) w.columns = checkColumns(table, o.columns);
      return w;
    }
    case 'update': {
      const table = getTable(schema, o.table);
      return { op: 'update', table: table.name, where: encodeConditions(table, o.where), row: encodeRow(table, o.row, { forUpdate: true }) };
    }
    case 'mutate': {
      const table = getTable(schema, o.table);
      return { op: 'mutate', table: table.name, where: encodeConditions(table, o.where), mutations: o.mutations.map((m) => encodeMutation(table, m)) };
    }
    case 'delete': {
      const table = getTable(schema, o.table);
      return { op: 'delete', table: table.name, where: encodeConditions(table, o.where) };
    }
    case 'wait': {
      const table = getTable(schema, o.table);
      const columns = checkColumns(table, o.columns);
      const rows: WireRow[] = o.rows.map((r) => {
        for (const k of Object.keys(r)) {
          if (r[k] !== undefined && !columns.includes(k)) {
            throw new OvsdbValidationError(`wait row has column ${k} not listed in "columns"`, { table: table.name, column: k, value: r[k] });
          }
        }
        return encodeRowForWait(table, r);
      });
      if (o.until !== '==' && o.until !== '!=') throw new OvsdbValidationError('"until" must be "==" or "!="', { table: table.name, value: o.until });
      const w: WireOperation = { op: 'wait', table: table.name, where: encodeConditions(table, o.where), columns, until: o.until, rows };
      if (o.timeout !== undefined) {
        if (!Number.isInteger(o.timeout) || o.timeout < 0) throw new OvsdbValidationError('wait timeout must be a non-negative integer (ms)', { table: table.name, value: o.timeout });
        w.timeout = o.timeout;
      }
      return w;
    }
    case 'commit':
      if (typeof o.durable !== 'boolean') throw new OvsdbValidationError('commit "durable" must be a boolean', { value: o.durable });
      return { op: 'commit', durable: o.durable };
    case 'abort':
      return { op: 'abort' };
    case 'comment':
      if (typeof o.comment !== 'string') throw new OvsdbValidationError('comment must be a string', { value: o.comment });
      return { op: 'comment', comment: o.comment };
    case 'assert':
      if (typeof o.lock !== 'string' || o.lock === '') throw new OvsdbValidationError('assert needs a lock name', { value: o.lock });
      return { op: 'assert', lock: o.lock };
    default:
      throw new OvsdbValidationError(`unknown operation ${JSON.stringify((o as { op?: unknown }).op)}`, { value: o });
  }
}

function encodeRowForWait(table: TableSchema, row: RowInput): WireRow {
  // A wait row may name _uuid (to wait on a row's identity), unlike insert/update rows.
  const out: WireRow = {};
  for (const name of Object.keys(row)) {
    const v = row[name];
    if (v === undefined) continue;
    const col = getColumn(table, name);
    out[name] = encodeDatum(col.type, v, { table: table.name, column: name });
  }
  return out;
}

/**
 * Encodes a transaction's operations; a failure names the operation index.
 * Returns the `transact` params without the database name.
 */
export function encodeOperations(schema: DatabaseSchema, ops: readonly Operation[]): WireOperation[] {
  if (!Array.isArray(ops)) throw new OvsdbValidationError('operations must be an array', { value: ops });
  return ops.map((o, i) => {
    try {
      return encodeOperation(schema, o);
    } catch (err) {
      if (err instanceof OvsdbValidationError || err instanceof OvsdbSchemaError) {
        err.message = `operation ${i} (${(o as { op?: string }).op ?? '?'}): ${err.message}`;
      }
      throw err;
    }
  });
}

/**
 * Checks a raw `transact` result (RFC 7047 §4.1.3): the first element with
 * an `error` becomes an {@link OvsdbTransactionError} carrying its index.
 * `ops` gives the operation names for the message.
 */
export function checkTransactResult(raw: unknown, ops: readonly { op: string }[]): unknown[] {
  if (!Array.isArray(raw)) throw new OvsdbProtocolError(`transact result is not an array: ${preview(raw)}`);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i] as { error?: unknown; details?: unknown } | null;
    if (r !== null && typeof r === 'object' && r.error !== undefined && r.error !== null) {
      const error = typeof r.error === 'string' ? r.error : JSON.stringify(r.error);
      const details = typeof r.details === 'string' ? r.details : undefined;
      throw new OvsdbTransactionError(i, error, details, ops[i]?.op, raw);
    }
  }
  if (raw.length < ops.length) throw new OvsdbProtocolError(`transact result has ${raw.length} elements for ${ops.length} operations`);
  return raw;
}

/** Decodes the (error-free) results of a transaction into typed results. */
export function decodeResults(schema: DatabaseSchema, ops: readonly Operation[], raw: readonly unknown[]): unknown[] {
  return ops.map((o, i) => {
    const r = raw[i];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      throw new OvsdbProtocolError(`result ${i} (${o.op}) is not an object: ${preview(r)}`);
    }
    const obj = r as Record<string, unknown>;
    switch (o.op) {
      case 'insert': {
        const u = obj.uuid;
        if (!Array.isArray(u) || u[0] !== 'uuid' || !isUuid(u[1])) throw new OvsdbProtocolError(`insert result ${i} has no uuid: ${preview(r)}`);
        return { uuid: u[1] };
      }
      case 'select': {
        if (!Array.isArray(obj.rows)) throw new OvsdbProtocolError(`select result ${i} has no rows: ${preview(r)}`);
        const table = getTable(schema, o.table);
        return { rows: obj.rows.map((row) => decodeRow(table, row)) };
      }
      case 'update':
      case 'mutate':
      case 'delete':
        if (!Number.isInteger(obj.count)) throw new OvsdbProtocolError(`${o.op} result ${i} has no count: ${preview(r)}`);
        return { count: obj.count };
      default:
        return {};
    }
  });
}
