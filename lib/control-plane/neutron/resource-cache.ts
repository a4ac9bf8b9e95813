/**
 * The agent's copy of the server's objects (reference §1.6): filled by the
 * `neutron-vo-<Type>-<version>` pushes and, on a miss, by `bulk_pull`. As in
 * Neutron's RemoteResourceCache: an update older than the cached revision is
 * ignored, a delete is final, and each distinct query is asked of the server
 * once. Unlike it, a lookup for many ids is one `bulk_pull` (ids OR-ed), and
 * an object a pull adds raises no change: the agent asked for it. An object
 * a pull *replaces* does (`onPulledChanges`): the agent may have acted on
 * the older copy, and the push carrying the newer one will then find
 * nothing new — a port wired dead from its unbound first revision would
 * stay dead once a pull had brought in its bound one.
 */
import { decodeDeletedId, decodeResource, type CachedType, type ResourceRecord, type RuleRecord } from './ovo.js';
import type { Logger } from './logger.js';

type RecordOf<T extends CachedType> = Extract<ResourceRecord, { kind: T }>;

/** One change the pushes made: old and new are undefined for creates and deletes respectively. */
export interface Change {
  type: CachedType;
  id: string;
  old: ResourceRecord | undefined;
  new: ResourceRecord | undefined;
}

/** Asks the server for the objects of one type matching `filter` (values OR-ed per key). */
export type Puller = (type: CachedType, filter: Record<string, string[]>) => Promise<unknown[]>;

const PULL_CHUNK = 100;

export class ResourceCache {
  private readonly byType = new Map<CachedType, Map<string, ResourceRecord>>();
  private readonly deleted = new Map<CachedType, Set<string>>();
  private satisfied = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly puller: Puller,
    private readonly logger: Logger,
    /** Changes to objects that were cached when a pull replaced them. */
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

  /** Looks ids up, pulling the ones never asked for in one `bulk_pull` per chunk. */
  async getMany<T extends CachedType>(type: T, ids: readonly string[]): Promise<Map<string, RecordOf<T>>> {
    await this.flood(type, 'id', ids);
    const out = new Map<string, RecordOf<T>>();
    for (const id of ids) {
      const rec = this.peek(type, id);
      if (rec) out.set(id, rec);
    }
    return out;
  }

  /** Objects whose `field` (scalar or list) holds any of `values`, pulling each value's query once. */
  async find<T extends CachedType>(type: T, field: string, values: readonly string[], match: (rec: RecordOf<T>, value: string) => boolean): Promise<RecordOf<T>[]> {
    await this.flood(type, field, values);
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
          this.record(rec, changes);
        }
      } catch (err) {
        this.logger.error(`skipped an object of a ${eventType} push: ${(err as Error).message}`);
      }
    }
    return changes;
  }

  /**
   * Forgets everything but the deletions: after a lost connection pushes may
   * have been missed, so each object is asked for again when next needed.
   */
  invalidate(): void {
    for (const t of this.byType.values()) t.clear();
    this.satisfied = new Set();
    this.inflight.clear();
  }

  private table(type: CachedType): Map<string, ResourceRecord> {
    let t = this.byType.get(type);
    if (!t) this.byType.set(type, (t = new Map()));
    return t;
  }

  private deletedIds(type: CachedType): Set<string> {
    let d = this.deleted.get(type);
    if (!d) this.deleted.set(type, (d = new Set()));
    return d;
  }

  private isStale(rec: ResourceRecord): boolean {
    if (this.deletedIds(rec.kind).has(rec.id)) return true;
    const existing = this.table(rec.kind).get(rec.id);
    return existing !== undefined && existing.revision > rec.revision;
  }

  private record(rec: ResourceRecord, changes: Change[]): void {
    if (this.isStale(rec)) return;
    const table = this.table(rec.kind);
    const old = table.get(rec.id);
    table.set(rec.id, rec);
    if (old === undefined || !sameContent(old, rec)) changes.push({ type: rec.kind, id: rec.id, old, new: rec });
    if (rec.kind === 'SecurityGroup') {
      // The server sends no rule pushes when a group is created with rules: its rules arrive inside it.
      for (const rule of rec.rules) this.record(rule, changes);
    }
  }

  private remove(type: CachedType, id: string, changes: Change[]): void {
    const deleted = this.deletedIds(type);
    if (deleted.has(id)) return;
    deleted.add(id);
    const table = this.table(type);
    const old = table.get(id);
    table.delete(id);
    changes.push({ type, id, old, new: undefined });
    if (type === 'SecurityGroup') {
      // Deleting a group deletes its rules without telling about them.
      for (const rule of [...this.values('SecurityGroupRule')]) {
        if ((rule as RuleRecord).securityGroupId === id) this.remove('SecurityGroupRule', rule.id, changes);
      }
    }
  }

  private async flood(type: CachedType, field: string, values: readonly string[]): Promise<void> {
    // A pull answered across an invalidate() may predate pushes we missed: ask again.
    for (let round = 0; round < 3; round++) {
      const generation = this.satisfied;
      await this.floodOnce(type, field, values);
      if (generation === this.satisfied) return;
    }
  }

  private async floodOnce(type: CachedType, field: string, values: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    const deleted = field === 'id' ? this.deletedIds(type) : undefined;
    for (const v of new Set(values)) {
      const key = queryKey(type, field, v);
      const pending = this.inflight.get(key);
      if (pending) waits.push(pending);
      else if (!this.satisfied.has(key) && !deleted?.has(v) && !(field === 'id' && this.table(type).has(v))) missing.push(v);
    }
    for (let i = 0; i < missing.length; i += PULL_CHUNK) {
      const chunk = missing.slice(i, i + PULL_CHUNK);
      const satisfied = this.satisfied;
      const pull = this.puller(type, { [field]: chunk }).then((objects) => {
        if (satisfied !== this.satisfied) return;
        const changes: Change[] = [];
        for (const obj of objects) {
          try {
            this.record(decodeResource(obj), changes);
          } catch (err) {
            this.logger.error(`skipped an object pulled for ${type} ${field}: ${(err as Error).message}`);
          }
        }
        for (const v of chunk) satisfied.add(queryKey(type, field, v));
        const replaced = changes.filter((c) => c.old !== undefined);
        if (replaced.length > 0) this.onPulledChanges(replaced);
      });
      const done = pull.finally(() => {
        for (const v of chunk) if (this.inflight.get(queryKey(type, field, v)) === done) this.inflight.delete(queryKey(type, field, v));
      });
      for (const v of chunk) this.inflight.set(queryKey(type, field, v), done);
      waits.push(done);
    }
    await Promise.all(waits);
  }
}

function queryKey(type: string, field: string, value: string): string {
  return `${type}\0${field}\0${value}`;
}

function isCached(type: string): type is CachedType {
  return type === 'Port' || type === 'Network' || type === 'SecurityGroup' || type === 'SecurityGroupRule' || type === 'AddressGroup';
}

/** Same content but for the revision (Neutron ignores revision_number/updated_at changes). */
function sameContent(a: ResourceRecord, b: ResourceRecord): boolean {
  return JSON.stringify({ ...a, revision: 0 }) === JSON.stringify({ ...b, revision: 0 });
}
