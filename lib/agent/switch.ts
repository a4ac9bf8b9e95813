/**
 * What the agent needs from Open vSwitch, as two narrow interfaces: the
 * database (a replica it reads synchronously, and a few writes) and one
 * OpenFlow channel per bridge. lib/agent/ovs/ implements them over
 * protocol/ovsdb and protocol/openflow; keeping them narrow keeps the loop
 * readable and lets the protocol libraries evolve underneath.
 */
import type { FlowSession } from '../flows/installer.js';
import type { PortQosSettings } from '../qos/port-qos.js';
import type { TrunkSwitch } from '../trunk/types.js';

/** An Interface row joined with its Port and Bridge, as the agent reads it (docs/design.md#ovsdb-what-is-read-and-written). */
export interface VifRow {
  /** Interface name (also the Port name for VIFs). */
  name: string;
  /** `undefined`: not assigned yet; -1: failed. */
  ofport: number | undefined;
  /** external_ids:iface-id, the Neutron port id. */
  ifaceId: string | undefined;
  /** external_ids:attached-mac. */
  attachedMac: string | undefined;
  /** Name of the bridge whose Port holds this interface. */
  bridge: string | undefined;
  /** Port.tag. */
  tag: number | undefined;
  /** Port.other_config. */
  portOtherConfig: Readonly<Record<string, string>>;
  /** Interface.external_ids (skip_cleanup and friends). */
  externalIds: Readonly<Record<string, string>>;
}

export interface BridgeRow {
  name: string;
  datapathId: string | undefined;
  externalIds: Readonly<Record<string, string>>;
  ports: string[];
}

export interface BridgeSettings {
  datapathType: string;
  failMode: 'secure' | 'standalone';
  protocols: string[];
  otherConfig: Record<string, string>;
  externalIds?: Record<string, string>;
  /** Bridge.mcast_snooping_enable; left as it is when undefined. */
  mcastSnoopingEnable?: boolean;
}

/** A port with one interface, as ensurePort makes it. */
export interface PortSpec {
  /** Interface.type. */
  type: string;
  /** Merged into Interface.options. */
  options?: Record<string, string>;
  /** Merged into Port.other_config. */
  portOtherConfig?: Record<string, string>;
}

export interface PortTagUpdate {
  /** Port name. */
  name: string;
  tag: number;
  /** Merged into Port.other_config. */
  otherConfig?: Record<string, string>;
  /** Clear vlan_mode and trunks (a port coming from Neutron's dead-VLAN plug). */
  clearTrunks?: boolean;
}

/** One port's QoS on the switch (docs/qos.md): `settings` undefined removes it (the port may be gone). */
export interface QosWrite {
  /** Port and Interface name. */
  name: string;
  settings: PortQosSettings | undefined;
}

export type DbChange =
  | { kind: 'interface'; name: string }
  | { kind: 'bridge'; name: string }
  /** The replica reconnected and resynchronised; rows may have changed without events. */
  | { kind: 'resync' };

export interface SwitchDatabase {
  /** Resolves once the replica holds the database's content. */
  ready(): Promise<void>;
  vifs(): Iterable<VifRow>;
  vif(name: string): VifRow | undefined;
  bridge(name: string): BridgeRow | undefined;
  bridges(): BridgeRow[];
  onChange(listener: (change: DbChange) => void): () => void;

  /** Creates the bridge if missing and sets these columns (one transaction). */
  ensureBridge(name: string, settings: BridgeSettings): Promise<void>;
  setBridgeExternalIds(name: string, ids: Record<string, string>): Promise<void>;
  setControllers(bridge: string, targets: string[], opts: { connectionMode: string; inactivityProbeMs: number }): Promise<void>;
  /** Creates the port with one interface if missing; updates its type, options and other_config if present. */
  ensurePort(bridge: string, name: string, spec: PortSpec): Promise<void>;
  deletePort(bridge: string, name: string): Promise<void>;
  /** Resolves with the interface's ofport once ovs-vswitchd assigned one. */
  waitOfport(name: string, timeoutMs: number): Promise<number>;
  /** All tag writes of a pass in one transaction. */
  setPortTags(updates: PortTagUpdate[]): Promise<void>;
  /**
   * Optional (the qos extension needs it): each port's policing and QoS/Queue rows as Neutron writes them, in one
   * transaction; with `keep`, the bandwidth-limit rows of port names not in it are destroyed too.
   */
  applyQos?(writes: readonly QosWrite[], keep?: ReadonlySet<string>): Promise<void>;
  /** Optional (the trunk extension needs it): the trunk bridges' reads and writes (docs/trunk.md). */
  trunkSwitch?(): TrunkSwitch;
  /** Optional: told when the session to the database goes down and comes back (readiness, metrics). */
  onSession?(listener: (up: boolean, error?: Error) => void): () => void;
  close(): Promise<void>;
}

export type FlowChannelEvent =
  /** A new session (never the one the channel was opened with): the switch may have lost its tables, or been changed meanwhile. */
  | { kind: 'connected' }
  | { kind: 'disconnected'; error?: Error };

/** One bridge's OpenFlow session, reconnecting by itself; flows go through it (lib/flows/installer.ts). */
export interface FlowChannel extends FlowSession {
  readonly bridge: string;
  onEvent(listener: (event: FlowChannelEvent) => void): () => void;
  close(): Promise<void>;
}
