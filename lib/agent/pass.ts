/**
 * One pass (docs/design.md#from-an-ovsdb-event-to-active): the ports that
 * changed since the last one are looked up in one request, bound to their
 * networks (or put on the dead VLAN), filtered, and everything the pass
 * changed in the bridges' flow tables goes to the switch as ONE bundle per
 * bridge; then all Port tags in ONE OVSDB transaction; the ports are
 * reported up only once both were confirmed (ovn-controller's one bundle per
 * iteration, ofctrl.c). The report itself runs behind the pass (report.ts).
 *
 * Each port's transition is one INFO line naming it (bound, dead, removed;
 * docs/logging.md): nothing else is logged per port.
 */
import { DEAD_VLAN_TAG } from '../bridges/constants.js';
import type { ControlPlane, DeviceLookup, PortDetails } from '../control-plane/types.js';
import { firewallPortFrom, type Firewall, type FirewallPort } from '../firewall/index.js';
import { named, type Logger } from '../log.js';
import type { BridgeSetup } from './bridge-setup.js';
import type { FlowSync } from './flow-sync.js';
import type { LocalVlanMapping } from './local-vlans.js';
import type { Networks } from './networks.js';
import type { PassWork, PortRecord, PortTracker } from './ports.js';
import type { Reports } from './report.js';
import type { RetrySchedule } from './retries.js';
import type { PortTagUpdate, SwitchDatabase, VifRow } from './switch.js';
import type { Tunnels } from './tunnels.js';
import { protectPort } from './anti-spoofing.js';
import type { PassSummary } from './pass-summary.js';
import type { PortQos } from './qos.js';
import { firstTiming } from './wiring-clock.js';

export { newSummary, type PassSummary } from './pass-summary.js';

/** The parts a pass works with (agent.ts makes them). */
export interface PassParts {
  cp: ControlPlane;
  db: SwitchDatabase;
  ports: PortTracker;
  networks: Networks;
  tunnels: Tunnels;
  bridges: BridgeSetup;
  flows: FlowSync;
  reports: Reports;
  retries: RetrySchedule;
  firewall: Firewall | undefined;
  /** The qos extension, when it runs (docs/qos.md). */
  qos: PortQos | undefined;
  log: Logger;
  /** A port's wiring failed: retried after a backoff, or given up. */
  fail: (id: string, err: Error, summary: PassSummary) => void;
}

/**
 * The pass's steps. `firstSync` tells, once every port of the pass is
 * handled, whether the first full sync ends with this pass: then the flows
 * the switch held at start-up that nobody claimed go in the same bundle, and
 * true is returned once it committed.
 */
export async function wirePorts(parts: PassParts, work: PassWork, summary: PassSummary, firstSync: () => boolean): Promise<boolean> {
  const { ports, networks, firewall } = parts;
  const log = named(parts.log, 'ovs_agent.agent.pass');
  const brInt = parts.bridges.brInt;
  const spoofing = firewall !== undefined && !firewall.providesArpSpoofingProtection; // then the agent's anti-spoofing.ts
  const tags: PortTagUpdate[] = [];
  const up: string[] = [];
  /** Ports of `up` that were not on this network and VLAN, wired, before: their binding is news. */
  const newlyBound = new Set<string>();
  /** Removed, and administratively down: reported down. */
  const down: string[] = [];
  const fwSetup: FirewallPort[] = [];
  const fwRemove: string[] = [];
  let mark = performance.now();
  const phase = (name: keyof PassSummary['phases']): void => {
    const now = performance.now();
    summary.phases[name] += now - mark;
    mark = now;
  };

  await parts.tunnels.syncEndpoints(parts.cp);
  await parts.tunnels.syncPorts();
  for (const id of work.removed) {
    if (ports.isPresent(id)) continue; // re-added under the same id
    const p = ports.get(id);
    log.info(`port ${id} removed: its interface${p ? ` ${p.name}` : ''} left the integration bridge`, { port_id: id, interface: p?.name });
    if (p) networks.unbind(p);
    else networks.forget(id);
    parts.reports.withdraw(id);
    brInt.removePortAntiSpoofing(id);
    parts.qos?.forget(id, p?.name);
    fwRemove.push(id);
    down.push(id);
    summary.removed.push(id);
  }

  const ready = work.ids.filter((id) => ports.isPresent(id));
  let lookups: DeviceLookup[] = [];
  if (ready.length) {
    const reply = await parts.cp.getDevicesDetails(ready);
    lookups = reply.devices;
    for (const id of reply.failed) parts.fail(id, new Error('control plane could not look the port up'), summary);
    for (const id of reply.deferred ?? []) ports.deferDetails(id);
  }
  phase('details');

  const dead = (p: PortRecord, vif: VifRow | undefined, why: string): void => {
    if (p.state !== 'DEAD' || p.tag !== DEAD_VLAN_TAG) {
      log.info(`port ${p.portId} is dead (VLAN ${DEAD_VLAN_TAG}, traffic dropped): ${why}`, { port_id: p.portId, interface: p.name, reason: why });
    }
    networks.dead(p);
    parts.reports.withdraw(p.portId);
    p.tag = DEAD_VLAN_TAG;
    if (vif?.tag !== DEAD_VLAN_TAG) tags.push({ name: p.name, tag: DEAD_VLAN_TAG });
    fwRemove.push(p.portId);
    brInt.removePortAntiSpoofing(p.portId);
    parts.qos?.forget(p.portId, p.name);
    summary.dead.push(p.portId);
  };
  for (const lookup of lookups) {
    const id = lookup.kind === 'bound' ? lookup.details.portId : lookup.device;
    const p = ports.get(id);
    // Unplugged while the control plane was asked: the next pass unbinds it and reports it down.
    if (!p || !ports.isPresent(id) || lookup.kind === 'no_active_binding') continue;
    const vif = parts.db.vif(p.name);
    if (lookup.kind === 'unknown') {
      dead(p, vif, 'the control plane does not know it');
      continue;
    }
    const d = lookup.details;
    if (!d.adminStateUp) {
      dead(p, vif, 'administratively down');
      down.push(id);
      continue;
    }
    // Fail closed: a port whose addresses give no anti-spoofing flows is not put on its network unprotected.
    const unprotected = spoofing ? protectPort(brInt, id, d, p.ofport) : undefined;
    if (unprotected !== undefined) {
      dead(p, vif, `its anti-spoofing flows cannot be built: ${unprotected}`);
      Object.assign(p, { state: 'FAILED', error: unprotected });
      log.error(`cannot wire port ${id}: ${unprotected}`, { port_id: id, network_id: d.networkId });
      continue;
    }
    let m: LocalVlanMapping;
    const wasBound = p.state !== 'DEAD' && p.state !== 'FAILED' && p.networkId === d.networkId && p.lvid !== undefined && p.tag === p.lvid;
    try {
      m = networks.bind(p, d);
    } catch (err) {
      dead(p, vif, (err as Error).message);
      p.state = 'FAILED';
      p.error = (err as Error).message;
      log.error(`cannot wire port ${id}: ${(err as Error).message}`, { port_id: id, network_id: d.networkId });
      continue;
    }
    if (!wasBound || p.lvid !== m.lvid) newlyBound.add(id);
    p.tag = m.lvid;
    if (vif?.tag !== m.lvid || vif.portOtherConfig.net_uuid !== d.networkId) tags.push(tagOf(p, d, m.lvid));
    // Ports without port security get the firewall's pass-through flows, so they are set up too.
    fwSetup.push(firewallPortFrom(d, p.ofport, m.lvid));
    parts.qos?.stage(id, p.name, p.ofport, d);
    up.push(id);
  }
  const duplicates = wireDuplicates(parts, work.duplicates, tags);
  phase('compute');

  if (firewall && firewall.driver !== 'noop') {
    const gone = fwRemove.filter((id) => firewall.isPortManaged(id));
    if (gone.length) firewall.removePortFilters(gone);
    if (fwSetup.length) {
      firewall.updateSecurityGroupInfo(await parts.cp.securityGroupInfo(fwSetup.map((f) => f.portId)));
      const fresh = fwSetup.filter((f) => !firewall.isPortManaged(f.portId));
      const known = fwSetup.filter((f) => firewall.isPortManaged(f.portId));
      if (fresh.length) firewall.setupPortFilters(fresh);
      if (known.length) firewall.updatePortFilters(known);
    }
    firewall.flush();
    await firewall.apply?.(); // iptables_hybrid: the rules are in the kernel before any tag below
    phase('firewall');
  }
  // Networks provisioned by this pass may need tunnels (l2pop entries that waited for them): their ports
  // and ofports first, so their flows join the same bundle.
  await parts.tunnels.syncPorts();
  const first = firstSync();
  if (first) parts.flows.dropUnclaimed();
  if (first) parts.qos?.sweepStale();
  if (first) firewall?.firstSyncDone?.();

  // Flows first, then tags: a tag change makes ovs-vswitchd reconfigure the bridge, which would
  // hold up the bundle if it arrived first; the OVSDB write itself is answered by ovsdb-server at once.
  const sent = await parts.flows.flush();
  summary.flowMods += sent.flowMods;
  summary.bundles.push(...sent.bridges);
  // QoS rows before the tags put the ports on their networks; a failure fails the pass: no port goes up without its QoS.
  await parts.qos?.apply();
  phase('flows');
  if (tags.length) await parts.db.setPortTags(tags);
  ports.duplicatesWired(duplicates.dead, duplicates.alive);
  phase('tags');

  const confirmed = performance.now();
  for (const id of up) {
    parts.reports.up(id);
    summary.up.push(id);
    const p = ports.get(id);
    if (p && firstTiming(p, 'flows')) summary.wiredMs.push(confirmed - p.readyPerf);
    if (newlyBound.has(id)) logBound(log, ports.get(id));
  }
  for (const id of down) {
    const p = ports.get(id);
    const removed = summary.removed.includes(id);
    if (p && p.state !== 'FAILED') p.state = removed ? 'DOWN' : 'DEAD';
    if (removed) ports.delete(id);
    parts.retries.clear(id);
    parts.reports.down(id);
    summary.down.push(id);
  }
  for (const id of summary.dead) {
    const p = ports.get(id);
    if (p && p.state !== 'FAILED') p.state = 'DEAD';
    parts.retries.clear(id);
  }
  phase('report');
  return first;
}

/** A port whose flows and tag the switch confirmed on its network. */
function logBound(log: Logger, p: PortRecord | undefined): void {
  if (!p) return;
  log.info(`port ${p.portId} bound: network ${p.networkId} (${p.networkType}) on local VLAN ${p.lvid}, interface ${p.name} (ofport ${p.ofport})`,
    { port_id: p.portId, network_id: p.networkId, network_type: p.networkType, local_vlan: p.lvid, interface: p.name, ofport: p.ofport });
}

/** Port.tag and other_config as Neutron writes them (docs/design.md#ovsdb-what-is-read-and-written). */
function tagOf(p: PortRecord, d: PortDetails, lvid: number): PortTagUpdate {
  return {
    name: p.name, tag: lvid, clearTrunks: true,
    otherConfig: {
      net_uuid: d.networkId, network_type: d.networkType,
      physical_network: d.physicalNetwork ?? 'None', tag: String(lvid),
      ...(d.segmentationId !== undefined ? { segmentation_id: String(d.segmentationId) } : {}),
    },
  };
}

/**
 * Duplicate interfaces on br-int (ports.ts) go on the dead VLAN with a drop
 * flow keyed by their name; the others lose theirs.
 */
function wireDuplicates(parts: PassParts, names: readonly string[], tags: PortTagUpdate[]): { dead: string[]; alive: string[] } {
  const out = { dead: [] as string[], alive: [] as string[] };
  const brInt = parts.bridges.brInt;
  for (const name of names) {
    const v = parts.ports.duplicateOnIntegrationBridge(name);
    if (v) {
      brInt.installDeadInterfaceDrop(name, v.ofport);
      if (parts.db.vif(name)?.tag !== DEAD_VLAN_TAG) tags.push({ name, tag: DEAD_VLAN_TAG });
      out.dead.push(name);
    } else {
      brInt.removeDeadInterfaceDrop(name);
      out.alive.push(name);
    }
  }
  return out;
}

/**
 * A failed pass leaves nothing of the ports it was wiring for the first
 * time in the flow tables: their networks and filters are released, so
 * flows the switch refused are not sent again with every other port's pass
 * (one port's refused flows would stop all wiring); the retry binds them
 * afresh. Ports wired before keep what they had.
 */
export function unwindUnwired(parts: PassParts, ids: readonly string[], wiredBefore: ReadonlySet<string>): void {
  const unwound: string[] = [];
  for (const id of ids) {
    const p = parts.ports.get(id);
    if (!p || wiredBefore.has(id) || p.state === 'DEAD' || !p.networkId) continue;
    parts.networks.unbind(p, { keepState: true });
    parts.bridges.brInt.removePortAntiSpoofing(id);
    parts.qos?.forget(id, p.name);
    parts.reports.withdraw(id);
    p.tag = undefined;
    unwound.push(id);
  }
  const fw = parts.firewall;
  if (!fw || fw.driver === 'noop') return;
  const filtered = unwound.filter((id) => fw.isPortManaged(id));
  if (filtered.length) fw.removePortFilters(filtered);
  fw.flush();
}
