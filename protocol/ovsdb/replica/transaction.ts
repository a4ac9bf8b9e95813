/**
 * Transactions built against the replica, the way the OVS IDL builds them:
 * optimistic. What the builder reads from the replica through `read` /
 * `lookup` (or declares with `verify`) becomes a `wait` operation with
 * timeout 0 asserting the server still holds those values; if another
 * client changed them first, the server fails the `wait`, and the replica
 * reruns the builder on its updated state (see `Replica.transact`).
 *
 * The builder produces the client's typed operations (`operations.ts`),
 * whose values are natural values; the client validates and encodes them
 * against the schema before anything is sent.
 */
import { namedUuid } from '../datum.js';
import type { Atom, NamedUuid, Row, RowInput, Uuid, Value } from '../datum.js';
import { OvsdbValidationError } from '../errors.js';
import { op } from '../operations.js';
import type { Condition, Mutation, Operation } from '../operations.js';
import type { AtomInputOf, ConditionOf, MutationOf, RowInputOf, WritableColumn } from '../typed.js';
import { getColumn, getTable } from '../schema.js';
import type { DatabaseSchema } from '../schema.js';
import type { ReplicaCache, ReplicaRow } from './cache.js';
import type { RowIndex } from './row-index.js';

const byUuid = (uuid: Uuid | NamedUuid): Condition[] => [['_uuid', '==', uuid]];

/** What one element of a set column whose decoded type is `V` may be given as (any atom for an untyped replica). */
export type ElementOf<V> = [V] extends [readonly (infer E)[]] ? AtomInputOf<E> : Atom | NamedUuid;

/** Handle on a `select` whose rows are read after commit. */
export interface SelectHandle {
  readonly index: number;
}

/** A transaction under construction. Create it with `Replica.transact`. */
export class TransactionBuilder<T = Record<string, ReplicaRow>> {
  /** @internal */
  readonly ops: Operation[] = [];
  private names = 0;
  private readonly schema: DatabaseSchema;
  private readonly cache: ReplicaCache;
  private readonly inserted = new Map<string, number>();

  /** @internal */
  constructor(schema: DatabaseSchema, cache: ReplicaCache) {
    this.schema = schema;
    this.cache = cache;
  }

  // ------------------------------------------------------------ reading

  /** The replica's current row (nothing verified). */
  get<K extends keyof T & string>(table: K, uuid: Uuid): T[K] | undefined {
    return this.cache.tables.get(table)?.get(uuid) as T[K] | undefined;
  }

  /**
   * Reads a row and verifies `columns` (all replicated ones when none are
   * named): if another client changes them, or deletes the row, before this
   * transaction commits, it fails and is rerun. An absent row is verified absent.
   */
  read<K extends keyof T & string>(table: K, uuid: Uuid, ...columns: string[]): T[K] | undefined {
    const row = this.get(table, uuid);
    this.verify(table, uuid, ...columns);
    return row;
  }

  /**
   * Looks a row up by an index and verifies the answer: the named columns
   * (default: the indexed one) of the row found, or that no row matches.
   */
  lookup<R extends { readonly _uuid: Uuid }>(index: RowIndex<R>, value: Atom, ...columns: string[]): R | undefined {
    const row = index.get(value);
    const { table, column, key } = index.spec;
    if (row) {
      this.verify(table, row._uuid, ...(columns.length ? columns : [column]));
      return row;
    }
    const type = getColumn(getTable(this.schema, table), column).type;
    let cond: Condition | undefined;
    if (type.value !== undefined) cond = key === undefined ? undefined : [column, 'includes', new Map([[key, value]])];
    else if (type.max > 1) cond = [column, 'includes', [value]];
    else cond = [column, '==', value];
    // "A map has this key" has no OVSDB condition: then verify the column of every row.
    if (cond) this.ops.push(op.wait(table, [cond], ['_uuid'], '==', [], 0));
    else this.verifyAll(table, [column]);
    return undefined;
  }

  /** Adds a `wait` asserting `columns` of a row still hold the replica's values (or that the row does not exist). */
  verify(table: string, uuid: Uuid, ...columns: string[]): this {
    const cached = this.cache.tables.get(table);
    const row = cached?.get(uuid) as Row | undefined;
    if (!row) {
      this.ops.push(op.wait(table, byUuid(uuid), ['_uuid'], '==', [], 0));
      return this;
    }
    const cols = columns.length ? columns : cached!.columns.map((c) => c.name);
    const expect: Record<string, Value> = {};
    for (const c of cols) expect[c] = row[c];
    this.ops.push(op.wait(table, byUuid(uuid), cols, '==', [expect as RowInput], 0));
    return this;
  }

  /** Adds a `wait` asserting the table's rows still hold the replica's values of `columns`. */
  verifyAll(table: string, columns: string[]): this {
    const cached = this.cache.tables.get(table);
    const cols = ['_uuid', ...columns];
    const rows: RowInput[] = [];
    for (const r of cached?.values() ?? []) {
      const o: Record<string, Value> = {};
      for (const c of cols) o[c] = (r as Row)[c];
      rows.push(o as RowInput);
    }
    this.ops.push(op.wait(table, [], cols, '==', rows, 0));
    return this;
  }

  // ------------------------------------------------------------ writing

  /**
   * Inserts a row; returns a reference usable in uuid columns (and as the
   * row of `update`/`mutate`) later in this transaction. After commit,
   * `result.uuid(ref)` gives the uuid the server assigned.
   */
  insert<K extends keyof T & string>(table: K, row: RowInputOf<T[K]>, opts: { uuidName?: string } = {}): NamedUuid {
    const name = opts.uuidName ?? `row${this.names++}`;
    if (this.inserted.has(name)) throw new OvsdbValidationError(`uuid-name ${name} used twice in one transaction`, { table });
    const ref = namedUuid(name);
    this.inserted.set(name, this.ops.length);
    this.ops.push(op.insert(table, row as RowInput, name));
    return ref;
  }

  /** Sets whole columns of one row (use `mutate`/`setKeys`/`addToSet` to change parts of sets and maps). */
  update<K extends keyof T & string>(table: K, uuid: Uuid | NamedUuid, row: RowInputOf<T[K]>): this {
    if (Object.values(row).every((v) => v === undefined)) return this;
    this.ops.push(op.update(table, byUuid(uuid), row as RowInput));
    return this;
  }

  /** Mutates one row; for sets and maps, `insert`/`delete` take any number of elements. */
  mutate<K extends keyof T & string>(table: K, uuid: Uuid | NamedUuid, mutations: readonly MutationOf<T[K]>[]): this {
    if (mutations.length) this.ops.push(op.mutate(table, byUuid(uuid), mutations as readonly Mutation[]));
    return this;
  }

  /** Adds elements to a set column. */
  addToSet<K extends keyof T & string, C extends WritableColumn<T[K]>>(table: K, uuid: Uuid | NamedUuid, column: C, values: readonly ElementOf<T[K][C]>[]): this {
    return values.length ? this.push(table, uuid, [[column, 'insert', values as readonly (Atom | NamedUuid)[]]]) : this;
  }

  /** Removes elements from a set column. */
  removeFromSet<K extends keyof T & string, C extends WritableColumn<T[K]>>(table: K, uuid: Uuid | NamedUuid, column: C, values: readonly ElementOf<T[K][C]>[]): this {
    return values.length ? this.push(table, uuid, [[column, 'delete', values as readonly (Atom | NamedUuid)[]]]) : this;
  }

  private push(table: string, uuid: Uuid | NamedUuid, mutations: readonly Mutation[]): this {
    this.ops.push(op.mutate(table, byUuid(uuid), mutations));
    return this;
  }

  /**
   * Sets keys of a map column and keeps its other keys (ovsdbapp's db_set
   * on a map): one mutate deletes the keys, then inserts the new pairs, so
   * nothing has to be read or verified.
   */
  setKeys<K extends keyof T & string>(table: K, uuid: Uuid | NamedUuid, column: WritableColumn<T[K]>, entries: ReadonlyMap<Atom, Atom> | Record<string, Atom>): this {
    const m = entries instanceof Map ? entries : new Map(Object.entries(entries));
    if (m.size === 0) return this;
    return this.push(table, uuid, [
      [column, 'delete', [...m.keys()]],
      [column, 'insert', m],
    ]);
  }

  /** Removes keys of a map column. */
  deleteKeys<K extends keyof T & string>(table: K, uuid: Uuid | NamedUuid, column: WritableColumn<T[K]>, keys: readonly Atom[]): this {
    return keys.length ? this.push(table, uuid, [[column, 'delete', keys]]) : this;
  }

  /** Deletes the row with this uuid. */
  delete<K extends keyof T & string>(table: K, uuid: Uuid): this {
    this.ops.push(op.delete(table, byUuid(uuid)));
    return this;
  }

  /** Selects rows; read them from the result with `result.rows(handle)`. */
  select<K extends keyof T & string>(table: K, where: readonly ConditionOf<T[K]>[], columns?: (keyof T[K] & string)[]): SelectHandle {
    this.ops.push(op.select(table, where as readonly Condition[], columns));
    return { index: this.ops.length - 1 };
  }

  /** Adds a comment to the transaction's log entry. */
  comment(text: string): this {
    this.ops.push(op.comment(text));
    return this;
  }

  /** Adds any operation; returns its index in the transaction. */
  add(o: Operation): number {
    this.ops.push(o);
    return this.ops.length - 1;
  }

  /** @internal */
  indexOfInsert(ref: NamedUuid): number {
    const i = this.inserted.get(ref.namedUuid);
    if (i === undefined) throw new OvsdbValidationError(`no row was inserted as ${ref.namedUuid} in this transaction`, { value: ref });
    return i;
  }
}

/** What a committed transaction returns. */
export class TransactionResult<V = unknown> {
  /** The builder's return value. */
  readonly value: V;
  /** The decoded results, one per operation. */
  readonly results: readonly unknown[];
  /** How many attempts it took (1 = no conflict). */
  readonly attempts: number;
  private readonly builder: { indexOfInsert(ref: NamedUuid): number };

  /** @internal */
  constructor(value: V, results: readonly unknown[], attempts: number, builder: { indexOfInsert(ref: NamedUuid): number }) {
    this.value = value;
    this.results = results;
    this.attempts = attempts;
    this.builder = builder;
  }

  /** The uuid the server gave a row inserted with `txn.insert`. */
  uuid(ref: NamedUuid): Uuid {
    const r = this.results[this.builder.indexOfInsert(ref)] as { uuid?: string } | undefined;
    if (typeof r?.uuid !== 'string') throw new OvsdbValidationError(`no uuid in the insert result for ${ref.namedUuid}`, { value: r });
    return r.uuid;
  }

  /** The rows of a `select`, natural values. */
  rows(handle: SelectHandle): Row[] {
    return (this.results[handle.index] as { rows?: Row[] } | undefined)?.rows ?? [];
  }

  /** Rows the update/mutate/delete at `index` touched. */
  count(index: number): number {
    return (this.results[index] as { count?: number } | undefined)?.count ?? 0;
  }
}
