/**
 * The desired flows of one bridge, grouped by owner, and what the switch is
 * believed to hold.
 *
 * Owners are strings such as `setup`, `net:<uuid>`, `port:<id>` or
 * `fw:<id>`: replacing an owner's flows computes the difference with what it
 * had, so re-wiring a port is idempotent and removing it removes exactly its
 * flows. `takeChanges()` returns what must be sent to make the switch match
 * (ovn-controller's desired vs installed flow tables, ofctrl.c). Only keys
 * touched since the last commit are looked at, so a pass costs what it
 * changed, not what the bridge holds.
 *
 * Flows found on the switch at start-up are "adopted": a desired flow whose
 * canonical text equals one of them is not sent again, which keeps flow
 * durations and counters across an agent restart. Adopted flows nobody claims
 * are deleted only when asked (after the first full sync).
 */
import { canonicalOf } from './canonical.js';
import { flowKey, type Flow } from './flow.js';

export interface FlowChanges {
  /** Flows to add (or replace, same key with other actions or cookie). */
  adds: Flow[];
  /** Flows to delete strictly (by table, priority and match). */
  deletes: Flow[];
}

interface Desired {
  flow: Flow;
  owner: string;
  more?: Set<string>;
}

/** The keys of what takeChanges() returned, so commit() does not rebuild (and rehash) them. */
const changeKeys = new WeakMap<FlowChanges, { adds: string[]; deletes: string[] }>();

export class FlowTable {
  /** owner → key → flow */
  private readonly owners = new Map<string, Map<string, Flow>>();
  /** key → what is wanted and by whom (nearly always one owner: others only then get a set); the last writer's flow wins. */
  private readonly desired = new Map<string, Desired>();
  /** key → the flow we installed (or adopted under that key), with our cookie. */
  private readonly installed = new Map<string, Flow>();
  /** Canonical key → flows the switch had when we looked, not yet matched to a desired flow. */
  private readonly adopted = new Map<string, { flow: Flow; cookie: bigint }>();
  /** Whether adopted flows nobody wants are to be deleted by the next changes. */
  private deleteAdopted = false;
  /** Keys changed since the last takeChanges(). */
  private readonly dirty = new Set<string>();

  constructor(readonly bridge: string, readonly cookie: bigint) {}

  /** Sets an owner's flows to exactly `flows`. */
  replace(owner: string, flows: readonly Flow[]): void {
    const before = this.owners.get(owner);
    const after = new Map<string, Flow>();
    for (const f of flows) after.set(flowKey(f), f);
    if (before) {
      for (const key of before.keys()) if (!after.has(key)) this.release(owner, key);
    }
    for (const [key, f] of after) {
      const prev = before?.get(key);
      if (prev && prev.actions === f.actions) continue;
      this.claim(owner, key, f);
    }
    if (after.size) this.owners.set(owner, after);
    else this.owners.delete(owner);
  }

  /** Adds flows to an owner without touching its others. */
  add(owner: string, flows: readonly Flow[]): void {
    if (!this.owners.has(owner)) this.owners.set(owner, new Map());
    for (const f of flows) this.put(owner, flowKey(f), f);
  }

  /**
   * Adds one flow under a key its owner worked out (an extension's own
   * spelling of the flow's identity, extension-flows.ts), without touching
   * the owner's others. The owner must key the flow's delete the same way.
   */
  put(owner: string, key: string, f: Flow): void {
    let mine = this.owners.get(owner);
    if (!mine) this.owners.set(owner, (mine = new Map()));
    mine.set(key, f);
    this.claim(owner, key, f);
  }

  /** Removes some of an owner's flows, by key (`flowKey`, or the key they were `put` under). */
  removeKeys(owner: string, keys: Iterable<string>): void {
    const mine = this.owners.get(owner);
    if (!mine) return;
    for (const key of keys) {
      if (!mine.delete(key)) continue;
      this.release(owner, key);
    }
    if (!mine.size) this.owners.delete(owner);
  }

  remove(owner: string): void {
    const mine = this.owners.get(owner);
    if (!mine) return;
    for (const key of mine.keys()) this.release(owner, key);
    this.owners.delete(owner);
  }

  /** Removes every owner whose name starts with `prefix` (e.g. all of a network's tunnel flows). */
  removeByPrefix(prefix: string): void {
    for (const owner of [...this.owners.keys()]) if (owner.startsWith(prefix)) this.remove(owner);
  }

  has(owner: string): boolean {
    return this.owners.has(owner);
  }

  flowsOf(owner: string): Flow[] {
    return [...(this.owners.get(owner)?.values() ?? [])];
  }

  /** Every desired flow, in a stable order (table, then priority descending). */
  desiredFlows(): Flow[] {
    return [...this.desired.values()].map((d) => d.flow).sort(compareFlows);
  }

  get size(): number {
    return this.desired.size;
  }

  private claim(owner: string, key: string, f: Flow): void {
    const d = this.desired.get(key);
    if (d) {
      if (d.owner !== owner) (d.more ??= new Set()).add(owner);
      if (d.flow.actions !== f.actions) {
        d.flow = f;
        this.dirty.add(key);
      }
    } else {
      this.desired.set(key, { flow: f, owner });
      this.dirty.add(key);
    }
  }

  private release(owner: string, key: string): void {
    const d = this.desired.get(key);
    if (!d) return;
    if (d.owner === owner) {
      const next = d.more?.values().next().value;
      if (next === undefined) {
        this.desired.delete(key);
        this.dirty.add(key);
        return;
      }
      d.more!.delete(next);
      d.owner = next;
    } else if (!d.more?.delete(owner)) {
      return;
    }
    // Another owner still wants this key: fall back to its version.
    const other = this.owners.get(d.owner)?.get(key);
    if (other && other.actions !== d.flow.actions) {
      d.flow = other;
      this.dirty.add(key);
    }
  }

  /**
   * What must go to the switch for the dirty keys (and, after
   * `adoptInstalled(…, {deleteUnwanted})`, the adopted flows nobody claimed).
   * The changes count as installed only after `commit(changes)`; until then
   * the keys stay dirty so a failed bundle is retried whole.
   */
  takeChanges(): FlowChanges {
    const adds: Flow[] = [];
    const deletes: Flow[] = [];
    const keys = { adds: [] as string[], deletes: [] as string[] };
    for (const key of this.dirty) {
      const d = this.desired.get(key);
      const inst = this.installed.get(key);
      if (d) {
        if (inst && inst.actions === d.flow.actions) continue;
        if (!inst && this.adopted.size && this.adopt(key, d.flow)) continue;
        adds.push(d.flow);
        keys.adds.push(key);
      } else if (inst) {
        deletes.push(inst);
        keys.deletes.push(key);
      }
    }
    if (this.deleteAdopted) {
      for (const [key, a] of this.adopted) {
        deletes.push(a.flow);
        keys.deletes.push(key);
      }
    }
    const changes = { adds, deletes };
    changeKeys.set(changes, keys);
    return changes;
  }

  /** A desired flow the switch already has, identical and with our cookie, becomes installed without being sent. */
  private adopt(key: string, f: Flow): boolean {
    const c = canonicalOf(f);
    const ckey = c === f ? key : flowKey(c);
    const a = this.adopted.get(ckey);
    if (!a) return false;
    // Whatever happens next, this flow on the switch is accounted for: kept, or replaced by our add.
    this.adopted.delete(ckey);
    if (a.flow.actions !== c.actions || a.cookie !== this.cookie) return false;
    this.installed.set(key, f);
    this.dirty.delete(key);
    return true;
  }

  /** Marks changes as confirmed by the switch. */
  commit(changes: FlowChanges): void {
    const keys = changeKeys.get(changes);
    changes.deletes.forEach((f, i) => {
      const key = keys?.deletes[i] ?? flowKey(f);
      if (this.installed.get(key) === f) this.installed.delete(key);
      else this.adopted.delete(key);
      if (!this.desired.has(key)) this.dirty.delete(key);
    });
    changes.adds.forEach((f, i) => {
      const key = keys?.adds[i] ?? flowKey(f);
      // Sent: its OpenFlow form is not needed any more (a re-send after a switch restart parses again).
      // Cleared only where set: writing a property the object was built without adds a property
      // array to each of thousands of flows.
      if (f.mod) f.mod = undefined;
      if (f.of) f.of = undefined;
      this.installed.set(key, f);
      if (this.desired.get(key)?.flow === f) this.dirty.delete(key);
    });
    if (!this.adopted.size) this.deleteAdopted = false;
  }

  /**
   * Replaces the installed view with what the switch reported (start-up, or a
   * switch that came back) and marks every desired key dirty, so the next
   * changes send only the differences. Flows the switch has that nobody
   * wants are deleted only when `deleteUnwanted` is set.
   */
  adoptInstalled(flows: ReadonlyArray<{ flow: Flow; cookie: bigint }>, opts: { deleteUnwanted: boolean }): void {
    this.installed.clear();
    this.adopted.clear();
    for (const { flow: f, cookie } of flows) this.adopted.set(flowKey(f), { flow: f, cookie });
    for (const key of this.desired.keys()) this.dirty.add(key);
    this.deleteAdopted = opts.deleteUnwanted;
  }

  /** After the first full sync: adopted flows still unclaimed are stale; the next changes delete them. */
  deleteUnclaimed(): void {
    this.deleteAdopted = this.adopted.size > 0;
  }

  /** The switch lost its tables (ovs-vswitchd restarted): everything desired is to be sent. */
  forgetInstalled(): void {
    this.installed.clear();
    this.adopted.clear();
    this.deleteAdopted = false;
    for (const key of this.desired.keys()) this.dirty.add(key);
  }

  /** Keys waiting to be sent (and adopted flows waiting to be deleted). */
  get pending(): number {
    return this.dirty.size + (this.deleteAdopted ? this.adopted.size : 0);
  }
}

export function compareFlows(a: Flow, b: Flow): number {
  return a.table - b.table || b.priority - a.priority || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0);
}
