/**
 * Monitor requests and table updates: `<table-updates>` of `update`
 * (RFC 7047 §4.1.6) and `<table-updates2>` of `update2`/`update3` (OVS
 * extensions). The client hands updates on as wire JSON whose shape it has
 * checked (`checkTableUpdates*`); `decodeTableUpdates*` turn them into
 * natural values for a replica, with a protocol error naming table,
 * row and column for any ill-typed value.
 */
import { decodeDatum, decodeRow, isUuid, type Row, type Uuid, type Value, type WireRow } from './datum.js';
import { OvsdbProtocolError, preview } from './errors.js';
import { anySizeType, getColumn, getTable, type DatabaseSchema, type TableSchema } from './schema.js';
import { encodeCondition, type Condition } from './operations.js';

/** Which changes a monitor reports: the initial rows, inserts, deletes, modifications (all by default). */
export interface MonitorSelect {
  initial?: boolean;
  insert?: boolean;
  delete?: boolean;
  modify?: boolean;
}

/** One `<monitor-request>`: columns default to all, select to everything. */
export interface MonitorRequest {
  readonly columns?: readonly string[];
  readonly select?: MonitorSelect;
}

/** One `<monitor-cond-request>` (monitor_cond / monitor_cond_since). */
export interface MonitorCondRequest extends MonitorRequest {
  /**
   * Unlike a transaction's `where`, monitor clauses are ORed (ovsdb-server(7)):
   * a row is sent if any clause holds. `true`/`false` literals are allowed:
   * `[false]` selects no row, `[true]` (like no `where`) every row.
   */
  readonly where?: readonly (Condition | boolean)[];
}

/** For monitor_cond_change: new columns and/or conditions per table. */
export interface MonitorCondChange {
  readonly columns?: readonly string[];
  readonly where?: readonly (Condition | boolean)[];
}

/** `update`: old/new rows (only the monitored columns; `old` only the changed ones on modify). */
export interface RowUpdate {
  readonly old?: WireRow;
  readonly new?: WireRow;
}
/** A `update` notification's table-updates in wire form: table → row uuid → old/new. */
export type TableUpdates = Record<string, Record<Uuid, RowUpdate>>;

/** `update2`/`update3`: exactly one member; `modify` carries a diff (see `anySizeType`). */
export type RowUpdate2 =
  | { readonly initial: WireRow }
  | { readonly insert: WireRow }
  | { readonly delete: null }
  | { readonly modify: WireRow };
/**
 * A `update2`/`update3` notification's table-updates in wire form: table → row uuid →
 * initial/insert/delete/modify.
 */
export type TableUpdates2 = Record<string, Record<Uuid, RowUpdate2>>;

/** Decoded `update` rows. */
export interface DecodedRowUpdate {
  readonly old?: Row;
  readonly new?: Row;
}
/** TableUpdates decoded by the schema (`decodeTableUpdates`). */
export type DecodedTableUpdates = Map<string, Map<Uuid, DecodedRowUpdate>>;

/**
 * Decoded `update2` rows. For `modify`, `diff` holds per column: for a
 * scalar or optional column the new value (`null` when cleared); for a set
 * column an array of elements to toggle (add if absent, remove if present);
 * for a map a Map of key → value where a key whose value equals the current
 * one is removed, otherwise set (OVS `<diff>` semantics).
 */
export type DecodedRowUpdate2 =
  | { readonly kind: 'initial'; readonly row: Row }
  | { readonly kind: 'insert'; readonly row: Row }
  | { readonly kind: 'delete' }
  | { readonly kind: 'modify'; readonly diff: Record<string, Value> };
/** TableUpdates2 decoded by the schema (`decodeTableUpdates2`). */
export type DecodedTableUpdates2 = Map<string, Map<Uuid, DecodedRowUpdate2>>;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks the outer shape (tables, row keys) and calls `checkRow` on each
 * row update. `for...in` rather than `Object.entries`: an initial dump holds
 * tens of thousands of rows, and entries would allocate a pair per row.
 */
function checkOuter(
  schema: DatabaseSchema | undefined,
  json: unknown,
  what: string,
  checkRow: (table: string, uuid: string, ru: unknown) => void,
): Record<string, Record<string, unknown>> {
  if (!isObject(json)) throw new OvsdbProtocolError(`${what}: table-updates is not an object (got ${preview(json)})`);
  for (const table in json) {
    const rows = json[table];
    if (schema && !schema.tables.has(table)) throw new OvsdbProtocolError(`${what}: unknown table ${table}`);
    if (!isObject(rows)) throw new OvsdbProtocolError(`${what}: ${table} updates are not an object (got ${preview(rows)})`);
    for (const uuid in rows) {
      if (!isUuid(uuid)) throw new OvsdbProtocolError(`${what}: ${table} row key ${JSON.stringify(uuid)} is not a uuid`);
      checkRow(table, uuid, rows[uuid]);
    }
  }
  return json as Record<string, Record<string, unknown>>;
}

function checkRowUpdate(table: string, uuid: string, ru: unknown): void {
  if (!isObject(ru)) throw new OvsdbProtocolError(`update: ${table} ${uuid} is not an object`);
  if (ru.old !== undefined && !isObject(ru.old)) throw new OvsdbProtocolError(`update: ${table} ${uuid} "old" is not a row`);
  if (ru.new !== undefined && !isObject(ru.new)) throw new OvsdbProtocolError(`update: ${table} ${uuid} "new" is not a row`);
  if (ru.old === undefined && ru.new === undefined) throw new OvsdbProtocolError(`update: ${table} ${uuid} has neither "old" nor "new"`);
}

function checkRowUpdate2(table: string, uuid: string, ru: unknown): void {
  if (!isObject(ru)) throw new OvsdbProtocolError(`update2: ${table} ${uuid} is not an object`);
  let k: string | undefined;
  let n = 0;
  for (const key in ru) {
    k = key;
    if (++n > 1) break;
  }
  if (n !== 1) throw new OvsdbProtocolError(`update2: ${table} ${uuid} must have exactly one of initial/insert/delete/modify (got ${preview(ru)})`);
  if (k === 'delete') {
    if (ru.delete !== null) throw new OvsdbProtocolError(`update2: ${table} ${uuid} "delete" must be null`);
  } else if (k === 'initial' || k === 'insert' || k === 'modify') {
    if (!isObject(ru[k])) throw new OvsdbProtocolError(`update2: ${table} ${uuid} "${k}" is not a row`);
  } else {
    throw new OvsdbProtocolError(`update2: ${table} ${uuid} has unknown member ${JSON.stringify(k)}`);
  }
}

/** Checks the shape of an `update` payload (not the column values). */
export function checkTableUpdates(schema: DatabaseSchema | undefined, json: unknown): TableUpdates {
  return checkOuter(schema, json, 'update', checkRowUpdate) as TableUpdates;
}

/** Checks the shape of an `update2`/`update3` payload (not the column values). */
export function checkTableUpdates2(schema: DatabaseSchema | undefined, json: unknown): TableUpdates2 {
  return checkOuter(schema, json, 'update2', checkRowUpdate2) as TableUpdates2;
}

function rowOf(table: TableSchema, uuid: string, json: unknown): Row {
  try {
    return decodeRow(table, json);
  } catch (err) {
    if (err instanceof OvsdbProtocolError) err.message = `row ${uuid}: ${err.message}`;
    throw err;
  }
}

/** Decodes an `update` payload (checked or not) into natural rows. */
export function decodeTableUpdates(schema: DatabaseSchema, json: unknown): DecodedTableUpdates {
  const tu = checkTableUpdates(schema, json);
  const out: DecodedTableUpdates = new Map();
  for (const [tname, rows] of Object.entries(tu)) {
    const table = getTable(schema, tname);
    const m = new Map<Uuid, DecodedRowUpdate>();
    for (const [uuid, ru] of Object.entries(rows)) {
      const d: { old?: Row; new?: Row } = {};
      if (ru.old !== undefined) d.old = rowOf(table, uuid, ru.old);
      if (ru.new !== undefined) d.new = rowOf(table, uuid, ru.new);
      m.set(uuid, d);
    }
    out.set(tname, m);
  }
  return out;
}

/** Decodes an `update2`/`update3` payload (checked or not) into natural rows and diffs. */
export function decodeTableUpdates2(schema: DatabaseSchema, json: unknown): DecodedTableUpdates2 {
  const tu = checkTableUpdates2(schema, json);
  const out: DecodedTableUpdates2 = new Map();
  for (const [tname, rows] of Object.entries(tu)) {
    const table = getTable(schema, tname);
    const m = new Map<Uuid, DecodedRowUpdate2>();
    for (const [uuid, ru] of Object.entries(rows)) {
      if ('delete' in ru) m.set(uuid, { kind: 'delete' });
      else if ('initial' in ru) m.set(uuid, { kind: 'initial', row: rowOf(table, uuid, ru.initial) });
      else if ('insert' in ru) m.set(uuid, { kind: 'insert', row: rowOf(table, uuid, ru.insert) });
      else m.set(uuid, { kind: 'modify', diff: decodeDiff(table, uuid, ru.modify) });
    }
    out.set(tname, m);
  }
  return out;
}

function decodeDiff(table: TableSchema, uuid: string, json: WireRow): Record<string, Value> {
  const diff: Record<string, Value> = {};
  for (const name of Object.keys(json)) {
    const col = table.columns.get(name);
    if (!col) throw new OvsdbProtocolError(`row ${uuid}: server sent unknown column ${table.name}.${name}`);
    // A scalar's or an optional's diff is its new value (ovsdb-server 3.1 sends `7` or
    // `["set", []]`); a set's or a map's is the set/map of changes.
    const type = col.type.max === 1 && col.type.value === undefined ? col.type : anySizeType(col.type);
    try {
      diff[name] = decodeDatum(type, json[name], { table: table.name, column: name });
    } catch (err) {
      if (err instanceof OvsdbProtocolError) err.message = `row ${uuid}: ${err.message}`;
      throw err;
    }
  }
  return diff;
}

/** Encodes `<monitor-requests>` for `monitor` (validating table and column names). */
export function encodeMonitorRequests(
  schema: DatabaseSchema,
  requests: Record<string, MonitorRequest | readonly MonitorRequest[]>,
  cond: boolean,
): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [tname, reqs] of Object.entries(requests)) {
    const table = getTable(schema, tname);
    const list = (Array.isArray(reqs) ? reqs : [reqs]) as (MonitorRequest & MonitorCondRequest)[];
    out[tname] = list.map((r) => {
      const w: Record<string, unknown> = {};
      if (r.columns !== undefined) w.columns = r.columns.map((c) => getColumn(table, c).name);
      if (r.select !== undefined) w.select = { ...r.select };
      if (r.where !== undefined) {
        if (!cond) throw new OvsdbProtocolError(`"where" needs monitor_cond; plain monitor has no conditions`);
        w.where = r.where.map((c) => encodeCondition(table, c));
      }
      return w;
    });
  }
  return out;
}

/** Encodes `<monitor-cond-update-requests>` for `monitor_cond_change`. */
export function encodeMonitorCondChanges(schema: DatabaseSchema, changes: Record<string, MonitorCondChange | readonly MonitorCondChange[]>): Record<string, unknown[]> {
  return encodeMonitorRequests(schema, changes as Record<string, MonitorCondRequest | readonly MonitorCondRequest[]>, true);
}
