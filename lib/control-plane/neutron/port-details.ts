/**
 * Device details as the 21.0.0 agent builds them from its cache
 * (`CacheBackedPluginApi.get_device_details`; docs/neutron.md, "Device details").
 */
import type { DeviceLookup } from '../types.js';
import type { NetworkObject, PortObject, QosPolicyObject } from './ovo.js';

const COMPUTE_PREFIX = 'compute:';

/** The host a live migration is heading to, from the ACTIVE binding's profile. */
export function migratingTo(port: PortObject): string | undefined {
  for (const b of port.bindings) {
    if (b.status !== 'ACTIVE') continue;
    const to = b.profile.migrating_to;
    if (typeof to === 'string' && to !== '') return to;
  }
  return undefined;
}

/** The policy that applies to the port: its own, else its network's (`qos_policy_id` / `network_qos_policy_id`). */
export function qosPolicyIdOf(port: PortObject, network: NetworkObject | undefined): string | undefined {
  return port.qosPolicyId ?? network?.qosPolicyId;
}

/** `qos`: the cached policy of the port, when the qos extension runs (undefined: none, or gone from the server). */
export function deviceLookup(device: string, port: PortObject | undefined, network: NetworkObject | undefined, host: string,
  qos?: QosPolicyObject): DeviceLookup {
  if (!port || !port.segment) return { kind: 'unknown', device };
  const active = port.bindings.find((b) => b.status === 'ACTIVE');
  // Neutron raises here (the device then counts as failed); a bound port always has an ACTIVE binding.
  if (!active) return { kind: 'unknown', device };
  if (!migratingTo(port) && port.deviceOwner.startsWith(COMPUTE_PREFIX) && active.host !== host) {
    return { kind: 'no_active_binding', device };
  }
  const { segment } = port;
  return {
    kind: 'bound',
    details: {
      portId: port.id,
      networkId: port.networkId,
      macAddress: port.macAddress,
      adminStateUp: port.adminStateUp,
      networkType: segment.networkType,
      ...(segment.segmentationId !== undefined ? { segmentationId: segment.segmentationId } : {}),
      ...(segment.physicalNetwork !== undefined ? { physicalNetwork: segment.physicalNetwork } : {}),
      fixedIps: port.fixedIps.map((f) => ({ ...f })),
      allowedAddressPairs: port.allowedAddressPairs.map((a) => ({ ...a })),
      portSecurityEnabled: port.portSecurityEnabled,
      securityGroups: [...port.securityGroupIds],
      deviceOwner: port.deviceOwner,
      ...(port.deviceId ? { deviceId: port.deviceId } : {}),
      ...(network?.mtu !== undefined ? { mtu: network.mtu } : {}),
      ...(port.qosPolicyId ? { qosPolicyId: port.qosPolicyId } : {}),
      ...(network?.qosPolicyId ? { networkQosPolicyId: network.qosPolicyId } : {}),
      ...(qos ? { qosPolicy: { id: qos.id, rules: qos.rules } } : {}),
    },
  };
}
