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
import type { FlowStats } from '@ovs-agent/openflow';
import { sameInstructions, type Instructions } from './actions.js';
import { keyOfStats, type DesiredFlow } from './flow.js';

/**
 * Who wants one flow of the bridge, and what: the map's value under the
 * flow's key. Kept small (a 100-port firewall is ~5,700 flows): a claim is
 * shared by every flow of an owner with the same instruction list (a port's
 * ~57 flows use ~20 lists), so a flow costs its key and a map slot. What the
 * switch holds is, for almost every flow almost all the time, what is
 * wanted; the other cases (not sent yet, adopted from a dump, a delete
 * pending) are kept aside (`diverged`). What few flows need besides (a
 * second owner, a foreign cookie) lives in side tables too.
 */
interface Claim {
  /** The winning claim's owner; undefined: nobody wants the flow (a delete is pending). */
  readonly owner: string | undefined;
  /** What the owner wants the flow to do. */
  readonly instructions: Instructions | undefined;
  /**
   * Set on the claim of flows new to the table (the switch holds nothing
   * under their keys, unless `diverged` says otherwise): most flows of a new
   * port, which would otherwise each need a `diverged` entry until sent.
   * Once sent, such a flow takes this claim instead (the same owner and
   * instructions, held as wanted).
   */
  sent?: Claim;
}

const UNWANTED: Claim = Object.freeze({ owner: undefined, instructions: undefined });

export interface FlowChanges {
  /** Flows to add or replace, as they were when the changes were taken. */
  readonly adds: readonly DesiredFlow[];
  /** Keys of flows to delete strictly. */
  readonly deletes: readonly string[];
}

/** What a dump reported of one flow. */
export type DumpedFlow = Pick<FlowStats, 'tableId' | 'priority' | 'match' | 'instructions' | 'cookie' | 'idleTimeout' | 'hardTimeout'>;

export class FlowTable {
  /** key → who wants the flow and what. */
  private readonly entries = new Map<string, Claim>();
  /** key → what the switch holds when it is not what is wanted (null: nothing). */
  private diverged = new Map<string, Instructions | null>();
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
  private deleteUnclaimedFlows = false;
  private wanted = 0;

  constructor(readonly bridge: string, readonly cookie: bigint) {}

  /** Sets an owner's flows to exactly `flows`. */
  replace(owner: string, flows: readonly DesiredFlow[]): void {
    const before = this.owners.get(owner);
    const claims = new Map<Instructions, Claim>();
    if (!before) {
      if (flows.length === 0) return;
      const keys = new Array<string>(flows.length);
      const fresh = new Map<Instructions, Claim>();
      for (let i = 0; i < flows.length; i++) {
        keys[i] = flows[i].key;
        this.claim(owner, flows[i], claims, fresh);
      }
      this.owners.set(owner, keys);
      return;
    }
    const next = new Set<string>();
    for (const f of flows) next.add(f.key);
    for (const key of before) if (!next.has(key)) this.release(owner, key);
    const fresh = new Map<Instructions, Claim>();
    for (const f of flows) this.claim(owner, f, claims, fresh);
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
      const c = this.entries.get(key);
      if (c?.owner === owner) out.push(this.flowOf(key, c));
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
    for (const [key, c] of this.entries) if (c.instructions) yield this.flowOf(key, c);
  }

  /**
   * How many wanted flows each owner holds, a flow counted once (for the
   * owner whose claim won): the metrics' flows per group, read at scrape.
   */
  *flowCounts(): Iterable<[string, number]> {
    for (const [owner, keys] of this.owners) {
      let n = 0;
      for (const key of keys) if (this.entries.get(key)?.owner === owner) n++;
      if (n) yield [owner, n];
    }
  }

  /** How many flows are wanted. */
  get size(): number {
    return this.wanted;
  }

  private entry(key: string): Claim {
    let c = this.entries.get(key);
    if (!c) {
      c = UNWANTED;
      this.entries.set(key, c);
    }
    return c;
  }

  /** What the switch holds under `key`, whose claim is `c`; undefined: nothing. */
  private haveOf(key: string, c: Claim): Instructions | undefined {
    const h = this.diverged.get(key);
    if (h !== undefined) return h ?? undefined;
    return c.sent ? undefined : c.instructions;
  }

  /** Sets what the switch holds under `key` (after its claim is set). */
  private setHave(key: string, c: Claim, have: Instructions | undefined): void {
    if (have === (c.sent ? undefined : c.instructions)) this.diverged.delete(key);
    else this.diverged.set(key, have ?? null);
  }

  /** Sets the claim of `key`, what the switch holds staying as it was. */
  private setClaim(key: string, old: Claim, c: Claim): void {
    const have = this.haveOf(key, old);
    this.entries.set(key, c);
    this.setHave(key, c, have);
  }

  private claim(owner: string, f: DesiredFlow, claims: Map<Instructions, Claim>, fresh: Map<Instructions, Claim>): void {
    const c = this.entries.get(f.key);
    if (c === undefined) {
      // A flow nobody has and the switch does not hold (most flows of a new port): wanted, not sent.
      let mine = fresh.get(f.instructions);
      if (!mine) fresh.set(f.instructions, (mine = { owner, instructions: f.instructions, sent: { owner, instructions: f.instructions } }));
      this.entries.set(f.key, mine);
      this.dirty.add(f.key);
      this.wanted++;
      return;
    }
    this.claimKnown(owner, f, c, claims);
  }

  private claimKnown(owner: string, f: DesiredFlow, c: Claim, claims: Map<Instructions, Claim>): void {
    if (c.owner === undefined || c.owner === owner) {
      if (c.instructions === undefined) this.wanted++;
      // Kept as they are when nothing changed: the same lists, maybe on their way to the switch.
      if (c.instructions === undefined || !sameInstructions(c.instructions, f.instructions)) {
        let mine = claims.get(f.instructions);
        if (!mine) claims.set(f.instructions, (mine = { owner, instructions: f.instructions }));
        this.setClaim(f.key, c, mine);
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
    const c = this.entries.get(key);
    if (!c) return;
    const others = this.shared.get(key);
    if (c.owner !== owner) {
      others?.delete(owner);
      if (others?.size === 0) this.shared.delete(key);
      return;
    }
    const next = others?.entries().next().value;
    if (next) {
      // Another owner still wants the flow: its version now.
      others!.delete(next[0]);
      if (others!.size === 0) this.shared.delete(key);
      if (sameInstructions(c.instructions!, next[1].instructions)) {
        this.setClaim(key, c, { owner: next[0], instructions: c.instructions });
      } else {
        this.setClaim(key, c, { owner: next[0], instructions: next[1].instructions });
        this.dirty.add(key);
      }
      return;
    }
    const have = this.haveOf(key, c);
    this.wanted--;
    if (have === undefined) this.drop(key);
    else {
      this.setClaim(key, c, UNWANTED);
      this.dirty.add(key);
    }
  }

  private drop(key: string): void {
    this.entries.delete(key);
    this.diverged.delete(key);
    this.dirty.delete(key);
    this.foreign.delete(key);
    this.unclaimed.delete(key);
  }

  /** A claim's wanted flow, as a flow of its own (a snapshot: the claim may change after). */
  private flowOf(key: string, c: Claim): DesiredFlow {
    return { key, instructions: c.instructions! };
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
      const c = this.entries.get(key)!;
      const have = this.haveOf(key, c);
      if (c.instructions) {
        if (have !== undefined && !this.foreign.has(key) && sameInstructions(have, c.instructions)) {
          // Held as wanted (adopted from a dump): nothing to send.
          this.setHave(key, c, c.instructions);
          this.dirty.delete(key);
          continue;
        }
        adds.push(this.flowOf(key, c));
      } else if (have !== undefined && !this.unclaimed.has(key)) {
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
      let c = this.entry(f.key);
      if (c.sent && c.instructions === f.instructions) {
        // New to the table when taken, held now as wanted (setHave below clears what diverged said).
        const sent = c.sent;
        this.entries.set(f.key, sent);
        c = sent;
      }
      if (c.instructions === undefined) this.dirty.add(f.key);
      this.setHave(f.key, c, f.instructions);
      this.foreign.delete(f.key);
      // Sent as it is wanted: done.
      if (c.instructions === f.instructions) this.dirty.delete(f.key);
    }
    for (const key of changes.deletes) {
      const c = this.entries.get(key);
      if (!c) continue;
      this.setHave(key, c, undefined);
      this.foreign.delete(key);
      this.unclaimed.delete(key);
      // Wanted again since: it is to be added.
      if (c.instructions === undefined) this.drop(key);
      else this.dirty.add(key);
    }
    if (this.unclaimed.size === 0) this.deleteUnclaimedFlows = false;
    // A set emptied entry by entry keeps its capacity: thousands of slots a burst left behind.
    if (this.dirty.size === 0) this.dirty = new Set();
    if (this.diverged.size === 0) this.diverged = new Map();
  }

  /**
   * Takes what a dump of the switch reported as what it holds: wanted flows
   * it holds as wanted are not sent again, the others are; flows nobody
   * wants are remembered, and deleted once `deleteUnclaimed()` is called (or
   * at once with `deleteUnwanted`).
   */
  adopt(dump: Iterable<DumpedFlow>, opts: { deleteUnwanted: boolean }): void {
    for (const [key, c] of this.entries) this.setHave(key, c, undefined);
    this.foreign.clear();
    this.unclaimed.clear();
    for (const s of dump) {
      if (s.idleTimeout !== 0 || s.hardTimeout !== 0) continue;
      const key = keyOfStats(s);
      const c = this.entry(key);
      this.setHave(key, c, s.instructions);
      if (s.cookie !== this.cookie) this.foreign.add(key);
      if (!c.instructions) this.unclaimed.add(key);
    }
    for (const [key, c] of [...this.entries]) {
      if (c.instructions || this.haveOf(key, c) !== undefined) this.dirty.add(key);
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
    for (const [key, c] of [...this.entries]) {
      this.setHave(key, c, undefined);
      if (c.instructions) this.dirty.add(key);
      else this.drop(key);
    }
  }

  /** Flows waiting to be sent or deleted. */
  get pending(): number {
    return this.dirty.size + (this.deleteUnclaimedFlows ? this.unclaimed.size : 0);
  }
}
