/**
 * The agent's copy of the server's objects (docs/neutron.md, "Versioned
 * objects and the resource cache"): filled by the
 * `neutron-vo-<Type>-<version>` pushes and, on a miss, by `bulk_pull`. As in
 * Neutron's RemoteResourceCache: an update older than the cached revision is
 * ignored, a delete is final, and each distinct query is asked of the server
 * once. Unlike it:
 *
 * - lookups for many ids are one `bulk_pull` (ids OR-ed): every query asked
 *   in the same event-loop turn joins one pull per type and field;
 * - an object a pull adds raises no change (the agent asked for it), but one
 *   a pull *replaces* does (`onPulledChanges`): the agent may have acted on
 *   the older copy, and the push carrying the newer one will then find
 *   nothing new — a port wired dead from its unbound first revision would
 *   stay dead once a pull had brought in its bound one;
 * - a lost broker connection does not throw the cache away (`markStale`):
 *   pushes may have been missed meanwhile, so what was known is served as it
 *   is and asked for again in the background the next time it is used. What
 *   that refresh finds different — changed, added to a query's answer, or
 *   gone from the server — is reported as a push would have been.
 */
import { decodeDeletedId, decodeResource, type CachedType, type ResourceObject, type RuleObject } from './ovo.js';
import type { Logger } from './logger.js';

type RecordOf<T extends CachedType> = Extract<ResourceObject, { kind: T }>;

/** One change the pushes made: old and new are undefined for creates and deletes respectively. */
export interface Change {
  type: CachedType;
  id: string;
  old: ResourceObject | undefined;
  new: ResourceObject | undefined;
}

/** Asks the server for the objects of one type matching `filter` (values OR-ed per key). */
export type Puller = (type: CachedType, filter: Record<string, string[]>) => Promise<unknown[]>;

type Matcher = (rec: ResourceObject, value: string) => boolean;

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The queries of one type and field asked in one event-loop turn. */
interface Batch {
  type: CachedType;
  field: string;
  match: Matcher;
  /** value → its waiter; `refresh` marks values asked again after a reconnect. */
  values: Map<string, { waiter: Waiter; refresh: boolean }>;
}

const PULL_CHUNK = 100;
const byId: Matcher = (rec, value) => rec.id === value;

export class ResourceCache {
  private readonly byType = new Map<CachedType, Map<string, ResourceObject>>();
  private readonly deleted = new Map<CachedType, Set<string>>();
  /** Queries answered since the last markStale(). */
  private satisfied = new Set<string>();
  /** Queries answered before it and not since: served, and asked again when used. */
  private readonly stale = new Set<string>();
  /** Records pushed or pulled since the last markStale(). */
  private fresh = new WeakSet<ResourceObject>();
  /** Bumped by markStale(): a pull answered across it is not fresh. */
  private epoch = 0;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly batches = new Map<string, Batch>();
  private flushScheduled = false;
  /** `bulk_pull`s asked of the server, per type (metrics). */
  private readonly pulls = new Map<CachedType, number>();

  constructor(
    private readonly puller: Puller,
    private readonly logger: Logger,
    /** Changes a pull made to what was cached, or found by a refresh (see the module comment). */
    private readonly onPulledChanges: (changes: Change[]) => void = () => undefined,
  ) {}

  /** What is cached, without asking the server. */
  peek<T extends CachedType>(type: T, id: string): RecordOf<T> | undefined {
    return this.table(type).get(id) as RecordOf<T> | undefined;
  }

  /** All cached objects of a type. */
  values<T extends CachedType>(type: T): IterableIterator<RecordOf<T>> {
    return this.table(type).values() as IterableIterator<RecordOf<T>>;
  }

  size(type: CachedType): number {
    return this.table(type).size;
  }

  /** Objects held and pulls asked, per type (metrics). */
  stats(types: readonly CachedType[]): { objects: Record<string, number>; pulls: Record<string, number> } {
    return { objects: Object.fromEntries(types.map((t) => [t, this.size(t)])), pulls: Object.fromEntries(types.map((t) => [t, this.pulls.get(t) ?? 0])) };
  }

  /**
   * Whether a lookup of `value` would be answered without waiting for the
   * server: cached, known deleted, or asked before (now or before a reconnect).
   */
  answered(type: CachedType, field: string, value: string): boolean {
    if (field === 'id' && (this.table(type).has(value) || this.deletedIds(type).has(value))) return true;
    const key = queryKey(type, field, value);
    return this.satisfied.has(key) || this.stale.has(key);
  }

  /** Looks ids up, pulling the ones never asked for (one `bulk_pull` per 100 ids and turn). */
  async getMany<T extends CachedType>(type: T, ids: readonly string[]): Promise<Map<string, RecordOf<T>>> {
    await this.flood(type, 'id', ids, byId);
    const out = new Map<string, RecordOf<T>>();
    for (const id of ids) {
      const rec = this.peek(type, id);
      if (rec) out.set(id, rec);
    }
    return out;
  }

  /** Objects whose `field` (scalar or list) holds any of `values`, pulling each value's query once. */
  async find<T extends CachedType>(type: T, field: string, values: readonly string[], match: (rec: RecordOf<T>, value: string) => boolean): Promise<RecordOf<T>[]> {
    await this.flood(type, field, values, match as Matcher);
    const out: RecordOf<T>[] = [];
    for (const rec of this.values(type)) {
      if (values.some((v) => match(rec, v))) out.push(rec);
    }
    return out;
  }

  /** Applies one push (all objects of one type); returns what changed. Undecodable objects are logged and skipped. */
  applyPush(objects: unknown[], eventType: string): Change[] {
    const changes: Change[] = [];
    for (const obj of objects) {
      try {
        if (eventType === 'deleted') {
          const { type, id } = decodeDeletedId(obj);
          if (isCached(type)) this.remove(type, id, changes);
        } else {
          const rec = decodeResource(obj);
          this.record(rec, changes, true);
        }
      } catch (err) {
        this.logger.error(`skipped an object of a ${eventType} push: ${(err as Error).message}`);
      }
    }
    return changes;
  }

  /**
   * After a lost connection: pushes may have been missed, so everything
   * known is to be asked for again, in the background, when next used. It
   * is still served meanwhile (a lookup does not wait for the server).
   */
  markStale(): void {
    for (const key of this.satisfied) this.stale.add(key);
    this.satisfied = new Set();
    this.fresh = new WeakSet();
    this.epoch++;
  }

  private table(type: CachedType): Map<string, ResourceObject> {
    let t = this.byType.get(type);
    if (!t) this.byType.set(type, (t = new Map()));
    return t;
  }

  private deletedIds(type: CachedType): Set<string> {
    let d = this.deleted.get(type);
    if (!d) this.deleted.set(type, (d = new Set()));
    return d;
  }

  private record(rec: ResourceObject, changes: Change[], fresh: boolean): void {
    if (this.deletedIds(rec.kind).has(rec.id)) return;
    const table = this.table(rec.kind);
    const old = table.get(rec.id);
    if (old !== undefined && old.revision > rec.revision) {
      // We hold a newer copy than this answer: it is as current as the answer.
      if (fresh) this.fresh.add(old);
      return;
    }
    table.set(rec.id, rec);
    if (fresh) this.fresh.add(rec);
    if (old === undefined || !sameContent(old, rec)) changes.push({ type: rec.kind, id: rec.id, old, new: rec });
    if (rec.kind === 'SecurityGroup') {
      // The server sends no rule pushes when a group is created with rules: its rules arrive inside it.
      for (const rule of rec.rules) this.record(rule, changes, fresh);
    }
  }

  private remove(type: CachedType, id: string, changes: Change[]): void {
    const deleted = this.deletedIds(type);
    if (deleted.has(id)) return;
    deleted.add(id);
    this.drop(type, id, changes);
  }

  /** Forgets an object (deleted, or no longer on the server) and, for a group, its rules. */
  private drop(type: CachedType, id: string, changes: Change[]): void {
    const table = this.table(type);
    const old = table.get(id);
    table.delete(id);
    changes.push({ type, id, old, new: undefined });
    if (type === 'SecurityGroup') {
      // Deleting a group deletes its rules without telling about them.
      for (const rule of [...this.values('SecurityGroupRule')]) {
        if ((rule as RuleObject).securityGroupId === id) this.remove('SecurityGroupRule', rule.id, changes);
      }
    }
  }

  /** Waits for the values never answered; asks again, without waiting, for those a reconnect left stale. */
  private async flood(type: CachedType, field: string, values: readonly string[], match: Matcher): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const v of new Set(values)) {
      const key = queryKey(type, field, v);
      const pending = this.inflight.get(key);
      if (this.answered(type, field, v)) {
        if (!pending && this.isStale(type, field, v, key)) void this.ask(type, field, v, match, true).catch(() => undefined);
      } else {
        waits.push(pending ?? this.ask(type, field, v, match, false));
      }
    }
    await Promise.all(waits);
  }

  private isStale(type: CachedType, field: string, value: string, key: string): boolean {
    if (this.stale.has(key)) return true;
    if (field !== 'id') return false;
    const rec = this.table(type).get(value);
    return rec !== undefined && !this.fresh.has(rec);
  }

  /** Joins the value to this turn's pull of its type and field. */
  private ask(type: CachedType, field: string, value: string, match: Matcher, refresh: boolean): Promise<void> {
    const bkey = `${type}\0${field}`;
    let batch = this.batches.get(bkey);
    if (!batch) this.batches.set(bkey, (batch = { type, field, match, values: new Map() }));
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const key = queryKey(type, field, value);
    const waiter: Waiter = { promise, resolve, reject };
    batch.values.set(value, { waiter, refresh });
    this.inflight.set(key, promise);
    void promise.then(
      () => this.inflight.get(key) === promise && this.inflight.delete(key),
      () => this.inflight.get(key) === promise && this.inflight.delete(key),
    );
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After this turn's microtasks: lookups continuing from one answer all join the next pull.
      setImmediate(() => this.flush());
    }
    return promise;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = [...this.batches.values()];
    this.batches.clear();
    for (const batch of batches) {
      const entries = [...batch.values];
      for (let i = 0; i < entries.length; i += PULL_CHUNK) this.pull(batch, entries.slice(i, i + PULL_CHUNK));
    }
  }

  private pull(batch: Batch, entries: Array<[string, { waiter: Waiter; refresh: boolean }]>): void {
    const { type, field, match } = batch;
    const epoch = this.epoch;
    const values = entries.map(([v]) => v);
    this.pulls.set(type, (this.pulls.get(type) ?? 0) + 1);
    this.puller(type, { [field]: values }).then(
      (objects) => {
        const current = epoch === this.epoch;
        const changes: Change[] = [];
        const returned = new Set<string>();
        for (const obj of objects) {
          try {
            const rec = decodeResource(obj);
            returned.add(rec.id);
            this.record(rec, changes, current);
          } catch (err) {
            this.logger.error(`skipped an object pulled for ${type} ${field}: ${(err as Error).message}`);
          }
        }
        const refreshed = entries.filter(([, e]) => e.refresh).map(([v]) => v);
        const recheck: string[] = [];
        for (const v of refreshed) {
          if (field === 'id') {
            // Asked again and not there: deleted while we were away.
            if (!returned.has(v) && this.table(type).has(v)) this.drop(type, v, changes);
            continue;
          }
          // Cached as an answer to this query but not in it now: changed or deleted meanwhile; ask for each.
          for (const rec of this.table(type).values()) if (!returned.has(rec.id) && match(rec, v)) recheck.push(rec.id);
        }
        for (const v of values) {
          const key = queryKey(type, field, v);
          if (current) {
            this.satisfied.add(key);
            this.stale.delete(key);
          } else {
            this.stale.add(key);
          }
        }
        // What the agent may have acted on: replaced objects, and whatever a refresh found new or gone.
        const news = changes.filter((c) => c.old !== undefined || refreshed.some((v) => c.new !== undefined && match(c.new, v)));
        if (news.length > 0) this.onPulledChanges(news);
        for (const id of recheck) void this.ask(type, 'id', id, byId, true).catch(() => undefined);
        for (const [, e] of entries) e.waiter.resolve();
      },
      (err: Error) => {
        for (const [, e] of entries) e.waiter.reject(err);
      },
    );
  }
}

function queryKey(type: string, field: string, value: string): string {
  return `${type}\0${field}\0${value}`;
}

function isCached(type: string): type is CachedType {
  return type === 'Port' || type === 'Network' || type === 'SecurityGroup' || type === 'SecurityGroupRule' || type === 'AddressGroup';
}

/** Same content but for the revision (Neutron ignores revision_number/updated_at changes). */
function sameContent(a: ResourceObject, b: ResourceObject): boolean {
  return JSON.stringify({ ...a, revision: 0 }) === JSON.stringify({ ...b, revision: 0 });
}
