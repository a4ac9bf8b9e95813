/**
 * Which security-group rule a flow of a port's filter comes from, for
 * `ovs-agent trace` (docs/operations.md): the flows of the port's plain
 * rules are computed again, as port-filter.ts computes them, and compared
 * with the flow by key. A flow of the remote-group conjunctions (conj_id)
 * is said to come from the port's remote-group rules as a whole (Neutron
 * merges them, so one flow may serve several). Computed when asked, never
 * during a pass.
 */
import type { SecurityGroupRule } from '../model/index.js';
import { keyText } from '../flows/flow.js';
import type { SecurityGroups } from './groups.js';
import type { FirewallPort } from './port.js';
import { plainRuleFlows } from './rules.js';

/** A rule for people: `ingress IPv4 tcp 22 from 10.0.0.0/8`. */
export function describeRule(r: SecurityGroupRule): string {
  const ports = r.portRangeMin === undefined ? '' : r.portRangeMax === undefined || r.portRangeMax === r.portRangeMin
    ? ` ${r.portRangeMin}` : ` ${r.portRangeMin}-${r.portRangeMax}`;
  const towards = r.direction === 'ingress' ? 'from' : 'to';
  const remote = r.remoteIpPrefix ? ` ${towards} ${r.remoteIpPrefix}`
    : r.remoteGroupId ? ` ${towards} group ${r.remoteGroupId}` : r.remoteAddressGroupId ? ` ${towards} address group ${r.remoteAddressGroupId}` : '';
  return `${r.direction} ${r.ethertype} ${r.protocol ?? 'any protocol'}${ports}${remote}`;
}

/** How a rule is named: its id, or its place in its group when the control plane gave none. */
const ruleName = (rule: SecurityGroupRule, index: number): string => rule.id ?? `#${index + 1}`;

/** What in the port's security groups a flow of its filter (by key) comes from; undefined when no rule (a base flow). */
export function ruleOriginOf(port: FirewallPort, groups: SecurityGroups, key: string): string | undefined {
  if (!port.portSecurityEnabled) return undefined;
  const stateless = groups.isStateless(port);
  const found: string[] = [];
  for (const sgId of port.securityGroups) {
    for (const r of groups.plainRules(sgId)) {
      if (!plainRuleFlows(r, port.ofport, stateless).some((f) => f.key === key)) continue;
      const o = groups.originOf(sgId, r);
      if (o) found.push(`security-group rule ${ruleName(o.rule, o.index)} of group ${sgId} (${describeRule(o.rule)})`);
    }
  }
  if (found.length) return found.join('; ');
  if (!keyText(key).includes('conj_id=')) return undefined;
  const remote = port.securityGroups.flatMap((sgId) => groups.remoteRules(sgId).flatMap((r) => {
    const o = groups.originOf(sgId, r);
    return o ? [`${ruleName(o.rule, o.index)} of group ${sgId} (${describeRule(o.rule)})`] : [];
  }));
  return remote.length ? `security-group remote-group rules: ${remote.join('; ')}` : undefined;
}
