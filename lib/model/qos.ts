/**
 * QoS policies as the agent's parts see them (docs/qos.md): a policy is its
 * id and its rules, as Neutron's QosPolicy object carries them. Field names
 * are camelCase versions of Neutron's; the control planes convert at their
 * edge.
 */

export type QosDirection = 'egress' | 'ingress';

/** The rule types this agent knows (and the local desired-state file accepts). */
export type KnownQosRule =
  | { type: 'bandwidth_limit'; id: string; maxKbps: number; maxBurstKbps: number; direction: QosDirection }
  | { type: 'dscp_marking'; id: string; dscpMark: number }
  | { type: 'minimum_bandwidth'; id: string; minKbps: number; direction: QosDirection }
  | { type: 'packet_rate_limit'; id: string; maxKpps: number; maxBurstKpps: number; direction: QosDirection }
  | { type: 'minimum_packet_rate'; id: string; minKpps: number; direction: QosDirection | 'any' };

/**
 * A rule the server sent whose object this agent does not know (a newer
 * server's rule type): kept so that it is warned as not enforced, as
 * Neutron's driver warns and skips a rule type it does not support.
 */
export interface UnsupportedQosRule { type: 'unsupported'; id: string; objectName: string }

export type QosRule = KnownQosRule | UnsupportedQosRule;

export type QosRuleType = KnownQosRule['type'];

export const QOS_RULE_TYPES: readonly QosRuleType[] = ['bandwidth_limit', 'dscp_marking', 'minimum_bandwidth', 'packet_rate_limit', 'minimum_packet_rate'];

export interface QosPolicy {
  id: string;
  rules: QosRule[];
}
