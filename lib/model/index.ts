/**
 * The Neutron model as the agent's parts see it (ports, networks, security
 * groups, l2population's fdb entries), whatever control plane delivers it.
 * A leaf: it imports nothing of the agent, so the firewall, l2pop and the
 * bridges can use it without depending on the control plane.
 *
 * Field names are camelCase versions of Neutron's dict keys (docs/neutron.md,
 * "Device details", "Security group information", "l2population's fdb
 * entries"); the Neutron control plane converts at its edge.
 */
import type { QosPolicy } from './qos.js';

/** Neutron's tunnelled network types, in the order Neutron lists them. */
export const TUNNEL_TYPES = ['vxlan', 'gre', 'geneve'] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];

export const NETWORK_TYPES = ['flat', 'vlan', ...TUNNEL_TYPES, 'local'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

export function isTunnelType(type: string): type is TunnelType {
  return (TUNNEL_TYPES as readonly string[]).includes(type);
}


export interface FixedIp {
  subnetId: string;
  ipAddress: string;
}

export interface AddressPair {
  macAddress: string;
  ipAddress: string;
}

/** A port the control plane knows and has bound to this host (its device details). */
export interface PortDetails {
  /** The Neutron port UUID, which is also the OVS `external_ids:iface-id`. */
  portId: string;
  networkId: string;
  /** Lowercase `aa:bb:cc:dd:ee:ff`. */
  macAddress: string;
  adminStateUp: boolean;
  networkType: NetworkType;
  /** VLAN id for `vlan`, VNI or key for tunnels; absent for `flat` and `local`. */
  segmentationId?: number;
  /** For `flat` and `vlan`. */
  physicalNetwork?: string;
  fixedIps: FixedIp[];
  allowedAddressPairs: AddressPair[];
  portSecurityEnabled: boolean;
  securityGroups: string[];
  deviceOwner: string;
  deviceId?: string;
  mtu?: number;
  /** The port's own QoS policy (Neutron's `qos_policy_id`). */
  qosPolicyId?: string;
  /** Its network's QoS policy (`network_qos_policy_id`), which applies when the port has none. */
  networkQosPolicyId?: string;
  /**
   * The policy of `qosPolicyId`, else of `networkQosPolicyId`, with its rules, when the control plane
   * knows it (docs/qos.md). Absent with a policy id set: the policy is gone from the server.
   */
  qosPolicy?: QosPolicy;
}

/** A security group rule as the firewall needs it. */
export interface SecurityGroupRule {
  /** The rule's own id, when the control plane has one (Neutron's): `ovs-agent trace` names the rule by it. */
  id?: string;
  securityGroupId: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** Name (`tcp`, `udp`, `icmp`, `icmpv6`, …) or number as a string, as Neutron stores it. */
  protocol?: string;
  portRangeMin?: number;
  portRangeMax?: number;
  /** Source prefix for ingress rules, destination prefix for egress rules. */
  remoteIpPrefix?: string;
  remoteGroupId?: string;
  remoteAddressGroupId?: string;
}

export interface SecurityGroupInfo {
  /** Rules per security group id. */
  rules: Record<string, SecurityGroupRule[]>;
  /** Whether each group is stateful (default true). */
  stateful: Record<string, boolean>;
  /** Member addresses of each group referenced as a remote group: [ip, mac|null]. */
  members: Record<string, { IPv4: Array<[string, string | null]>; IPv6: Array<[string, string | null]> }>;
}

/** The l2population flooding entry: "flood to this host". */
export const FLOODING_ENTRY: readonly [string, string] = ['00:00:00:00:00:00', '0.0.0.0'];

/** l2pop fdb entries for one network: remote agent tunnel IP → [mac, ip] pairs. */
export interface FdbNetworkEntries {
  segmentId: number;
  networkType: NetworkType;
  ports: Record<string, Array<[string, string]>>;
}

export type FdbEntries = Record<string, FdbNetworkEntries>;

/** `chg_ip`: network id → agent ip → before/after pairs. */
export type FdbIpChanges = Record<string, Record<string, { before: Array<[string, string]>; after: Array<[string, string]> }>>;

export * from './qos.js';
