/**
 * Security groups as Neutron's `openvswitch` firewall driver programs them
 * (docs/design.md#the-firewalls-tables), computed without I/O.
 *
 * The agent feeds the firewall what changed (ports, security group rules and
 * members) during a pass, then calls `flush()` once, which writes the flows
 * into br-int's flow table (lib/flows), the only ledger, under owners
 * prefixed `fw|` so an update touches only what it concerns:
 *
 *  - `p|<port id>`: a port's base flows, plain-rule flows, and its side
 *    (dimension 2/2 and accept flows) of remote-group rules (port-filter.ts);
 *  - `a|<lvid>|<direction>|<ethertype>|<mode>|<member>`: the address side
 *    (dimension 1/2) of remote groups, one owner per member address per
 *    network (remote-groups.ts).
 *
 * Unlike Neutron, which deletes and re-adds every flow of a port on any
 * change (under a temporary cookie), the table's diff sends only the flows
 * that differ, in the pass's one atomic bundle, so no packet sees a
 * half-applied change. This class keeps the ports and what is dirty.
 */
import type { SecurityGroupInfo } from '../model/index.js';
import { egressClassificationFlow, initFlows, unfilteredPortFlows, type BaseFlowOptions } from './base-flows.js';
import { ConjIdMap } from './conj-ids.js';
import { FirewallConfigError, type Firewall, type FirewallErrorHandler, type FirewallOptions } from './driver.js';
import type { DesiredFlow as Flow } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { dlType, type MatchPart } from './flow-parts.js';
import { SecurityGroups } from './groups.js';
import { filteredPortFlows } from './port-filter.js';
import { PortTemplates } from './port-template.js';
import type { FirewallPort } from './port.js';
import { RemoteGroupAddresses } from './remote-groups.js';
import { ruleOriginOf } from './rule-origin.js';

/** Owners of the firewall's flows in br-int's table. */
const OWNER = 'fw|';

export class OvsFirewall implements Firewall {
  readonly driver = 'openvswitch';
  /** Table 71 keeps a port to its own MAC/IP pairs, ARP and ND included. */
  readonly providesArpSpoofingProtection = true;
  /** Where the flows go: br-int's table (or the firewall's own). */
  flows: FlowTable;
  private readonly conjIds: ConjIdMap;
  private readonly baseOptions: BaseFlowOptions;
  private readonly templates: PortTemplates;
  private readonly onError: FirewallErrorHandler;
  private readonly groups: SecurityGroups;
  private readonly addresses: RemoteGroupAddresses;

  private readonly ports = new Map<string, FirewallPort>();
  private readonly portsByLvid = new Map<number, Set<string>>();
  private readonly failed = new Set<string>();

  private readonly dirtyPorts = new Set<string>();
  private readonly dirtyNets = new Set<number>();

  constructor(options: FirewallOptions = {}) {
    this.flows = options.flows ?? new FlowTable('br-int', options.cookie ?? 0n);
    this.conjIds = new ConjIdMap(options.highestConjId ?? 0);
    this.onError = options.onError ?? (() => {});
    this.baseOptions = { permittedEthertypes: (options.permittedEthertypes ?? []).flatMap((et) => this.ethertypePart(et)) };
    this.templates = new PortTemplates(this.baseOptions);
    this.groups = new SecurityGroups(this.onError);
    this.addresses = new RemoteGroupAddresses(OWNER, this.groups, this.conjIds, this.onError);
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
    const changed = this.groups.update(info);
    for (const sgId of changed.rules) {
      for (const p of this.ports.values()) {
        if (!p.securityGroups.includes(sgId)) continue;
        this.dirtyPorts.add(p.portId);
        this.markNet(p.lvid, true);
      }
    }
    for (const groupId of changed.members) {
      for (const lvid of this.addresses.networksUsing(groupId)) this.markNet(lvid, false);
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
    for (const lvid of this.dirtyNets) this.addresses.refresh(this.flows, lvid, () => this.filteredPortsOn(lvid));
    this.dirtyNets.clear();
  }

  ruleOrigin(portId: string, key: string): string | undefined {
    const port = this.ports.get(portId);
    return port && ruleOriginOf(port, this.groups, key);
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
    if (structure) this.addresses.forget(lvid);
  }

  /** The ports of a network that take part in its remote-group conjunctions. */
  private *filteredPortsOn(lvid: number): Iterable<FirewallPort> {
    for (const portId of this.portsByLvid.get(lvid) ?? []) {
      const port = this.ports.get(portId);
      if (port?.portSecurityEnabled && !this.failed.has(portId)) yield port;
    }
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
    try {
      const out = filteredPortFlows(port, this.groups, this.conjIds, this.templates, held);
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
}
