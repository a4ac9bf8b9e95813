/**
 * The OVSDB columns Neutron's agent writes on its bridges and patch ports
 * besides the flows (docs/agent.md, "Bridge settings"): OpenFlow versions
 * and IGMP snooping.
 */

/** What every agent bridge allows (Neutron's OVSBridge.create). */
export const BRIDGE_PROTOCOLS: readonly string[] = ['OpenFlow10', 'OpenFlow13', 'OpenFlow14'];

/** br-int with the openvswitch firewall, whose initialize_bridge adds 1.1 and 1.2 as well. */
export const OVS_FIREWALL_PROTOCOLS: readonly string[] = ['OpenFlow10', 'OpenFlow11', 'OpenFlow12', 'OpenFlow13', 'OpenFlow14'];

/**
 * br-int's snooping state (set_igmp_snooping_state), written whatever the
 * option says: unregistered multicast keeps flooding either way.
 */
export function integrationBridgeSnooping(enable: boolean): { mcastSnoopingEnable: boolean; otherConfig: Record<string, string> } {
  return { mcastSnoopingEnable: enable, otherConfig: { 'mcast-snooping-disable-flood-unregistered': 'false' } };
}

/**
 * Port other_config of br-int's patch ports to br-tun and to the physical
 * bridges (set_igmp_snooping_flood): with snooping on, multicast and IGMP
 * reports still leave the host through them. The values are Python's
 * `str(bool)`, as Neutron writes them (OVS reads them case-insensitively).
 */
export function patchPortSnooping(enable: boolean): Record<string, string> {
  const v = enable ? 'True' : 'False';
  return { 'mcast-snooping-flood-reports': v, 'mcast-snooping-flood': v };
}
