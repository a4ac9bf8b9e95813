/**
 * A physical bridge's pipeline (Neutron's br_phys.py; reference §3.8): local
 * VLANs leaving br-int become the network's wire VLAN, or untagged for flat.
 */
import { Table } from './constants.js';
import { flow, vlanVidField } from './flow.js';
import { FlowTable } from './flow-table.js';

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
    this.flows.replace('setup', [flow(Table.LOCAL_SWITCHING, 0, '', 'NORMAL')]);
  }

  /** Nothing from br-int passes until a local VLAN is provisioned. */
  dropFromIntPatch(physPatchOfport: number): void {
    this.flows.replace('patch', [flow(Table.LOCAL_SWITCHING, 2, `in_port=${physPatchOfport}`, 'drop')]);
  }

  provisionLocalVlan(v: LocalVlanToWire): void {
    const match = `in_port=${v.physPatchOfport},dl_vlan=${v.lvid}`;
    const actions = v.networkType === 'vlan' ? `${vlanVidField(v.segmentationId ?? 0)},NORMAL` : 'pop_vlan,NORMAL';
    this.flows.replace(`net:${v.networkId}`, [flow(Table.LOCAL_SWITCHING, 4, match, actions)]);
  }

  reclaimLocalVlan(networkId: string): void {
    this.flows.remove(`net:${networkId}`);
  }
}
