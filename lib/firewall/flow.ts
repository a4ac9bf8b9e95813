/**
 * Flows as the firewall and l2pop compute them, and the ledger that turns
 * "what each owner wants now" into the minimal list of flow-mods.
 *
 * A flow's identity in OpenFlow is (table, priority, match): an ADD with the
 * same identity replaces the actions in place, a strict DELETE removes exactly
 * it. Several owners (ports, networks, fdb entries) may want the same flow
 * (e.g. the per-port `ct_state=+trk+inv` drop, which has no port in its
 * match), so the ledger counts claims and only deletes a flow once nobody
 * wants it.
 */
import type { Instruction, Match } from '../../protocol/openflow/types.js';
import { buildMatch, type Actions, type MatchPart } from './flow-parts.js';

/**
 * One flow: `match` is the comma-joined match text (may be empty) and, with
 * `actions`, its identity and the ovs-ofctl spelling; `of` is the same flow
 * as the switch gets it, built alongside the text (flow-parts.ts) so nothing
 * parses the text back.
 */
export interface Flow {
  table: number;
  priority: number;
  match: string;
  actions: string;
  of?: OfFlow;
}

/** A flow's OpenFlow match and instructions (table, priority and cookie are the flow-mod's). */
export interface OfFlow {
  readonly match: Match;
  readonly instructions: Instruction[];
}

/**
 * One flow-mod, as ovs-ofctl text: `add` lines carry actions, `delete_strict`
 * lines only the identity. The same text works as a line of
 * `ovs-ofctl --bundle add-flows BR FILE` when prefixed with `op`. An add
 * built from flow parts also carries the flow (table, priority, match and
 * actions text) and its OpenFlow form, so a consumer needs neither the text
 * nor a parse.
 */
export interface FlowChange {
  readonly op: 'add' | 'delete_strict';
  readonly text: string;
  /** The flow's identity as the ledger keys it (`flowKey`), so a consumer keying flows need not build it again. */
  readonly key?: string;
  readonly flow?: Flow;
  readonly of?: OfFlow;
}

/** An add from the ledger: its text is only written if someone reads it (the agent does not). */
class AddChange implements FlowChange {
  readonly op = 'add';
  constructor(
    private readonly prefix: string,
    readonly key: string,
    readonly flow: Flow,
    readonly of: OfFlow | undefined,
  ) {}

  get text(): string {
    return `${this.prefix}${this.key} actions=${this.flow.actions}`;
  }
}

export function flowKey(f: Flow): string {
  // Joined into one flat string: a template literal is a rope of cons cells, which the ledger's maps would
  // keep beside the flat copy that hashing makes.
  return f.match === '' ? ['table=', f.table, ',priority=', f.priority].join('') : ['table=', f.table, ',priority=', f.priority, ',', f.match].join('');
}

/** Builds a flow from match parts (false/undefined skipped) and an action list, both spellings at once. */
export function flow(table: number, priority: number, match: ReadonlyArray<MatchPart | false | undefined>, actions: Actions): Flow {
  const m = buildMatch(match);
  return { table, priority, match: m.text, actions: actions.text, of: { match: m.match, instructions: actions.instructions } };
}

/** `cookie=0x…` text for a 64-bit cookie. */
export function cookieText(cookie: bigint): string {
  return `0x${cookie.toString(16)}`;
}

/** The lines for `ovs-ofctl --bundle add-flows`: `add …` / `delete_strict …`. */
export function changesToOfctlLines(changes: readonly FlowChange[]): string {
  let out = '';
  for (const c of changes) out += `${c.op} ${c.text}\n`;
  return out;
}

/**
 * Who wants one flow. Nearly every flow has a single owner, so the first
 * claim is stored inline and only shared flows pay for a map; the first
 * claim's actions are the ones installed.
 */
interface Claims {
  owner: string;
  flow: Flow;
  more?: Map<string, Flow>;
}

export class FlowLedger {
  private readonly owners = new Map<string, Map<string, Flow>>();
  private readonly claims = new Map<string, Claims>();
  /** What we believe the switch holds, by key (actions text). */
  private readonly installed = new Map<string, Flow>();
  private readonly touched = new Set<string>();
  private readonly addPrefix: string;
  private readonly deletePrefix: string;

  constructor(cookie?: bigint) {
    this.addPrefix = cookie === undefined ? '' : `cookie=${cookieText(cookie)},`;
    this.deletePrefix = cookie === undefined ? '' : `cookie=${cookieText(cookie)}/-1,`;
  }

  /** Replaces everything `owner` wants with `flows` (an empty list releases the owner). */
  setOwner(owner: string, flows: readonly Flow[]): void {
    const old = this.owners.get(owner);
    if (!old) {
      this.addOwner(owner, flows);
      return;
    }
    const next = new Map<string, Flow>();
    for (const f of flows) next.set(flowKey(f), f);
    if (old) {
      for (const key of old.keys()) if (!next.has(key)) this.release(key, owner);
    }
    for (const [key, f] of next) {
      const o = old?.get(key);
      if (o && o.actions === f.actions) continue;
      const c = this.claims.get(key);
      if (!c) this.claims.set(key, { owner, flow: f });
      else if (c.owner === owner) c.flow = f;
      else (c.more ??= new Map()).set(owner, f);
      this.touched.add(key);
    }
    if (next.size === 0) this.owners.delete(owner);
    else this.owners.set(owner, next);
  }

  /** The common first-time case: nothing to compare with. */
  private addOwner(owner: string, flows: readonly Flow[]): void {
    if (flows.length === 0) return;
    const mine = new Map<string, Flow>();
    for (const f of flows) {
      const key = flowKey(f);
      mine.set(key, f);
      const c = this.claims.get(key);
      if (!c) this.claims.set(key, { owner, flow: f });
      else if (c.owner === owner) c.flow = f;
      else (c.more ??= new Map()).set(owner, f);
      this.touched.add(key);
    }
    this.owners.set(owner, mine);
  }

  hasOwner(owner: string): boolean {
    return this.owners.has(owner);
  }

  private release(key: string, owner: string): void {
    const c = this.claims.get(key);
    if (!c) return;
    if (c.owner === owner) {
      const next = c.more?.entries().next().value;
      if (next) {
        c.more!.delete(next[0]);
        c.owner = next[0];
        c.flow = next[1];
      } else this.claims.delete(key);
    } else c.more?.delete(owner);
    this.touched.add(key);
  }

  /** The flow-mods that take the switch from what was committed last to what the owners want now: adds first. */
  commit(): FlowChange[] {
    const adds: FlowChange[] = [];
    const deletes: FlowChange[] = [];
    for (const key of this.touched) {
      const want = this.claims.get(key)?.flow;
      const have = this.installed.get(key);
      if (want) {
        if (!have || have.actions !== want.actions) {
          adds.push(new AddChange(this.addPrefix, key, want, want.of));
          // The OpenFlow form is for sending; the ledger keeps text only (a reinstall parses it again).
          want.of = undefined;
          this.installed.set(key, want);
        }
      } else if (have) {
        deletes.push({ op: 'delete_strict', text: `${this.deletePrefix}${key}`, key });
        this.installed.delete(key);
      }
    }
    this.touched.clear();
    return adds.concat(deletes);
  }

  /** Every flow we believe installed, as adds (after the switch lost its tables). */
  reinstall(): FlowChange[] {
    const out: FlowChange[] = [];
    for (const [key, f] of this.installed) out.push(new AddChange(this.addPrefix, key, f, undefined));
    return out;
  }

  /** Installed flows (for tests and the benchmark's flow count). */
  installedFlows(): Flow[] {
    return [...this.installed.values()];
  }

  get size(): number {
    return this.installed.size;
  }
}
