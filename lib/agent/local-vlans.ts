/**
 * Local VLAN ids: one per network on this host, 1–4094, taken when a network
 * gets its first port and returned with its last (Neutron's vlanmanager.py,
 * docs/design.md#ovsdb-what-is-read-and-written). After a restart the ids written in the Port rows
 * (`tag` + `other_config:net_uuid/segmentation_id`) are reserved as hints so
 * every network gets its old id back and no port's tag changes.
 */
import { MAX_VLAN_TAG, MIN_VLAN_TAG } from '../bridges/constants.js';
import type { NetworkType } from '../model/index.js';

export interface LocalVlanMapping {
  networkId: string;
  lvid: number;
  networkType: NetworkType;
  physicalNetwork?: string;
  segmentationId?: number;
  /** Port ids currently bound to this network here. */
  ports: Set<string>;
}

export class VlanPoolExhaustedError extends Error {
  override readonly name = 'VlanPoolExhaustedError';
  readonly code = 'LOCAL_VLAN_EXHAUSTED';
  constructor(readonly networkId: string) {
    super(`no local VLAN left (all ${MAX_VLAN_TAG - MIN_VLAN_TAG + 1} in use) for network ${networkId}`);
  }
}

function hintKey(networkId: string, segmentationId: number | undefined): string {
  return `${networkId}/${segmentationId ?? 'None'}`;
}

export class LocalVlanManager {
  private readonly byNetwork = new Map<string, LocalVlanMapping>();
  private readonly used = new Uint8Array(MAX_VLAN_TAG + 1);
  /** "<net>/<seg>" → lvid read back from OVSDB, reserved until used or released. */
  private readonly hints = new Map<string, number>();
  private readonly hinted = new Set<number>();
  private inUse = 0;

  constructor(private readonly capacity = MAX_VLAN_TAG - MIN_VLAN_TAG + 1) {}

  /** Remembers that a previous run gave `lvid` to this network (first hint for an id wins). */
  addHint(networkId: string, segmentationId: number | undefined, lvid: number): void {
    if (lvid < MIN_VLAN_TAG || lvid > MAX_VLAN_TAG || this.hinted.has(lvid) || this.used[lvid]) return;
    const key = hintKey(networkId, segmentationId);
    if (this.hints.has(key)) return;
    this.hints.set(key, lvid);
    this.hinted.add(lvid);
  }

  /** After the first full sync: hints no network claimed go back to the pool. */
  releaseUnusedHints(): void {
    this.hints.clear();
    this.hinted.clear();
  }

  get(networkId: string): LocalVlanMapping | undefined {
    return this.byNetwork.get(networkId);
  }

  mappings(): IterableIterator<LocalVlanMapping> {
    return this.byNetwork.values();
  }

  /** The network's id, allocating one (its hint if it has one) when it has none yet. */
  provision(networkId: string, networkType: NetworkType, segmentationId?: number, physicalNetwork?: string): LocalVlanMapping {
    const existing = this.byNetwork.get(networkId);
    if (existing) return existing;
    const key = hintKey(networkId, segmentationId);
    let lvid = this.hints.get(key);
    if (lvid !== undefined) {
      this.hints.delete(key);
      this.hinted.delete(lvid);
    } else {
      lvid = this.takeFree(networkId);
    }
    this.used[lvid] = 1;
    this.inUse++;
    const m: LocalVlanMapping = { networkId, lvid, networkType, segmentationId, physicalNetwork, ports: new Set() };
    this.byNetwork.set(networkId, m);
    return m;
  }

  /** Returns the network's id to the pool. */
  reclaim(networkId: string): LocalVlanMapping | undefined {
    const m = this.byNetwork.get(networkId);
    if (!m) return undefined;
    this.byNetwork.delete(networkId);
    this.used[m.lvid] = 0;
    this.inUse--;
    return m;
  }

  private takeFree(networkId: string): number {
    if (this.inUse >= this.capacity) throw new VlanPoolExhaustedError(networkId);
    for (let v = MIN_VLAN_TAG; v <= MAX_VLAN_TAG; v++) {
      if (!this.used[v] && !this.hinted.has(v)) return v;
    }
    throw new VlanPoolExhaustedError(networkId);
  }
}
