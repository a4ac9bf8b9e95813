/**
 * One port's flows: its base flows (base-flows.ts), the flows of its groups'
 * plain rules, and its side of their remote-group rules (dimension 2/2 of
 * the conjunctions and their accept flows; remote-groups.ts writes the
 * address side, per network).
 */
import type { ConjIdMap } from './conj-ids.js';
import { PORT_PROTOCOLS } from './constants.js';
import type { DesiredFlow as Flow } from '../flows/flow.js';
import type { SecurityGroups } from './groups.js';
import type { FirewallPort } from './port.js';
import type { PortTemplates } from './port-template.js';
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
  port: FirewallPort, groups: SecurityGroups, conjIds: ConjIdMap, templates: PortTemplates, held: Set<string>,
): Flow[] {
  const stateless = groups.isStateless(port);
  const out = templates.baseFlows(port, stateless ? 'stateless' : 'stateful');
  const ids = acquireConjIds(port, groups, conjIds, held, stateless);
  return templates.ruleFlows(port.ofport, ruleShape(port, groups, ids, stateless), out,
    (ofport) => ruleFlows(ofport, port.securityGroups, groups, ids, stateless));
}

/** Everything a port's rule flows depend on besides its ofport: its groups' rules, its conjunction ids, its mode. */
function ruleShape(port: FirewallPort, groups: SecurityGroups, ids: readonly number[], stateless: boolean): string {
  return [groups.generation, stateless ? 's' : '', port.securityGroups.join('\u0000'), ids.join(',')].join('|');
}

/**
 * The base conjunction id of each remote-group rule of the port's groups,
 * in their order, allocated if new; the port holds them (`held`).
 */
function acquireConjIds(port: FirewallPort, groups: SecurityGroups, conjIds: ConjIdMap, held: Set<string>, stateless: boolean): number[] {
  const ids: number[] = [];
  for (const sgId of port.securityGroups) {
    for (const r of groups.remoteRules(sgId)) ids.push(conjIds.acquire(port.portId, sgId, r.remoteId!, r.direction, r.ethertype, held, stateless));
  }
  return ids;
}

/** The flows of a port's rules: its groups' plain rules, and its side of their remote-group rules (`ids`: acquireConjIds). */
function ruleFlows(ofport: number, securityGroups: readonly string[], groups: SecurityGroups, ids: readonly number[], stateless: boolean): Flow[] {
  const out: Flow[] = [];
  for (const sgId of securityGroups) {
    for (const r of groups.plainRules(sgId)) out.push(...plainRuleFlows(r, ofport, stateless));
  }
  out.push(...remoteRuleFlows(ofport, securityGroups, groups, ids, stateless));
  return out;
}

/** A port's side of its remote-group rules (Neutron's `_add_non_ip_conj_flows`). */
function remoteRuleFlows(ofport: number, securityGroups: readonly string[], groups: SecurityGroups, ids: readonly number[], stateless: boolean): Flow[] {
  const grouped = new Map<string, { direction: Direction; ethertype: Ethertype; protocol?: number; items: Array<{ rule: NormalizedRule; conjId: number }> }>();
  let n = 0;
  for (const sgId of securityGroups) {
    for (const r of groups.remoteRules(sgId)) {
      const conjId = ids[n++] + 2 * priorityOffset(r, true);
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
    for (const cr of merged) out.push(...conjunctionPortFlows(cr, ofport, stateless));
    for (const { conjId } of g.items) {
      const k = `${g.direction}|${g.ethertype}|${conjId}`;
      if (accepted.has(k)) continue;
      accepted.add(k);
      out.push(...conjunctionAcceptFlows(conjId, g.direction, g.ethertype, ofport, stateless));
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
