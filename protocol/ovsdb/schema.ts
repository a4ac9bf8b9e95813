/**
 * OVSDB schemas (RFC 7047 §3.2, plus the OVS `mutable` column extension)
 * parsed into typed, frozen descriptors.
 *
 * `parseSchema` accepts a `.ovsschema` file's JSON or a `get_schema` result.
 * Every table also gets the implicit `_uuid` and `_version` columns, so
 * rows from `select` and monitors decode with the same descriptors.
 */
import { OvsdbErrorCode, OvsdbSchemaError } from './errors.js';

/** The atomic types of RFC 7047. */
export const ATOMIC_TYPES = ['integer', 'real', 'boolean', 'string', 'uuid'] as const;
/** One of the atomic types of RFC 7047. */
export type AtomicType = (typeof ATOMIC_TYPES)[number];

/** A key or value type: the atomic type and its constraints. */
export interface BaseType {
  readonly type: AtomicType;
  /** Allowed values (already decoded: uuids as strings), when constrained. */
  readonly enum?: readonly (number | boolean | string)[];
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  /** Length bounds of a string, in Unicode code points. */
  readonly minLength?: number;
  readonly maxLength?: number;
  /** For `uuid`: the table the uuid refers to. */
  readonly refTable?: string;
  /** For `uuid` with `refTable`: `strong` (the default) or `weak`. */
  readonly refType?: 'strong' | 'weak';
}

/** A column's type: one atom, an optional atom, a set, or a map. */
export interface ColumnType {
  readonly key: BaseType;
  /** Present for maps only. */
  readonly value?: BaseType;
  /** Minimum number of elements (0 or 1). */
  readonly min: number;
  /** Maximum number of elements; `Infinity` for `"unlimited"`. */
  readonly max: number;
}

/** One column of a parsed schema: its type, and whether it is ephemeral or mutable. */
export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly ephemeral: boolean;
  /** False for columns set at insert and never changed (OVS extension). */
  readonly mutable: boolean;
}

/**
 * One table of a parsed schema: its columns (with `_uuid` and `_version`), indexes, whether it is a
 * root table, its row limit.
 */
export interface TableSchema {
  readonly name: string;
  /** User columns plus the implicit `_uuid` and `_version`. */
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  readonly isRoot: boolean;
  /** `Infinity` when unbounded. */
  readonly maxRows: number;
  /** Each index is a list of column names whose values are unique together. */
  readonly indexes: readonly (readonly string[])[];
}

/** A parsed database schema (`getSchema`, `parseSchema`): name, version and tables. */
export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly cksum: string | undefined;
  readonly tables: ReadonlyMap<string, TableSchema>;
  /** The JSON the schema was parsed from. */
  readonly raw: unknown;
}

/** A scalar column: exactly one atom (min = max = 1, no value type). */
export function isScalar(type: ColumnType): boolean {
  return type.value === undefined && type.min === 1 && type.max === 1;
}

/** An optional column: zero or one atom (min = 0, max = 1, no value type). */
export function isOptional(type: ColumnType): boolean {
  return type.value === undefined && type.min === 0 && type.max === 1;
}

/** A set column: more than one element allowed, or at least two required (no value type). */
export function isSet(type: ColumnType): boolean {
  return type.value === undefined && (type.max > 1 || type.min > 1);
}

/** A map column (key and value types). */
export function isMap(type: ColumnType): boolean {
  return type.value !== undefined;
}

/**
 * The type of an `update2` diff, a mutation argument or an `includes`
 * condition for a column: the same key/value types with any number of
 * elements (RFC 7047 §5.1, OVS `<diff>`).
 */
export function anySizeType(type: ColumnType): ColumnType {
  if (type.min === 0 && type.max === Infinity) return type;
  return Object.freeze({ ...type, min: 0, max: Infinity });
}

/** Looks a table up, with a clear error naming what exists. */
export function getTable(schema: DatabaseSchema, table: string): TableSchema {
  const t = schema.tables.get(table);
  if (!t) {
    throw new OvsdbSchemaError(OvsdbErrorCode.UNKNOWN_TABLE, `database ${schema.name} has no table ${JSON.stringify(table)}`, { table });
  }
  return t;
}

/** Looks a column up, with a clear error naming the table. */
export function getColumn(table: TableSchema, column: string): ColumnSchema {
  const c = table.columns.get(column);
  if (!c) {
    throw new OvsdbSchemaError(OvsdbErrorCode.UNKNOWN_COLUMN, `table ${table.name} has no column ${JSON.stringify(column)}`, {
      table: table.name,
      column,
    });
  }
  return c;
}

const UUID_BASE: BaseType = Object.freeze({ type: 'uuid' });
const UUID_TYPE: ColumnType = Object.freeze({ key: UUID_BASE, min: 1, max: 1 });
const IMPLICIT_COLUMNS: readonly ColumnSchema[] = [
  Object.freeze({ name: '_uuid', type: UUID_TYPE, ephemeral: false, mutable: false }),
  Object.freeze({ name: '_version', type: UUID_TYPE, ephemeral: false, mutable: false }),
];

const ID_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses a `.ovsschema` document or `get_schema` result. Throws {@link OvsdbSchemaError}. */
export function parseSchema(json: unknown): DatabaseSchema {
  const o = expectObject(json, 'schema');
  const name = expectString(o.name, 'schema "name"');
  const version = o.version === undefined ? '0.0.0' : expectString(o.version, 'schema "version"');
  const cksum = o.cksum === undefined ? undefined : expectString(o.cksum, 'schema "cksum"');
  const tablesJson = expectObject(o.tables, 'schema "tables"');
  const tables = new Map<string, TableSchema>();
  for (const [tname, tjson] of Object.entries(tablesJson)) {
    tables.set(tname, parseTable(tname, tjson));
  }
  for (const t of tables.values()) {
    for (const c of t.columns.values()) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable !== undefined && !tables.has(b.refTable)) {
          throw bad(`column ${t.name}.${c.name} refers to unknown table ${b.refTable}`, t.name, c.name);
        }
      }
    }
  }
  return Object.freeze({ name, version, cksum, tables, raw: json });
}

function parseTable(name: string, json: unknown): TableSchema {
  if (!ID_RE.test(name)) throw bad(`invalid table name ${JSON.stringify(name)}`, name);
  const o = expectObject(json, `table ${name}`);
  const columnsJson = expectObject(o.columns, `table ${name} "columns"`);
  const columns = new Map<string, ColumnSchema>();
  for (const c of IMPLICIT_COLUMNS) columns.set(c.name, c);
  for (const [cname, cjson] of Object.entries(columnsJson)) {
    if (!ID_RE.test(cname) || cname.startsWith('_')) throw bad(`invalid column name ${JSON.stringify(cname)}`, name, cname);
    columns.set(cname, parseColumn(name, cname, cjson));
  }
  const isRoot = o.isRoot === undefined ? false : expectBoolean(o.isRoot, `table ${name} "isRoot"`);
  const maxRows = o.maxRows === undefined ? Infinity : expectInteger(o.maxRows, `table ${name} "maxRows"`);
  const indexes: string[][] = [];
  if (o.indexes !== undefined) {
    if (!Array.isArray(o.indexes)) throw bad(`table ${name} "indexes" must be an array`, name);
    for (const idx of o.indexes) {
      if (!Array.isArray(idx) || idx.length === 0) throw bad(`table ${name}: each index must be a non-empty array of column names`, name);
      const cols = idx.map((c) => expectString(c, `table ${name} index column`));
      for (const c of cols) if (!columns.has(c)) throw bad(`table ${name}: index names unknown column ${c}`, name, c);
      indexes.push(Object.freeze(cols) as string[]);
    }
  }
  return Object.freeze({ name, columns, isRoot, maxRows, indexes: Object.freeze(indexes) });
}

function parseColumn(table: string, name: string, json: unknown): ColumnSchema {
  const where = `column ${table}.${name}`;
  const o = expectObject(json, where);
  const type = parseColumnType(o.type, where, table, name);
  const ephemeral = o.ephemeral === undefined ? false : expectBoolean(o.ephemeral, `${where} "ephemeral"`);
  const mutable = o.mutable === undefined ? true : expectBoolean(o.mutable, `${where} "mutable"`);
  return Object.freeze({ name, type, ephemeral, mutable });
}

/** Parses a `<type>` (RFC 7047 §3.2). Exported for tools that build types by hand. */
export function parseColumnType(json: unknown, where = 'type', table?: string, column?: string): ColumnType {
  if (typeof json === 'string') {
    return Object.freeze({ key: parseBaseType(json, where, table, column), min: 1, max: 1 });
  }
  const o = expectObject(json, `${where} "type"`);
  const key = parseBaseType(o.key, `${where} key`, table, column);
  const value = o.value === undefined ? undefined : parseBaseType(o.value, `${where} value`, table, column);
  const min = o.min === undefined ? 1 : expectInteger(o.min, `${where} "min"`);
  const max = o.max === undefined ? 1 : o.max === 'unlimited' ? Infinity : expectInteger(o.max, `${where} "max"`);
  if (min !== 0 && min !== 1) throw bad(`${where}: "min" must be 0 or 1, got ${min}`, table, column);
  if (max < 1 || max < min) throw bad(`${where}: "max" must be at least 1 and at least "min", got ${max}`, table, column);
  return Object.freeze(value === undefined ? { key, min, max } : { key, value, min, max });
}

function parseBaseType(json: unknown, where: string, table?: string, column?: string): BaseType {
  if (typeof json === 'string') return Object.freeze({ type: atomicType(json, where, table, column) });
  const o = expectObject(json, where);
  const type = atomicType(o.type, where, table, column);
  const b: {
    type: AtomicType;
    enum?: (number | boolean | string)[];
    minInteger?: number;
    maxInteger?: number;
    minReal?: number;
    maxReal?: number;
    minLength?: number;
    maxLength?: number;
    refTable?: string;
    refType?: 'strong' | 'weak';
  } = { type };
  if (o.enum !== undefined) b.enum = parseEnum(o.enum, type, where, table, column);
  if (type === 'integer') {
    if (o.minInteger !== undefined) b.minInteger = expectInteger(o.minInteger, `${where} "minInteger"`);
    if (o.maxInteger !== undefined) b.maxInteger = expectInteger(o.maxInteger, `${where} "maxInteger"`);
  } else if (type === 'real') {
    if (o.minReal !== undefined) b.minReal = expectNumber(o.minReal, `${where} "minReal"`);
    if (o.maxReal !== undefined) b.maxReal = expectNumber(o.maxReal, `${where} "maxReal"`);
  } else if (type === 'string') {
    if (o.minLength !== undefined) b.minLength = expectInteger(o.minLength, `${where} "minLength"`);
    if (o.maxLength !== undefined) b.maxLength = expectInteger(o.maxLength, `${where} "maxLength"`);
  } else if (type === 'uuid') {
    if (o.refTable !== undefined) {
      b.refTable = expectString(o.refTable, `${where} "refTable"`);
      const rt = o.refType === undefined ? 'strong' : o.refType;
      if (rt !== 'strong' && rt !== 'weak') throw bad(`${where}: "refType" must be "strong" or "weak"`, table, column);
      b.refType = rt;
    }
  }
  return Object.freeze(b);
}

function parseEnum(json: unknown, type: AtomicType, where: string, table?: string, column?: string): (number | boolean | string)[] {
  let atoms: unknown[];
  if (Array.isArray(json) && json[0] === 'set' && Array.isArray(json[1])) atoms = json[1];
  else atoms = [json];
  return atoms.map((a) => {
    if (type === 'uuid' && Array.isArray(a) && a[0] === 'uuid' && typeof a[1] === 'string') return a[1];
    const ok =
      (type === 'integer' && Number.isInteger(a)) ||
      (type === 'real' && typeof a === 'number') ||
      (type === 'boolean' && typeof a === 'boolean') ||
      (type === 'string' && typeof a === 'string');
    if (!ok) throw bad(`${where}: enum value ${JSON.stringify(a)} is not a ${type}`, table, column);
    return a as number | boolean | string;
  });
}

function atomicType(json: unknown, where: string, table?: string, column?: string): AtomicType {
  if (typeof json === 'string' && (ATOMIC_TYPES as readonly string[]).includes(json)) return json as AtomicType;
  throw bad(`${where}: unknown atomic type ${JSON.stringify(json)}`, table, column);
}

function bad(message: string, table?: string, column?: string): OvsdbSchemaError {
  return new OvsdbSchemaError(OvsdbErrorCode.BAD_SCHEMA, `bad schema: ${message}`, { table, column });
}

function expectObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function expectString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(`${what} must be a string`);
  return v;
}

function expectBoolean(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw bad(`${what} must be a boolean`);
  return v;
}

function expectInteger(v: unknown, what: string): number {
  if (!Number.isInteger(v)) throw bad(`${what} must be an integer`);
  return v as number;
}

function expectNumber(v: unknown, what: string): number {
  if (typeof v !== 'number') throw bad(`${what} must be a number`);
  return v;
}
