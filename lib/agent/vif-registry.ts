/**
 * Which interface carries which Neutron port (docs/agent.md, "Two interfaces
 * with one iface-id").
 *
 * OVSDB does not stop two Interface rows from having the same
 * `external_ids:iface-id`. The agent's port state is keyed by port id, so
 * the interfaces must not both feed it: exactly one interface *carries* a
 * port id (the first that claimed it, among the ones still there), and every
 * other claimant is a *duplicate*, which the agent must keep off the network
 * (VLAN 4095 and a drop flow on br-int; nothing on an ancillary bridge). When
 * the carrier goes, the oldest remaining claimant takes over and is wired
 * whole; when a duplicate goes, nothing else changes.
 *
 * Every entry belongs to a live Interface row that has an ofport (so at most
 * one per OpenFlow port of the bridges watched) and goes with it: nothing
 * here outlives the rows it was made from.
 */

/** br-int (wired) or an ancillary bridge (reported only). */
export type VifPlace = 'int' | 'ancillary';

export interface TrackedVif {
  /** Interface (and Port) name. */
  readonly name: string;
  /** external_ids:iface-id. */
  readonly portId: string;
  readonly ofport: number;
  /** external_ids:attached-mac. */
  readonly mac: string;
  readonly place: VifPlace;
}

export type VifEvent =
  /**
   * `vif` carries `portId` now: a new port, one taken over from `previous`
   * (gone, or its iface-id changed), or the same interface with another
   * ofport, MAC or place.
   */
  | { kind: 'carrier'; portId: string; vif: TrackedVif; previous: TrackedVif | undefined }
  /** No interface carries `portId` any more; `previous` did. */
  | { kind: 'gone'; portId: string; previous: TrackedVif }
  /** `vif` claims a port id that `carrier` carries: it must not be wired (a new duplicate, or one whose ofport changed). */
  | { kind: 'duplicate'; vif: TrackedVif; carrier: TrackedVif }
  /** `vif` is not a duplicate any more (it went, changed its iface-id, or carries the port now): its dead wiring goes. */
  | { kind: 'duplicate-gone'; vif: TrackedVif };

function same(a: TrackedVif, b: TrackedVif): boolean {
  return a.portId === b.portId && a.ofport === b.ofport && a.mac === b.mac && a.place === b.place;
}

export class VifRegistry {
  private readonly byName = new Map<string, TrackedVif>();
  /** Port id → names of the interfaces claiming it, oldest first: the first carries it. */
  private readonly claims = new Map<string, string[]>();

  /** The interface's current row (ready, with a port id); returns what changed. */
  note(vif: TrackedVif): VifEvent[] {
    const old = this.byName.get(vif.name);
    if (old && same(old, vif)) return [];
    if (old && old.portId === vif.portId) {
      this.byName.set(vif.name, vif);
      const carrier = this.carrier(vif.portId)!;
      return carrier.name === vif.name
        ? [{ kind: 'carrier', portId: vif.portId, vif, previous: old }]
        : [{ kind: 'duplicate', vif, carrier }];
    }
    const events = old ? this.forget(vif.name) : [];
    this.byName.set(vif.name, vif);
    const names = this.claims.get(vif.portId);
    if (!names) {
      this.claims.set(vif.portId, [vif.name]);
      events.push({ kind: 'carrier', portId: vif.portId, vif, previous: undefined });
    } else {
      names.push(vif.name);
      events.push({ kind: 'duplicate', vif, carrier: this.byName.get(names[0])! });
    }
    return events;
  }

  /** The interface is gone, or no longer a ready VIF of a watched bridge. */
  forget(name: string): VifEvent[] {
    const old = this.byName.get(name);
    if (!old) return [];
    this.byName.delete(name);
    const names = this.claims.get(old.portId)!;
    const at = names.indexOf(name);
    names.splice(at, 1);
    if (at > 0) return [{ kind: 'duplicate-gone', vif: old }];
    if (names.length === 0) {
      this.claims.delete(old.portId);
      return [{ kind: 'gone', portId: old.portId, previous: old }];
    }
    const next = this.byName.get(names[0])!;
    return [{ kind: 'duplicate-gone', vif: next }, { kind: 'carrier', portId: old.portId, vif: next, previous: old }];
  }

  get(name: string): TrackedVif | undefined {
    return this.byName.get(name);
  }

  /** The interface that carries the port id. */
  carrier(portId: string): TrackedVif | undefined {
    const name = this.claims.get(portId)?.[0];
    return name === undefined ? undefined : this.byName.get(name);
  }

  /** Whether the interface claims a port id another interface carries. */
  isDuplicate(name: string): boolean {
    const v = this.byName.get(name);
    return v !== undefined && this.claims.get(v.portId)![0] !== name;
  }

  /** Every interface tracked. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** The interfaces that carry a port. */
  *carriers(): IterableIterator<TrackedVif> {
    for (const names of this.claims.values()) yield this.byName.get(names[0])!;
  }

  /** The interfaces that are duplicates. */
  *duplicates(): IterableIterator<TrackedVif> {
    for (const names of this.claims.values()) for (let i = 1; i < names.length; i++) yield this.byName.get(names[i])!;
  }

  /** Interfaces tracked and port ids claimed (tests: nothing outlives its row). */
  get size(): { interfaces: number; portIds: number } {
    return { interfaces: this.byName.size, portIds: this.claims.size };
  }
}

/**
 * The order in which the interfaces found at start-up are noted, so that a
 * restart keeps the carrier the previous run chose: interfaces on a live
 * VLAN (a tag in 1..4094, which the agent gives carriers only) first, then
 * the lower ofport (usually the older interface), then the name.
 */
export function startupOrder<T extends { name: string; ofport: number | undefined; tag: number | undefined }>(vifs: Iterable<T>): T[] {
  const live = (v: T) => (v.tag !== undefined && v.tag >= 1 && v.tag <= 4094 ? 0 : 1);
  return [...vifs].sort((a, b) => live(a) - live(b) || (a.ofport ?? Infinity) - (b.ofport ?? Infinity) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
