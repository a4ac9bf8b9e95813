/**
 * One port's flows: its base flows (base-flows.ts), the flows of its groups'
 * plain rules, and its side of their remote-group rules (dimension 2/2 of
 * the conjunctions and their accept flows; remote-groups.ts writes the
 * address side, per network).
 */
import { filteredPortBaseFlows, type BaseFlowOptions } from './base-flows.js';
import type { ConjIdMap } from './conj-ids.js';
import { PORT_PROTOCOLS } from './constants.js';
import type { DesiredFlow as Flow } from '../flows/flow.js';
import type { SecurityGroups } from './groups.js';
import type { FirewallPort } from './port.js';
import {
  conjunctionAcceptFlows,
  conjunctionPortFlows,
  mergeCommonRules,
  mergePortRanges,
  plainRuleFlows,
  priorityOffset,
  type Direction,
  type Ethertype,
  type NormalizedRule,
} from './rules.js';

/**
 * The flows of a filtered port. `held` collects the conjunction ids the port
 * uses (ConjIdMap.releaseUser keeps those). Throws when the port's
 * addresses cannot be turned into flows.
 */
export function filteredPortFlows(
  port: FirewallPort, groups: SecurityGroups, conjIds: ConjIdMap, options: BaseFlowOptions, held: Set<string>,
): Flow[] {
  const stateless = groups.isStateless(port);
  const out = filteredPortBaseFlows(port, options, stateless ? 'stateless' : 'stateful');
  for (const sgId of port.securityGroups) {
    for (const r of groups.plainRules(sgId)) out.push(...plainRuleFlows(r, port.ofport, stateless));
  }
  out.push(...remoteRuleFlows(port, groups, conjIds, held, stateless));
  return out;
}

/** A port's side of its remote-group rules (Neutron's `_add_non_ip_conj_flows`). */
function remoteRuleFlows(port: FirewallPort, groups: SecurityGroups, conjIds: ConjIdMap, held: Set<string>, stateless: boolean): Flow[] {
  const grouped = new Map<string, { direction: Direction; ethertype: Ethertype; protocol?: number; items: Array<{ rule: NormalizedRule; conjId: number }> }>();
  for (const sgId of port.securityGroups) {
    for (const r of groups.remoteRules(sgId)) {
      const base = conjIds.acquire(port.portId, sgId, r.remoteId!, r.direction, r.ethertype, held, stateless);
      const conjId = base + 2 * priorityOffset(r, true);
      const rule = withoutRemote(r);
      // Neutron merges by (direction, ethertype, protocol); the prefix is part of the key here so
      // rules that cannot be merged never are.
      const k = `${r.direction}|${r.ethertype}|${r.protocol ?? ''}|${r.prefix ?? ''}`;
      let g = grouped.get(k);
      if (!g) {
        g = { direction: r.direction, ethertype: r.ethertype, protocol: r.protocol, items: [] };
        grouped.set(k, g);
      }
      g.items.push({ rule, conjId });
    }
  }
  const out: Flow[] = [];
  const accepted = new Set<string>();
  for (const g of grouped.values()) {
    const merged = g.protocol !== undefined && PORT_PROTOCOLS[g.protocol] !== undefined ? mergePortRanges(g.items) : mergeCommonRules(g.items);
    for (const cr of merged) out.push(...conjunctionPortFlows(cr, port.ofport, stateless));
    for (const { conjId } of g.items) {
      const k = `${g.direction}|${g.ethertype}|${conjId}`;
      if (accepted.has(k)) continue;
      accepted.add(k);
      out.push(...conjunctionAcceptFlows(conjId, g.direction, g.ethertype, port.ofport, stateless));
    }
  }
  return out;
}

/**
 * A remote-group rule without its remote id, the same object each time: the
 * port side of the rule is then the same for every port, and rules.ts
 * computes its matches once per rule rather than once per port.
 */
const strippedRules = new WeakMap<NormalizedRule, NormalizedRule>();

function withoutRemote(r: NormalizedRule): NormalizedRule {
  let s = strippedRules.get(r);
  if (!s) {
    const { remoteId: _remote, ...rest } = r;
    s = rest;
    strippedRules.set(r, s);
  }
  return s;
}
