/**
 * The trunk extension (docs/trunk.md): Neutron 21's OVS trunk driver
 * (`neutron.services.trunk.drivers.openvswitch.agent`) on the agent's
 * OVSDB events instead of a polled monitor.
 *
 * When a trunk bridge (`tbr-…`, made by os-vif) holds a VM's interface, the
 * trunk of the port it carries is pulled, the parent is patched to br-int
 * (tpi-/tpt-), the subports are bound to this host (`update_subport_bindings`)
 * and patched with their VLAN on the trunk bridge's end (spi-/spt-), the
 * trunk's ids are written on the VM's interface as Neutron does, and the
 * trunk's status is reported. The br-int ends carry the ports' iface-id and
 * MAC, so the agent's ordinary passes wire them like any VM port (their
 * local VLAN, flows, firewall) and report them ACTIVE only once confirmed by
 * the switch. SubPort pushes add and remove subports live; a bridge whose VM
 * has gone is unwired after a grace period, and one deleted takes its br-int
 * patches with it.
 *
 * Work on one bridge is serialised (a chain per bridge); bridges proceed in
 * parallel, as with Neutron's per-bridge lock.
 */
import { named, type Logger } from '../log.js';
import {
  intPatchName, isSubportPatch, isTrunkBridge, isTrunkServicePort, PARENT_PREFIX, SUBPORT_PREFIX, trunkBridgeName, trunkPatchName, TRUNK_BRIDGE_PREFIX,
} from './names.js';
import type { PatchPair, SubPortInfo, TrunkBridgePort, TrunkControl, TrunkPush, TrunkStatus, TrunkSwitch } from './types.js';

/** How long a trunk bridge without a VM keeps its wiring: a VM rebuilt or rebooted plugs again (Neutron waits 6 s). */
export const UNPLUG_GRACE_MS = 6000;
/** At most this many trunk bridges are followed (bridges are outside input: bounded). */
export const MAX_TRUNKS = 4096;

interface WiredTrunk {
  trunkId: string;
  parentId: string;
  /** The VM's interface on the trunk bridge (it keeps the trunk's metadata). */
  vmIface: string;
  /** Subport port id → its VLAN, as patched. */
  subports: Map<string, number>;
}

export interface TrunkDriverOptions {
  control: TrunkControl;
  ovs: TrunkSwitch;
  brInt: string;
  log: Logger;
  unplugGraceMs?: number;
}

export class TrunkDriver {
  private readonly wired = new Map<string, WiredTrunk>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly opts: TrunkDriverOptions) {
    this.log = named(opts.log, 'ovs_agent.trunk');
  }

  /** Every trunk bridge already there is looked at (a restart rewires as Neutron's agent does), and br-int patches left without their bridge go. */
  start(): void {
    for (const b of this.opts.ovs.bridgesNamed(TRUNK_BRIDGE_PREFIX)) this.bridgeChanged(b);
    this.run('', () => this.sweepOrphans());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** An OVSDB change of a bridge (created, deleted, its ports changed). */
  bridgeChanged(name: string): void {
    if (!isTrunkBridge(name) || this.stopped) return;
    if (!this.wired.has(name) && this.chains.size >= MAX_TRUNKS) {
      this.log.error(`trunk bridge ${name} not handled: already ${MAX_TRUNKS} trunk bridges in progress`);
      return;
    }
    if (this.chains.has(name)) {
      this.dirty.add(name);
      return;
    }
    this.run(name, () => this.examine(name));
  }

  /** The OVSDB replica resynchronised: every trunk bridge may have changed. */
  resync(): void {
    for (const b of new Set([...this.wired.keys(), ...this.opts.ovs.bridgesNamed(TRUNK_BRIDGE_PREFIX)])) this.bridgeChanged(b);
  }

  onPush(push: TrunkPush): void {
    if (this.stopped) return;
    if (push.kind === 'trunk') {
      if (push.event === 'deleted') this.run(trunkBridgeName(push.trunk.id), () => this.trunkDeleted(trunkBridgeName(push.trunk.id)));
      return;
    }
    const byTrunk = new Map<string, SubPortInfo[]>();
    for (const s of push.subPorts) byTrunk.set(s.trunkId, [...(byTrunk.get(s.trunkId) ?? []), s]);
    for (const [trunkId, subs] of byTrunk) {
      const bridge = trunkBridgeName(trunkId);
      // Neutron's `manages_this_trunk`: the trunk's bridge is on this host.
      if (!this.opts.ovs.bridgePorts(bridge)) continue;
      this.run(bridge, () => (push.event === 'created' ? this.addSubports(bridge, subs) : this.removeSubports(bridge, subs.map((s) => s.portId))));
    }
  }

  /** Resolves once no work is queued (tests). */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  private run(key: string, work: () => Promise<void>): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(work).catch((err: Error) => this.log.error(`trunk bridge ${key || '(sweep)'}: ${err.message}`)).finally(() => {
      if (this.chains.get(key) !== next) return;
      this.chains.delete(key);
      if (this.dirty.delete(key)) this.bridgeChanged(key);
    });
    this.chains.set(key, next);
  }

  private async examine(bridge: string): Promise<void> {
    const ports = this.opts.ovs.bridgePorts(bridge);
    if (!ports) return this.bridgeGone(bridge);
    const vm = ports.find((p) => !isTrunkServicePort(p.name) && p.externalIds['iface-id'] !== undefined);
    if (!vm) {
      // The VM left (or a restart found service ports without one): unwired after the grace period unless a VM plugs again.
      if (this.wired.has(bridge) || ports.some((p) => p.type === 'patch' && isTrunkServicePort(p.name))) this.armUnplug(bridge);
      return;
    }
    this.disarm(bridge);
    const known = this.wired.get(bridge);
    if (known && known.parentId === vm.externalIds['iface-id']) return;
    await this.wire(bridge, vm, ports);
  }

  private async wire(bridge: string, vm: TrunkBridgePort, ports: TrunkBridgePort[]): Promise<void> {
    const parentId = vm.externalIds['iface-id']!;
    const t0 = performance.now();
    const trunk = await this.opts.control.getTrunkDetails(parentId);
    const pulled = performance.now();
    if (!trunk) {
      this.log.error(`port ${parentId} on trunk bridge ${bridge} is the parent of no trunk: not wired`, { port_id: parentId });
      return;
    }
    if (trunkBridgeName(trunk.id) !== bridge) {
      this.log.error(`port ${parentId} of trunk ${trunk.id} is on bridge ${bridge}, not on ${trunkBridgeName(trunk.id)}: not wired`, { port_id: parentId });
      return;
    }
    const mac = vm.externalIds['attached-mac'] ?? '';
    const parent: PatchPair = { intName: intPatchName(PARENT_PREFIX, parentId), trunkName: trunkPatchName(PARENT_PREFIX, parentId), portId: parentId, mac };
    const entry: WiredTrunk = { trunkId: trunk.id, parentId, vmIface: vm.name, subports: new Map() };
    // The parent's patch and the subports' bindings (the server's slow part) at once.
    const [plugged, bound] = await Promise.allSettled([this.opts.ovs.plugPairs(this.opts.brInt, bridge, [parent]), this.bind(trunk.subPorts)]);
    const boundAt = performance.now();
    if (plugged.status === 'rejected') {
      this.log.error(`trunk ${trunk.id}: patching parent port ${parentId} to ${this.opts.brInt} failed: ${(plugged.reason as Error).message}`);
      await this.status(trunk.id, 'ERROR');
      return;
    }
    this.wired.set(bridge, entry);
    if (bound.status === 'rejected') this.log.error(`trunk ${trunk.id}: update_subport_bindings failed: ${(bound.reason as Error).message}`);
    // After a restart: subports patched before but no longer in the trunk go (Neutron's rewire).
    const stale = ports.filter((p) => isSubportPatch(p.name) && p.type === 'patch').map((p) => p.externalIds['iface-id'])
      .filter((id): id is string => id !== undefined && !trunk.subPorts.some((s) => s.portId === id));
    let ok = stale.length ? await this.unplugSubports(bridge, stale) : true;
    ok = (await this.plugSubports(bridge, entry, trunk.subPorts, bound.status === 'fulfilled' ? bound.value : undefined)) && ok;
    const ms = (t: number) => Math.round(t);
    this.log.info(`trunk ${trunk.id} wired on ${bridge}: parent ${parentId}, ${entry.subports.size} subport(s)`, {
      port_id: parentId, trunk_id: trunk.id, ms: { pull: ms(pulled - t0), bind: ms(boundAt - pulled), patch: ms(performance.now() - boundAt) },
    });
    await this.status(trunk.id, ok ? 'ACTIVE' : 'DEGRADED');
  }

  /** One `update_subport_bindings` for all, as Neutron's agent: the server binds them one after the other either way (split calls measured no sooner). */
  private async bind(subs: SubPortInfo[]): Promise<Map<string, Map<string, string>>> {
    return subs.length ? this.opts.control.updateSubportBindings(subs) : new Map();
  }

  /** Patches the subports the server bound; false when one could not be (DEGRADED). */
  private async plugSubports(bridge: string, entry: WiredTrunk, subs: SubPortInfo[], bindings: Map<string, Map<string, string>> | undefined): Promise<boolean> {
    if (!subs.length) return this.writeMetadata(entry);
    const macs = bindings?.get(entry.trunkId);
    if (!bindings) this.log.error(`trunk ${entry.trunkId}: its subports are not wired (no bindings from the server)`);
    const pairs: PatchPair[] = [];
    for (const s of subs) {
      const mac = macs?.get(s.portId);
      if (mac === undefined) {
        if (bindings) this.log.error(`trunk ${entry.trunkId}: subport ${s.portId} was not bound by the server: not wired`, { port_id: s.portId });
        continue;
      }
      if (s.segmentationType !== 'vlan') {
        this.log.error(`trunk ${entry.trunkId}: subport ${s.portId} has segmentation type ${s.segmentationType}; only vlan is supported`, { port_id: s.portId });
        continue;
      }
      pairs.push({ intName: intPatchName(SUBPORT_PREFIX, s.portId), trunkName: trunkPatchName(SUBPORT_PREFIX, s.portId), portId: s.portId, mac, tag: s.segmentationId });
    }
    try {
      if (pairs.length) await this.opts.ovs.plugPairs(this.opts.brInt, bridge, pairs);
    } catch (err) {
      this.log.error(`trunk ${entry.trunkId}: patching subports failed: ${(err as Error).message}`);
      return false;
    }
    for (const p of pairs) entry.subports.set(p.portId, p.tag!);
    return (await this.writeMetadata(entry)) && pairs.length === subs.length;
  }

  private async unplugSubports(bridge: string, portIds: string[]): Promise<boolean> {
    try {
      await this.opts.ovs.unplug(this.opts.brInt, portIds.map((id) => intPatchName(SUBPORT_PREFIX, id)),
        { bridge, names: portIds.map((id) => trunkPatchName(SUBPORT_PREFIX, id)) });
    } catch (err) {
      this.log.error(`trunk bridge ${bridge}: removing subports ${portIds.join(', ')} failed: ${(err as Error).message}`);
      return false;
    }
    const entry = this.wired.get(bridge);
    if (!entry) return true;
    for (const id of portIds) entry.subports.delete(id);
    return this.writeMetadata(entry);
  }

  /** `bridge_name`, `trunk_id` and `subport_ids` on the VM's interface, as Neutron's agent keeps them (its restart reads them). */
  private async writeMetadata(entry: WiredTrunk): Promise<boolean> {
    try {
      await this.opts.ovs.setInterfaceExternalIds(entry.vmIface, {
        bridge_name: trunkBridgeName(entry.trunkId), trunk_id: entry.trunkId, subport_ids: JSON.stringify([...entry.subports.keys()]),
      });
      return true;
    } catch (err) {
      this.log.error(`trunk ${entry.trunkId}: writing its metadata on ${entry.vmIface} failed: ${(err as Error).message}`);
      return false;
    }
  }

  private async addSubports(bridge: string, subs: SubPortInfo[]): Promise<void> {
    const entry = this.wired.get(bridge);
    // Not wired yet: the wiring pulls the trunk, with these subports in it.
    if (!entry) return;
    const bound = await this.bind(subs).catch((err: Error) => {
      this.log.error(`trunk ${entry.trunkId}: update_subport_bindings failed: ${err.message}`);
      return undefined;
    });
    const ok = await this.plugSubports(bridge, entry, subs, bound);
    await this.status(entry.trunkId, ok ? 'ACTIVE' : 'DEGRADED');
  }

  private async removeSubports(bridge: string, portIds: string[]): Promise<void> {
    const entry = this.wired.get(bridge);
    if (!entry) return;
    const ok = await this.unplugSubports(bridge, portIds);
    await this.status(entry.trunkId, ok ? 'ACTIVE' : 'DEGRADED');
  }

  private async status(trunkId: string, status: TrunkStatus): Promise<void> {
    await this.opts.control.updateTrunkStatus(trunkId, status).catch((err: Error) =>
      this.log.error(`trunk ${trunkId}: update_trunk_status ${status} failed: ${err.message}`));
  }

  private armUnplug(bridge: string): void {
    if (this.timers.has(bridge)) return;
    this.timers.set(bridge, setTimeout(() => {
      this.timers.delete(bridge);
      this.run(bridge, () => this.unplugIfNoVm(bridge));
    }, this.opts.unplugGraceMs ?? UNPLUG_GRACE_MS));
  }

  private disarm(bridge: string): void {
    const t = this.timers.get(bridge);
    if (t) clearTimeout(t);
    this.timers.delete(bridge);
  }

  /** Neutron's `handle_trunk_remove`: no VM on the bridge after the grace period, so its patches and the bridge go. */
  private async unplugIfNoVm(bridge: string): Promise<void> {
    const ports = this.opts.ovs.bridgePorts(bridge);
    if (!ports) return this.bridgeGone(bridge);
    if (ports.some((p) => !isTrunkServicePort(p.name) && p.externalIds['iface-id'] !== undefined)) return;
    const peers = ports.filter((p) => p.type === 'patch' && p.peer !== undefined).map((p) => p.peer!);
    await this.opts.ovs.unplug(this.opts.brInt, peers, { bridge, names: [], deleteBridge: true });
    this.wired.delete(bridge);
    this.log.info(`trunk bridge ${bridge} has no VM any more: it and its patches on ${this.opts.brInt} removed`, { patches: peers });
  }

  /** The bridge was deleted (os-vif unplugged the VM): its br-int ends go. */
  private async bridgeGone(bridge: string): Promise<void> {
    this.disarm(bridge);
    const entry = this.wired.get(bridge);
    this.wired.delete(bridge);
    const names = entry ? [intPatchName(PARENT_PREFIX, entry.parentId), ...[...entry.subports.keys()].map((id) => intPatchName(SUBPORT_PREFIX, id))] : [];
    await this.opts.ovs.unplug(this.opts.brInt, [...new Set([...names, ...this.opts.ovs.orphanPatches(this.opts.brInt, [`${PARENT_PREFIX}i-`, `${SUBPORT_PREFIX}i-`])])]);
    if (entry) this.log.info(`trunk bridge ${bridge} deleted: the patches of trunk ${entry.trunkId} removed from ${this.opts.brInt}`, { trunk_id: entry.trunkId });
  }

  private async trunkDeleted(bridge: string): Promise<void> {
    const entry = this.wired.get(bridge);
    if (!entry) return;
    const subs = [...entry.subports.keys()];
    await this.opts.ovs.unplug(this.opts.brInt, [intPatchName(PARENT_PREFIX, entry.parentId), ...subs.map((id) => intPatchName(SUBPORT_PREFIX, id))],
      { bridge, names: [trunkPatchName(PARENT_PREFIX, entry.parentId), ...subs.map((id) => trunkPatchName(SUBPORT_PREFIX, id))] });
    this.wired.delete(bridge);
    this.log.info(`trunk ${entry.trunkId} deleted: its patches removed`, { trunk_id: entry.trunkId });
  }

  private async sweepOrphans(): Promise<void> {
    const orphans = this.opts.ovs.orphanPatches(this.opts.brInt, [`${PARENT_PREFIX}i-`, `${SUBPORT_PREFIX}i-`]);
    if (!orphans.length) return;
    await this.opts.ovs.unplug(this.opts.brInt, orphans);
    this.log.info(`removed ${orphans.length} trunk patch port(s) of ${this.opts.brInt} whose trunk bridge is gone`, { patches: orphans });
  }
}
