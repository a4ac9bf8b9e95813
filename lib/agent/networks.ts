/**
 * Networks on this host: the only owner of local VLANs (local-vlans.ts) and
 * of which ports are bound to which network. Binding a port provisions its
 * network on first use (a local VLAN, the flows that translate it on the
 * patch ports, docs/design.md#the-pipeline) and reclaiming it with the last
 * port removes them; a dead port gets VLAN 4095 and a drop flow.
 */
import type { PortDetails } from '../model/index.js';
import { named, type Logger } from '../log.js';
import type { BridgeSetup } from './bridge-setup.js';
import { LocalVlanManager, VlanPoolExhaustedError, type LocalVlanMapping } from './local-vlans.js';
import type { PortRecord } from './ports.js';
import type { Tunnels } from './tunnels.js';

export class Networks {
  private readonly vlans = new LocalVlanManager();
  /** Ports that found every local VLAN taken: tried again when a network gives its VLAN back. */
  private readonly awaitingVlan = new Set<string>();
  private readonly log: Logger;

  constructor(
    private readonly bridges: BridgeSetup,
    private readonly tunnels: Tunnels,
    private readonly tunnelTypes: readonly string[],
    log: Logger,
    /** A local VLAN is free again: these ports, which found none, are to be wired. */
    private readonly vlanFreed: (portIds: string[]) => void,
  ) {
    this.log = named(log, 'ovs_agent.agent.networks');
  }

  /** port_bound: provisions the network on first use and puts the port on it. Throws when the network cannot be wired here. */
  bind(p: PortRecord, d: PortDetails): LocalVlanMapping {
    if (p.networkId && p.networkId !== d.networkId) this.unbind(p, { keepState: true });
    const existing = this.vlans.get(d.networkId);
    if (existing && (existing.segmentationId !== d.segmentationId || existing.networkType !== d.networkType ||
        existing.physicalNetwork !== d.physicalNetwork)) {
      // Its segmentation changed: reclaimed and provisioned again.
      this.reclaim(d.networkId);
    }
    let m: LocalVlanMapping;
    try {
      m = this.vlans.get(d.networkId) ?? this.provision(d);
    } catch (err) {
      if (err instanceof VlanPoolExhaustedError) this.awaitingVlan.add(p.portId);
      throw err;
    }
    this.awaitingVlan.delete(p.portId);
    m.ports.add(p.portId);
    this.bridges.brInt.removeDeadPortDrop(p.portId);
    p.networkId = d.networkId;
    p.networkType = d.networkType;
    p.lvid = m.lvid;
    p.mac = d.macAddress;
    return m;
  }

  /** port_unbound: the port leaves its network, which is reclaimed with its last port; its dead drop goes. */
  unbind(p: PortRecord, opts: { keepState?: boolean } = {}): void {
    this.bridges.brInt.removeDeadPortDrop(p.portId);
    this.awaitingVlan.delete(p.portId);
    if (p.networkId) {
      const m = this.vlans.get(p.networkId);
      m?.ports.delete(p.portId);
      if (m && m.ports.size === 0) this.reclaim(p.networkId);
    }
    p.networkId = undefined;
    p.lvid = undefined;
    if (!opts.keepState) p.state = 'DOWN';
  }

  /** A port id whose record is gone: only its dead drop can be left. */
  forget(portId: string): void {
    this.bridges.brInt.removeDeadPortDrop(portId);
    this.awaitingVlan.delete(portId);
  }

  /** port_dead: off its network, VLAN 4095 (the caller writes the tag) and a drop flow. */
  dead(p: PortRecord): void {
    if (p.networkId) this.unbind(p, { keepState: true });
    this.bridges.brInt.installDeadPortDrop(p.portId, p.ofport);
  }

  private provision(d: PortDetails): LocalVlanMapping {
    const type = d.networkType;
    if (type === 'flat' || type === 'vlan') {
      if (!d.physicalNetwork || !this.bridges.brPhys.has(d.physicalNetwork)) {
        throw new Error(`physical network ${d.physicalNetwork ?? '(none)'} of network ${d.networkId} is not in bridge_mappings`);
      }
      if (type === 'vlan' && d.segmentationId === undefined) throw new Error(`VLAN network ${d.networkId} has no segmentation id`);
    } else if (type !== 'local') {
      if (!this.bridges.brTun || !this.tunnelTypes.includes(type)) {
        throw new Error(`network ${d.networkId} is ${type} but tunnel_types does not include ${type}`);
      }
      if (d.segmentationId === undefined) throw new Error(`${type} network ${d.networkId} has no segmentation id`);
    }
    const m = this.vlans.provision(d.networkId, type, d.segmentationId, d.physicalNetwork);
    this.installFlows(m);
    this.log.info(`network ${d.networkId} (${type}${d.segmentationId !== undefined ? ` ${d.segmentationId}` : ''}) provisioned on local VLAN ${m.lvid}`,
      { network_id: d.networkId, local_vlan: m.lvid });
    return m;
  }

  private reclaim(networkId: string): void {
    const m = this.vlans.reclaim(networkId);
    if (!m) return;
    this.bridges.brInt.reclaimLocalVlan(networkId);
    for (const br of this.bridges.brPhys.values()) br.reclaimLocalVlan(networkId);
    this.bridges.brTun?.reclaimLocalVlan(networkId);
    this.tunnels.networkReclaimed(networkId);
    this.log.info(`network ${networkId} reclaimed local VLAN ${m.lvid}`, { network_id: networkId, local_vlan: m.lvid });
    // Neutron's agent retries such ports by resyncing every port each loop while the pool is empty; here
    // only they are tried again, in the next pass, now that a VLAN is free.
    if (this.awaitingVlan.size) {
      this.log.info(`local VLAN ${m.lvid} free again: retrying ${this.awaitingVlan.size} port(s) that found none`);
      const ids = [...this.awaitingVlan];
      this.awaitingVlan.clear();
      this.vlanFreed(ids);
    }
  }

  /** provision_local_vlan's flows for an allocated local VLAN. */
  private installFlows(m: LocalVlanMapping): void {
    const type = m.networkType;
    if (type === 'flat' || type === 'vlan') {
      const physnet = m.physicalNetwork!;
      this.bridges.brInt.provisionLocalVlan({ networkId: m.networkId, networkType: type, segmentationId: m.segmentationId, lvid: m.lvid,
        intPatchOfport: this.bridges.intPatchOfport.get(physnet)! });
      this.bridges.brPhys.get(physnet)!.provisionLocalVlan({ networkId: m.networkId, networkType: type, segmentationId: m.segmentationId,
        lvid: m.lvid, physPatchOfport: this.bridges.phyPatchOfport.get(physnet)! });
    } else if (type !== 'local' && this.bridges.brTun) {
      this.bridges.brTun.provisionLocalVlan({ networkId: m.networkId, networkType: type, segmentationId: m.segmentationId!, lvid: m.lvid });
      this.tunnels.networkProvisioned(m);
    }
  }

  /** After an ovs-vswitchd restart the patch ofports may have changed: every network's flows again, same VLANs. */
  reinstallFlows(): void {
    for (const m of this.vlans.mappings()) this.installFlows(m);
  }

  /** A restarted agent reserves the VLANs the Port rows say each network had, so no port's tag changes. */
  restoreHints(hints: Iterable<{ networkId: string; segmentationId: number | undefined; lvid: number }>): void {
    for (const h of hints) this.vlans.addHint(h.networkId, h.segmentationId, h.lvid);
  }

  /** After the first full sync: hints no network claimed are released. */
  releaseUnusedHints(): void {
    this.vlans.releaseUnusedHints();
  }

  mappings(): IterableIterator<LocalVlanMapping> {
    return this.vlans.mappings();
  }
}
