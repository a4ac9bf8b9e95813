/**
 * The security groups the firewall knows: each group's rules, normalised
 * once when they change and split into plain and remote-group rules, and
 * each group's member addresses. A group that comes again unchanged (the
 * same signature) changes nothing.
 */
import type { SecurityGroupInfo, SecurityGroupRule } from '../model/index.js';
import type { FirewallErrorHandler } from './driver.js';
import type { FirewallPort } from './port.js';
import { normalizeRule, type Ethertype, type NormalizedRule } from './rules.js';

export interface GroupRules {
  signature: string;
  /** False for a stateless group (SecurityGroupInfo.stateful); see PortMode. */
  stateful: boolean;
  plain: NormalizedRule[];
  remote: NormalizedRule[];
  /** Where each normalised rule came from (ovs-agent trace names the rule): the rule as sent, and its place in the group. */
  origins: Map<NormalizedRule, { rule: SecurityGroupRule; index: number }>;
}

/** A member's address (an address or CIDR) and its MAC if known. */
export type Member = [string, string | null];

interface Members {
  signature: string;
  IPv4: Member[];
  IPv6: Member[];
}

const NONE: readonly NormalizedRule[] = [];

export class SecurityGroups {
  private readonly rules = new Map<string, GroupRules>();
  private readonly members = new Map<string, Members>();
  /** Goes up whenever any group's rules change: what was worked out from the rules before is stale. */
  generation = 0;

  constructor(private readonly onError: FirewallErrorHandler) {}

  /** Takes in what the control plane sent; says which groups' rules and which groups' members changed. */
  update(info: SecurityGroupInfo): { rules: string[]; members: string[] } {
    const changed = { rules: [] as string[], members: [] as string[] };
    for (const [sgId, rules] of Object.entries(info.rules)) {
      const stateful = info.stateful?.[sgId] !== false;
      const signature = JSON.stringify([stateful, rules]);
      if (this.rules.get(sgId)?.signature === signature) continue;
      const g: GroupRules = { signature, stateful, plain: [], remote: [], origins: new Map() };
      for (const [index, r] of rules.entries()) {
        try {
          const n = normalizeRule(r);
          (n.remoteId === undefined ? g.plain : g.remote).push(n);
          g.origins.set(n, { rule: r, index });
        } catch (err) {
          this.onError(err as Error, { securityGroupId: sgId });
        }
      }
      this.rules.set(sgId, g);
      changed.rules.push(sgId);
      this.generation++;
    }
    for (const [groupId, m] of Object.entries(info.members)) {
      const signature = JSON.stringify(m);
      if (this.members.get(groupId)?.signature === signature) continue;
      this.members.set(groupId, { signature, IPv4: m.IPv4 ?? [], IPv6: m.IPv6 ?? [] });
      changed.members.push(groupId);
    }
    return changed;
  }

  plainRules(sgId: string): readonly NormalizedRule[] {
    return this.rules.get(sgId)?.plain ?? NONE;
  }

  remoteRules(sgId: string): readonly NormalizedRule[] {
    return this.rules.get(sgId)?.remote ?? NONE;
  }

  /** The rule a normalised rule of the group came from, and its place in the group. */
  originOf(sgId: string, rule: NormalizedRule): { rule: SecurityGroupRule; index: number } | undefined {
    return this.rules.get(sgId)?.origins.get(rule);
  }

  membersOf(groupId: string, ethertype: Ethertype): readonly Member[] {
    return this.members.get(groupId)?.[ethertype] ?? [];
  }

  /**
   * Stateless when every one of the port's groups is (Neutron's API does not
   * let a port mix the two); a port with any stateful group is filtered
   * statefully by all its rules.
   */
  isStateless(port: FirewallPort): boolean {
    return port.securityGroups.length > 0 && port.securityGroups.every((sg) => this.rules.get(sg)?.stateful === false);
  }
}
