/**
 * What events mean for the parts: an OVSDB change is a port to look at,
 * a control-plane event a port, a tunnel endpoint, fdb entries or security
 * groups to refresh; each marks work, and a pass is asked for when there is
 * any (loop.ts coalesces them).
 */
import type { ControlPlaneEvent } from '../control-plane/types.js';
import type { Logger } from '../log.js';
import type { PassLoop } from './loop.js';
import type { PassRunner } from './passes.js';
import type { PortTracker } from './ports.js';
import type { DbChange, SwitchDatabase } from './switch.js';
import type { Tunnels } from './tunnels.js';

/** An OVSDB change; true when a pass is wanted. */
export function onDbChange(change: DbChange, db: SwitchDatabase, ports: PortTracker, log: Logger): boolean {
  if (change.kind === 'interface') {
    const vif = db.vif(change.name);
    if (vif) ports.note(vif);
    else ports.forget(change.name);
  } else if (change.kind === 'resync') {
    // ovsdb-server came back: compare what it has with what we know; only differences are re-wired.
    ports.noteAll(db.vifs());
    log.info('OVSDB replica resynchronised', { pending: ports.pendingIds.size });
  } else {
    return false;
  }
  return ports.hasWork();
}

export interface EventParts {
  ports: PortTracker;
  tunnels: Tunnels;
  passes: PassRunner;
  loop: PassLoop;
  log: Logger;
  /** Reads the security groups of every port again into the firewall (none without a firewall). */
  refreshSecurityGroups: (() => Promise<void>) | undefined;
}

export function onControlPlaneEvent(e: ControlPlaneEvent, parts: EventParts): void {
  const { ports, tunnels } = parts;
  switch (e.type) {
    case 'ports_updated':
      for (const id of e.portIds) ports.detailsReady(id);
      break;
    case 'port_deleted':
      ports.mark(e.portId);
      break;
    case 'network_updated':
      for (const p of ports.all()) if (p.networkId === e.networkId) ports.mark(p.portId);
      break;
    case 'tunnel_update':
      tunnels.endpointUp(e.tunnelType, e.tunnelIp);
      break;
    case 'tunnel_delete':
      tunnels.endpointDown(e.tunnelType, e.tunnelIp);
      break;
    case 'resync':
      parts.passes.fullSyncPending = true;
      break;
    case 'fdb_add':
      if (!tunnels.fdbAdd(e.entries)) return;
      break;
    case 'fdb_remove':
      if (!tunnels.fdbRemove(e.entries)) return;
      break;
    case 'fdb_update':
      if (!tunnels.fdbUpdate(e.changes)) return;
      break;
    case 'security_groups_updated':
      if (parts.refreshSecurityGroups) void refreshSecurityGroups(parts, parts.refreshSecurityGroups);
      return;
    default:
      return;
  }
  parts.loop.schedule();
}

async function refreshSecurityGroups(parts: EventParts, refresh: () => Promise<void>): Promise<void> {
  try {
    await refresh();
  } catch (err) {
    parts.log.warn('security group refresh failed', { error: (err as Error).message });
    return;
  }
  for (const p of parts.ports.all()) if (p.state === 'ACTIVE') parts.ports.mark(p.portId);
  parts.loop.schedule();
}
