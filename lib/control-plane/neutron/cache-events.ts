/**
 * The agent's events derived from the resource cache's changes, as
 * Neutron's agent derives them from the server's pushes (docs/neutron.md,
 * "What the agent consumes", "Events"): a port's own changes re-wire it
 * (a status flip that is our own report echoed back does not), membership
 * changes (groups, addresses) and rule changes refresh the groups involved.
 */
import type { DeviceLookups } from './device-lookups.js';
import type { DeviceStatusReports } from './device-status.js';
import type { PortObject } from './ovo.js';
import type { Change, ResourceCache } from './resource-cache.js';
import type { ControlPlaneEvent } from '../types.js';

export interface ChangeOutcome {
  /** In the order they are to be emitted. */
  events: ControlPlaneEvent[];
  /** Ports (new or changed) whose network and groups are worth pulling now. */
  toWarm: PortObject[];
}

export function eventsOfChanges(changes: Change[], cache: ResourceCache, deviceStatus: DeviceStatusReports, lookups: DeviceLookups): ChangeOutcome {
  const events: ControlPlaneEvent[] = [];
  const updatedPorts: string[] = [];
  const toWarm: PortObject[] = [];
  const sgs = new Set<string>();
  for (const c of changes) {
    switch (c.type) {
      case 'Port': {
        const oldPort = c.old as PortObject | undefined;
        const newPort = c.new as PortObject | undefined;
        if (!newPort) {
          deviceStatus.forget(c.id);
          lookups.forget(c.id);
          events.push({ type: 'port_deleted', portId: c.id });
        } else if (!oldPort || !sameButStatus(oldPort, newPort)) {
          updatedPorts.push(c.id);
        } else if (deviceStatus.serverMovedStatus(c.id, oldPort, newPort)) {
          // The server moved the port away from what we reported: it asks for the status again.
          updatedPorts.push(c.id);
        }
        // Otherwise a status flip is the server acknowledging our own update_device_list: nothing to re-wire.
        if (!oldPort || !newPort || membershipChanged(oldPort, newPort)) {
          for (const sg of oldPort?.securityGroupIds ?? []) sgs.add(sg);
          for (const sg of newPort?.securityGroupIds ?? []) sgs.add(sg);
        }
        if (newPort && (!oldPort || !sameButStatus(oldPort, newPort))) toWarm.push(newPort);
        break;
      }
      case 'Network':
        if (c.new) events.push({ type: 'network_updated', networkId: c.id });
        break;
      case 'SecurityGroupRule': {
        const rule = (c.new ?? c.old) as { securityGroupId: string } | undefined;
        if (rule) sgs.add(rule.securityGroupId);
        break;
      }
      case 'SecurityGroup':
        if (c.old && c.new && (c.old as { stateful: boolean }).stateful !== (c.new as { stateful: boolean }).stateful) sgs.add(c.id);
        break;
      case 'AddressGroup':
        for (const rule of cache.values('SecurityGroupRule')) if (rule.remoteAddressGroupId === c.id) sgs.add(rule.securityGroupId);
        break;
      case 'QosPolicy':
        // Its rules changed: the ports it applies to (their own, or their network's) take it again (docs/qos.md).
        if (c.new) updatedPorts.push(...portsOfPolicy(cache, c.id));
        break;
    }
  }
  if (updatedPorts.length > 0) events.push({ type: 'ports_updated', portIds: updatedPorts });
  if (sgs.size > 0) events.push({ type: 'security_groups_updated', securityGroupIds: [...sgs] });
  return { events, toWarm };
}

function portsOfPolicy(cache: ResourceCache, policyId: string): string[] {
  const out: string[] = [];
  for (const p of cache.values('Port')) {
    if ((p.qosPolicyId ?? cache.peek('Network', p.networkId)?.qosPolicyId) === policyId) out.push(p.id);
  }
  return out;
}

function sameButStatus(a: PortObject, b: PortObject): boolean {
  return JSON.stringify({ ...a, revision: 0, status: '' }) === JSON.stringify({ ...b, revision: 0, status: '' });
}

function membershipChanged(a: PortObject, b: PortObject): boolean {
  return (
    JSON.stringify(a.securityGroupIds) !== JSON.stringify(b.securityGroupIds) ||
    JSON.stringify(a.fixedIps) !== JSON.stringify(b.fixedIps) ||
    JSON.stringify(a.allowedAddressPairs) !== JSON.stringify(b.allowedAddressPairs)
  );
}
