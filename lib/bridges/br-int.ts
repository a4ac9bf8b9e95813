/**
 * The integration bridge's pipeline, one method per intention (as Neutron's
 * br_int.py names them; docs/design.md#br-int-integration-bridge). Methods
 * only change the desired flows; the agent sends the difference in one
 * bundle per pass.
 */
import { apply, applyThenGoto, DROP, gotoTable, NORMAL, PUSH_VLAN, setVlanVid } from '../flows/actions.js';
import { flow, type DesiredFlow } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { dlVlan, inPort, UNTAGGED } from '../flows/match.js';
import { antiSpoofingFlows, type SpoofingPort } from './anti-spoofing.js';
import { DEAD_VLAN_TAG, Table } from './constants.js';

export interface LocalVlanOnPhys {
  networkId: string;
  networkType: 'flat' | 'vlan';
  /** The VLAN id on the wire for `vlan` networks. */
  segmentationId?: number;
  lvid: number;
  /** ofport of `int-<physical bridge>` on br-int. */
  intPatchOfport: number;
}

const TO_RATE_LIMIT = gotoTable(Table.PACKET_RATE_LIMIT);

export class IntegrationBridge {
  readonly flows: FlowTable;

  constructor(readonly name: string, cookie: bigint) {
    this.flows = new FlowTable(name, cookie);
  }

  /** The table 23 drop flow whose disappearance tells that ovs-vswitchd lost its tables. */
  installCanary(): void {
    this.flows.replace('canary', [flow(Table.CANARY, 0, [], DROP)]);
  }

  /** `setup_default_table`: the fixed skeleton every port's traffic goes through. */
  setupDefaultTableFlows(): void {
    this.installCanary();
    this.flows.replace('setup', [
      flow(Table.LOCAL_SWITCHING, 0, [], TO_RATE_LIMIT),
      flow(Table.PACKET_RATE_LIMIT, 0, [], gotoTable(Table.TRANSIENT)),
      flow(Table.TRANSIENT, 3, [], apply(NORMAL)),
      flow(Table.ARP_SPOOF, 0, [], DROP),
      flow(Table.LOCAL_SWITCHING, 65535, [dlVlan(DEAD_VLAN_TAG)], DROP),
      flow(Table.TRANSIENT_EGRESS, 3, [], apply(NORMAL)),
      flow(Table.LOCAL_EGRESS, 0, [], TO_RATE_LIMIT),
      flow(Table.LOCAL_IP, 0, [], TO_RATE_LIMIT),
    ]);
  }

  /** Drops everything from a physical bridge's patch until its VLANs are provisioned. */
  dropFromPhysPatch(physBridge: string, intPatchOfport: number): void {
    this.flows.replace(`phys:${physBridge}`, [dropFrom(intPatchOfport)]);
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
    this.flows.replace(`dead:${portId}`, [dropFrom(ofport)]);
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
    this.flows.replace(`dead-iface:${name}`, [dropFrom(ofport)]);
  }

  removeDeadInterfaceDrop(name: string): void {
    this.flows.remove(`dead-iface:${name}`);
  }

  /**
   * `setup_arp_spoofing_protection`: the port may claim only its own MACs
   * and addresses in what it sends (tables 0, 24, 25; anti-spoofing.ts).
   * None for a port without port security or owned by the network.
   */
  setPortAntiSpoofing(portId: string, port: SpoofingPort): void {
    this.flows.replace(`spoof:${portId}`, antiSpoofingFlows(port));
  }

  /** `delete_arp_spoofing_protection` and the MAC flows: the port is gone, dead or no longer wired. */
  removePortAntiSpoofing(portId: string): void {
    this.flows.remove(`spoof:${portId}`);
  }
}

function dropFrom(ofport: number): DesiredFlow {
  return flow(Table.LOCAL_SWITCHING, 2, [inPort(ofport)], DROP);
}

function localVlanFlow(v: LocalVlanOnPhys): DesiredFlow {
  if (v.networkType === 'vlan') {
    return flow(Table.LOCAL_SWITCHING, 3, [inPort(v.intPatchOfport), dlVlan(v.segmentationId!)],
      applyThenGoto([setVlanVid(v.lvid)], Table.PACKET_RATE_LIMIT));
  }
  return flow(Table.LOCAL_SWITCHING, 3, [inPort(v.intPatchOfport), UNTAGGED],
    applyThenGoto([PUSH_VLAN, setVlanVid(v.lvid)], Table.PACKET_RATE_LIMIT));
}
