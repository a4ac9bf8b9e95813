/**
 * Duplicate interfaces (two rows with one iface-id, vif-registry.ts) kept
 * off the network: which ones a pass is to put on the dead VLAN or take off
 * it, which ones are there, and whether their tag was changed behind the
 * agent's back (then the next pass sets it back).
 */
import { DEAD_VLAN_TAG } from '../bridges/constants.js';
import { named, type Logger } from '../log.js';
import type { VifRow } from './switch.js';

export class DuplicateWiring {
  /** Whose dead wiring the next pass puts in place or takes away. */
  readonly pending = new Set<string>();
  /** On the dead VLAN with their drop flow, put there by a pass. */
  private readonly dead = new Set<string>();
  /** Rows that changed during a pass: their tags are checked when it ends. */
  private readonly recheck = new Set<string>();

  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = named(log, 'ovs_agent.agent.duplicates');
  }

  /** A duplicate's row changed: during a pass, checked when it ends; else now. */
  rowChanged(vif: VifRow, passRunning: boolean): void {
    if (passRunning) this.recheck.add(vif.name);
    else this.checkTag(vif);
  }

  /** A pass ended well: the rows that changed meanwhile are checked, if they are still duplicates. */
  passEnded(ok: boolean, isDuplicate: (name: string) => boolean, row: (name: string) => VifRow | undefined): void {
    if (ok) for (const name of this.recheck) if (isDuplicate(name)) this.checkTag(row(name));
    this.recheck.clear();
  }

  /** What a pass put on the dead VLAN and took off it. */
  wired(dead: readonly string[], alive: readonly string[]): void {
    for (const name of dead) this.dead.add(name);
    for (const name of alive) this.dead.delete(name);
  }

  get deadCount(): number {
    return this.dead.size;
  }

  private checkTag(vif: VifRow | undefined): void {
    if (!vif || !this.dead.has(vif.name) || vif.tag === DEAD_VLAN_TAG || this.pending.has(vif.name)) return;
    this.log.warn(`port ${vif.ifaceId}: the dead VLAN tag of its duplicate interface ${vif.name} was changed outside the agent: setting it back`,
      { interface: vif.name, port_id: vif.ifaceId, tag: vif.tag ?? null, want: DEAD_VLAN_TAG });
    this.pending.add(vif.name);
  }
}
