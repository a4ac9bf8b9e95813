/**
 * The control plane as the agent sees it: what Neutron's plugin RPC, state
 * RPC, resource cache and notifications give an L2 agent, without saying how.
 *
 * Two implementations exist: the embedded local one (a desired-state file on
 * disk, lib/control-plane/local/) and Neutron over RabbitMQ
 * (lib/control-plane/neutron/). The agent depends only on this file; the
 * data it carries is lib/model's.
 */
import type { FdbEntries, FdbIpChanges, PortDetails, SecurityGroupInfo, TunnelType } from '../model/index.js';
import type { TrunkControl } from '../trunk/types.js';

export * from '../model/index.js';

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

/** The state report's variable part. */
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
  /**
   * Optional: reports the connection to the server (its session, e.g. RabbitMQ) and each RPC
   * (metrics, readiness). A control plane without it counts as connected once started.
   */
  observe?(observer: ControlPlaneObserver): void;
  /** Optional: the objects a control plane with a resource cache holds and the pulls it asked, per type (metrics). */
  resourceCacheStats?(): ResourceCacheStats;
  /** Optional: the trunk RPCs and pushes (docs/trunk.md); only the Neutron control plane has them, with `[agent] extensions = trunk`. */
  readonly trunk?: TrunkControl;
}

/** A resource cache's size and pulls, per object type (a handful of types). */
export interface ResourceCacheStats {
  objects: Readonly<Record<string, number>>;
  pulls: Readonly<Record<string, number>>;
}

/** What a control plane tells of its connection and calls (lib/observe). */
export interface ControlPlaneObserver {
  session(up: boolean, error?: Error): void;
  /** An RPC ended: its method, how long it took, and how (a timeout is not an error answer). */
  rpc(method: string, seconds: number, outcome: 'ok' | 'timeout' | 'error'): void;
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
