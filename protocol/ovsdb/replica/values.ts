/**
 * Operations on natural column values (see `datum.ts`) that the replica
 * needs: equality, and the `update2` diff rules of ovsdb-server(7):
 *
 *  - a scalar column's diff is its new value, and so is an optional's (as
 *    ovsdb-server sends it: the atom, or an empty set when cleared);
 *  - a set's diff holds the elements to toggle: present
 *    ones are removed, absent ones added;
 *  - a map's diff holds key/value pairs: a key absent from the old map is
 *    added, a key present with the same value is removed, a key present with
 *    another value gets the new value.
 *
 * Values are never mutated: a changed set or map is a new object, so row
 * objects handed out in events stay valid.
 */
import type { Atom, Value } from '../datum.js';
import type { ColumnType } from '../schema.js';

/**
 * Diffs up to this many elements are applied by linear search instead of a
 * hash set of the old value: a bridge's `ports` holds thousands of uuids, and
 * every port added or removed toggles one of them. Hashing the whole set for
 * each such update cost about 1.5 ms at 10,000 ports (measured); a scan of
 * the array for one element costs a few microseconds.
 */
const SMALL_DIFF = 16;

/** Applies a short toggle list to a set: O(toggles × size) comparisons, one copy. */
function toggleFew(cur: readonly Atom[], toggles: readonly Atom[]): Atom[] {
  let removeAt: number[] | undefined;
  let add: Atom[] | undefined;
  for (const e of toggles) {
    const i = cur.indexOf(e);
    if (i >= 0) (removeAt ??= []).push(i);
    else if (!add?.includes(e)) (add ??= []).push(e);
  }
  let out: Atom[];
  if (removeAt === undefined) {
    out = cur.slice();
  } else {
    removeAt.sort((a, b) => a - b);
    out = [];
    for (let i = 0, j = 0; i < cur.length; i++) {
      if (j < removeAt.length && removeAt[j] === i) {
        // A diff naming an element twice toggles it once, as the hash-set path does.
        while (j < removeAt.length && removeAt[j] === i) j++;
        continue;
      }
      out.push(cur[i]);
    }
  }
  if (add !== undefined) for (const e of add) out.push(e);
  return out;
}

/** Whether two decoded column values are equal (sets and maps by content). */
export function valuesEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) {
      if (b.get(k) !== v || (v === undefined && !b.has(k))) return false;
    }
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    if (a.length === 1) return a[0] === b[0];
    // Sets are unordered: compare as sets (elements are unique).
    const s = new Set<Atom>(a);
    for (const e of b as Atom[]) if (!s.has(e)) return false;
    return true;
  }
  return false;
}

/** Applies an `update2` diff (already decoded with `anySizeType`) to an old value. */
export function applyDiff(type: ColumnType, old: Value | undefined, diff: Value): Value {
  if (type.value !== undefined) {
    const d = diff as ReadonlyMap<Atom, Atom>;
    const m = new Map(old as ReadonlyMap<Atom, Atom> | undefined);
    for (const [k, v] of d) {
      if (m.has(k) && m.get(k) === v) m.delete(k);
      else m.set(k, v);
    }
    return m;
  }
  if (type.min === 1 && type.max === 1) {
    // A scalar's diff is the new value (decoded as a one-element set by anySizeType).
    return Array.isArray(diff) ? (diff as Atom[])[0] : diff;
  }
  const toggles = (Array.isArray(diff) ? diff : [diff]) as Atom[];
  if (type.max === 1) {
    // ovsdb-server sends an optional column's new value ([] when cleared); the
    // toggle form ({old, new} or {old}) of a set diff is accepted too.
    const cur = (old as Atom | null | undefined) ?? null;
    if (toggles.length === 0) return null;
    if (toggles.length === 1) return toggles[0] === cur ? null : toggles[0];
    return toggles[0] === cur ? toggles[1] : toggles[0];
  }
  const cur = (old as readonly Atom[] | undefined) ?? [];
  if (toggles.length === 0) return cur;
  if (toggles.length <= SMALL_DIFF) return toggleFew(cur, toggles);
  const remove = new Set<Atom>();
  const present = new Set<Atom>(cur);
  const add = new Set<Atom>();
  for (const e of toggles) {
    if (present.has(e)) remove.add(e);
    else add.add(e);
  }
  const out = remove.size === 0 ? cur.slice() : cur.filter((e) => !remove.has(e));
  for (const e of add) out.push(e);
  return out;
}
