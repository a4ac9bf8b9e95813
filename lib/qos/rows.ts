/**
 * The OVSDB rows Neutron 21's OVS agent writes for a port's bandwidth
 * limits (docs/qos.md, "What is written on the switch"), as plain data: the
 * writer (lib/agent/ovs/qos-rows.ts) makes the switch hold exactly these, so
 * rows Neutron's agent wrote are adopted as they are and Neutron's agent
 * recognises ours.
 */
import type { PortQosSettings } from './port-qos.js';

/** The rule type Neutron names its bandwidth-limit QoS and Queue rows with. */
export const BANDWIDTH_LIMIT = 'bandwidth_limit';
/** linux-htb's rate ceiling Neutron gives the QoS row (2^35 - 1 bit/s). */
export const OVS_MAX_RATE = String(2 ** 35 - 1);
/** The queue all traffic not sent to another goes through (Neutron's QOS_DEFAULT_QUEUE). */
export const DEFAULT_QUEUE = 0;
/** Interface types on which ovs-vswitchd shapes with egress-policer instead of linux-htb (DPDK). */
export const DPDK_TYPES: ReadonlySet<string> = new Set(['dpdk', 'dpdkr', 'dpdkvhostuser', 'dpdkvhostuserclient']);

export interface QueueRow {
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
}

export interface QosRow {
  type: 'linux-htb' | 'egress-policer';
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  /** The queue at DEFAULT_QUEUE (linux-htb only). */
  queue?: QueueRow;
}

/** The Port's QoS row (and its queue) for traffic to the VM, or undefined when none is wanted. */
export function ingressRows(portName: string, ifaceType: string, settings: PortQosSettings): QosRow | undefined {
  const limit = settings.ingress;
  if (!limit) return undefined;
  if (DPDK_TYPES.has(ifaceType)) {
    // cir and cbs are in bytes.
    return {
      type: 'egress-policer', externalIds: { id: portName },
      otherConfig: { cir: String(Math.floor((limit.maxKbps * 1000) / 8)), cbs: String(Math.floor((limit.burstKbps * 1000) / 8)) },
    };
  }
  const queueConfig: Record<string, string> = {};
  if (limit.maxKbps) {
    queueConfig['max-rate'] = String(limit.maxKbps * 1000);
    queueConfig.burst = String(limit.burstKbps * 1000);
  }
  return {
    type: 'linux-htb',
    externalIds: { id: portName, _type: BANDWIDTH_LIMIT },
    otherConfig: { 'max-rate': OVS_MAX_RATE },
    queue: { otherConfig: queueConfig, externalIds: { port: portName, type: BANDWIDTH_LIMIT, 'queue-num': String(DEFAULT_QUEUE) } },
  };
}

/** Whether a QoS row is one of the bandwidth-limit rows Neutron's agent (or this one) made, and for which port. */
export function bandwidthRowPort(externalIds: ReadonlyMap<string, string>, type: string): string | undefined {
  const id = externalIds.get('id');
  if (id === undefined) return undefined;
  if (externalIds.get('_type') === BANDWIDTH_LIMIT && type === 'linux-htb') return id;
  if (type === 'egress-policer' && !externalIds.has('_type')) return id;
  return undefined;
}
