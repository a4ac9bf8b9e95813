/**
 * The ports this host has, as OVSDB shows them: which interface carries
 * which Neutron port (vif-registry.ts), each port's record and state, and
 * what the next pass must look at. The only owner of port state: the pass
 * reads and updates records here, nothing else keeps its own list.
 *
 * A row is one of ours when it has both `external_ids:iface-id` and
 * `attached-mac` and an ofport (docs/design.md#ovsdb-what-is-read-and-written):
 * on br-int it is wired, on an ancillary bridge (external_ids:bridge-id equal
 * to its name, e.g. br-ex) only reported up and down.
 */
import { named, type Logger } from '../log.js';
import { DuplicateWiring } from './duplicates.js';
import type { PassWork, PortRecord, PortState } from './port-record.js';
import type { VifRow } from './switch.js';
export type { PassWork, PortRecord, PortState, WiredPort } from './port-record.js';
import { VifRegistry, startupOrder, type TrackedVif, type VifEvent, type VifPlace } from './vif-registry.js';

export class PortTracker {
  private readonly records = new Map<string, PortRecord>();
  /** Which interface carries which port id, on br-int and the ancillary bridges. */
  private readonly vifs = new VifRegistry();
  private readonly pending = new Set<string>();
  private readonly pendingRemoved = new Set<string>();
  /** Duplicate interfaces kept off the network. */
  private readonly duplicates: DuplicateWiring;
  /** A pass is running, and the ports it is wiring (their tags are decided before they are written). */
  private passRunning = false;
  private readonly inPass = new Set<string>();
  /** Ports / duplicates of the running pass whose row changed during it: their tags are checked when it ends. */
  private readonly recheckTags = new Set<string>();
  /**
   * Ports whose lookup the control plane deferred while it fetches their details: its `ports_updated`
   * brings them back. Until then the first sync is not done, nor the agent idle.
   */
  private readonly deferred = new Set<string>();
  /** Ancillary VIFs to report up and down. */
  private readonly ancillaryUp = new Set<string>();
  private readonly ancillaryDown = new Set<string>();
  private intBridge = '';
  private ancillary: readonly string[] = [];

  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = named(log, 'ovs_agent.agent.ports');
    this.duplicates = new DuplicateWiring(log);
  }

  /** Which bridge is br-int and which are ancillary (decided at start-up). */
  setBridges(integrationBridge: string, ancillary: readonly string[]): void {
    this.intBridge = integrationBridge;
    this.ancillary = ancillary;
  }

  get ancillaryBridges(): readonly string[] { return this.ancillary; }

  // ------------------------------------------------------------ OVSDB rows

  /** Every row OVSDB has (start-up, and after ovsdb-server came back): interfaces gone since are forgotten. */
  noteAll(rows: Iterable<VifRow>): void {
    const present = new Set<string>();
    for (const vif of startupOrder(rows)) {
      present.add(vif.name);
      this.note(vif);
    }
    for (const name of [...this.vifs.names()]) if (!present.has(name)) this.forget(name);
  }

  /** Marks a VIF for the next pass when something the agent cares about changed. */
  note(vif: VifRow): void {
    const place = this.placeOf(vif);
    if (!place) {
      this.forget(vif.name);
      return;
    }
    if (vif.ofport === undefined || vif.ofport <= 0) return; // not ready yet; its ofport event will come
    const events = this.vifs.note({ name: vif.name, portId: vif.ifaceId!, ofport: vif.ofport, mac: vif.attachedMac!, place });
    if (events.length) {
      this.apply(events);
      return;
    }
    if (place !== 'int') return;
    if (this.vifs.isDuplicate(vif.name)) {
      this.duplicates.rowChanged(vif, this.passRunning);
      return;
    }
    // Neutron's check_changed_vlans: a wired port's tag changed behind our back (another tool, a typo in
    // ovs-vsctl) puts its VM on another network's VLAN; the next pass writes the tag back.
    // A port in the running pass has its new tag decided but maybe not written yet: checked when the pass ends.
    if (this.inPass.has(vif.ifaceId!)) this.recheckTags.add(vif.ifaceId!);
    else this.checkTag(vif.ifaceId!, vif);
  }

  /** The interface is gone, or no longer one of ours. */
  forget(name: string): void { this.apply(this.vifs.forget(name)); }

  /** br-int's VIFs are wired, ancillary bridges' only reported; anything else is not ours. */
  private placeOf(vif: VifRow): VifPlace | undefined {
    if (vif.ifaceId === undefined || vif.attachedMac === undefined || vif.bridge === undefined) return undefined;
    if (vif.bridge === this.intBridge) return 'int';
    return this.ancillary.includes(vif.bridge) ? 'ancillary' : undefined;
  }

  /** What a change of carriers and duplicates means for the next pass and the reports. */
  private apply(events: readonly VifEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'carrier':
          this.carrierChanged(e.portId, e.vif, e.previous);
          break;
        case 'gone':
          this.deferred.delete(e.portId);
          if (e.previous.place === 'int') {
            this.pending.delete(e.portId);
            this.pendingRemoved.add(e.portId);
          } else {
            this.ancillaryUp.delete(e.portId);
            this.ancillaryDown.add(e.portId);
          }
          break;
        case 'duplicate':
          this.log.error(`interfaces ${e.carrier.name} and ${e.vif.name} both have iface-id ${e.vif.portId}: ` +
            `${e.carrier.name} carries the port; ${e.vif.name} is ${e.vif.place === 'int' ? 'kept on the dead VLAN with its traffic dropped' : 'not reported'} ` +
            'until one of them goes or changes its iface-id',
          { port_id: e.vif.portId, interface: e.vif.name, carriedBy: e.carrier.name, ofport: e.vif.ofport });
          this.duplicates.pending.add(e.vif.name);
          break;
        case 'duplicate-gone':
          this.log.info(`interface ${e.vif.name} no longer duplicates port ${e.vif.portId}`, { port_id: e.vif.portId, interface: e.vif.name });
          this.duplicates.pending.add(e.vif.name);
          break;
      }
    }
  }

  private carrierChanged(portId: string, vif: TrackedVif, previous: TrackedVif | undefined): void {
    if (previous && previous.name !== vif.name) {
      this.log.warn(`port ${portId} is now carried by interface ${vif.name} instead of ${previous.name}`,
        { port_id: portId, interface: vif.name, previous: previous.name });
    }
    if (vif.place === 'ancillary') {
      if (previous?.place === 'int') {
        this.pending.delete(portId);
        this.pendingRemoved.add(portId);
      }
      this.ancillaryDown.delete(portId);
      this.ancillaryUp.add(portId);
      return;
    }
    if (previous?.place === 'ancillary') this.ancillaryUp.delete(portId);
    this.pending.add(portId);
    this.pendingRemoved.delete(portId);
    const p = this.records.get(portId);
    if (!p) {
      this.records.set(portId, { portId, name: vif.name, ofport: vif.ofport, mac: vif.mac, state: 'WAITING', readyAt: Date.now(), readyPerf: performance.now() });
    } else {
      p.ofport = vif.ofport;
      p.name = vif.name;
      p.readyAt = Date.now();
      p.readyPerf = performance.now();
    }
  }

  /** Marks a port whose Port tag is not the one this agent gave it for the next pass. */
  private checkTag(portId: string, vif: VifRow | undefined): void {
    const want = this.records.get(portId)?.tag;
    if (want === undefined || vif === undefined || vif.tag === want || this.pending.has(portId)) return;
    this.log.warn(`port ${portId}: its VLAN tag was changed outside the agent (${vif.tag ?? 'none'}, not ${want}): setting it back`, { port_id: portId, name: vif.name, tag: vif.tag ?? null, want });
    this.pending.add(portId);
  }

  // ------------------------------------------------------------ passes

  /** Every port and duplicate is looked at again (a full resync). */
  markAll(): void {
    for (const c of this.vifs.carriers()) if (c.place === 'int') this.pending.add(c.portId);
    for (const d of this.vifs.duplicates()) this.duplicates.pending.add(d.name);
  }

  /** Marks a port for the next pass (a control-plane event, a retry), if it is on br-int. */
  mark(id: string): void {
    if (this.isPresent(id)) this.pending.add(id);
  }

  /** The control plane is fetching the port's details and will say when they are there (`detailsReady`). */
  deferDetails(id: string): void {
    if (this.isPresent(id)) this.deferred.add(id);
  }

  /** The control plane has the port's details now (ports_updated): it is looked up again. */
  detailsReady(id: string): void {
    this.deferred.delete(id);
    this.mark(id);
  }

  /** No port waits for its details. */
  get noneDeferred(): boolean { return this.deferred.size === 0; }

  /** The work of one pass: pending ports that are `due`, removals, duplicates; the rest stays pending. */
  take(due: (id: string) => boolean): PassWork {
    this.passRunning = true;
    const ids = [...this.pending].filter(due);
    for (const id of ids) {
      this.pending.delete(id);
      this.inPass.add(id);
    }
    const removed = [...this.pendingRemoved];
    this.pendingRemoved.clear();
    const duplicates = [...this.duplicates.pending];
    this.duplicates.pending.clear();
    return { ids, removed, duplicates };
  }

  /** A failed pass's removals and duplicates are taken on again by the next one. */
  giveBack(work: PassWork): void {
    for (const id of work.removed) this.pendingRemoved.add(id);
    for (const name of work.duplicates) this.duplicates.pending.add(name);
  }

  /**
   * The pass ended: after a successful one the replica holds its tag writes,
   * so a port of the pass whose row changed meanwhile and whose tag is not
   * the one the pass gave it was changed by someone else. (After a failed
   * one its tags may not be written, and its ports are retried anyway.)
   */
  passEnded(ok: boolean, row: (name: string) => VifRow | undefined): void {
    if (ok) {
      for (const id of this.recheckTags) {
        const p = this.records.get(id);
        if (p && this.isPresent(id)) this.checkTag(id, row(p.name));
      }
    }
    this.passRunning = false;
    this.inPass.clear();
    this.recheckTags.clear();
    this.duplicates.passEnded(ok, (name) => this.vifs.isDuplicate(name), row);
  }

  /** A duplicate interface on br-int, and its ofport, if `name` is one (else undefined). */
  duplicateOnIntegrationBridge(name: string): TrackedVif | undefined {
    const v = this.vifs.get(name);
    return v?.place === 'int' && this.vifs.isDuplicate(name) ? v : undefined;
  }

  /** The duplicate interfaces a pass put on the dead VLAN (their tag is then watched), or took off it. */
  duplicatesWired(dead: readonly string[], alive: readonly string[]): void {
    this.duplicates.wired(dead, alive);
  }

  /** Ancillary VIFs to report now (taken; `giveBackAncillary` if the report failed). */
  takeAncillary(): { up: string[]; down: string[] } {
    const out = { up: [...this.ancillaryUp], down: [...this.ancillaryDown] };
    this.ancillaryUp.clear();
    this.ancillaryDown.clear();
    return out;
  }

  giveBackAncillary(up: readonly string[], down: readonly string[]): void {
    for (const id of up) this.ancillaryUp.add(id);
    for (const id of down) this.ancillaryDown.add(id);
  }

  /** Anything for a pass to do; `due` tells retries that must wait from work to do now. */
  hasWork(due: (id: string) => boolean = () => true): boolean {
    if (this.pendingRemoved.size || this.duplicates.pending.size || this.ancillaryUp.size || this.ancillaryDown.size) return true;
    for (const id of this.pending) if (due(id)) return true;
    return false;
  }

  /** Nothing pending at all, retries included. */
  get quiet(): boolean { return !this.pending.size && !this.deferred.size && !this.hasWork(); }

  /** The ports waiting for a pass, due or not. */
  get pendingIds(): ReadonlySet<string> { return this.pending; }

  // ------------------------------------------------------------ records

  /** The port's record belongs to the interface that carries its id on br-int. */
  isPresent(portId: string): boolean {
    const c = this.vifs.carrier(portId);
    return c !== undefined && c.place === 'int' && this.records.get(portId)?.name === c.name;
  }

  get(portId: string): PortRecord | undefined { return this.records.get(portId); }

  delete(portId: string): void { this.records.delete(portId); }

  all(): IterableIterator<PortRecord> { return this.records.values(); }

  /** How much each map holds (tests: nothing outlives the rows it was made from). */
  sizes(): Record<string, number> {
    return { ...this.vifs.size, records: this.records.size, deadInterfaces: this.duplicates.deadCount, deferred: this.deferred.size,
      pendingDuplicates: this.duplicates.pending.size, ancillaryUp: this.ancillaryUp.size, ancillaryDown: this.ancillaryDown.size };
  }

  /** How many ports are in each state. */
  counts(): Record<PortState, number> {
    const c: Record<PortState, number> = { ACTIVE: 0, DEAD: 0, DOWN: 0, FAILED: 0, WAITING: 0 };
    for (const p of this.records.values()) c[p.state]++;
    return c;
  }
}
