/**
 * Security groups as Neutron's `openvswitch` firewall driver programs them
 * (docs/design.md#the-firewalls-tables), computed without I/O.
 *
 * The agent feeds the firewall what changed (ports, security group rules and
 * members) during a pass, then calls `flush()` once and puts the returned
 * flow-mods in the pass's bundle. Flows are grouped by owner so an update
 * touches only what it concerns:
 *
 *  - `p|<port id>`: a port's base flows, plain-rule flows, and its side
 *    (dimension 2/2 and accept flows) of remote-group rules;
 *  - `a|<lvid>|<direction>|<ethertype>|<mode>|<member>`: the address side
 *    (dimension 1/2) of remote groups, one owner per member address per
 *    network, so a membership change rewrites only that member's flows
 *    whatever the group's size (O(N) flows for N members, never O(N²)).
 *
 * The flows go into br-int's flow table (lib/flows) under these owners,
 * prefixed `fw|`; it is the only ledger. Unlike Neutron, which deletes and
 * re-adds every flow of a port on any change (under a temporary cookie), the
 * table's diff sends only the flows that differ, in the pass's one atomic
 * bundle, so no packet sees a half-applied change.
 */
import type { SecurityGroupInfo } from '../model/index.js';
import { parseCidr } from './addresses.js';
import { egressClassificationFlow, filteredPortBaseFlows, initFlows, unfilteredPortFlows, type BaseFlowOptions } from './base-flows.js';
import { ConjIdMap } from './conj-ids.js';
import { PORT_PROTOCOLS } from './constants.js';
import type { DesiredFlow as Flow } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { supportedFirewallDriver, type FirewallDriverName } from './drivers.js';
import { dlType, type MatchPart } from './flow-parts.js';
import type { FirewallPort } from './port.js';
import {
  conjunctionAcceptFlows,
  conjunctionAddressFlows,
  conjunctionPortFlows,
  mergeCommonRules,
  mergePortRanges,
  normalizeRule,
  plainRuleFlows,
  priorityOffset,
  type Direction,
  type Ethertype,
  type NormalizedRule,
} from './rules.js';

export type { FirewallDriverName } from './drivers.js';

export interface FirewallOptions {
  /** br-int's flow table, which the firewall's flows go into. Default: a table of the firewall's own (tests, benchmarks). */
  flows?: FlowTable;
  /** The cookie of that own table. */
  cookie?: bigint;
  /** `[securitygroup] permitted_ethertypes` (hex strings such as `0x4008`). */
  permittedEthertypes?: string[];
  /** The highest conj_id already on the bridge (agent restart), so new ids never collide with live ones. */
  highestConjId?: number;
  /** Told about rules and ports that could not be turned into flows (they are skipped / the port is blocked). */
  onError?: (error: Error, context: { securityGroupId?: string; portId?: string }) => void;
}

/** What the agent calls; `NoopFirewall` implements it too. */
export interface Firewall {
  readonly driver: FirewallDriverName;
  /**
   * Whether the driver keeps a port from claiming others' addresses itself;
   * when it does not, the agent installs br-int's ARP/ND/MAC anti-spoofing
   * flows (Neutron's `provides_arp_spoofing_protection`).
   */
  readonly providesArpSpoofingProtection: boolean;
  /**
   * The bridge-wide flows, once at start, into br-int's table: from then on
   * every flush writes there (the table keeps them across switch restarts).
   */
  initialize(flows?: FlowTable): void;
  updateSecurityGroupInfo(info: SecurityGroupInfo): void;
  setupPortFilters(ports: readonly FirewallPort[]): void;
  updatePortFilters(ports: readonly FirewallPort[]): void;
  removePortFilters(portIds: readonly string[]): void;
  isPortManaged(portId: string): boolean;
  /** Writes everything changed since the last flush into the table. */
  flush(): void;
}

/** Owners of the firewall's flows in br-int's table. */
const OWNER = 'fw|';

interface GroupRules {
  signature: string;
  /** False for a stateless group (SecurityGroupInfo.stateful); see PortMode. */
  stateful: boolean;
  plain: NormalizedRule[];
  remote: NormalizedRule[];
}

interface AddressEntry {
  cidr: string;
  mac: string | null;
  ids: Set<number>;
}


export class OvsFirewall implements Firewall {
  readonly driver = 'openvswitch';
  /** Table 71 keeps a port to its own MAC/IP pairs, ARP and ND included. */
  readonly providesArpSpoofingProtection = true;
  /** Where the flows go: br-int's table (or the firewall's own). */
  flows: FlowTable;
  private readonly conjIds: ConjIdMap;
  private readonly baseOptions: BaseFlowOptions;
  private readonly onError: NonNullable<FirewallOptions['onError']>;

  private readonly ports = new Map<string, FirewallPort>();
  private readonly portsByLvid = new Map<number, Set<string>>();
  private readonly groups = new Map<string, GroupRules>();
  private readonly members = new Map<string, { signature: string; IPv4: Array<[string, string | null]>; IPv6: Array<[string, string | null]> }>();
  /**
   * Per network: the conjunction ids its ports' remote-group rules use, by
   * (direction, ethertype) and remote group, and the remote groups named.
   * Kept across membership changes, which only re-read member addresses.
   */
  private readonly netWanted = new Map<number, { wanted: Map<string, Map<string, Set<number>>>; remotes: Set<string> }>();
  /** Per network: address owner → signature (its sorted conj ids) last emitted. */
  private readonly netAddresses = new Map<number, Map<string, string>>();
  private readonly cidrCache = new Map<string, { cidr: string; any: boolean }>();
  private readonly failed = new Set<string>();

  private readonly dirtyPorts = new Set<string>();
  private readonly dirtyNets = new Set<number>();

  constructor(options: FirewallOptions = {}) {
    this.flows = options.flows ?? new FlowTable('br-int', options.cookie ?? 0n);
    this.conjIds = new ConjIdMap(options.highestConjId ?? 0);
    this.onError = options.onError ?? (() => {});
    this.baseOptions = { permittedEthertypes: (options.permittedEthertypes ?? []).flatMap((et) => this.ethertypePart(et)) };
  }

  /** As Neutron: a permitted ethertype that is not a hex number is reported and left out, the others still apply. */
  private ethertypePart(et: string): MatchPart[] {
    try {
      return [dlType(et)];
    } catch (err) {
      this.onError(new FirewallConfigError(`[securitygroup] permitted_ethertypes: ${(err as Error).message}; ignored`), {});
      return [];
    }
  }

  initialize(flows?: FlowTable): void {
    if (flows) this.flows = flows;
    this.flows.replace(`${OWNER}init`, initFlows());
  }

  updateSecurityGroupInfo(info: SecurityGroupInfo): void {
    for (const [sgId, rules] of Object.entries(info.rules)) {
      const stateful = info.stateful?.[sgId] !== false;
      const signature = JSON.stringify([stateful, rules]);
      if (this.groups.get(sgId)?.signature === signature) continue;
      const g: GroupRules = { signature, stateful, plain: [], remote: [] };
      for (const r of rules) {
        try {
          const n = normalizeRule(r);
          (n.remoteId === undefined ? g.plain : g.remote).push(n);
        } catch (err) {
          this.onError(err as Error, { securityGroupId: sgId });
        }
      }
      this.groups.set(sgId, g);
      for (const p of this.ports.values()) {
        if (!p.securityGroups.includes(sgId)) continue;
        this.dirtyPorts.add(p.portId);
        this.markNet(p.lvid, true);
      }
    }
    for (const [groupId, m] of Object.entries(info.members)) {
      const signature = JSON.stringify(m);
      if (this.members.get(groupId)?.signature === signature) continue;
      this.members.set(groupId, { signature, IPv4: m.IPv4 ?? [], IPv6: m.IPv6 ?? [] });
      for (const [lvid, net] of this.netWanted) if (net.remotes.has(groupId)) this.markNet(lvid, false);
    }
  }

  setupPortFilters(ports: readonly FirewallPort[]): void {
    for (const p of ports) this.upsertPort(p);
  }

  updatePortFilters(ports: readonly FirewallPort[]): void {
    for (const p of ports) this.upsertPort(p);
  }

  removePortFilters(portIds: readonly string[]): void {
    for (const id of portIds) {
      const old = this.ports.get(id);
      if (!old) continue;
      this.ports.delete(id);
      this.portsByLvid.get(old.lvid)?.delete(id);
      this.dirtyPorts.add(id);
      this.markNet(old.lvid, true);
    }
  }

  isPortManaged(portId: string): boolean {
    return this.ports.has(portId);
  }

  /** Ports whose flows could not be built (bad addresses): they are blocked until updated. */
  failedPorts(): string[] {
    return [...this.failed];
  }

  flush(): void {
    for (const id of this.dirtyPorts) this.flows.replace([OWNER, 'p|', id].join(''), this.portFlows(id));
    this.dirtyPorts.clear();
    for (const lvid of this.dirtyNets) this.refreshNetwork(lvid);
    this.dirtyNets.clear();
  }

  /** Every flow the firewall wants (tests, benchmarks). */
  wantedFlows(): Flow[] {
    return this.flows.flowsOfOwners(OWNER);
  }

  private upsertPort(p: FirewallPort): void {
    const old = this.ports.get(p.portId);
    if (old && old.lvid !== p.lvid) {
      this.portsByLvid.get(old.lvid)?.delete(p.portId);
      this.markNet(old.lvid, true);
    }
    const port = { ...p, securityGroups: [...p.securityGroups] };
    this.ports.set(p.portId, port);
    let set = this.portsByLvid.get(p.lvid);
    if (!set) {
      set = new Set();
      this.portsByLvid.set(p.lvid, set);
    }
    set.add(p.portId);
    this.dirtyPorts.add(p.portId);
    this.markNet(p.lvid, true);
  }

  /** `structure`: the ports or rules of the network changed, not only member addresses. */
  private markNet(lvid: number, structure: boolean): void {
    this.dirtyNets.add(lvid);
    if (structure) this.netWanted.delete(lvid);
  }

  private portFlows(portId: string): Flow[] {
    const port = this.ports.get(portId);
    this.failed.delete(portId);
    if (!port) {
      this.conjIds.releaseUser(portId);
      return [];
    }
    if (!port.portSecurityEnabled) {
      this.conjIds.releaseUser(portId);
      return unfilteredPortFlows(port);
    }
    const held = new Set<string>();
    const stateless = this.isStateless(port);
    try {
      const out = filteredPortBaseFlows(port, this.baseOptions, stateless ? 'stateless' : 'stateful');
      for (const sgId of port.securityGroups) {
        for (const r of this.groups.get(sgId)?.plain ?? []) out.push(...plainRuleFlows(r, port.ofport, stateless));
      }
      out.push(...this.remoteRuleFlows(port, held, stateless));
      this.conjIds.releaseUser(portId, held);
      return out;
    } catch (err) {
      this.conjIds.releaseUser(portId, held);
      this.failed.add(portId);
      this.onError(err as Error, { portId });
      // Egress goes to T71, which has nothing for this port but its default drop.
      return [egressClassificationFlow(port)];
    }
  }

  /**
   * Stateless when every one of the port's groups is (Neutron's API does not
   * let a port mix the two); a port with any stateful group is filtered
   * statefully by all its rules.
   */
  private isStateless(port: FirewallPort): boolean {
    return port.securityGroups.length > 0 && port.securityGroups.every((sg) => this.groups.get(sg)?.stateful === false);
  }

  /** A port's side of its remote-group rules (Neutron's `_add_non_ip_conj_flows`). */
  private remoteRuleFlows(port: FirewallPort, held: Set<string>, stateless: boolean): Flow[] {
    const grouped = new Map<string, { direction: Direction; ethertype: Ethertype; protocol?: number; items: Array<{ rule: NormalizedRule; conjId: number }> }>();
    for (const sgId of port.securityGroups) {
      for (const r of this.groups.get(sgId)?.remote ?? []) {
        const base = this.conjIds.acquire(port.portId, sgId, r.remoteId!, r.direction, r.ethertype, held, stateless);
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

  private memberCidr(ip: string): { cidr: string; any: boolean } {
    let c = this.cidrCache.get(ip);
    if (!c) {
      const p = parseCidr(ip);
      c = { cidr: `${p.address}/${p.prefixLen}`, any: p.prefixLen === 0 };
      this.cidrCache.set(ip, c);
    }
    return c;
  }

  /** Rewrites the address side of remote-group conjunctions on one network, only for members whose ids changed. */
  private refreshNetwork(lvid: number): void {
    let net = this.netWanted.get(lvid);
    if (!net) {
      net = this.networkConjIds(lvid);
      this.netWanted.set(lvid, net);
    }
    this.writeNetworkAddresses(lvid, net.wanted);
  }

  /** Which conjunction ids the ports of one network use, per (direction, ethertype) and remote group. */
  private networkConjIds(lvid: number): { wanted: Map<string, Map<string, Set<number>>>; remotes: Set<string> } {
    const wanted = new Map<string, Map<string, Set<number>>>();
    const remotes = new Set<string>();
    for (const portId of this.portsByLvid.get(lvid) ?? []) {
      const port = this.ports.get(portId);
      if (!port?.portSecurityEnabled || this.failed.has(portId)) continue;
      const stateless = this.isStateless(port);
      for (const sgId of port.securityGroups) {
        for (const r of this.groups.get(sgId)?.remote ?? []) {
          const base = this.conjIds.peek(sgId, r.remoteId!, r.direction, r.ethertype, stateless);
          if (base === undefined) continue;
          const de = `${r.direction}|${r.ethertype}|${stateless ? 'stateless' : 'stateful'}`;
          let byRemote = wanted.get(de);
          if (!byRemote) {
            byRemote = new Map();
            wanted.set(de, byRemote);
          }
          let ids = byRemote.get(r.remoteId!);
          if (!ids) {
            ids = new Set();
            byRemote.set(r.remoteId!, ids);
          }
          ids.add(base + 2 * priorityOffset(r, true));
          remotes.add(r.remoteId!);
        }
      }
    }
    return { wanted, remotes };
  }

  /** The address side for one network: one owner per member address, rewritten only when its ids changed. */
  private writeNetworkAddresses(lvid: number, wanted: Map<string, Map<string, Set<number>>>): void {
    const previous = this.netAddresses.get(lvid) ?? new Map<string, string>();
    const current = new Map<string, string>();
    for (const [de, byRemote] of wanted) {
      const [direction, ethertype, mode] = de.split('|') as [Direction, Ethertype, string];
      const addresses = new Map<string, AddressEntry>();
      for (const [remoteId, ids] of byRemote) {
        for (const [ip, mac] of this.members.get(remoteId)?.[ethertype] ?? []) {
          let c: { cidr: string; any: boolean };
          try {
            c = this.memberCidr(ip);
          } catch (err) {
            this.onError(err as Error, { securityGroupId: remoteId });
            continue;
          }
          // Members are keyed by CIDR; only a /0 member (an allowed address pair) is told apart by its MAC.
          const key = c.any ? `${c.cidr}|${mac ?? ''}` : c.cidr;
          let e = addresses.get(key);
          if (!e) {
            e = { cidr: c.cidr, mac: c.any ? mac : null, ids: new Set() };
            addresses.set(key, e);
          }
          for (const id of ids) e.ids.add(id);
        }
      }
      for (const [key, e] of addresses) {
        const owner = [OWNER, 'a|', lvid, '|', de, '|', key].join('');
        const ids = [...e.ids].sort((a, b) => a - b);
        const signature = ids.join(',');
        current.set(owner, signature);
        if (previous.get(owner) === signature) continue;
        this.flows.replace(owner, conjunctionAddressFlows(e.cidr, e.mac, direction, ethertype, lvid, ids, mode === 'stateless'));
      }
    }
    for (const owner of previous.keys()) if (!current.has(owner)) this.flows.remove(owner);
    if (current.size === 0) this.netAddresses.delete(lvid);
    else this.netAddresses.set(lvid, current);
  }

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

/**
 * `[securitygroup] firewall_driver = noop`: no filtering; the agent applies
 * its own ARP/ND/MAC anti-spoofing. Also what runs when
 * `enable_security_group = false`: then the named driver still decides
 * whether anti-spoofing is the agent's (`providesArpSpoofingProtection`),
 * as Neutron loads that driver and asks it.
 */
export class NoopFirewall implements Firewall {
  readonly driver = 'noop';
  readonly providesArpSpoofingProtection: boolean;
  private readonly managed = new Set<string>();
  constructor(opts: { providesArpSpoofingProtection?: boolean } = {}) {
    this.providesArpSpoofingProtection = opts.providesArpSpoofingProtection ?? false;
  }
  initialize(): void {}
  updateSecurityGroupInfo(): void {}
  setupPortFilters(ports: readonly FirewallPort[]): void {
    for (const p of ports) this.managed.add(p.portId);
  }
  updatePortFilters(ports: readonly FirewallPort[]): void {
    this.setupPortFilters(ports);
  }
  removePortFilters(portIds: readonly string[]): void {
    for (const id of portIds) this.managed.delete(id);
  }
  isPortManaged(portId: string): boolean {
    return this.managed.has(portId);
  }
  flush(): void {}
}

export class FirewallConfigError extends Error {
  override readonly name = 'FirewallConfigError';
  readonly code = 'FW_BAD_DRIVER';
}

/**
 * The driver named by `[securitygroup] firewall_driver`, by any name Neutron
 * accepts for it (drivers.ts; unset → noop, as in Neutron). A driver that
 * does not exist here is a FirewallConfigError whose message names the
 * option (and `where`, the file and line it was set at, when given).
 */
export function createFirewall(driver: string | undefined, options: FirewallOptions = {}, where?: string): Firewall {
  let name: FirewallDriverName;
  try {
    name = supportedFirewallDriver(driver, where);
  } catch (err) {
    throw new FirewallConfigError((err as Error).message);
  }
  return name === 'openvswitch' ? new OvsFirewall(options) : new NoopFirewall();
}
