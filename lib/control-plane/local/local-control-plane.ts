/**
 * The embedded control plane: a desired-state file on disk, watched for
 * changes. It answers the agent's requests from the file's current content
 * and turns each edit into the events Neutron would have pushed (port
 * updates and deletes, network updates, tunnel updates and deletes).
 *
 * An invalid edit is reported through `onError` and otherwise ignored: the
 * agent keeps what the last good file said.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  ControlPlaneError,
  type AgentIdentity, type AgentStateReport, type ControlPlane, type ControlPlaneEvent, type ControlPlaneListener,
  type DeviceLookup, type DevicesDetailsReply, type PortDetails, type ReportStateReply, type SecurityGroupInfo,
  type TunnelEndpoint, type TunnelType, type UpdateDeviceListReply,
} from '../types.js';
import { parseAddressGroups, parseSecurityGroups, securityGroupInfoFor, type LocalSecurityGroup } from './security-groups.js';
import { parseFdbEntries } from './fdb.js';
import { parseQosPolicies } from './qos.js';
import type { FdbEntries, QosPolicy } from '../types.js';
import { parseDesiredState, type DesiredState, type LocalNetwork, type LocalPort } from './state-file.js';

/** The file with its extensions' sections parsed too (a bad section rejects the whole file). */
interface Loaded {
  state: DesiredState;
  groups: Map<string, LocalSecurityGroup>;
  addressGroups: Map<string, string[]>;
  fdb: FdbEntries;
  qosPolicies: Map<string, QosPolicy>;
}

export interface LocalControlPlaneOptions {
  /** Path of the JSON desired-state file. */
  file: string;
  /** Debounce for bursts of file-system events (editors write in several steps). */
  debounceMs?: number;
  /** Told about files that could not be read or parsed; the previous state stays. */
  onError?: (err: Error) => void;
  /** Told after each successful (re)load. */
  onLoad?: (state: DesiredState) => void;
}

export type PortStatus = 'ACTIVE' | 'DOWN';

const EMPTY: Loaded = {
  state: { networks: new Map(), ports: new Map(), tunnelEndpoints: [], extra: {} }, groups: new Map(), addressGroups: new Map(), fdb: {}, qosPolicies: new Map(),
};

export class LocalControlPlane implements ControlPlane {
  private loaded: Loaded = EMPTY;
  private readonly listeners = new Set<ControlPlaneListener>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readonly status = new Map<string, PortStatus>();
  private readonly endpoints = new Map<string, { ip: string; type: TunnelType; host?: string }>();
  private lastReport: AgentStateReport | undefined;
  private started = false;

  constructor(private readonly opts: LocalControlPlaneOptions) {}

  /** Reads the file (a missing or invalid file at start is an error) and starts watching it. */
  async start(identity: AgentIdentity): Promise<void> {
    this.loaded = await this.read();
    this.opts.onLoad?.(this.loaded.state);
    void identity;
    const dir = dirname(this.opts.file);
    const name = basename(this.opts.file);
    // Watch the directory, not the file: editors and `mv` replace the inode.
    this.watcher = watch(dir, (_event, changed) => {
      if (changed === null || changed === name) this.schedule();
    });
    this.watcher.on('error', (err) => this.opts.onError?.(err));
    this.started = true;
    // Neutron sends the full fdb table when an agent appears (docs/neutron.md, "l2population's fdb entries"): the file's fdb is that table.
    if (Object.keys(this.loaded.fdb).length) {
      const entries = this.loaded.fdb;
      setImmediate(() => this.emit({ type: 'fdb_add', entries }));
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearTimeout(this.timer);
    await this.reloading;
  }

  onEvent(listener: ControlPlaneListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current desired state (for extensions that read `extra`). */
  get desired(): DesiredState {
    return this.loaded.state;
  }

  private get state(): DesiredState {
    return this.loaded.state;
  }

  /** What the agent last reported for a port: ACTIVE after `up`, DOWN after `down`. */
  portStatus(portId: string): PortStatus | undefined {
    return this.status.get(portId);
  }

  get lastStateReport(): AgentStateReport | undefined {
    return this.lastReport;
  }

  /** Re-reads the file now (tests and `SIGHUP` use this; the watcher calls it too). */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  async getDevicesDetails(devices: string[]): Promise<DevicesDetailsReply> {
    const out: DeviceLookup[] = devices.map((device) => {
      const port = this.state.ports.get(device);
      const network = port && this.state.networks.get(port.network);
      if (!port || !network) return { kind: 'unknown', device };
      return { kind: 'bound', details: portDetails(port, network, this.loaded.qosPolicies) };
    });
    return { devices: out, failed: [] };
  }

  async updateDeviceList(up: string[], down: string[]): Promise<UpdateDeviceListReply> {
    for (const id of up) this.status.set(id, 'ACTIVE');
    for (const id of down) this.status.set(id, 'DOWN');
    return { failedUp: [], failedDown: [] };
  }

  async tunnelSync(localIp: string, tunnelType: TunnelType): Promise<TunnelEndpoint[]> {
    this.endpoints.set(localIp, { ip: localIp, type: tunnelType });
    return this.state.tunnelEndpoints
      .filter((t) => (t.type ?? tunnelType) === tunnelType)
      .map((t) => ({ ipAddress: t.ipAddress, host: t.host }));
  }

  async securityGroupInfo(devices: string[]): Promise<SecurityGroupInfo> {
    const ports = this.state.ports;
    // Every port is looked at only for remote-group members: a pass about a few ports stays that small.
    const all = { [Symbol.iterator]: () => ports.values() };
    const wanted = devices.length ? devices.map((d) => ports.get(d)).filter((p) => p !== undefined) : [...ports.values()];
    return securityGroupInfoFor(wanted, all, this.loaded.groups, this.loaded.addressGroups);
  }

  async reportState(report: AgentStateReport): Promise<ReportStateReply> {
    if (!this.started) throw new ControlPlaneError('local control plane is not started', 'NOT_STARTED', true);
    const first = this.lastReport === undefined;
    this.lastReport = report;
    return first ? 'new' : 'alive';
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.opts.debounceMs ?? 50);
  }

  private async read(): Promise<Loaded> {
    let text: string;
    try {
      text = await readFile(this.opts.file, 'utf8');
    } catch (err) {
      throw new ControlPlaneError(`cannot read desired-state file ${this.opts.file}: ${(err as Error).message}`,
        'STATE_FILE_UNREADABLE', true, { cause: err });
    }
    const file = this.opts.file;
    const state = parseDesiredState(text, file);
    return {
      state,
      groups: parseSecurityGroups(state.extra.securityGroups, file),
      addressGroups: parseAddressGroups(state.extra.addressGroups, file),
      fdb: parseFdbEntries(state.extra.fdb, file),
      qosPolicies: parseQosPolicies(state.extra.qosPolicies, file),
    };
  }

  private async reloadNow(): Promise<void> {
    if (!this.started) return;
    let next: Loaded;
    try {
      next = await this.read();
    } catch (err) {
      this.opts.onError?.(err as Error);
      return;
    }
    const prev = this.loaded;
    this.loaded = next;
    this.opts.onLoad?.(next.state);
    for (const e of diffStates(prev.state, next.state)) this.emit(e);
    if (!sameJson(prev.state.extra.fdb, next.state.extra.fdb)) {
      // Remove-then-add in the same tick: the agent applies both in one pass, so only real differences reach the switch.
      if (Object.keys(prev.fdb).length) this.emit({ type: 'fdb_remove', entries: prev.fdb });
      if (Object.keys(next.fdb).length) this.emit({ type: 'fdb_add', entries: next.fdb });
    }
  }

  private emit(event: ControlPlaneEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    }
  }
}

export function portDetails(port: LocalPort, network: LocalNetwork, qosPolicies?: ReadonlyMap<string, QosPolicy>): PortDetails {
  const qos = port.qosPolicyId ?? network.qosPolicyId;
  return {
    portId: port.id,
    networkId: network.id,
    macAddress: port.mac,
    adminStateUp: port.adminStateUp,
    networkType: network.type,
    segmentationId: network.segmentationId,
    physicalNetwork: network.physicalNetwork,
    fixedIps: port.fixedIps,
    allowedAddressPairs: port.allowedAddressPairs,
    portSecurityEnabled: port.portSecurityEnabled,
    securityGroups: port.securityGroups,
    deviceOwner: port.deviceOwner,
    deviceId: port.deviceId,
    mtu: network.mtu,
    ...(port.qosPolicyId ? { qosPolicyId: port.qosPolicyId } : {}),
    ...(network.qosPolicyId ? { networkQosPolicyId: network.qosPolicyId } : {}),
    ...(qos && qosPolicies?.has(qos) ? { qosPolicy: qosPolicies.get(qos) } : {}),
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The events Neutron would have sent for the edit from `prev` to `next`. */
export function diffStates(prev: DesiredState, next: DesiredState): ControlPlaneEvent[] {
  const events: ControlPlaneEvent[] = [];
  const updated: string[] = [];
  // A policy's rules changed: the ports it applies to are updated (Neutron pushes the QosPolicy; its agent re-applies it).
  const policyOf = (s: DesiredState, p: LocalPort) => {
    const id = p.qosPolicyId ?? s.networks.get(p.network)?.qosPolicyId;
    return id && ((s.extra.qosPolicies ?? []) as Array<{ id?: unknown }>).find((q) => q?.id === id);
  };
  for (const [id, port] of next.ports) {
    const old = prev.ports.get(id);
    const changedNet = !sameJson(prev.networks.get(port.network), next.networks.get(port.network));
    const changedQos = old !== undefined && !sameJson(policyOf(prev, old), policyOf(next, port));
    if (!old || !sameJson(old, port) || changedNet || changedQos) updated.push(id);
  }
  for (const id of prev.ports.keys()) if (!next.ports.has(id)) events.push({ type: 'port_deleted', portId: id });
  for (const [id, net] of next.networks) {
    const old = prev.networks.get(id);
    if (old && !sameJson(old, net)) events.push({ type: 'network_updated', networkId: id });
  }
  if (updated.length) events.push({ type: 'ports_updated', portIds: updated });
  const key = (t: { ipAddress: string; type?: TunnelType }) => `${t.type ?? '*'}/${t.ipAddress}`;
  const before = new Map(prev.tunnelEndpoints.map((t) => [key(t), t]));
  const after = new Map(next.tunnelEndpoints.map((t) => [key(t), t]));
  for (const [k, t] of after) {
    if (before.has(k)) continue;
    for (const tunnelType of t.type ? [t.type] : (['vxlan', 'gre', 'geneve'] as const)) {
      events.push({ type: 'tunnel_update', tunnelIp: t.ipAddress, tunnelType, host: t.host });
    }
  }
  for (const [k, t] of before) {
    if (after.has(k)) continue;
    for (const tunnelType of t.type ? [t.type] : (['vxlan', 'gre', 'geneve'] as const)) {
      events.push({ type: 'tunnel_delete', tunnelIp: t.ipAddress, tunnelType });
    }
  }
  // Membership: a port joining, leaving or changing addresses changes its groups' member lists,
  // which other ports' remote-group rules use (Neutron's security_groups_member_updated).
  const memberGroups = new Set<string>();
  const membership = (p: LocalPort | undefined) => p && JSON.stringify([p.securityGroups, p.fixedIps, p.allowedAddressPairs, p.mac]);
  for (const id of new Set([...prev.ports.keys(), ...next.ports.keys()])) {
    const a = prev.ports.get(id);
    const b = next.ports.get(id);
    if (membership(a) === membership(b)) continue;
    for (const g of [...(a?.securityGroups ?? []), ...(b?.securityGroups ?? [])]) memberGroups.add(g);
  }
  const groupsBefore = (prev.extra.securityGroups ?? {}) as Record<string, unknown>;
  const groupsAfter = (next.extra.securityGroups ?? {}) as Record<string, unknown>;
  const changedGroups = [...new Set([...Object.keys(groupsBefore), ...Object.keys(groupsAfter)])]
    .filter((id) => !sameJson(groupsBefore[id], groupsAfter[id]));
  for (const g of changedGroups) memberGroups.add(g);
  if (memberGroups.size || !sameJson(prev.extra.addressGroups, next.extra.addressGroups)) {
    events.push({ type: 'security_groups_updated', securityGroupIds: [...memberGroups].sort() });
  }
  return events;
}
