/**
 * Security group rule → flows, as Neutron's openvswitch_firewall/rules.py
 * builds them (docs/design.md#the-firewalls-tables, docs/firewall.md).
 */
import type { SecurityGroupRule } from '../model/index.js';
import { ipVersion, isAnyPrefix, matchAddress } from './addresses.js';
import { IP_PROTOCOL_MAP, PORT_PROTOCOLS, Proto, Reg, Table } from './constants.js';
import { flow, type DesiredFlow as Flow } from '../flows/flow.js';
import {
  actions,
  address,
  conjId as conjIdPart,
  conjunction,
  CT,
  ctCommit,
  dlSrc,
  ETH,
  icmpCode,
  icmpType,
  netReg,
  nwProto,
  output,
  portBlock,
  portReg,
  resubmit,
  setReg,
  type ActionPart,
  type MatchPart,
  type MatchParts,
} from './flow-parts.js';

/** Match parts as rules put them together: a /0 address is no part at all. */
type Parts = Array<MatchPart | undefined>;
/** A rule's parts for one port: its parts either side of the port's register, not copied (MatchParts). */
type PortMatch = MatchParts;
import { portRangeMasks } from './port-range.js';

export class RuleError extends Error {
  override readonly name = 'RuleError';
  readonly code = 'FW_BAD_RULE';
}

export type Direction = 'ingress' | 'egress';
export type Ethertype = 'IPv4' | 'IPv6';

/** A rule with its protocol as a number and its prefix validated and normalised. */
export interface NormalizedRule {
  direction: Direction;
  ethertype: Ethertype;
  protocol?: number;
  portRangeMin?: number;
  portRangeMax?: number;
  /** Source (ingress) or destination (egress) prefix as a match value; absent for none or /0. */
  prefix?: string;
  /** `remote_group_id` or `remote_address_group_id`. */
  remoteId?: string;
}

/** Neutron's `SecurityGroup.update_rules` normalisation: digits → number, icmp on IPv6 → 58, names via IANA. */
export function normalizeProtocol(protocol: string | undefined, ethertype: Ethertype): number | undefined {
  if (protocol === undefined || protocol === null) return undefined;
  const p = String(protocol).trim().toLowerCase();
  if (p === '' || p === 'any') return undefined;
  if (/^\d+$/.test(p)) {
    const n = Number(p);
    if (n > 255) throw new RuleError(`protocol number out of range: ${protocol}`);
    return n;
  }
  if (ethertype === 'IPv6' && p === 'icmp') return Proto.ICMPV6;
  const n = IP_PROTOCOL_MAP[p];
  if (n === undefined) throw new RuleError(`unknown protocol ${JSON.stringify(protocol)}`);
  return n;
}

export function normalizeRule(rule: SecurityGroupRule): NormalizedRule {
  if (rule.direction !== 'ingress' && rule.direction !== 'egress') {
    throw new RuleError(`bad direction ${JSON.stringify(rule.direction)} in a rule of ${rule.securityGroupId}`);
  }
  if (rule.ethertype !== 'IPv4' && rule.ethertype !== 'IPv6') {
    throw new RuleError(`bad ethertype ${JSON.stringify(rule.ethertype)} in a rule of ${rule.securityGroupId}`);
  }
  const out: NormalizedRule = { direction: rule.direction, ethertype: rule.ethertype };
  const protocol = normalizeProtocol(rule.protocol, rule.ethertype);
  if (protocol !== undefined) out.protocol = protocol;
  if (rule.portRangeMin !== undefined && rule.portRangeMin !== null) out.portRangeMin = rule.portRangeMin;
  if (rule.portRangeMax !== undefined && rule.portRangeMax !== null) out.portRangeMax = rule.portRangeMax;
  if (rule.remoteIpPrefix && !isAnyPrefix(rule.remoteIpPrefix)) out.prefix = rule.remoteIpPrefix;
  const remote = rule.remoteGroupId ?? rule.remoteAddressGroupId;
  if (remote) out.remoteId = remote;
  return out;
}

const isIcmp = (p: number | undefined): boolean => p === Proto.ICMP || p === Proto.ICMPV6;

/**
 * 70 + offset: remote-group (conjunctive) rules use offsets 0–3, plain rules 4–7;
 * within each, more specific rules get higher offsets.
 */
export function priorityOffset(rule: NormalizedRule, conjunction: boolean): number {
  const base = conjunction ? 0 : 4;
  if (rule.protocol === undefined) return base;
  if (isIcmp(rule.protocol)) {
    if (rule.portRangeMin === undefined) return base + 1;
    if (rule.portRangeMax === undefined) return base + 2;
  }
  return base + 3;
}

const ETH_TYPE = { IPv4: ETH.IPV4, IPv6: ETH.IPV6 } as const;

function addressField(version: 4 | 6, direction: Direction): 'nw_src' | 'ipv6_src' | 'nw_dst' | 'ipv6_dst' {
  if (direction === 'ingress') return version === 4 ? 'nw_src' : 'ipv6_src';
  return version === 4 ? 'nw_dst' : 'ipv6_dst';
}

/** The rule's table and the action that accepts a matching packet there. */
export function ruleTableAndAction(direction: Direction, ofport: number): { table: number; action: ActionPart } {
  return direction === 'ingress'
    ? { table: Table.RULES_INGRESS, action: output(ofport) }
    : { table: Table.RULES_EGRESS, action: resubmit(Table.ACCEPT_OR_INGRESS) };
}

/**
 * The match of one rule with the port left out, as the parts either side of
 * `reg5=<ofport>`: computed once per rule, reused for every port (a group
 * with thousands of ports would otherwise redo the port-range expansion per
 * port).
 */
const templates = new WeakMap<NormalizedRule, Array<[Parts, Parts]>>();

function ruleTemplates(rule: NormalizedRule): Array<[Parts, Parts]> {
  let t = templates.get(rule);
  if (!t) {
    t = ruleMatchesAround(rule);
    templates.set(rule, t);
  }
  return t;
}

/** The match parts of one rule, without ct_state, either side of the port: one entry per port-range block. */
function ruleMatchesAround(rule: NormalizedRule): Array<[Parts, Parts]> {
  const before: Parts = [ETH_TYPE[rule.ethertype]];
  const after: Parts = [];
  if (rule.prefix !== undefined) {
    after.push(address(addressField(ipVersion(rule.prefix), rule.direction), matchAddress(rule.prefix)));
  }
  if (rule.protocol === undefined) return [[before, after]];
  after.push(nwProto(rule.protocol));
  if (isIcmp(rule.protocol)) {
    if (rule.portRangeMin === undefined) return [[before, after]];
    const v6 = rule.ethertype === 'IPv6';
    const m = [...after, icmpType(v6, rule.portRangeMin)];
    if (rule.portRangeMax !== undefined) m.push(icmpCode(v6, rule.portRangeMax));
    return [[before, m]];
  }
  const name = PORT_PROTOCOLS[rule.protocol];
  // Neutron only matches ports when both ends are set (and non-zero).
  if (name === undefined || !rule.portRangeMin || !rule.portRangeMax) return [[before, after]];
  const proto = rule.protocol;
  return portRangeMasks(rule.portRangeMin, rule.portRangeMax).map((v) => [before, [...after, portBlock(proto, v)]]);
}

/** The match parts of one rule for one port, without ct_state: one entry per port-range block. */
export function ruleMatches(rule: NormalizedRule, ofport: number): PortMatch[] {
  const reg = portReg(ofport);
  return ruleTemplates(rule).map(([before, after]) => [before, reg, after]);
}

/** The `+new-est` accept actions: ingress commits the connection here, egress commits in T73. */
function newConnectionParts(direction: Direction, action: ActionPart): ActionPart[] {
  return direction === 'ingress' ? [ctCommit(), action, resubmit(Table.ACCEPTED_INGRESS)] : [action];
}

/** The flows of a plain rule (no remote group): each match twice, for established and for new connections. */
export function plainRuleFlows(rule: NormalizedRule, ofport: number, stateless = false): Flow[] {
  const { table, action } = ruleTableAndAction(rule.direction, ofport);
  const priority = 70 + priorityOffset(rule, false);
  const accept = actions(action);
  if (stateless) return ruleMatches(rule, ofport).map((m) => flow(table, priority, [m, CT.NOT_TRACKED], accept));
  const newAction = actions(...newConnectionParts(rule.direction, action));
  const out: Flow[] = [];
  for (const m of ruleMatches(rule, ofport)) {
    out.push(flow(table, priority, [m, CT.ESTABLISHED_NOT_REPLY], accept));
    out.push(flow(table, priority, [m, CT.NEW_NOT_ESTABLISHED], newAction));
  }
  return out;
}

/** A rule stripped of its remote id, with the conjunction ids it feeds. */
export interface ConjRule {
  rule: NormalizedRule;
  conjIds: number[];
}

/**
 * Neutron's `merge_port_ranges`: rules differing only in port range become
 * non-overlapping ranges, each listing every conjunction id that covers it
 * (two flows with the same match and priority would otherwise overwrite
 * each other's conjunction actions).
 */
export function mergePortRanges(items: ReadonlyArray<{ rule: NormalizedRule; conjId: number }>): ConjRule[] {
  const template = { ...items[0].rule };
  delete template.portRangeMin;
  delete template.portRangeMax;
  if (items.length === 1) return [{ rule: items[0].rule, conjIds: [items[0].conjId] }];
  const ranges = items.map(({ rule, conjId }) => ({
    lo: rule.portRangeMin ?? 1,
    hi: rule.portRangeMax ?? 65535,
    conjId,
  }));
  const points = [...new Set(ranges.flatMap((r) => [r.lo, r.hi + 1]))].sort((a, b) => a - b);
  const pieces: Array<{ lo: number; hi: number; ids: number[] }> = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i];
    const hi = points[i + 1] - 1;
    const ids = [...new Set(ranges.filter((r) => r.lo <= lo && r.hi >= lo).map((r) => r.conjId))].sort((a, b) => a - b);
    if (ids.length === 0) continue;
    const prev = pieces[pieces.length - 1];
    if (prev && prev.hi + 1 === lo && prev.ids.join() === ids.join()) prev.hi = hi;
    else pieces.push({ lo, hi, ids });
  }
  if (pieces.length === 1 && pieces[0].lo === 1 && pieces[0].hi === 65535) {
    return [{ rule: template, conjIds: pieces[0].ids }];
  }
  return pieces.map((p) => ({ rule: { ...template, portRangeMin: p.lo, portRangeMax: p.hi }, conjIds: p.ids }));
}

/** Neutron's `merge_common_rules`: identical rules (ICMP type/code included) share one flow listing all ids. */
export function mergeCommonRules(items: ReadonlyArray<{ rule: NormalizedRule; conjId: number }>): ConjRule[] {
  const byRange = new Map<string, ConjRule>();
  for (const { rule, conjId } of items) {
    const k = `${rule.portRangeMin ?? ''}/${rule.portRangeMax ?? ''}`;
    const e = byRange.get(k);
    if (e) {
      if (!e.conjIds.includes(conjId)) e.conjIds.push(conjId);
    } else byRange.set(k, { rule, conjIds: [conjId] });
  }
  for (const e of byRange.values()) e.conjIds.sort((a, b) => a - b);
  return [...byRange.values()];
}

/** Dimension 2/2 (the port side) of a remote-group rule: `+est-rel-rpl` → ids, `+new-est` → ids+1. */
export function conjunctionPortFlows(cr: ConjRule, ofport: number, stateless = false): Flow[] {
  const { table } = ruleTableAndAction(cr.rule.direction, ofport);
  const priority = 70 + priorityOffset(cr.rule, true);
  const out: Flow[] = [];
  const est = actions(...cr.conjIds.map((id) => conjunction(id, 2, 2)));
  if (stateless) {
    return ruleMatches(cr.rule, ofport).map((m) => flow(table, priority, [m, CT.NOT_TRACKED], est));
  }
  const nw = actions(...cr.conjIds.map((id) => conjunction(id + 1, 2, 2)));
  for (const m of ruleMatches(cr.rule, ofport)) {
    out.push(flow(table, priority, [m, CT.ESTABLISHED_NOT_REPLY], est));
    out.push(flow(table, priority, [m, CT.NEW_NOT_ESTABLISHED], nw));
  }
  return out;
}

/** The priority offset a conjunction id encodes (base ids are multiples of 8, two ids per offset). */
export const offsetOfConjId = (id: number): number => Math.floor((id % 8) / 2);

/** The accept flows of one conjunction id on one port; they also record the id in reg7. */
export function conjunctionAcceptFlows(conjId: number, direction: Direction, ethertype: Ethertype, ofport: number, stateless = false): Flow[] {
  const { table, action } = ruleTableAndAction(direction, ofport);
  const priority = 70 + offsetOfConjId(conjId);
  const reg = portReg(ofport);
  const m = (id: number, state: MatchPart): MatchPart[] => [conjIdPart(id), ETH_TYPE[ethertype], reg, state];
  if (stateless) return [flow(table, priority, m(conjId, CT.NOT_TRACKED), actions(setReg(Reg.REMOTE_GROUP, conjId), action))];
  return [
    flow(table, priority, m(conjId, CT.ESTABLISHED_NOT_REPLY), actions(setReg(Reg.REMOTE_GROUP, conjId), action)),
    flow(table, priority, m(conjId + 1, CT.NEW_NOT_ESTABLISHED), actions(setReg(Reg.REMOTE_GROUP, conjId + 1), ...newConnectionParts(direction, action))),
  ];
}

/**
 * Dimension 1/2 (the address side) for one member address on one network:
 * one flow per priority offset in use, each listing every id at that offset.
 * `cidr` is the normalised member CIDR; a /0 member (an allowed address pair)
 * also matches its MAC.
 */
export function conjunctionAddressFlows(
  cidr: string,
  mac: string | null,
  direction: Direction,
  ethertype: Ethertype,
  lvid: number,
  conjIds: readonly number[],
  stateless = false,
): Flow[] {
  const table = direction === 'ingress' ? Table.RULES_INGRESS : Table.RULES_EGRESS;
  const field = addressField(ipVersion(cidr), direction);
  const byOffset: number[][] = [[], [], [], []];
  for (const id of conjIds) byOffset[offsetOfConjId(id)].push(id);
  const anySource = cidr.endsWith('/0');
  // Lower case: the codec's spelling of a MAC, so the flow reads back from the switch as written.
  const base = [ETH_TYPE[ethertype], netReg(lvid), address(field, cidr), anySource && mac ? dlSrc(mac.toLowerCase()) : undefined];
  const out: Flow[] = [];
  for (let offset = 0; offset < 4; offset++) {
    const ids = byOffset[offset];
    if (ids.length === 0) continue;
    const est = actions(...ids.map((i) => conjunction(i, 1, 2)));
    if (stateless) {
      out.push(flow(table, 70 + offset, [base, CT.NOT_TRACKED], est));
      continue;
    }
    out.push(flow(table, 70 + offset, [base, CT.ESTABLISHED_NOT_REPLY], est));
    out.push(flow(table, 70 + offset, [base, CT.NEW_NOT_ESTABLISHED], actions(...ids.map((i) => conjunction(i + 1, 1, 2)))));
  }
  return out;
}
