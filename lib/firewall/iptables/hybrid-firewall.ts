/**
 * `[securitygroup] firewall_driver = iptables_hybrid`: Neutron's
 * OVSHybridIptablesFirewallDriver. Each VM's tap sits on its own Linux
 * bridge (qbr), joined to br-int by a veth pair (qvb/qvo), and the port is
 * filtered there by iptables (physdev matches on the tap), with ipsets for
 * remote groups and a conntrack zone per port (docs/firewall.md,
 * "iptables_hybrid").
 *
 * The agent's pass tells it what changed and calls flush() then apply():
 * apply() computes every chain from the ports and groups (ruleset.ts, no
 * I/O), compares with what the kernel holds and sends the difference as one
 * `ipset restore` and ONE `iptables-restore --noflush` /
 * `ip6tables-restore --noflush` each: a pass costs three processes whatever
 * it changed. The first apply() reads the kernel's rules (iptables-save,
 * ipset save) instead of flushing them, so an agent restart (or taking over
 * from Neutron's agent) leaves no moment without filtering.
 */
import type { SecurityGroupInfo, SecurityGroupRule } from '../../model/index.js';
import type { Firewall, FirewallOptions } from '../driver.js';
import type { FirewallPort } from '../port.js';
import type { Ethertype } from '../rules.js';
import { adoptedKeys, carryAdopted } from './adopted.js';
import { deleteConntrack, remotesRemoved, ruleRemoved, type ConntrackTarget } from './conntrack.js';
import { commandRunner, type Runner } from './exec.js';
import { parseIpsetSave, renderIpsets, setMembers, type IpsetState, type IpsetWant } from './ipsets.js';
import { deviceName, ipsetName, wrapped } from './names.js';
import { portChains, type GroupsView, type HybridPort, type PortChains } from './port-chains.js';
import { parseSave, renderRestore } from './restore.js';
import { buildRuleset, type Family, type Ruleset } from './ruleset.js';
import { Zones } from './zones.js';

export interface HybridFirewallOptions extends FirewallOptions {
  /** How the netfilter tools are run (tests: in a network namespace). */
  run?: Runner;
}

type Members = SecurityGroupInfo['members'][string];

/** What one apply() sent, for tests and the benchmark. */
export interface ApplyResult {
  processes: number;
  restore: Record<Family, string>;
  ipsets: string;
  conntrack: string[][];
  /** Settles when those conntrack entries are deleted (the pass does not wait for it, as Neutron's agent does not). */
  conntrackDone: Promise<void>;
}

const ruleKey = (r: SecurityGroupRule): string =>
  JSON.stringify([r.direction, r.ethertype, r.protocol, r.portRangeMin, r.portRangeMax, r.remoteIpPrefix, r.remoteGroupId, r.remoteAddressGroupId]);

export class HybridIptablesFirewall implements Firewall, GroupsView {
  readonly driver = 'iptables_hybrid';
  /** Neutron's iptables drivers leave ARP/ND/MAC anti-spoofing on br-int to the agent. */
  readonly providesArpSpoofingProtection = false;
  /** Nova plugs VMs through a qbr bridge and a qvb/qvo veth pair (the state report's `ovs_hybrid_plug`). */
  readonly ovsHybridPlug = true;
  protected readonly run: Runner;
  protected readonly ports = new Map<string, HybridPort>();
  private readonly rulesBySg = new Map<string, SecurityGroupRule[]>();
  private readonly statefulBySg = new Map<string, boolean>();
  protected readonly membersBySg = new Map<string, Members>();
  protected readonly zones = new Zones();
  private current: Ruleset | undefined;
  private currentSets: IpsetState = new Map();
  protected dirty = true;
  protected pendingConntrack: string[][] = [];
  /** Zones of ports removed since the last apply, for their conntrack entries. */
  protected readonly removed: ConntrackTarget[] = [];
  /** Ports whose rules were in the kernel at start and that no pass has named yet (adopted.ts); none after the first full sync. */
  private adopted = new Set<string>();
  /** Each filtered port's chains and what they were built from, so an apply rebuilds only the ports that changed. */
  private readonly chainCache = new Map<string, { sig: string; chains: PortChains }>();
  /** Bumped when a group's rules or statefulness change. */
  private readonly groupVersion = new Map<string, number>();
  /** Bumped when a group's ipsets start or stop existing (the rules naming them change). */
  private setsEpoch = 0;
  private versionSeq = 0;
  /** The conntrack deletions in flight, one batch at a time. */
  protected conntrackQueue: Promise<void> = Promise.resolve();

  constructor(protected readonly opts: HybridFirewallOptions = {}) {
    this.run = opts.run ?? commandRunner(opts.netfilterPrefix);
  }

  initialize(): void {}

  // ------------------------------------------------------------ GroupsView

  rules(sgId: string): readonly SecurityGroupRule[] {
    return this.rulesBySg.get(sgId) ?? [];
  }

  stateful(sgId: string): boolean {
    return this.statefulBySg.get(sgId) !== false;
  }

  ipset(sgId: string, ethertype: Ethertype): string | undefined {
    return this.membersBySg.has(sgId) ? ipsetName(sgId, ethertype) : undefined;
  }

  // ------------------------------------------------------------ Firewall

  updateSecurityGroupInfo(info: SecurityGroupInfo): void {
    for (const [sg, rules] of Object.entries(info.rules)) {
      const before = this.rulesBySg.get(sg);
      if (before) {
        const keep = new Set(rules.map(ruleKey));
        const gone = before.filter((r) => !keep.has(ruleKey(r)));
        if (gone.length) this.queueRuleConntrack(sg, gone);
      }
      const stateful = info.stateful?.[sg] !== false;
      if (!before || this.statefulBySg.get(sg) !== stateful || JSON.stringify(before) !== JSON.stringify(rules)) this.groupVersion.set(sg, ++this.versionSeq);
      this.rulesBySg.set(sg, rules);
      this.statefulBySg.set(sg, stateful);
    }
    for (const [sg, m] of Object.entries(info.members)) {
      const before = this.membersBySg.get(sg);
      if (before) this.queueMemberConntrack(sg, before, m);
      else this.setsEpoch++;
      this.membersBySg.set(sg, m);
    }
    this.dirty = true;
  }

  setupPortFilters(ports: readonly FirewallPort[]): void {
    for (const p of ports) this.ports.set(p.portId, hybridPort(p));
    this.dirty = true;
  }

  updatePortFilters(ports: readonly FirewallPort[]): void {
    this.setupPortFilters(ports);
  }

  removePortFilters(portIds: readonly string[]): void {
    for (const id of portIds) {
      const p = this.ports.get(id);
      const zone = this.zones.get(id);
      if (p?.portSecurityEnabled && zone !== undefined) this.removed.push({ fixedIps: p.fixedIps, zone });
      this.ports.delete(id);
      this.adopted.delete(deviceName('tap', id).slice(3));
      this.zones.release(id);
    }
    this.dirty = true;
  }

  /**
   * The first full sync ended: rules of ports no pass named (gone while the
   * agent was down) go with the next apply.
   */
  firstSyncDone(): void {
    if (!this.adopted.size) return;
    this.adopted.clear();
    this.dirty = true;
  }

  isPortManaged(portId: string): boolean {
    return this.ports.has(portId);
  }

  /** Nothing to write into br-int: the work is apply()'s. */
  flush(): void {}

  /**
   * Sends what changed since the last apply to the kernel. Throws (a
   * NetfilterCommandError) when a tool failed: the previous rules stay
   * whole (each restore is atomic) and the next apply retries.
   */
  async apply(): Promise<ApplyResult | undefined> {
    if (!this.dirty && !this.pendingConntrack.length && !this.removed.length) return undefined;
    let processes = 0;
    if (!this.current) {
      const [v4, v6, sets] = await Promise.all([this.run(['iptables-save']), this.run(['ip6tables-save']), this.run(['ipset', 'save'])]);
      processes += 3;
      this.current = { 4: parseSave(v4), 6: parseSave(v6) };
      this.currentSets = parseIpsetSave(sets);
      this.zones.adopt(this.current[4].raw.get(wrapped('PREROUTING')) ?? []);
      this.adopted = adoptedKeys(this.current);
    }
    this.pruneGroups();
    const live = (): Iterable<string> => this.ports.keys();
    const desired = buildRuleset(this.ports.values(), this, (id) => this.zones.zoneOf(id, live), (p) => this.cachedChains(p));
    for (const id of this.ports.keys()) this.adopted.delete(deviceName('tap', id).slice(3));
    carryAdopted(desired, this.current, this.adopted);
    const wantSets = this.wantedIpsets();
    const sets = renderIpsets(this.currentSets, wantSets);
    // An adopted port's chains may still name a set no known port needs: kept until the first full sync ends.
    if (this.adopted.size) for (const n of sets.destroy) if (!wantSets.has(n)) wantSets.set(n, { family: this.currentSets.get(n)!.family, members: [...this.currentSets.get(n)!.members] });
    if (this.adopted.size) sets.destroy = [];
    const restore = { 4: renderRestore(this.current[4], desired[4]), 6: renderRestore(this.current[6], desired[6]) };
    // Sets before the rules that name them; sets no rule names after those rules are gone.
    if (sets.restore) await this.run(['ipset', 'restore'], sets.restore).then(() => processes++);
    await Promise.all([
      restore[4] && this.run(['iptables-restore', '--noflush'], restore[4]).then(() => processes++),
      restore[6] && this.run(['ip6tables-restore', '--noflush'], restore[6]).then(() => processes++),
    ]);
    this.current = desired;
    this.currentSets = new Map([...wantSets].map(([n, w]) => [n, { family: w.family, members: new Set(w.members) }]));
    for (const name of sets.destroy) {
      await this.run(['ipset', 'destroy', name], undefined, [0, 1]);
      processes++;
    }
    const conntrack = this.startConntrack();
    if (conntrack.length) processes++;
    this.dirty = false;
    return { processes, restore, ipsets: sets.restore, conntrack, conntrackDone: this.conntrackQueue };
  }

  // ------------------------------------------------------------ internals

  /** The removed ports' connections queued, then every queued deletion started (the rules are in); returns them. */
  protected startConntrack(): string[][] {
    for (const t of this.removed) this.pendingConntrack.push(...remotesRemoved('IPv4', [], [t]), ...remotesRemoved('IPv6', [], [t]));
    this.removed.length = 0;
    const conntrack = this.pendingConntrack;
    this.pendingConntrack = [];
    // All of them through one process: conntrack -R reads one command per line (Neutron runs one process each).
    // In the background, one batch after the other: thousands of lines take seconds, and the rules are already in.
    if (conntrack.length) {
      this.conntrackQueue = this.conntrackQueue.then(() => deleteConntrack(this.run, conntrack)).catch((err: Error) => {
        this.opts.onError?.(new Error(`conntrack entries of removed rules not deleted: ${err.message}`), {});
      });
    }
    return conntrack;
  }

  private cachedChains(p: HybridPort): PortChains {
    const sig = `${JSON.stringify(p)}|${p.securityGroups.map((sg) => this.groupVersion.get(sg) ?? 0).join(',')}|${this.setsEpoch}`;
    const hit = this.chainCache.get(p.portId);
    if (hit?.sig === sig) return hit.chains;
    const chains = portChains(p, this);
    this.chainCache.set(p.portId, { sig, chains });
    return chains;
  }

  private wantedIpsets(): Map<string, IpsetWant> {
    const out = new Map<string, IpsetWant>();
    for (const { rule: r, remoteGroupId, addresses } of this.remoteGroupRules()) {
      const name = ipsetName(remoteGroupId, r.ethertype);
      if (!out.has(name)) out.set(name, { family: r.ethertype === 'IPv4' ? 'inet' : 'inet6', members: setMembers(addresses()) });
    }
    return out;
  }

  /** Every rule of a filtered port's groups that names a remote group whose members are known, with their addresses of its ethertype. */
  protected *remoteGroupRules(): Generator<{ rule: SecurityGroupRule; remoteGroupId: string; addresses: () => string[] }> {
    for (const p of this.ports.values()) {
      if (!p.portSecurityEnabled) continue;
      for (const sg of p.securityGroups) {
        for (const rule of this.rules(sg)) {
          const remoteGroupId = rule.remoteGroupId;
          const m = remoteGroupId ? this.membersBySg.get(remoteGroupId) : undefined;
          if (!remoteGroupId || !m) continue;
          yield { rule, remoteGroupId, addresses: () => (m[rule.ethertype] ?? []).map(([ip]) => ip) };
        }
      }
    }
  }

  /** Groups no port uses (as its own or as a remote group) are forgotten: the maps stay as big as the host's ports need. */
  protected pruneGroups(): void {
    const used = new Set<string>();
    for (const p of this.ports.values()) {
      for (const sg of p.securityGroups) {
        used.add(sg);
        for (const r of this.rules(sg)) if (r.remoteGroupId) used.add(r.remoteGroupId);
      }
    }
    for (const k of this.membersBySg.keys()) if (!used.has(k)) this.setsEpoch++;
    for (const m of [this.rulesBySg, this.statefulBySg, this.membersBySg, this.groupVersion]) for (const k of m.keys()) if (!used.has(k)) m.delete(k);
    for (const id of this.chainCache.keys()) if (!this.ports.has(id)) this.chainCache.delete(id);
  }

  private targets(filter: (p: HybridPort) => boolean): ConntrackTarget[] {
    const out: ConntrackTarget[] = [];
    for (const p of this.ports.values()) {
      const zone = this.zones.get(p.portId);
      if (p.portSecurityEnabled && zone !== undefined && filter(p)) out.push({ fixedIps: p.fixedIps, zone });
    }
    return out;
  }

  private queueRuleConntrack(sg: string, gone: readonly SecurityGroupRule[]): void {
    const ports = this.targets((p) => p.securityGroups.includes(sg));
    for (const r of gone) this.pendingConntrack.push(...ruleRemoved(r, ports));
  }

  private queueMemberConntrack(sg: string, before: Members, after: Members): void {
    for (const e of ['IPv4', 'IPv6'] as const) {
      const now = new Set((after[e] ?? []).map(([ip]) => ip));
      const gone = (before[e] ?? []).map(([ip]) => ip).filter((ip) => !now.has(ip));
      if (!gone.length) continue;
      const ports = this.targets((p) => p.securityGroups.some((own) => this.rules(own).some((r) => r.remoteGroupId === sg && r.ethertype === e)));
      this.pendingConntrack.push(...remotesRemoved(e, gone, ports));
    }
  }
}

function hybridPort(p: FirewallPort): HybridPort {
  return {
    portId: p.portId, macAddress: p.macAddress, fixedIps: p.fixedIps, allowedAddressPairs: p.allowedAddressPairs,
    securityGroups: p.securityGroups, portSecurityEnabled: p.portSecurityEnabled, deviceOwner: p.deviceOwner,
  };
}
