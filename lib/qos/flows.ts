/**
 * The br-int flows of the qos extension, as Neutron 21's OVS agent installs
 * them (docs/qos.md, "What is written on the switch"), written into br-int's
 * flow table under owners of their own (`qos|…`), so they travel in the
 * pass's bundle and a restarted agent adopts them.
 */
import { apply, resubmit, setField, setReg } from '../flows/actions.js';
import { flow, type DesiredFlow } from '../flows/flow.js';
import type { FlowTable } from '../flows/flow-table.js';
import { ethType, inPort, reg } from '../flows/match.js';
import { Table } from '../bridges/constants.js';
import type { Action } from '@ovs-agent/openflow';

export const QOS_SETUP_OWNER = 'qos|setup';
export const dscpOwner = (portId: string): string => `qos|dscp|${portId}`;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
/** The priority of the DSCP flows, above anything else of table 0 for the port. */
export const DSCP_PRIORITY = 65535;
export const SET_QUEUE_PRIORITY = 200;
/** NXAST_RESUBMIT's "this table". */
const CURRENT_TABLE = 0xff;

/**
 * `set_queue_for_ingress_bandwidth_limit`: a packet's first visit of table 0 (reg3 = 0) goes to
 * the default queue and round again with reg3 = 1, so it is shaped by its output port's queue 0.
 */
export function setQueueFlow(): DesiredFlow {
  const loadReg3: Action = Object.freeze({ type: 'reg_load', dst: Object.freeze({ field: 'reg3', ofs: 0, nBits: 1 }), value: 1n });
  const setQueue: Action = Object.freeze({ type: 'set_queue', queueId: 0 });
  return flow(Table.LOCAL_SWITCHING, SET_QUEUE_PRIORITY, [reg(3, 0)], apply(setQueue, loadReg3, resubmit(Table.LOCAL_SWITCHING)));
}

/**
 * `install_dscp_marking_rule`: IPv4 and IPv6 from the port get the mark, reg2 = 1 so that they
 * pass the flow only once, and go round table 0 again as coming from the port.
 */
export function dscpFlows(ofport: number, mark: number): DesiredFlow[] {
  const again: Action = Object.freeze({ type: 'resubmit', port: ofport, table: CURRENT_TABLE, ct: false });
  const actions = apply(setReg(2, 1), setField('ip_dscp', mark), again);
  return [ETH_IPV4, ETH_IPV6].map((t) => flow(Table.LOCAL_SWITCHING, DSCP_PRIORITY, [inPort(ofport), reg(2, 0), ethType(t)], actions));
}

export function installSetQueue(table: FlowTable): void {
  table.replace(QOS_SETUP_OWNER, [setQueueFlow()]);
}

export function setPortDscp(table: FlowTable, portId: string, ofport: number, mark: number | undefined): void {
  if (mark === undefined) table.remove(dscpOwner(portId));
  else table.replace(dscpOwner(portId), dscpFlows(ofport, mark));
}
