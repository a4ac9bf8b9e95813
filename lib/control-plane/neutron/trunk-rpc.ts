/**
 * Neutron 21's trunk RPCs and pushes, as its OVS agent's trunk driver uses
 * them (docs/trunk.md, "The contract with neutron-server"):
 *
 * - `pull(resource_type=Trunk, version=1.1, resource_id=<parent port>)` on
 *   `q-plugin` (1.1): the trunk of a parent port, null when there is none;
 * - `update_subport_bindings(subports)` and `update_trunk_status(trunk_id,
 *   status)` on the `trunk` topic, namespace `trunk`, version 1.0; subports
 *   travel as plain dicts of their fields (that is what oslo's JSON makes of
 *   a SubPort object), and the answer maps each trunk id to its subports'
 *   port dicts after binding;
 * - the server's fanout pushes on `neutron-vo-Trunk-1.1` and
 *   `neutron-vo-SubPort-1.0` (`created` / `deleted`).
 */
import type { SubPortInfo, TrunkControl, TrunkInfo, TrunkPush, TrunkStatus } from '../../trunk/types.js';
import { isObject } from './envelope.js';
import { decodeError } from './errors.js';
import { normalizeMac } from './ovo.js';
import type { Endpoint } from './rpc-server.js';

export const TRUNK_TOPIC = 'trunk';
export const TRUNK_NAMESPACE = 'trunk';
export const TRUNK_RPC_VERSION = '1.0';
export const TRUNK_OVO_VERSION = '1.1';
export const SUBPORT_OVO_VERSION = '1.0';

/** The RPC client's call, narrowed to what these RPCs need. */
export type TrunkCall = <T>(topic: string, method: string, args: Record<string, unknown>, opts: { version: string; namespace?: string }) => Promise<T>;

function data(value: unknown, want: string): Record<string, unknown> {
  if (!isObject(value) || value['versioned_object.name'] !== want || !isObject(value['versioned_object.data'])) {
    throw decodeError(`expected a ${want} versioned object, got ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  return value['versioned_object.data'];
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw decodeError(`${where}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function decodeSubPort(value: unknown): SubPortInfo {
  const d = data(value, 'SubPort');
  const segmentationId = d.segmentation_id;
  if (typeof segmentationId !== 'number' || !Number.isInteger(segmentationId)) throw decodeError(`SubPort.segmentation_id: ${JSON.stringify(segmentationId)}`);
  return {
    portId: str(d.port_id, 'SubPort.port_id'), trunkId: str(d.trunk_id, 'SubPort.trunk_id'),
    segmentationType: str(d.segmentation_type, 'SubPort.segmentation_type'), segmentationId,
  };
}

export function decodeTrunk(value: unknown): TrunkInfo {
  const d = data(value, 'Trunk');
  const subs = Array.isArray(d.sub_ports) ? d.sub_ports : [];
  return { id: str(d.id, 'Trunk.id'), portId: str(d.port_id, 'Trunk.port_id'), status: typeof d.status === 'string' ? d.status : '', subPorts: subs.map(decodeSubPort) };
}

/** A SubPort as oslo's JSON serialises the object Neutron's agent passes. */
export function encodeSubPort(s: SubPortInfo): Record<string, unknown> {
  return { port_id: s.portId, trunk_id: s.trunkId, segmentation_type: s.segmentationType, segmentation_id: s.segmentationId };
}

/** `{trunk_id: [port dict, …]}` → trunk id → (port id → MAC). */
export function decodeBindings(reply: unknown): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (!isObject(reply)) return out;
  for (const [trunkId, ports] of Object.entries(reply)) {
    const macs = new Map<string, string>();
    for (const p of Array.isArray(ports) ? ports : []) {
      if (isObject(p) && typeof p.id === 'string' && typeof p.mac_address === 'string') macs.set(p.id, normalizeMac(p.mac_address));
    }
    out.set(trunkId, macs);
  }
  return out;
}

export class NeutronTrunkRpc implements TrunkControl {
  private readonly listeners = new Set<(p: TrunkPush) => void>();

  constructor(private readonly call: TrunkCall, private readonly pluginTopic: string) {}

  async getTrunkDetails(parentPortId: string): Promise<TrunkInfo | undefined> {
    const r = await this.call<unknown>(this.pluginTopic, 'pull',
      { resource_type: 'Trunk', version: TRUNK_OVO_VERSION, resource_id: parentPortId }, { version: '1.1' });
    return r === null || r === undefined ? undefined : decodeTrunk(r);
  }

  async updateSubportBindings(subPorts: SubPortInfo[]): Promise<Map<string, Map<string, string>>> {
    const r = await this.call<unknown>(TRUNK_TOPIC, 'update_subport_bindings', { subports: subPorts.map(encodeSubPort) },
      { version: TRUNK_RPC_VERSION, namespace: TRUNK_NAMESPACE });
    return decodeBindings(r);
  }

  async updateTrunkStatus(trunkId: string, status: TrunkStatus): Promise<void> {
    await this.call<unknown>(TRUNK_TOPIC, 'update_trunk_status', { trunk_id: trunkId, status }, { version: TRUNK_RPC_VERSION, namespace: TRUNK_NAMESPACE });
  }

  onPush(listener: (p: TrunkPush) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The push topics and their endpoint, for the control plane's RPC servers. */
  consumers(): Array<{ topic: string; endpoint: Endpoint }> {
    const endpoint: Endpoint = { version: '1.1', methods: { push: (args) => this.onPushArgs(args) } };
    return [`neutron-vo-Trunk-${TRUNK_OVO_VERSION}`, `neutron-vo-SubPort-${SUBPORT_OVO_VERSION}`].map((topic) => ({ topic, endpoint }));
  }

  private onPushArgs(args: Record<string, unknown>): void {
    const list = args.resource_list;
    const event = args.event_type;
    if (!Array.isArray(list) || typeof event !== 'string' || list.length === 0) throw decodeError('trunk push without resource_list or event_type');
    const name = isObject(list[0]) ? list[0]['versioned_object.name'] : undefined;
    let push: TrunkPush;
    if (name === 'SubPort') {
      if (event !== 'created' && event !== 'deleted') throw decodeError(`SubPort push: unknown event ${event}`);
      push = { kind: 'subports', event, subPorts: list.map(decodeSubPort) };
    } else {
      // Trunk pushes carry one trunk each; `created` is as good as `updated` here.
      const trunk = decodeTrunk(list[0]);
      push = { kind: 'trunk', event: event === 'deleted' ? 'deleted' : 'updated', trunk };
    }
    for (const l of this.listeners) l(push);
  }
}
