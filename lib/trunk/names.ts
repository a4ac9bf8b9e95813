/**
 * Neutron's names for a trunk's bridge and patch ports (docs/trunk.md,
 * "What is written on the switch"): nova (os-vif) names the bridge from the
 * port's VIF details, neutron-ovs-cleanup and operators know the ports by
 * their prefixes, so they are Neutron's to the character.
 */

/** Linux's interface name limit, Neutron's DEVICE_NAME_MAX_LEN. */
export const DEVICE_NAME_MAX_LEN = 15;
export const TRUNK_BRIDGE_PREFIX = 'tbr-';
/** Parent: tpi- on br-int, tpt- on the trunk bridge; subports: spi-, spt-. */
export const PARENT_PREFIX = 'tp';
export const SUBPORT_PREFIX = 'sp';

/** `gen_trunk_br_name`: one character shorter than an interface name (the bridge's internal port). */
export function trunkBridgeName(trunkId: string): string {
  return (TRUNK_BRIDGE_PREFIX + trunkId).slice(0, DEVICE_NAME_MAX_LEN - 1);
}

export function intPatchName(prefix: string, portId: string): string {
  return `${prefix}i-${portId}`.slice(0, DEVICE_NAME_MAX_LEN);
}

export function trunkPatchName(prefix: string, portId: string): string {
  return `${prefix}t-${portId}`.slice(0, DEVICE_NAME_MAX_LEN);
}

export function isTrunkBridge(name: string): boolean {
  return name.startsWith(TRUNK_BRIDGE_PREFIX);
}

/** A port that realises the trunk (the bridge's own, or a patch), not the VM's. */
export function isTrunkServicePort(name: string): boolean {
  return isTrunkBridge(name) || [PARENT_PREFIX, SUBPORT_PREFIX].includes(name.slice(0, 2));
}

export function isSubportPatch(name: string): boolean {
  return name.startsWith(SUBPORT_PREFIX);
}
