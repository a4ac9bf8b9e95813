/**
 * The `qosPolicies` part of the local control plane's desired-state file
 * (docs/qos.md, "With the local control plane"): Neutron's QoS policies and
 * rules in camelCase. A port or network names its policy with `qosPolicyId`.
 *
 *   "qosPolicies": [{ "id": "gold", "rules": [
 *       { "type": "bandwidth_limit", "maxKbps": 10000, "maxBurstKbps": 8000, "direction": "egress" },
 *       { "type": "dscp_marking", "dscpMark": 26 }] }]
 */
import { QOS_RULE_TYPES, type QosPolicy, type QosRule } from '../../model/index.js';
import { StateFileError } from './state-file.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Neutron's VALID_DSCP_MARKS. */
const DSCP_MARKS = new Set([0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56]);

export function parseQosPolicies(json: unknown, file: string): Map<string, QosPolicy> {
  const out = new Map<string, QosPolicy>();
  if (json === undefined) return out;
  if (!Array.isArray(json)) throw new StateFileError(file, 'qosPolicies', 'must be an array of { id, rules }');
  json.forEach((p, i) => {
    const path = `qosPolicies[${i}]`;
    if (!isObj(p) || typeof p.id !== 'string' || p.id === '') throw new StateFileError(file, path, 'must be an object with a non-empty string "id"');
    if (out.has(p.id)) throw new StateFileError(file, `${path}.id`, `policy ${p.id} appears twice`);
    const rules = p.rules ?? [];
    if (!Array.isArray(rules)) throw new StateFileError(file, `${path}.rules`, 'must be an array');
    out.set(p.id, { id: p.id, rules: rules.map((r, j) => parseRule(r, `${path}.rules[${j}]`, file)) });
  });
  return out;
}

function parseRule(r: unknown, path: string, file: string): QosRule {
  const fail = (where: string, detail: string): never => {
    throw new StateFileError(file, where ? `${path}.${where}` : path, detail);
  };
  if (!isObj(r)) return fail('', 'must be an object');
  const o = r as Obj;
  const id = o.id === undefined ? path : typeof o.id === 'string' ? o.id : fail('id', 'must be a string');
  const int = (key: string, dflt?: number): number => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) return fail(key, 'must be an integer in 0..2147483647');
    return v;
  };
  const direction = (any = false): 'egress' | 'ingress' => {
    const d = o.direction ?? 'egress';
    if (d !== 'egress' && d !== 'ingress' && !(any && d === 'any')) return fail('direction', `must be egress or ingress${any ? ' or any' : ''}`);
    return d as 'egress' | 'ingress';
  };
  switch (o.type) {
    case 'bandwidth_limit':
      return { type: 'bandwidth_limit', id, maxKbps: int('maxKbps'), maxBurstKbps: int('maxBurstKbps', 0), direction: direction() };
    case 'dscp_marking': {
      const mark = int('dscpMark');
      if (!DSCP_MARKS.has(mark)) fail('dscpMark', `${mark} is not a valid DSCP mark (${[...DSCP_MARKS].join(', ')})`);
      return { type: 'dscp_marking', id, dscpMark: mark };
    }
    case 'minimum_bandwidth':
      return { type: 'minimum_bandwidth', id, minKbps: int('minKbps'), direction: direction() };
    case 'packet_rate_limit':
      return { type: 'packet_rate_limit', id, maxKpps: int('maxKpps'), maxBurstKpps: int('maxBurstKpps', 0), direction: direction() };
    case 'minimum_packet_rate':
      return { type: 'minimum_packet_rate', id, minKpps: int('minKpps'), direction: direction(true) };
    default:
      return fail('type', `must be one of ${QOS_RULE_TYPES.join(', ')}`);
  }
}
