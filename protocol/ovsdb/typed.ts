/**
 * Typed writes: the operation builders of `op`, checked by the compiler
 * against a generated model (`OpenVSwitchTables`, or what `modelgen` writes
 * for any schema: OVN's northbound and southbound ones too).
 *
 * `typedOps<OpenVSwitchTables>()` returns `op` itself, typed: table names,
 * column names and value types in rows, conditions, mutations and selected
 * columns are checked at compile time, and a `select`'s rows come back typed
 * (only the columns asked for). At run time every value is still checked
 * against the server's schema before anything is sent, as with `op`.
 *
 * What a value may be given as follows `datum.ts`: a set takes an array, a
 * `Set` or one element; an optional column takes `null`/`undefined` or a 0/1
 * element array; a map takes a `Map` or, for string keys, a plain object. A
 * generated model types uuids as `string` (it cannot tell a uuid column from
 * a string column at the type level), so every plain-string atom also takes a
 * `namedUuid(...)`; enums keep their literal types.
 */
import type { NamedUuid, Value, ValueInput } from './datum.js';
import { op, type ConditionFunction, type DeleteOp, type InsertOp, type MutateOp, type Mutator, type SelectOp, type UpdateOp, type WaitOp } from './operations.js';

/** The tables of a model: table name → row type (what `modelgen` writes as `<Db>Tables`). */
export type ModelTables = { [table: string]: object } | object;

/** The columns one may write: every column but `_uuid` and `_version`. */
export type WritableColumn<R> = Exclude<keyof R, '_uuid' | '_version'> & string;

/** What one atom of a column may be given as: its own type, and for a plain string (or uuid) also a named uuid. */
export type AtomInputOf<A> = A extends string ? (string extends A ? A | NamedUuid : A) : A;

/** What a value of a column whose decoded type is `V` may be given as (see the module comment). */
export type ValueInputOf<V> = Value extends V
  ? ValueInput
  : [V] extends [ReadonlyMap<infer K, infer W>]
    ? ReadonlyMap<AtomInputOf<K>, AtomInputOf<W>> | (K extends string ? { readonly [k in K]?: AtomInputOf<W> } : never)
    : [V] extends [readonly (infer E)[]]
      ? readonly AtomInputOf<E>[] | ReadonlySet<AtomInputOf<E>> | AtomInputOf<E>
      : null extends V
        ? AtomInputOf<NonNullable<V>> | null | undefined | readonly [] | readonly [AtomInputOf<NonNullable<V>>]
        : AtomInputOf<V>;

/** A row to insert or the columns to update: every writable column optional, typed. */
export type RowInputOf<R> = { readonly [C in WritableColumn<R>]?: ValueInputOf<R[C]> };

/** A condition on a column of `R` (`_uuid` included): `[column, function, value]`, the value typed by the column. */
export type ConditionOf<R> = {
  [C in keyof R & string]: readonly [column: C, fn: ConditionFunction, value: ValueInputOf<R[C]>];
}[keyof R & string];

/** What a mutation of a column whose decoded type is `V` takes: a value of the column, or (maps) the keys to delete. */
export type MutationValueOf<V> = Value extends V
  ? ValueInput
  : ValueInputOf<V> | ([V] extends [ReadonlyMap<infer K, unknown>] ? readonly AtomInputOf<K>[] | ReadonlySet<AtomInputOf<K>> : never);

/** A mutation of a writable column of `R`: `[column, mutator, value]`, the value typed by the column. */
export type MutationOf<R> = {
  [C in WritableColumn<R>]: readonly [column: C, mutator: Mutator, value: MutationValueOf<R[C]>];
}[WritableColumn<R>];

/** The operation builders of {@link op}, typed by a model's tables `T` (see the module comment). */
export interface TypedOps<T> {
  /** Inserts `row` into `table`; name it with `uuidName` to refer to it later with `namedUuid`. */
  insert<K extends keyof T & string>(table: K, row: RowInputOf<T[K]>, uuidName?: string): InsertOp;
  /** Selects every column of the rows of `table` that match `where` (all rows by default). */
  select<K extends keyof T & string>(table: K, where?: readonly ConditionOf<T[K]>[]): SelectOp<T[K]>;
  /** Selects the `columns` of the rows of `table` that match `where`: the rows hold those columns only. */
  select<K extends keyof T & string, C extends keyof T[K] & string>(table: K, where: readonly ConditionOf<T[K]>[], columns: readonly C[]): SelectOp<Pick<T[K], C>>;
  /** Sets the columns of `row` in the rows of `table` that match `where`. */
  update<K extends keyof T & string>(table: K, where: readonly ConditionOf<T[K]>[], row: RowInputOf<T[K]>): UpdateOp;
  /** Applies `mutations` to the rows of `table` that match `where`. */
  mutate<K extends keyof T & string>(table: K, where: readonly ConditionOf<T[K]>[], mutations: readonly MutationOf<T[K]>[]): MutateOp;
  /** Deletes the rows of `table` that match `where`. */
  delete<K extends keyof T & string>(table: K, where: readonly ConditionOf<T[K]>[]): DeleteOp;
  /** Waits until the `columns` of the rows matching `where` are (`==`) or are not (`!=`) `rows` (see `op.wait`). */
  wait<K extends keyof T & string, C extends keyof T[K] & string>(
    table: K,
    where: readonly ConditionOf<T[K]>[],
    columns: readonly C[],
    until: '==' | '!=',
    rows: readonly { readonly [P in C]?: ValueInputOf<T[K][P]> }[],
    timeout?: number,
  ): WaitOp;
}

/**
 * The operation builders typed by a model: `typedOps<OpenVSwitchTables>()`, or
 * `typedOps<OVNNorthboundTables>()` with a model `modelgen` wrote. Their results go into
 * `client.transact` like `op`'s (the same objects: only the types differ).
 */
export function typedOps<T>(): TypedOps<T> {
  return op as unknown as TypedOps<T>;
}
