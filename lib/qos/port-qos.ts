/**
 * What a QoS policy asks of one port (docs/qos.md), as Neutron 21's OVS
 * driver reads it: which rules apply to the port (a network's policy does
 * not apply to the network's own devices, routers' gateways excepted), and
 * the settings they make.
 */
import type { PortDetails, QosRule } from '../model/index.js';

/** The share of the rate taken as the burst when a bandwidth limit gives none (Neutron's default burst rate). */
export const DEFAULT_BURST_RATE = 0.8;

/** What the switch is to enforce on one port; absent parts are not enforced. */
export interface PortQosSettings {
  /** From the VM: the Interface's ingress policing (kbps, kbits). */
  egress?: { rateKbps: number; burstKbps: number };
  /** To the VM: a QoS row on the Port (kbps, kbits). */
  ingress?: { maxKbps: number; burstKbps: number };
  /** DSCP mark of the IP packets the VM sends. */
  dscp?: number;
}

export interface PortQosPlan {
  /** The policy applied (undefined: none). */
  policyId: string | undefined;
  settings: PortQosSettings;
  /** Rules of the policy that apply to the port but that this agent cannot enforce, each with why. */
  notEnforced: Array<{ rule: QosRule; why: string }>;
}

/** Owners' prefixes of the devices Neutron calls network devices (neutron_lib's DEVICE_OWNER_PREFIXES). */
const NETWORK_DEVICE_PREFIXES = ['network:', 'neutron:'];
const GATEWAY_OWNERS = ['network:floatingip_agent_gateway', 'network:router_gateway'];

/** `should_apply_to_port`: a port's own policy always; its network's only when it has none and is not a network device (router gateways are). */
export function ruleAppliesToPort(d: PortDetails): boolean {
  if (d.qosPolicyId) return true;
  const owner = d.deviceOwner ?? '';
  const networkDevice = NETWORK_DEVICE_PREFIXES.some((p) => owner.startsWith(p));
  const gateway = GATEWAY_OWNERS.some((p) => owner.startsWith(p));
  return gateway || !networkDevice;
}

export const NOT_ENFORCED = {
  minimumBandwidthEgress: 'minimum_bandwidth egress needs linux-htb queues on the physical bridges\' NICs, which this agent does not set up',
  packetRateLimit: 'packet_rate_limit needs OpenFlow meters, which this agent does not program',
} as const;

/** The settings of the policy the control plane resolved for the port. */
export function planPortQos(d: PortDetails): PortQosPlan {
  const policy = d.qosPolicy;
  const plan: PortQosPlan = { policyId: policy?.id, settings: {}, notEnforced: [] };
  if (!policy || !ruleAppliesToPort(d)) return { ...plan, policyId: policy && ruleAppliesToPort(d) ? policy.id : undefined };
  for (const rule of policy.rules) {
    switch (rule.type) {
      case 'bandwidth_limit':
        if (rule.direction === 'ingress') plan.settings.ingress = { maxKbps: rule.maxKbps, burstKbps: rule.maxBurstKbps };
        else plan.settings.egress = { rateKbps: rule.maxKbps, burstKbps: Math.trunc(rule.maxBurstKbps || rule.maxKbps * DEFAULT_BURST_RATE) };
        break;
      case 'dscp_marking':
        plan.settings.dscp = rule.dscpMark;
        break;
      case 'minimum_bandwidth':
        // Ingress: Neutron's driver enforces nothing either (placement only).
        if (rule.direction === 'egress') plan.notEnforced.push({ rule, why: NOT_ENFORCED.minimumBandwidthEgress });
        break;
      case 'packet_rate_limit':
        plan.notEnforced.push({ rule, why: NOT_ENFORCED.packetRateLimit });
        break;
      case 'minimum_packet_rate':
        // Placement only, in Neutron's driver too: nothing to enforce on the switch.
        break;
      case 'unsupported':
        plan.notEnforced.push({ rule, why: `rule type ${rule.objectName} is not known to this agent` });
        break;
    }
  }
  return plan;
}

export function sameSettings(a: PortQosSettings, b: PortQosSettings): boolean {
  return JSON.stringify([a.egress, a.ingress, a.dscp]) === JSON.stringify([b.egress, b.ingress, b.dscp]);
}
