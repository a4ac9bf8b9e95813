/**
 * Per-column decoders for the replica's hot path (initial dumps of tens of
 * thousands of rows, update storms). Each column gets a function specialised
 * to its type, checking shape and atom types as `datum.ts` does; anything
 * unexpected is handed to `decodeDatum`, which throws the proper protocol
 * error naming the table and column. The results are the same natural
 * values `decodeDatum` produces.
 */
import { decodeDatum } from '../datum.js';
import type { Atom, Value } from '../datum.js';
import type { AtomicType, BaseType, ColumnSchema } from '../schema.js';

export type ColumnDecoder = (json: unknown) => Value;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Decodes one atom, or returns `undefined` when it is not of the type (the caller then defers to datum.ts). */
function atomDecoder(base: BaseType): (json: unknown) => Atom | undefined {
  const t: AtomicType = base.type;
  switch (t) {
    case 'string':
      return (j) => (typeof j === 'string' ? j : undefined);
    case 'integer':
      return (j) => (typeof j === 'number' && Number.isInteger(j) ? j : undefined);
    case 'real':
      return (j) => (typeof j === 'number' ? j : undefined);
    case 'boolean':
      return (j) => (typeof j === 'boolean' ? j : undefined);
    case 'uuid':
      return (j) => {
        if (Array.isArray(j) && j.length === 2 && j[0] === 'uuid' && typeof j[1] === 'string' && j[1].length === 36 && UUID_RE.test(j[1])) return j[1];
        return undefined;
      };
  }
}

/**
 * Distinct map keys remembered per column. Keys repeat in every row
 * (`external_ids:iface-id`, `attached-mac`, `other_config:...`), and each row
 * of a dump would otherwise hold its own copy of each key string (JSON.parse
 * makes a new string for every occurrence). The bound keeps a column whose
 * keys are all different from growing the table without limit.
 */
const MAX_INTERNED_KEYS = 1024;

/** Returns one shared string per distinct value (up to the bound). */
function interner(): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    const hit = seen.get(s);
    if (hit !== undefined) return hit;
    if (seen.size < MAX_INTERNED_KEYS) seen.set(s, s);
    return s;
  };
}

/** A decoder for a column's full value (initial/insert rows, RFC 7047 update rows). */
export function columnDecoder(table: string, col: ColumnSchema): ColumnDecoder {
  const type = col.type;
  const where = { table, column: col.name };
  const slow = (json: unknown): Value => decodeDatum(type, json, where);
  const key = atomDecoder(type.key);
  if (type.value !== undefined) {
    const value = atomDecoder(type.value);
    const intern = type.key.type === 'string' ? interner() : undefined;
    return (json) => {
      if (!Array.isArray(json) || json.length !== 2 || json[0] !== 'map' || !Array.isArray(json[1])) return slow(json);
      const pairs = json[1] as unknown[];
      const m = new Map<Atom, Atom>();
      for (let i = 0; i < pairs.length; i++) {
        const p = pairs[i];
        if (!Array.isArray(p) || p.length !== 2) return slow(json);
        const k = key(p[0]);
        const v = value(p[1]);
        if (k === undefined || v === undefined) return slow(json);
        m.set(intern === undefined ? k : intern(k as string), v);
      }
      return m;
    };
  }
  if (type.max === 1) {
    const optional = type.min === 0;
    return (json) => {
      const a = key(json);
      if (a !== undefined) return a;
      if (optional && Array.isArray(json) && json.length === 2 && json[0] === 'set' && Array.isArray(json[1])) {
        const e = json[1] as unknown[];
        if (e.length === 0) return null;
        if (e.length === 1) {
          const x = key(e[0]);
          if (x !== undefined) return x;
        }
      }
      return slow(json);
    };
  }
  return (json) => {
    const single = key(json);
    if (single !== undefined) return [single];
    if (!Array.isArray(json) || json.length !== 2 || json[0] !== 'set' || !Array.isArray(json[1])) return slow(json);
    const elems = json[1] as unknown[];
    const out: Atom[] = new Array(elems.length);
    for (let i = 0; i < elems.length; i++) {
      const x = key(elems[i]);
      if (x === undefined) return slow(json);
      out[i] = x;
    }
    return out;
  };
}
