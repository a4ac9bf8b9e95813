/**
 * The flows of one bridge: what each part of the agent wants (by owner), and
 * what the switch holds. The only ledger: every flow on a bridge, whoever
 * computed it (the bridge's own pipeline, a network, a port, the firewall,
 * l2population), is kept here once, under its key (flow.ts).
 *
 * Owners are strings such as `setup`, `net:<uuid>` or `fw|p|<port>`:
 * replacing an owner's flows works out the difference with what it had, so
 * re-wiring a port is idempotent and removing it removes exactly its flows.
 * Several owners may want one flow (a firewall flow shared by the ports of a
 * network): it stays while anyone wants it, with the first claimant's
 * actions. `takeChanges()` is what must be sent to make the switch hold what
 * is wanted (ovn-controller's desired vs installed flows, ofctrl.c); only
 * what changed since the last commit is looked at, so a pass costs what it
 * changed, not what the bridge holds.
 *
 * Flows the switch already has (an agent restart, a session that came back)
 * are adopted: a wanted flow the switch holds with the same actions and our
 * cookie is not sent again, which keeps its counters and never disturbs its
 * traffic. Flows nobody wants are deleted only when the owner of the table
 * says so (after the first full sync, or when reconciling with a dump).
 *
 * Flows with a timeout are the switch's own (learn() writes MACs it saw on a
 * tunnel into br-tun's table 20): they are never adopted or deleted here.
 */
import type { FlowStats } from '../../protocol/openflow/index.js';
import { sameInstructions, type Instructions } from './actions.js';
import { keyOfStats, type DesiredFlow } from './flow.js';

interface Entry {
  readonly key: string;
  /** The winning claim: its owner and flow. Undefined: nobody wants the flow (a delete is pending). */
  owner: string | undefined;
  want: DesiredFlow | undefined;
  /** Other owners wanting the same flow (rare: shared firewall flows). */
  others: Map<string, DesiredFlow> | undefined;
  /** What the switch holds under this key, as last confirmed or seen in a dump; undefined: nothing. */
  have: Instructions | undefined;
  /** The flow the switch holds carries another cookie (a previous agent's, or nobody's). */
  foreign: boolean;
}

export interface FlowChanges {
  /** Flows to add or replace. */
  readonly adds: readonly DesiredFlow[];
  /** Keys of flows to delete strictly. */
  readonly deletes: readonly string[];
}

/** What a dump reported of one flow. */
export type DumpedFlow = Pick<FlowStats, 'tableId' | 'priority' | 'match' | 'instructions' | 'cookie' | 'idleTimeout' | 'hardTimeout'>;

export class FlowTable {
  /** key → entry. */
  private readonly entries = new Map<string, Entry>();
  /** owner → the keys of its flows. */
  private readonly owners = new Map<string, string[]>();
  /** Entries changed since the last commit. */
  private readonly dirty = new Set<Entry>();
  /** Entries the switch holds that nobody claimed yet, from the last dump. */
  private readonly unclaimed = new Set<Entry>();
  private deleteUnclaimedFlows = false;

  constructor(readonly bridge: string, readonly cookie: bigint) {}

  /** Sets an owner's flows to exactly `flows`. */
  replace(owner: string, flows: readonly DesiredFlow[]): void {
    const before = this.owners.get(owner);
    if (!before) {
      if (flows.length === 0) return;
      const keys = new Array<string>(flows.length);
      for (let i = 0; i < flows.length; i++) {
        keys[i] = flows[i].key;
        this.claim(owner, flows[i]);
      }
      this.owners.set(owner, keys);
      return;
    }
    const next = new Set<string>();
    for (const f of flows) next.add(f.key);
    for (const key of before) if (!next.has(key)) this.release(owner, key);
    for (const f of flows) this.claim(owner, f);
    if (next.size) this.owners.set(owner, next.size === flows.length ? flows.map((f) => f.key) : [...next]);
    else this.owners.delete(owner);
  }

  /** Removes every flow of an owner. */
  remove(owner: string): void {
    const keys = this.owners.get(owner);
    if (!keys) return;
    for (const key of keys) this.release(owner, key);
    this.owners.delete(owner);
  }

  /** Removes every owner whose name starts with `prefix` (all of a network's tunnel flows). */
  removeByPrefix(prefix: string): void {
    for (const owner of [...this.owners.keys()]) if (owner.startsWith(prefix)) this.remove(owner);
  }

  has(owner: string): boolean {
    return this.owners.has(owner);
  }

  /** An owner's flows as it last set them. */
  flowsOf(owner: string): DesiredFlow[] {
    const out: DesiredFlow[] = [];
    for (const key of this.owners.get(owner) ?? []) {
      const e = this.entries.get(key);
      const f = e?.owner === owner ? e.want : e?.others?.get(owner);
      if (f) out.push(f);
    }
    return out;
  }

  /** The flows of every owner whose name starts with `prefix`, each once (one part of the agent's flows: tests, status). */
  flowsOfOwners(prefix: string): DesiredFlow[] {
    const out = new Map<string, DesiredFlow>();
    for (const owner of this.owners.keys()) {
      if (!owner.startsWith(prefix)) continue;
      for (const f of this.flowsOf(owner)) if (!out.has(f.key)) out.set(f.key, f);
    }
    return [...out.values()];
  }

  /** Every wanted flow. */
  *desiredFlows(): Iterable<DesiredFlow> {
    for (const e of this.entries.values()) if (e.want) yield e.want;
  }

  /** How many flows are wanted. */
  get size(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.want) n++;
    return n;
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { key, owner: undefined, want: undefined, others: undefined, have: undefined, foreign: false };
      this.entries.set(key, e);
    }
    return e;
  }

  private claim(owner: string, f: DesiredFlow): void {
    const e = this.entry(f.key);
    if (e.owner === undefined || e.owner === owner) {
      const changed = e.want === undefined || !sameInstructions(e.want.instructions, f.instructions);
      e.owner = owner;
      // Keep the flow already held when nothing changed: it may be the one on its way to the switch.
      if (changed) {
        e.want = f;
        this.dirty.add(e);
      }
      if (this.unclaimed.delete(e)) this.dirty.add(e);
      return;
    }
    (e.others ??= new Map()).set(owner, f);
  }

  private release(owner: string, key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.owner !== owner) {
      e.others?.delete(owner);
      return;
    }
    const next = e.others?.entries().next().value;
    if (next) {
      // Another owner still wants the flow: its version now.
      e.others!.delete(next[0]);
      if (!e.others!.size) e.others = undefined;
      e.owner = next[0];
      if (!sameInstructions(e.want!.instructions, next[1].instructions)) {
        e.want = next[1];
        this.dirty.add(e);
      }
      return;
    }
    e.owner = undefined;
    e.want = undefined;
    if (e.have === undefined) {
      this.entries.delete(key);
      this.dirty.delete(e);
    } else {
      this.dirty.add(e);
    }
  }

  /**
   * What must go to the switch: every wanted flow it does not hold as
   * wanted, every flow it holds that nobody wants (those it had when last
   * dumped only once `deleteUnclaimed()` said so). Nothing counts as done
   * until `commit(changes)`: a failed bundle leaves everything to be sent
   * again.
   */
  takeChanges(): FlowChanges {
    const adds: DesiredFlow[] = [];
    const deletes: string[] = [];
    for (const e of this.dirty) {
      if (e.want) {
        if (e.have !== undefined && !e.foreign && sameInstructions(e.have, e.want.instructions)) {
          // Held as wanted (adopted from a dump): nothing to send.
          e.have = e.want.instructions;
          e.want.match = undefined;
          this.dirty.delete(e);
          continue;
        }
        adds.push(e.want);
      } else if (e.have !== undefined && !this.unclaimed.has(e)) {
        deletes.push(e.key);
      }
    }
    if (this.deleteUnclaimedFlows) for (const e of this.unclaimed) deletes.push(e.key);
    return { adds, deletes };
  }

  /** The switch confirmed `changes` (the bundle committed). */
  commit(changes: FlowChanges): void {
    for (const f of changes.adds) {
      // Unwanted since it was taken: the switch holds it now all the same, and the next changes delete it.
      const e = this.entries.get(f.key) ?? this.entry(f.key);
      if (e.want === undefined) this.dirty.add(e);
      e.have = f.instructions;
      e.foreign = false;
      // Sent: the codec's match is not needed any more (a re-send decodes the key).
      f.match = undefined;
      if (e.want === f) this.dirty.delete(e);
    }
    for (const key of changes.deletes) {
      const e = this.entries.get(key);
      if (!e) continue;
      e.have = undefined;
      e.foreign = false;
      this.unclaimed.delete(e);
      if (e.want === undefined) {
        this.entries.delete(key);
        this.dirty.delete(e);
      } else {
        // Wanted again since: it is to be added.
        this.dirty.add(e);
      }
    }
    if (this.unclaimed.size === 0) this.deleteUnclaimedFlows = false;
  }

  /**
   * Takes what a dump of the switch reported as what it holds: wanted flows
   * it holds as wanted are not sent again, the others are; flows nobody
   * wants are remembered, and deleted once `deleteUnclaimed()` is called (or
   * at once with `deleteUnwanted`).
   */
  adopt(dump: Iterable<DumpedFlow>, opts: { deleteUnwanted: boolean }): void {
    for (const e of this.entries.values()) {
      e.have = undefined;
      e.foreign = false;
    }
    this.unclaimed.clear();
    for (const s of dump) {
      if (s.idleTimeout !== 0 || s.hardTimeout !== 0) continue;
      const e = this.entry(keyOfStats(s));
      e.have = s.instructions;
      e.foreign = s.cookie !== this.cookie;
      if (!e.want) this.unclaimed.add(e);
    }
    for (const e of this.entries.values()) {
      if (e.want || e.have !== undefined) this.dirty.add(e);
      if (!e.want && e.have === undefined) this.entries.delete(e.key);
    }
    this.deleteUnclaimedFlows = opts.deleteUnwanted && this.unclaimed.size > 0;
  }

  /** After the first full sync: flows the switch held that nobody claimed are stale; the next changes delete them. */
  deleteUnclaimed(): void {
    this.deleteUnclaimedFlows = this.unclaimed.size > 0;
  }

  /** How many flows found on the switch nobody claimed (yet). */
  get unclaimedCount(): number {
    return this.unclaimed.size;
  }

  /** The switch lost its tables (ovs-vswitchd restarted): everything wanted is to be sent. */
  forgetInstalled(): void {
    this.unclaimed.clear();
    this.deleteUnclaimedFlows = false;
    for (const e of [...this.entries.values()]) {
      e.have = undefined;
      e.foreign = false;
      if (e.want) this.dirty.add(e);
      else {
        this.entries.delete(e.key);
        this.dirty.delete(e);
      }
    }
  }

  /** Flows waiting to be sent or deleted. */
  get pending(): number {
    return this.dirty.size + (this.deleteUnclaimedFlows ? this.unclaimed.size : 0);
  }
}
