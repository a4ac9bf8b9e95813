/**
 * The desired flows of one bridge, grouped by owner, and what the switch is
 * believed to hold.
 *
 * Owners are strings such as `setup`, `net:<uuid>`, `port:<id>` or
 * `fw:<id>`: replacing an owner's flows computes the difference with what it
 * had, so re-wiring a port is idempotent and removing it removes exactly its
 * flows. `takeChanges()` returns what must be sent to make the switch match
 * (ovn-controller's desired vs installed flow tables, ofctrl.c): keys whose
 * desired text equals the installed text are not sent again, which keeps flow
 * durations and counters across an agent restart.
 */
import { flowKey, flowText, type Flow } from './flow.js';

export interface FlowChanges {
  /** Flows to add (or replace, same key with other actions or cookie). */
  adds: Flow[];
  /** Flows to delete strictly (by table, priority and match). */
  deletes: Flow[];
}

export class FlowTable {
  /** owner → key → flow */
  private readonly owners = new Map<string, Map<string, Flow>>();
  /** key → owners that want it; the last writer's flow wins. */
  private readonly desired = new Map<string, { flow: Flow; owners: Set<string> }>();
  /** key → flow text on the switch (as far as we know) and its cookie. */
  private readonly installed = new Map<string, { text: string; flow: Flow; cookie: bigint }>();
  /** Keys changed since the last takeChanges(). */
  private readonly dirty = new Set<string>();

  constructor(readonly bridge: string, public cookie: bigint) {}

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
    let mine = this.owners.get(owner);
    if (!mine) this.owners.set(owner, (mine = new Map()));
    for (const f of flows) {
      const key = flowKey(f);
      mine.set(key, f);
      this.claim(owner, key, f);
    }
  }

  /** Removes some of an owner's flows, by key (`flowKey`). */
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
      d.owners.add(owner);
      if (d.flow.actions !== f.actions) {
        d.flow = f;
        this.dirty.add(key);
      }
    } else {
      this.desired.set(key, { flow: f, owners: new Set([owner]) });
      this.dirty.add(key);
    }
  }

  private release(owner: string, key: string): void {
    const d = this.desired.get(key);
    if (!d) return;
    d.owners.delete(owner);
    if (d.owners.size) {
      // Another owner still wants this key: fall back to its version.
      const other = this.owners.get([...d.owners][0])?.get(key);
      if (other && other.actions !== d.flow.actions) {
        d.flow = other;
        this.dirty.add(key);
      }
      return;
    }
    this.desired.delete(key);
    this.dirty.add(key);
  }

  /**
   * What must go to the switch for the dirty keys. The changes count as
   * installed only after `commit(changes)`; until then the keys stay dirty so
   * a failed bundle is retried whole.
   */
  takeChanges(): FlowChanges {
    const adds: Flow[] = [];
    const deletes: Flow[] = [];
    for (const key of this.dirty) {
      const d = this.desired.get(key);
      const inst = this.installed.get(key);
      if (d) {
        if (!inst || inst.text !== flowText(d.flow) || inst.cookie !== this.cookie) adds.push(d.flow);
      } else if (inst) {
        deletes.push(inst.flow);
      }
    }
    return { adds, deletes };
  }

  /** Marks changes as confirmed by the switch. */
  commit(changes: FlowChanges): void {
    for (const f of changes.deletes) {
      const key = flowKey(f);
      this.installed.delete(key);
      if (!this.desired.has(key)) this.dirty.delete(key);
    }
    for (const f of changes.adds) {
      const key = flowKey(f);
      this.installed.set(key, { text: flowText(f), flow: f, cookie: this.cookie });
      if (this.desired.get(key)?.flow === f) this.dirty.delete(key);
    }
  }

  /**
   * Replaces the installed view with what the switch reported (start-up, or a
   * switch that came back) and marks every key dirty, so the next changes
   * send only the differences. Flows the switch has that nobody wants are
   * deleted only when `deleteUnwanted` is set: after the first full sync.
   */
  adoptInstalled(flows: ReadonlyArray<{ flow: Flow; cookie: bigint }>, opts: { deleteUnwanted: boolean }): void {
    this.installed.clear();
    for (const { flow: f, cookie } of flows) {
      this.installed.set(flowKey(f), { text: flowText(f), flow: f, cookie });
    }
    for (const key of this.desired.keys()) this.dirty.add(key);
    if (opts.deleteUnwanted) for (const key of this.installed.keys()) this.dirty.add(key);
  }

  /** The switch lost its tables (ovs-vswitchd restarted): everything desired is to be sent. */
  forgetInstalled(): void {
    this.installed.clear();
    for (const key of this.desired.keys()) this.dirty.add(key);
  }

  get pending(): number {
    return this.dirty.size;
  }
}

export function compareFlows(a: Flow, b: Flow): number {
  return a.table - b.table || b.priority - a.priority || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0);
}
