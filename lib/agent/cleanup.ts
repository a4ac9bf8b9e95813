/**
 * `ovs-agent cleanup`, what neutron-ovs-cleanup does (docs/cleanup.md): on the
 * integration bridge, delete every port that has an interface with both
 * `iface-id` and `attached-mac` and no `skip_cleanup`; with `allPorts`,
 * every port of every bridge except the bridge's own. One OVSDB transaction
 * per bridge. Flows, bridges, patch and tunnel ports are left alone.
 */
import { SKIP_CLEANUP } from '../bridges/constants.js';
import type { ReplicaDatabase } from './ovs/replica-database.js';

export interface CleanupResult {
  bridge: string;
  deleted: string[];
}

export async function cleanupPorts(db: ReplicaDatabase, opts: { integrationBridge: string; allPorts?: boolean }): Promise<CleanupResult[]> {
  const bridges = opts.allPorts ? db.bridges().map((b) => b.name) : [opts.integrationBridge];
  const results: CleanupResult[] = [];
  for (const bridge of bridges) {
    if (!db.bridge(bridge)) continue;
    const victims = db.portsOf(bridge).filter((p) => {
      if (p.name === bridge) return false; // the bridge's internal port
      if (opts.allPorts) return true;
      return p.interfaces.some((i) => i.externalIds['iface-id'] !== undefined && i.externalIds['attached-mac'] !== undefined &&
        i.externalIds[SKIP_CLEANUP] === undefined);
    }).map((p) => p.name);
    if (victims.length) await db.deletePorts(bridge, victims);
    results.push({ bridge, deleted: victims });
  }
  return results;
}
