/**
 * Secondary indexes over a replicated table: value → rows, kept up to date
 * as rows come and go, so lookups such as "the Interface whose
 * external_ids:iface-id is X" or "the Port named Y" are O(1).
 *
 * What an index keys on, by column type: a scalar or optional column's value
 * (a null optional is not indexed); each element of a set column; for a map
 * column with `key`, that key's value (rows without the key are not
 * indexed), and without `key`, each of the map's keys.
 */
import type { Atom, Row, Uuid } from '../datum.js';

/** What an index files rows under: a column's value (each element of a set), or the value under a key of a map column. */
export interface IndexSpec {
  /** The table the index is over. */
  table: string;
  /** The column whose value is the index key. */
  column: string;
  /** For a map column: index by the value under this map key. */
  key?: string;
}

/** A live index. Rows are the replica's current row objects. */
export class RowIndex<R extends { readonly _uuid: Uuid } = Row & { _uuid: Uuid }> {
  readonly spec: Readonly<IndexSpec>;
  /** Index key → uuid → row; the inner map keeps lookups of a unique key O(1) and non-unique ones cheap. */
  private readonly entries = new Map<Atom, Map<Uuid, R>>();

  constructor(spec: IndexSpec) {
    this.spec = Object.freeze({ ...spec });
  }

  /** The one row with this key (the first one, when several share it). */
  get(value: Atom): R | undefined {
    const m = this.entries.get(value);
    if (m === undefined) return undefined;
    for (const r of m.values()) return r;
    return undefined;
  }

  /** Every row with this key. */
  getAll(value: Atom): R[] {
    const m = this.entries.get(value);
    return m === undefined ? [] : [...m.values()];
  }

  /** Whether a row has this key. */
  has(value: Atom): boolean {
    return this.entries.has(value);
  }

  /** Number of distinct keys. */
  get size(): number {
    return this.entries.size;
  }

  /** The distinct keys. */
  keys(): IterableIterator<Atom> {
    return this.entries.keys();
  }

  /** @internal The keys a row is filed under. */
  keysOf(row: R): Atom[] {
    const v = (row as unknown as Record<string, unknown>)[this.spec.column];
    if (v === null || v === undefined) return [];
    if (v instanceof Map) {
      if (this.spec.key === undefined) return [...(v as Map<Atom, Atom>).keys()];
      const x = (v as Map<Atom, Atom>).get(this.spec.key);
      return x === undefined ? [] : [x];
    }
    if (Array.isArray(v)) return v as Atom[];
    return [v as Atom];
  }

  /** @internal */
  add(row: R): void {
    for (const k of this.keysOf(row)) {
      let m = this.entries.get(k);
      if (m === undefined) this.entries.set(k, (m = new Map()));
      m.set(row._uuid, row);
    }
  }

  /** @internal */
  remove(row: R): void {
    for (const k of this.keysOf(row)) {
      const m = this.entries.get(k);
      if (m === undefined) continue;
      m.delete(row._uuid);
      if (m.size === 0) this.entries.delete(k);
    }
  }

  /** @internal Refiles a row whose indexed column may have changed. */
  replace(old: R, row: R): void {
    const col = this.spec.column;
    const a = (old as unknown as Record<string, unknown>)[col];
    const b = (row as unknown as Record<string, unknown>)[col];
    if (a === b) {
      // Same value object: only the row object changed; repoint the entries.
      for (const k of this.keysOf(row)) this.entries.get(k)?.set(row._uuid, row);
      return;
    }
    this.remove(old);
    this.add(row);
  }

  /** @internal */
  clear(): void {
    this.entries.clear();
  }
}
