/**
 * The integration bridge's pipeline, one method per intention
 * (Neutron's br_int.py; reference §3.7). Methods only change the desired
 * flows; the agent sends the difference in one bundle per pass.
 */
import { DEAD_VLAN_TAG, Table } from './constants.js';
import { flow, vlanVidField, type Flow } from './flow.js';
import { FlowTable } from './flow-table.js';

export interface LocalVlanOnPhys {
  networkId: string;
  networkType: 'flat' | 'vlan';
  /** The VLAN id on the wire for `vlan` networks. */
  segmentationId?: number;
  lvid: number;
  /** ofport of `int-<physical bridge>` on br-int. */
  intPatchOfport: number;
}

export class IntegrationBridge {
  readonly flows: FlowTable;

  constructor(readonly name: string, cookie: bigint) {
    this.flows = new FlowTable(name, cookie);
  }

  /** The T23 drop flow whose disappearance tells that ovs-vswitchd lost its tables (§3.10). */
  installCanary(): void {
    this.flows.replace('canary', [flow(Table.CANARY, 0, '', 'drop')]);
  }

  /** `setup_default_table`: the fixed skeleton every port's traffic goes through. */
  setupDefaultTableFlows(): void {
    this.installCanary();
    this.flows.replace('setup', [
      flow(Table.LOCAL_SWITCHING, 0, '', `goto_table:${Table.PACKET_RATE_LIMIT}`),
      flow(Table.PACKET_RATE_LIMIT, 0, '', `goto_table:${Table.TRANSIENT}`),
      flow(Table.TRANSIENT, 3, '', 'NORMAL'),
      flow(Table.ARP_SPOOF, 0, '', 'drop'),
      flow(Table.LOCAL_SWITCHING, 65535, `dl_vlan=${DEAD_VLAN_TAG}`, 'drop'),
      flow(Table.TRANSIENT_EGRESS, 3, '', 'NORMAL'),
      flow(Table.LOCAL_EGRESS, 0, '', `goto_table:${Table.PACKET_RATE_LIMIT}`),
      flow(Table.LOCAL_IP, 0, '', `goto_table:${Table.PACKET_RATE_LIMIT}`),
    ]);
  }

  /** Drops everything from a physical bridge's patch until its VLANs are provisioned. */
  dropFromPhysPatch(physBridge: string, intPatchOfport: number): void {
    this.flows.replace(`phys:${physBridge}`, [flow(Table.LOCAL_SWITCHING, 2, `in_port=${intPatchOfport}`, 'drop')]);
  }

  /** Translates the network's wire VLAN (or no VLAN, flat) arriving from br-phys into its local VLAN. */
  provisionLocalVlan(v: LocalVlanOnPhys): void {
    this.flows.replace(`net:${v.networkId}`, [localVlanFlow(v)]);
  }

  reclaimLocalVlan(networkId: string): void {
    this.flows.remove(`net:${networkId}`);
  }

  /** port_dead: the port is on VLAN 4095 and everything it sends is dropped. */
  installDeadPortDrop(portId: string, ofport: number): void {
    this.flows.replace(`dead:${portId}`, [flow(Table.LOCAL_SWITCHING, 2, `in_port=${ofport}`, 'drop')]);
  }

  /** port_alive. */
  removeDeadPortDrop(portId: string): void {
    this.flows.remove(`dead:${portId}`);
  }

  /**
   * An interface that must not carry traffic although its port id is wired
   * through another interface (a duplicate iface-id): keyed by interface
   * name, so it never touches the port's own flows.
   */
  installDeadInterfaceDrop(name: string, ofport: number): void {
    this.flows.replace(`dead-iface:${name}`, [flow(Table.LOCAL_SWITCHING, 2, `in_port=${ofport}`, 'drop')]);
  }

  removeDeadInterfaceDrop(name: string): void {
    this.flows.remove(`dead-iface:${name}`);
  }
}

function localVlanFlow(v: LocalVlanOnPhys): Flow {
  const goto = `goto_table:${Table.PACKET_RATE_LIMIT}`;
  if (v.networkType === 'vlan') {
    return flow(Table.LOCAL_SWITCHING, 3, `in_port=${v.intPatchOfport},dl_vlan=${v.segmentationId}`,
      `${vlanVidField(v.lvid)},${goto}`);
  }
  return flow(Table.LOCAL_SWITCHING, 3, `in_port=${v.intPatchOfport},vlan_tci=0x0000/0x1fff`,
    `push_vlan:0x8100,${vlanVidField(v.lvid)},${goto}`);
}
