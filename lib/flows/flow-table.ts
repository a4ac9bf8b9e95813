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
import type { FlowStats, Match } from '../../protocol/openflow/index.js';
import { sameInstructions, type Instructions } from './actions.js';
import { keyOfStats, type DesiredFlow } from './flow.js';

/**
 * One flow of the bridge, under its key: wanted, held by the switch, or
 * both. It is kept small (a 100-port firewall is ~5,700 of them): the key is
 * the map's, and what few flows need (a second owner, a foreign cookie, a
 * match not sent yet) lives in side tables.
 */
interface Entry {
  /** The winning claim's owner; undefined: nobody wants the flow (a delete is pending). */
  owner: string | undefined;
  /** What the owner wants the flow to do. */
  instructions: Instructions | undefined;
  /** What the switch holds under this key, as last confirmed or seen in a dump; undefined: nothing. */
  have: Instructions | undefined;
}

export interface FlowChanges {
  /** Flows to add or replace, as they were when the changes were taken. */
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
  /** key → the other owners of a flow more than one owner wants, with what each wants (rare). */
  private readonly shared = new Map<string, Map<string, DesiredFlow>>();
  /** Keys whose flow on the switch carries another cookie (a previous agent's, or nobody's). */
  private readonly foreign = new Set<string>();
  /** Keys changed since the last commit. */
  private dirty = new Set<string>();
  /** Keys the switch holds that nobody claimed yet, from the last dump. */
  private readonly unclaimed = new Set<string>();
  /** The codec's match of wanted flows not sent yet (flow.ts: once sent, a re-send decodes the key). */
  private unsent = new Map<string, Match>();
  private deleteUnclaimedFlows = false;
  private wanted = 0;

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

  /** Every owner with flows (diagnostics: `ovs-agent flows`). */
  ownerNames(): IterableIterator<string> {
    return this.owners.keys();
  }

  has(owner: string): boolean {
    return this.owners.has(owner);
  }

  /** An owner's flows as it last set them. */
  flowsOf(owner: string): DesiredFlow[] {
    const out: DesiredFlow[] = [];
    for (const key of this.owners.get(owner) ?? []) {
      const e = this.entries.get(key);
      if (e?.owner === owner) out.push(this.flowOf(key, e));
      else {
        const f = this.shared.get(key)?.get(owner);
        if (f) out.push(f);
      }
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
    for (const [key, e] of this.entries) if (e.instructions) yield this.flowOf(key, e);
  }

  /** How many flows are wanted. */
  get size(): number {
    return this.wanted;
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { owner: undefined, instructions: undefined, have: undefined };
      this.entries.set(key, e);
    }
    return e;
  }

  private claim(owner: string, f: DesiredFlow): void {
    const e = this.entry(f.key);
    if (e.owner === undefined || e.owner === owner) {
      if (e.instructions === undefined) this.wanted++;
      e.owner = owner;
      // Kept as they are when nothing changed: the same lists, maybe on their way to the switch.
      if (e.instructions === undefined || !sameInstructions(e.instructions, f.instructions)) {
        e.instructions = f.instructions;
        this.setMatch(f);
        this.dirty.add(f.key);
      }
      if (this.unclaimed.delete(f.key)) this.dirty.add(f.key);
      return;
    }
    let others = this.shared.get(f.key);
    if (!others) this.shared.set(f.key, (others = new Map()));
    others.set(owner, f);
  }

  private release(owner: string, key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    const others = this.shared.get(key);
    if (e.owner !== owner) {
      others?.delete(owner);
      if (others?.size === 0) this.shared.delete(key);
      return;
    }
    const next = others?.entries().next().value;
    if (next) {
      // Another owner still wants the flow: its version now.
      others!.delete(next[0]);
      if (others!.size === 0) this.shared.delete(key);
      e.owner = next[0];
      if (!sameInstructions(e.instructions!, next[1].instructions)) {
        e.instructions = next[1].instructions;
        this.setMatch(next[1]);
        this.dirty.add(key);
      }
      return;
    }
    e.owner = undefined;
    e.instructions = undefined;
    this.unsent.delete(key);
    this.wanted--;
    if (e.have === undefined) this.drop(key);
    else this.dirty.add(key);
  }

  private setMatch(f: DesiredFlow): void {
    if (f.match) this.unsent.set(f.key, f.match);
    else this.unsent.delete(f.key);
  }

  private drop(key: string): void {
    this.entries.delete(key);
    this.dirty.delete(key);
    this.foreign.delete(key);
    this.unclaimed.delete(key);
    this.unsent.delete(key);
  }

  /** An entry's wanted flow, as a flow of its own (a snapshot: the entry may change after). */
  private flowOf(key: string, e: Entry): DesiredFlow {
    return { key, instructions: e.instructions!, match: this.unsent.get(key) };
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
    for (const key of this.dirty) {
      const e = this.entries.get(key)!;
      if (e.instructions) {
        if (e.have !== undefined && !this.foreign.has(key) && sameInstructions(e.have, e.instructions)) {
          // Held as wanted (adopted from a dump): nothing to send.
          e.have = e.instructions;
          this.unsent.delete(key);
          this.dirty.delete(key);
          continue;
        }
        adds.push(this.flowOf(key, e));
      } else if (e.have !== undefined && !this.unclaimed.has(key)) {
        deletes.push(key);
      }
    }
    if (this.deleteUnclaimedFlows) for (const key of this.unclaimed) deletes.push(key);
    return { adds, deletes };
  }

  /** The switch confirmed `changes` (the bundle committed). */
  commit(changes: FlowChanges): void {
    for (const f of changes.adds) {
      // Unwanted since it was taken: the switch holds it now all the same, and the next changes delete it.
      const e = this.entry(f.key);
      if (e.instructions === undefined) this.dirty.add(f.key);
      e.have = f.instructions;
      this.foreign.delete(f.key);
      if (e.instructions === f.instructions) {
        // Sent as it is wanted: the codec's match is not needed any more (a re-send decodes the key).
        this.unsent.delete(f.key);
        this.dirty.delete(f.key);
      }
    }
    for (const key of changes.deletes) {
      const e = this.entries.get(key);
      if (!e) continue;
      e.have = undefined;
      this.foreign.delete(key);
      this.unclaimed.delete(key);
      // Wanted again since: it is to be added.
      if (e.instructions === undefined) this.drop(key);
      else this.dirty.add(key);
    }
    if (this.unclaimed.size === 0) this.deleteUnclaimedFlows = false;
    // A set emptied entry by entry keeps its capacity: thousands of slots a burst left behind.
    if (this.dirty.size === 0) this.dirty = new Set();
    if (this.unsent.size === 0) this.unsent = new Map();
  }

  /**
   * Takes what a dump of the switch reported as what it holds: wanted flows
   * it holds as wanted are not sent again, the others are; flows nobody
   * wants are remembered, and deleted once `deleteUnclaimed()` is called (or
   * at once with `deleteUnwanted`).
   */
  adopt(dump: Iterable<DumpedFlow>, opts: { deleteUnwanted: boolean }): void {
    for (const e of this.entries.values()) e.have = undefined;
    this.foreign.clear();
    this.unclaimed.clear();
    for (const s of dump) {
      if (s.idleTimeout !== 0 || s.hardTimeout !== 0) continue;
      const key = keyOfStats(s);
      const e = this.entry(key);
      e.have = s.instructions;
      if (s.cookie !== this.cookie) this.foreign.add(key);
      if (!e.instructions) this.unclaimed.add(key);
    }
    for (const [key, e] of [...this.entries]) {
      if (e.instructions || e.have !== undefined) this.dirty.add(key);
      else this.drop(key);
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
    this.foreign.clear();
    this.deleteUnclaimedFlows = false;
    for (const [key, e] of [...this.entries]) {
      e.have = undefined;
      if (e.instructions) this.dirty.add(key);
      else this.drop(key);
    }
  }

  /** Flows waiting to be sent or deleted. */
  get pending(): number {
    return this.dirty.size + (this.deleteUnclaimedFlows ? this.unclaimed.size : 0);
  }
}
