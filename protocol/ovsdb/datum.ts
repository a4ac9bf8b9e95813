/**
 * OVSDB data: wire JSON (RFC 7047 §5.1) ⇄ natural TypeScript values.
 *
 * The natural mapping, by column type (see `schema.ts`):
 *
 * | column type                     | natural value                  | wire                              |
 * |---------------------------------|--------------------------------|-----------------------------------|
 * | scalar (min = max = 1)          | the atom                       | the atom                          |
 * | optional (min 0, max 1)         | the atom, or `null` when empty | atom, or `["set", []]`            |
 * | set (max > 1)                   | `Atom[]` (server order)        | `["set", [...]]` (or a bare atom) |
 * | map (key and value types)       | `Map<key, value>`              | `["map", [[k, v], ...]]`          |
 *
 * Atoms: `integer` and `real` → `number`, `boolean` → `boolean`,
 * `string` → `string`, `uuid` → `string` (the canonical 36-character form).
 * Integers are 64-bit on the wire; JSON.parse keeps them exact up to 2^53.
 *
 * When encoding (values we send), the inputs are more liberal: an optional
 * column also takes `undefined` or a 0/1-element array; a set takes an
 * array, a `Set`, or a single atom; a map takes a `Map` or, for string keys,
 * a plain object; a uuid takes a uuid string or a {@link NamedUuid} made
 * with {@link namedUuid}, which refers to a row inserted in the same
 * transaction (`["named-uuid", name]`). Every value is checked against the
 * column type (atom type, enum, integer/real range, string length in code
 * points, set/map size, duplicate elements) and rejected with an
 * {@link OvsdbValidationError} naming the table, the column and the value,
 * before anything is sent.
 *
 * Decoding (values the server sent) checks the shape and the atom types
 * only (the server already enforced the constraints) and throws
 * {@link OvsdbProtocolError} naming the table and column on a mismatch.
 */
import { OvsdbProtocolError, OvsdbValidationError, preview } from './errors.js';
import { getColumn, type BaseType, type ColumnType, type TableSchema } from './schema.js';

/** A uuid in canonical text form, e.g. `"550e8400-e29b-41d4-a716-446655440000"`. */
export type Uuid = string;

/** A reference to a row inserted earlier in the same transaction with `uuid-name`. */
export interface NamedUuid {
  readonly namedUuid: string;
}

/** A decoded atom. */
export type Atom = number | boolean | string;
/** What an atom may be given as when encoding. */
export type AtomInput = Atom | NamedUuid;

/** A decoded column value. */
export type Value = Atom | null | readonly Atom[] | ReadonlyMap<Atom, Atom>;
/** What a column value may be given as when encoding. */
export type ValueInput =
  | AtomInput
  | null
  | undefined
  | readonly AtomInput[]
  | ReadonlySet<AtomInput>
  | ReadonlyMap<AtomInput, AtomInput>
  | { readonly [key: string]: AtomInput };

/** A decoded row: column name → value. */
export type Row = Record<string, Value>;
/** A row to encode; `undefined` members are left out. */
export type RowInput = Record<string, ValueInput>;

/** An atom as RFC 7047 puts it on the wire (a uuid as `["uuid", id]`). */
export type WireAtom = number | boolean | string | ['uuid', string] | ['named-uuid', string];
/** A set as RFC 7047 puts it on the wire: `["set", [...]]`. */
export type WireSet = ['set', WireAtom[]];
/** A map as RFC 7047 puts it on the wire: `["map", [[key, value]...]]`. */
export type WireMap = ['map', [WireAtom, WireAtom][]];
/** Any column value in wire form. */
export type WireDatum = WireAtom | WireSet | WireMap;
/** A row in wire form: column name → wire value. */
export type WireRow = Record<string, WireDatum>;

/** Where a value belongs, for error messages. */
export interface Where {
  table?: string;
  column?: string;
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ID_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// With the `u` flag, paired surrogates form one code point, so only lone ones match.
const LONE_SURROGATE_RE = /\p{Cs}/u;

/** Whether `s` is a uuid in canonical text form. */
export function isUuid(s: unknown): s is Uuid {
  return typeof s === 'string' && s.length === 36 && UUID_RE.test(s);
}

/** True for a valid `uuid-name` / named-uuid identifier. */
export function isUuidName(s: unknown): s is string {
  return typeof s === 'string' && ID_RE.test(s);
}

/** A reference to the row inserted with `uuid-name: name` in the same transaction. */
export function namedUuid(name: string): NamedUuid {
  if (!isUuidName(name)) throw new OvsdbValidationError(`named-uuid must be an identifier ([a-zA-Z_][a-zA-Z0-9_]*)`, { value: name });
  return Object.freeze({ namedUuid: name });
}

/** Whether `v` is a `namedUuid(...)` reference. */
export function isNamedUuid(v: unknown): v is NamedUuid {
  return typeof v === 'object' && v !== null && typeof (v as NamedUuid).namedUuid === 'string' && !Array.isArray(v);
}

// ---------------------------------------------------------------- encoding

function invalid(reason: string, value: unknown, where: Where | undefined): OvsdbValidationError {
  return new OvsdbValidationError(reason, { table: where?.table, column: where?.column, value });
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Checks one atom against its base type; throws {@link OvsdbValidationError}. */
export function validateAtom(base: BaseType, v: unknown, where?: Where): asserts v is AtomInput {
  switch (base.type) {
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid('expected an integer (a safe JS integer)', v, where);
      if (base.minInteger !== undefined && v < base.minInteger) throw invalid(`integer below minimum ${base.minInteger}`, v, where);
      if (base.maxInteger !== undefined && v > base.maxInteger) throw invalid(`integer above maximum ${base.maxInteger}`, v, where);
      break;
    case 'real':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid('expected a finite real number', v, where);
      if (base.minReal !== undefined && v < base.minReal) throw invalid(`real below minimum ${base.minReal}`, v, where);
      if (base.maxReal !== undefined && v > base.maxReal) throw invalid(`real above maximum ${base.maxReal}`, v, where);
      break;
    case 'boolean':
      if (typeof v !== 'boolean') throw invalid('expected a boolean', v, where);
      break;
    case 'string':
      if (typeof v !== 'string') throw invalid('expected a string', v, where);
      if (base.minLength !== undefined || base.maxLength !== undefined) {
        const n = codePoints(v);
        if (base.minLength !== undefined && n < base.minLength) throw invalid(`string shorter than ${base.minLength} characters`, v, where);
        if (base.maxLength !== undefined && n > base.maxLength) throw invalid(`string longer than ${base.maxLength} characters`, v, where);
      }
      if (LONE_SURROGATE_RE.test(v)) throw invalid('string is not valid Unicode (lone surrogate)', v, where);
      break;
    case 'uuid':
      if (isNamedUuid(v)) {
        if (!isUuidName(v.namedUuid)) throw invalid('named-uuid must be an identifier', v, where);
        return; // its target is only known to the server
      }
      if (!isUuid(v)) throw invalid(`expected a uuid${base.refTable ? ` (a ${base.refTable} row)` : ''} or a namedUuid()`, v, where);
      break;
  }
  if (base.enum !== undefined && !base.enum.includes(v as Atom)) {
    throw invalid(`not one of ${JSON.stringify(base.enum)}`, v, where);
  }
}

/** Encodes one atom, validating it. */
export function encodeAtom(base: BaseType, v: unknown, where?: Where): WireAtom {
  validateAtom(base, v, where);
  if (base.type === 'uuid') return isNamedUuid(v) ? ['named-uuid', v.namedUuid] : ['uuid', (v as string).toLowerCase()];
  return v as Atom;
}

/** Identity of an encoded atom for duplicate checks: uuids by their lower-cased text, named ones by name. */
function wireKey(a: WireAtom): unknown {
  return Array.isArray(a) ? `${a[0]}:${a[1]}` : a;
}

function checkSize(type: ColumnType, n: number, value: unknown, where?: Where): void {
  if (n < type.min) throw invalid(`needs at least ${type.min} element(s), got ${n}`, value, where);
  if (n > type.max) throw invalid(`allows at most ${type.max} element(s), got ${n}`, value, where);
}

function isPlainObject(v: unknown): v is Record<string, AtomInput> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || isNamedUuid(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Encodes a natural value for a column, validating it against the column
 * type (see the module comment for accepted inputs).
 */
export function encodeDatum(type: ColumnType, v: unknown, where?: Where): WireDatum {
  if (type.value !== undefined) return encodeMap(type, type.value, v, where);
  if (type.min === 1 && type.max === 1) {
    if (v === null || v === undefined) throw invalid('value is required', v, where);
    return encodeAtom(type.key, v, where);
  }
  let elems: readonly unknown[];
  // A Set of numbers/strings/booleans cannot hold duplicates; an array, or uuids (case, named), can.
  let unique = false;
  if (v === null || v === undefined) elems = [];
  else if (Array.isArray(v)) elems = v;
  else if (v instanceof Set) {
    elems = [...v];
    unique = type.key.type !== 'uuid';
  } else elems = [v];
  checkSize(type, elems.length, v, where);
  const out: WireAtom[] = new Array(elems.length);
  for (let i = 0; i < elems.length; i++) out[i] = encodeAtom(type.key, elems[i], where);
  if (!unique && out.length > 1) {
    const seen = new Set<unknown>();
    for (let i = 0; i < out.length; i++) {
      const k = wireKey(out[i]);
      if (seen.has(k)) throw invalid(`duplicate set element ${preview(elems[i])}`, v, where);
      seen.add(k);
    }
  }
  return ['set', out];
}

function encodeMap(type: ColumnType, valueType: BaseType, v: unknown, where?: Where): WireMap {
  const out: [WireAtom, WireAtom][] = [];
  if (v instanceof Map) {
    checkSize(type, v.size, v, where);
    for (const [k, val] of v) out.push([encodeAtom(type.key, k, where), encodeAtom(valueType, val, where)]);
    // Map keys are distinct JS values; only uuid keys can still collide (case, named-uuid objects).
    if (type.key.type === 'uuid' && out.length > 1) {
      const seen = new Set<unknown>();
      for (const [k] of out) {
        const key = wireKey(k);
        if (seen.has(key)) throw invalid(`duplicate map key ${preview(k)}`, v, where);
        seen.add(key);
      }
    }
  } else if (v === null || v === undefined) {
    checkSize(type, 0, v, where);
  } else if (isPlainObject(v)) {
    if (type.key.type !== 'string') throw invalid(`a plain object can only give a map with string keys; use a Map`, v, where);
    const keys = Object.keys(v);
    checkSize(type, keys.length, v, where);
    for (const k of keys) out.push([encodeAtom(type.key, k, where), encodeAtom(valueType, v[k], where)]);
  } else throw invalid('expected a Map (or a plain object for string keys)', v, where);
  return ['map', out];
}

/**
 * Encodes a row for `insert`/`update`, validating every member. Members
 * whose value is `undefined` are left out; an unknown column is an
 * `UNKNOWN_COLUMN` schema error, `_uuid`/`_version` (read-only) and, for
 * updates, immutable columns are validation errors.
 */
export function encodeRow(table: TableSchema, row: RowInput, opts: { forUpdate?: boolean } = {}): WireRow {
  const out: WireRow = {};
  for (const name of Object.keys(row)) {
    const v = row[name];
    if (v === undefined) continue;
    const col = getColumn(table, name);
    if (name === '_uuid' || name === '_version') throw invalid(`${name} is read-only`, v, { table: table.name, column: name });
    if (opts.forUpdate && !col.mutable) throw invalid('column is immutable (set only at insert)', v, { table: table.name, column: name });
    out[name] = encodeDatum(col.type, v, { table: table.name, column: name });
  }
  return out;
}

// ---------------------------------------------------------------- decoding

function protocolError(reason: string, json: unknown, where: Where | undefined): OvsdbProtocolError {
  const at = where?.table !== undefined || where?.column !== undefined ? ` in ${where?.table ?? '?'}.${where?.column ?? '?'}` : '';
  return new OvsdbProtocolError(`server sent an ill-typed value${at}: ${reason} (got ${preview(json)})`);
}

/** Decodes one wire atom of the given base type; throws {@link OvsdbProtocolError}. */
export function decodeAtom(base: BaseType, json: unknown, where?: Where): Atom {
  switch (base.type) {
    case 'integer':
      if (typeof json === 'number' && Number.isInteger(json)) return json;
      throw protocolError('expected an integer', json, where);
    case 'real':
      if (typeof json === 'number') return json;
      throw protocolError('expected a real', json, where);
    case 'boolean':
      if (typeof json === 'boolean') return json;
      throw protocolError('expected a boolean', json, where);
    case 'string':
      if (typeof json === 'string') return json;
      throw protocolError('expected a string', json, where);
    case 'uuid':
      if (Array.isArray(json) && json.length === 2 && json[0] === 'uuid' && isUuid(json[1])) return json[1];
      throw protocolError('expected ["uuid", <uuid>]', json, where);
  }
}

/**
 * Decodes a wire datum for a column type into its natural value. For an
 * `update2` diff or a mutation argument, pass `anySizeType(type)` so a
 * scalar/optional column's diff decodes like a set.
 */
export function decodeDatum(type: ColumnType, json: unknown, where?: Where): Value {
  if (type.value !== undefined) {
    if (!Array.isArray(json) || json.length !== 2 || json[0] !== 'map' || !Array.isArray(json[1])) {
      throw protocolError('expected ["map", [...]]', json, where);
    }
    const pairs = json[1] as unknown[];
    const m = new Map<Atom, Atom>();
    for (const p of pairs) {
      if (!Array.isArray(p) || p.length !== 2) throw protocolError('expected a [key, value] pair', p, where);
      m.set(decodeAtom(type.key, p[0], where), decodeAtom(type.value, p[1], where));
    }
    return m;
  }
  const isSetJson = Array.isArray(json) && json.length === 2 && json[0] === 'set';
  if (type.max === 1) {
    if (isSetJson) {
      const elems = json[1];
      if (!Array.isArray(elems) || elems.length > 1) throw protocolError('expected at most one element', json, where);
      if (elems.length === 0) {
        if (type.min === 1) throw protocolError('empty set in a required column', json, where);
        return null;
      }
      return decodeAtom(type.key, elems[0], where);
    }
    return decodeAtom(type.key, json, where);
  }
  if (isSetJson) {
    const elems = json[1];
    if (!Array.isArray(elems)) throw protocolError('expected ["set", [...]]', json, where);
    const out: Atom[] = new Array(elems.length);
    for (let i = 0; i < elems.length; i++) out[i] = decodeAtom(type.key, elems[i], where);
    return out;
  }
  return [decodeAtom(type.key, json, where)];
}

/**
 * Decodes a wire row of a table. Columns absent from the wire row are absent
 * from the result (monitors and `select` with `columns` send partial rows).
 */
export function decodeRow(table: TableSchema, json: unknown): Row {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OvsdbProtocolError(`server sent a ${table.name} row that is not an object (got ${preview(json)})`);
  }
  const out: Row = {};
  for (const name of Object.keys(json)) {
    const col = table.columns.get(name);
    if (!col) throw new OvsdbProtocolError(`server sent unknown column ${table.name}.${name}`);
    out[name] = decodeDatum(col.type, (json as Record<string, unknown>)[name], { table: table.name, column: name });
  }
  return out;
}

/** The natural empty value of a column type (`null`, `[]` or an empty `Map`). */
export function emptyValue(type: ColumnType): Value {
  if (type.value !== undefined) return new Map();
  if (type.max === 1) return null;
  return [];
}

/**
 * The value a column gets when an insert leaves it out: the empty set, or
 * for a scalar the atom type's default (0, false, "", the all-zeros uuid),
 * as ovsdb-server does.
 */
export function defaultValue(type: ColumnType): Value {
  if (type.min === 0 || type.value !== undefined) return emptyValue(type);
  switch (type.key.type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
  }
}
