/**
 * The control plane as the agent sees it: what Neutron's plugin RPC, state
 * RPC, resource cache and notifications give an L2 agent, without saying how.
 *
 * Two implementations exist: the embedded local one (a desired-state file on
 * disk, lib/control-plane/local/) and Neutron over RabbitMQ
 * (lib/control-plane/neutron/). The agent depends only on this file.
 *
 * Field names are camelCase versions of Neutron's dict keys
 * (../shared/reference/neutron-ovs-agent.md §1.7–1.9); the Neutron
 * implementation converts at its edge.
 */

export type NetworkType = 'flat' | 'vlan' | 'vxlan' | 'gre' | 'geneve' | 'local';
export type TunnelType = 'vxlan' | 'gre' | 'geneve';

export interface FixedIp {
  subnetId: string;
  ipAddress: string;
}

export interface AddressPair {
  macAddress: string;
  ipAddress: string;
}

/** A port the control plane knows and has bound to this host (§1.7, full reply). */
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
}

/**
 * What the control plane says about one device (port id).
 * `unknown`: not bound to us, no segment, or never heard of: the agent puts it
 * on the dead VLAN. `no_active_binding`: a live-migration target; left alone.
 */
export type DeviceLookup =
  | { kind: 'bound'; details: PortDetails }
  | { kind: 'unknown'; device: string }
  | { kind: 'no_active_binding'; device: string };

export interface DevicesDetailsReply {
  devices: DeviceLookup[];
  /** Devices whose lookup failed (retry later), as opposed to `unknown`. */
  failed: string[];
  /**
   * Devices the control plane cannot answer yet without waiting for its
   * server: it fetches them meanwhile and sends `ports_updated` for them
   * when they can be answered. Not failed: nothing to retry.
   */
  deferred?: string[];
}

export interface UpdateDeviceListReply {
  failedUp: string[];
  failedDown: string[];
}

export interface TunnelEndpoint {
  ipAddress: string;
  host?: string;
  udpPort?: number;
}

/** A security group rule as the firewall needs it (§1.8). */
export interface SecurityGroupRule {
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

/** The l2population flooding entry (§1.9). */
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

/** Events the control plane pushes to the agent. */
export type ControlPlaneEvent =
  /** These ports' details may have changed: fetch them again and re-wire. */
  | { type: 'ports_updated'; portIds: string[] }
  | { type: 'port_deleted'; portId: string }
  | { type: 'network_updated'; networkId: string }
  | { type: 'tunnel_update'; tunnelIp: string; tunnelType: TunnelType; host?: string }
  | { type: 'tunnel_delete'; tunnelIp: string; tunnelType: TunnelType }
  | { type: 'fdb_add'; entries: FdbEntries }
  | { type: 'fdb_remove'; entries: FdbEntries }
  | { type: 'fdb_update'; changes: FdbIpChanges }
  /** Security group rules or members changed for these groups. */
  | { type: 'security_groups_updated'; securityGroupIds: string[] }
  /** The control plane lost or replaced its state (reconnect, `revived`): resync everything. */
  | { type: 'resync'; reason: string };

export type ControlPlaneListener = (event: ControlPlaneEvent) => void;

/** Who the agent is, for registration and state reports. */
export interface AgentIdentity {
  host: string;
  agentId: string;
  binary: string;
}

/** The state report's variable part (§1.5). */
export interface AgentStateReport {
  startFlag: boolean;
  configurations: Record<string, unknown>;
  /** Number of VIF ports on the integration bridge. */
  devices: number;
}

/** The server's answer to a state report. */
export type ReportStateReply = 'new' | 'alive' | 'revived' | null;

export interface ControlPlane {
  /** Connects and starts delivering events; resolves once requests can be made. */
  start(identity: AgentIdentity): Promise<void>;
  stop(): Promise<void>;
  /** Subscribes to pushed events; returns the unsubscribe function. */
  onEvent(listener: ControlPlaneListener): () => void;

  getDevicesDetails(devices: string[]): Promise<DevicesDetailsReply>;
  /** Reports ports wired (up) and removed (down). */
  updateDeviceList(up: string[], down: string[]): Promise<UpdateDeviceListReply>;
  /** Registers our tunnel endpoint and returns the other endpoints of this type. */
  tunnelSync(localIp: string, tunnelType: TunnelType): Promise<TunnelEndpoint[]>;
  securityGroupInfo(devices: string[]): Promise<SecurityGroupInfo>;
  reportState(report: AgentStateReport): Promise<ReportStateReply>;
  /**
   * Optional: tells of an error after which this control plane will never work again (it gave
   * up for good); the agent process then exits non-zero (docs/agent.md, "Exit codes").
   */
  onFatal?(listener: (err: Error) => void): () => void;
}

/** A control-plane request failed; `retriable` tells the agent whether backing off and retrying makes sense. */
export class ControlPlaneError extends Error {
  override readonly name = 'ControlPlaneError';
  constructor(
    message: string,
    readonly code: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
