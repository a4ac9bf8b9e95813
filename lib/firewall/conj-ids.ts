/**
 * Conjunction id allocation (Neutron's ConjIdMap; docs/firewall.md): one base id, a
 * multiple of 8, per (security group, remote group, direction, ethertype);
 * the id actually used is base + 2·priority offset, and base + 2·offset + 1
 * for new connections. Freed bases are reused first; on a bridge that
 * already carries firewall flows, allocation starts above the highest
 * conj_id found there so a restarted agent never reuses a live id.
 */
import { CONJ_ID_BLOCK_SIZE, MAX_CONJ_ID } from './constants.js';

export class ConjIdMap {
  private readonly ids = new Map<string, number>();
  private readonly users = new Map<string, Set<string>>();
  private readonly free: number[] = [];
  private maxId: number;

  /** `highestExisting`: the largest conj_id seen in the firewall tables (0 on an empty bridge). */
  constructor(highestExisting = 0) {
    this.maxId = this.next(highestExisting - (highestExisting % CONJ_ID_BLOCK_SIZE));
  }

  private next(id: number): number {
    const n = id + CONJ_ID_BLOCK_SIZE;
    return n >= MAX_CONJ_ID ? 0 : n;
  }

  /** `stateless` ids are separate: their flows match untracked packets, the stateful ones tracked ones. */
  private static key(sgId: string, remoteId: string, direction: string, ethertype: string, stateless: boolean): string {
    return `${sgId}\u0000${remoteId}\u0000${direction}\u0000${ethertype}${stateless ? '\u0000stateless' : ''}`;
  }

  /** The base id for the tuple, allocating one on first use; `user` (a port id) holds it until released. */
  acquire(user: string, sgId: string, remoteId: string, direction: string, ethertype: string, held?: Set<string>, stateless = false): number {
    const k = ConjIdMap.key(sgId, remoteId, direction, ethertype, stateless);
    held?.add(k);
    let id = this.ids.get(k);
    if (id === undefined) {
      if (this.free.length > 0) id = this.free.shift()!;
      else {
        this.maxId = this.next(this.maxId);
        id = this.maxId;
      }
      this.ids.set(k, id);
      this.users.set(k, new Set());
    }
    this.users.get(k)!.add(user);
    return id;
  }

  /** The base id of a tuple if allocated. */
  peek(sgId: string, remoteId: string, direction: string, ethertype: string, stateless = false): number | undefined {
    return this.ids.get(ConjIdMap.key(sgId, remoteId, direction, ethertype, stateless));
  }

  /**
   * Drops the holds of `user` except those in `keep` (the keys `acquire`
   * collected in its `held` set); bases nobody holds any more go back to the
   * free list. Acquire-then-release keeps a port's ids stable across updates.
   */
  releaseUser(user: string, keep?: ReadonlySet<string>): void {
    for (const [k, set] of this.users) {
      if (keep?.has(k)) continue;
      if (!set.delete(user) || set.size > 0) continue;
      this.users.delete(k);
      this.free.push(this.ids.get(k)!);
      this.ids.delete(k);
    }
  }

  get allocated(): number {
    return this.ids.size;
  }
}
