/**
 * What the trunk extension (docs/trunk.md) needs of the control plane and
 * of OVSDB, as two narrow interfaces: lib/control-plane/neutron/trunk-rpc.ts
 * implements the first over Neutron's trunk RPCs and pushes,
 * lib/trunk/ovs-trunk-switch.ts the second over the OVSDB replica.
 */

/** A trunk's subport: a Neutron port carried on the trunk bridge with this VLAN (SubPort 1.0). */
export interface SubPortInfo {
  portId: string;
  trunkId: string;
  segmentationType: string;
  segmentationId: number;
}

/** A trunk as the server's pull answers it (Trunk 1.1): only what the wiring reads. */
export interface TrunkInfo {
  id: string;
  /** The parent port. */
  portId: string;
  status: string;
  subPorts: SubPortInfo[];
}

/** The statuses the agent sets (neutron_lib's trunk constants). */
export type TrunkStatus = 'ACTIVE' | 'DEGRADED' | 'ERROR' | 'DOWN';

export type TrunkPush =
  | { kind: 'subports'; event: 'created' | 'deleted'; subPorts: SubPortInfo[] }
  | { kind: 'trunk'; event: 'updated' | 'deleted'; trunk: TrunkInfo };

export interface TrunkControl {
  /** The trunk whose parent is this port; undefined when the port is no trunk's parent. */
  getTrunkDetails(parentPortId: string): Promise<TrunkInfo | undefined>;
  /** Binds the subports to the parent's host; answers each bound subport's MAC, per trunk. */
  updateSubportBindings(subPorts: SubPortInfo[]): Promise<Map<string, Map<string, string>>>;
  updateTrunkStatus(trunkId: string, status: TrunkStatus): Promise<void>;
  /** Trunk and SubPort pushes; returns the unsubscribe function. */
  onPush(listener: (push: TrunkPush) => void): () => void;
}

/** One interface on a trunk bridge, as the extension reads it. */
export interface TrunkBridgePort {
  name: string;
  type: string;
  externalIds: Readonly<Record<string, string>>;
  /** options:peer of a patch port. */
  peer: string | undefined;
}

/** A patch pair between br-int and a trunk bridge, as Neutron's trunk manager makes it. */
export interface PatchPair {
  /** On br-int (tpi-/spi-). */
  intName: string;
  /** On the trunk bridge (tpt-/spt-). */
  trunkName: string;
  portId: string;
  mac: string;
  /** The trunk-bridge end's tag: a subport's segmentation id; none for the parent. */
  tag?: number;
}

export interface TrunkSwitch {
  /** Names of the bridges whose name starts with `prefix`. */
  bridgesNamed(prefix: string): string[];
  /** The interfaces of a bridge; undefined when the bridge does not exist. */
  bridgePorts(bridge: string): TrunkBridgePort[] | undefined;
  /** Creates the pairs (both ends, external_ids, tags) in one transaction; pairs already there are made right. */
  plugPairs(brInt: string, trunkBridge: string, pairs: readonly PatchPair[]): Promise<void>;
  /** Removes these ports from br-int and from the trunk bridge (when given and present), and the trunk bridge itself with `deleteBridge`, in one transaction. */
  unplug(brInt: string, intNames: readonly string[], trunk?: { bridge: string; names: readonly string[]; deleteBridge?: boolean }): Promise<void>;
  /** Merges these keys into an interface's external_ids. */
  setInterfaceExternalIds(name: string, ids: Record<string, string>): Promise<void>;
  /** Patch ports of br-int whose name starts with one of `prefixes` and whose peer interface does not exist. */
  orphanPatches(brInt: string, prefixes: readonly string[]): string[];
}
