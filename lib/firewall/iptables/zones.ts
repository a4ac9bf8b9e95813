/**
 * Conntrack zones, one per filtered port, as Neutron's hybrid driver gives
 * them: from 4097 up, each new port one above the highest in use, gaps used
 * only when 65535 is reached. Zones already in the raw table (an agent
 * restart, or Neutron's agent before) are adopted, keyed by the device name
 * in their rule, so a port keeps its zone and its connections.
 */
import { LINUX_DEV_LEN } from './names.js';

export const ZONE_START = 4097;
export const ZONE_MAX = 65535;

export class ZoneError extends Error {
  override readonly name = 'ZoneError';
  readonly code = 'FW_ZONES_EXHAUSTED';
}

/** The key of a port: the part of its id that device names carry. */
const keyOf = (portId: string): string => portId.slice(0, LINUX_DEV_LEN - 3);

export class Zones {
  private readonly byKey = new Map<string, number>();
  /** The highest zone handed out or adopted: new ones go above it, so a removed port's zone is not reused at once. */
  private highest = ZONE_START - 1;

  /** Zones of a raw table's `--physdev-in <dev> … -j CT --zone N` rules (iptables-save lines). */
  adopt(rawRules: Iterable<string>): void {
    for (const r of rawRules) {
      const m = /--physdev-in (?:tap|qvb)(\S+) .*-j CT --zone (\d+)/.exec(r);
      if (m) this.adoptZone(m[1], Number(m[2]));
    }
  }

  /** A zone found in the kernel for the port whose device names carry `key` (the first one found wins). */
  adoptZone(key: string, zone: number): void {
    if (this.byKey.has(key)) return;
    this.byKey.set(key, zone);
    this.highest = Math.max(this.highest, zone);
  }

  get(portId: string): number | undefined {
    return this.byKey.get(keyOf(portId));
  }

  /** The port's zone, allocated if it has none. `live` lists the ports still here, whose zones are kept when gaps are sought. */
  zoneOf(portId: string, live: () => Iterable<string>): number {
    const k = keyOf(portId);
    const z = this.byKey.get(k);
    if (z !== undefined) return z;
    const zone = this.highest < ZONE_MAX ? this.highest + 1 : this.gap(live);
    if (zone === undefined) throw new ZoneError(`no conntrack zone left for port ${portId} (${ZONE_START}-${ZONE_MAX} all in use)`);
    this.byKey.set(k, zone);
    this.highest = Math.max(this.highest, zone);
    return zone;
  }

  /** Forgets a removed port's zone (it is not handed out again until the range is used up, as in Neutron). */
  release(portId: string): void {
    this.byKey.delete(keyOf(portId));
  }

  size(): number {
    return this.byKey.size;
  }

  private gap(live: () => Iterable<string>): number | undefined {
    const keep = new Set([...live()].map(keyOf));
    for (const k of [...this.byKey.keys()]) if (!keep.has(k)) this.byKey.delete(k);
    const used = new Set(this.byKey.values());
    for (let z = ZONE_START; z <= ZONE_MAX; z++) if (!used.has(z)) return z;
    return undefined;
  }
}
