/**
 * A physical bridge's pipeline (Neutron's br_phys.py;
 * docs/design.md#physical-bridges-bridge_mappings): local VLANs leaving
 * br-int become the network's wire VLAN, or untagged for flat.
 */
import { apply, DROP, NORMAL, POP_VLAN, setVlanVid } from '../flows/actions.js';
import { flow } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { dlVlan, inPort } from '../flows/match.js';
import { Table } from './constants.js';

export interface LocalVlanToWire {
  networkId: string;
  networkType: 'flat' | 'vlan';
  segmentationId?: number;
  lvid: number;
  /** ofport of `phy-<bridge>` on this bridge. */
  physPatchOfport: number;
}

export class PhysicalBridge {
  readonly flows: FlowTable;

  constructor(readonly name: string, readonly physicalNetwork: string, cookie: bigint) {
    this.flows = new FlowTable(name, cookie);
  }

  setupDefaultTableFlows(): void {
    this.flows.replace('setup', [flow(Table.LOCAL_SWITCHING, 0, [], apply(NORMAL))]);
  }

  /** Nothing from br-int passes until a local VLAN is provisioned. */
  dropFromIntPatch(physPatchOfport: number): void {
    this.flows.replace('patch', [flow(Table.LOCAL_SWITCHING, 2, [inPort(physPatchOfport)], DROP)]);
  }

  provisionLocalVlan(v: LocalVlanToWire): void {
    const toWire = v.networkType === 'vlan' ? setVlanVid(v.segmentationId ?? 0) : POP_VLAN;
    this.flows.replace(`net:${v.networkId}`, [
      flow(Table.LOCAL_SWITCHING, 4, [inPort(v.physPatchOfport), dlVlan(v.lvid)], apply(toWire, NORMAL)),
    ]);
  }

  reclaimLocalVlan(networkId: string): void {
    this.flows.remove(`net:${networkId}`);
  }
}
