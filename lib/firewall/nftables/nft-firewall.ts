/**
 * `[ovs_agent] hybrid_backend = nftables`: the iptables_hybrid driver with
 * its rules in nftables' own structures (ruleset.ts) instead of iptables
 * chains, for hosts with many ports (docs/firewall.md, "nftables backend").
 * Everything but apply() is the iptables driver's (what changed, conntrack
 * zones, the `conntrack -R` clean-up); apply() sends ONE `nft -f -` per
 * pass: set elements when only remote groups' members changed, otherwise
 * both tables replaced in one transaction. When nft fails the kernel keeps
 * the previous ruleset whole and the next apply retries.
 *
 * The first apply reads the agent's tables (`nft -j list`) and iptables'
 * (a restart, or a switch from the iptables backend or Neutron's agent):
 * ports keep their zones; a port filtered there that no pass has named yet
 * keeps its established connections only until the first full sync ends;
 * iptables chains of ours are removed only after the nft tables are in.
 */
import { HybridIptablesFirewall, type ApplyResult } from '../iptables/hybrid-firewall.js';
import { adoptedKeys } from '../iptables/adopted.js';
import { parseSave } from '../iptables/restore.js';
import type { Tables } from '../iptables/ruleset.js';
import { portIsStateful, type HybridPort } from '../iptables/port-chains.js';
import { deviceName, wrapped } from '../iptables/names.js';
import type { Ethertype } from '../rules.js';
import { hasOurChains, renderRemoval } from './iptables-removal.js';
import { buildNftRuleset, NFT_TABLE, portElements, type HeldPort, type NftRuleset, type NftSet, type PortElements } from './ruleset.js';
import { coverAddresses, remoteSetName } from './sg-rules.js';
import { renderTransaction } from './transaction.js';

/** What one apply() of the nftables backend sent. */
export interface NftApplyResult extends ApplyResult {
  /** The `nft -f` input ('' when nothing changed). `restore` holds the iptables-restore inputs that removed iptables chains of ours (a switch from the iptables backend); `ipsets` is always ''. */
  nft: string;
}

type Elem = [unknown, unknown];
interface NftJsonItem { map?: { name: string; elem?: Elem[] } }

/** The zones and filtered ports (by device key) of the agent's own table, from `nft -j list table inet ...`. */
export function parseOwnTable(json: string): { zones: Map<string, number>; ports: Set<string> } {
  const zones = new Map<string, number>();
  const ports = new Set<string>();
  if (!json.trim()) return { zones, ports };
  for (const item of (JSON.parse(json) as { nftables: NftJsonItem[] }).nftables) {
    const m = item.map;
    if (!m?.elem) continue;
    for (const [k, v] of m.elem) {
      if (typeof k !== 'string' || !k.startsWith('qbr')) continue;
      if (m.name === 'ct_zones' && typeof v === 'number') zones.set(k.slice(3), v);
      if (m.name === 'port_eg') ports.add(k.slice(3));
    }
  }
  return { zones, ports };
}

/** The part of a port id its device names carry (what the kernel's rules are keyed by). */
const deviceKey = (portId: string): string => deviceName('tap', portId).slice(3);

export class NftHybridFirewall extends HybridIptablesFirewall {
  readonly backend = 'nftables';
  private nftCurrent: NftRuleset | undefined;
  private started = false;
  /** Ports filtered before the restart that no pass has named yet (their device keys and zones). */
  private held = new Map<string, HeldPort>();
  /** iptables' tables of ours still in the kernel, to remove once the nft rules are in. */
  private iptablesLeft: { 4: Tables; 6: Tables } | undefined;
  /** Each filtered port's elements and what they were built from. */
  private readonly elementCache = new Map<string, { sig: string; elements: PortElements }>();

  override ipset(sgId: string, ethertype: Ethertype): string | undefined {
    return this.membersBySg.has(sgId) ? remoteSetName(sgId, ethertype) : undefined;
  }

  override removePortFilters(portIds: readonly string[]): void {
    super.removePortFilters(portIds);
    for (const id of portIds) this.held.delete(deviceKey(id));
  }

  override firstSyncDone(): void {
    if (!this.held.size) return;
    this.held.clear();
    this.dirty = true;
  }

  override async apply(): Promise<NftApplyResult | undefined> {
    if (!this.dirty && !this.pendingConntrack.length && !this.removed.length && !this.iptablesLeft) return undefined;
    let processes = 0;
    if (!this.started) processes += await this.readKernel();
    this.pruneGroups();
    const live = (): Iterable<string> => this.ports.keys();
    for (const id of this.ports.keys()) this.held.delete(deviceKey(id));
    for (const id of this.elementCache.keys()) if (!this.ports.has(id)) this.elementCache.delete(id);
    const desired = buildNftRuleset(this.ports.values(), this, (id) => this.zones.zoneOf(id, live), this.wantedSets(), [...this.held.values()],
      (p) => this.cachedElements(p));
    const nft = renderTransaction(this.nftCurrent, desired);
    if (nft) {
      await this.run(['nft', '-f', '-'], nft);
      processes++;
    }
    this.nftCurrent = desired;
    let restore = { 4: '', 6: '' };
    if (this.iptablesLeft) {
      // Only now: until the nft rules are in, iptables' keep filtering.
      const removed = await this.removeIptables(this.iptablesLeft);
      restore = removed.restore;
      processes += removed.processes;
    }
    const conntrack = this.startConntrack();
    if (conntrack.length) processes++;
    this.dirty = false;
    return { processes, nft, restore, ipsets: '', conntrack, conntrackDone: this.conntrackQueue };
  }

  /**
   * Our iptables chains and the jumps to them (as read), then the ipsets they
   * used. When iptables-restore fails (the chains changed since they were
   * read) they are read again for the next apply's try.
   */
  private async removeIptables(left: { 4: Tables; 6: Tables }): Promise<{ restore: Record<4 | 6, string>; processes: number }> {
    const restore = { 4: renderRemoval(left[4]), 6: renderRemoval(left[6]) };
    let processes = 0;
    try {
      await Promise.all(([[4, 'iptables-restore'], [6, 'ip6tables-restore']] as const).map(async ([f, cmd]) => {
        if (!restore[f]) return;
        await this.run([cmd, '--noflush'], restore[f]);
        processes++;
      }));
    } catch (err) {
      const [v4, v6] = await Promise.all([this.run(['iptables-save']).catch(() => ''), this.run(['ip6tables-save']).catch(() => '')]);
      const ipt = { 4: parseSave(v4), 6: parseSave(v6) };
      this.iptablesLeft = hasOurChains(ipt[4]) || hasOurChains(ipt[6]) ? ipt : undefined;
      throw err;
    }
    this.iptablesLeft = undefined;
    const sets = (await this.run(['ipset', 'list', '-n'], undefined, [0, 1]).catch(() => '')).split('\n').filter((n) => /^NIPv[46]/.test(n));
    for (const name of sets) await this.run(['ipset', 'destroy', name], undefined, [0, 1]);
    return { restore, processes: processes + 1 + sets.length };
  }

  /** The kernel's rules at start: our nft table and iptables chains of ours; returns the processes run. */
  private async readKernel(): Promise<number> {
    const [json, v4, v6] = await Promise.all([
      this.run(['nft', '-j', 'list', 'table', 'inet', NFT_TABLE], undefined, [0, 1]).catch(() => ''),
      this.run(['iptables-save']).catch(() => ''),
      this.run(['ip6tables-save']).catch(() => ''),
    ]);
    const own = parseOwnTable(json);
    for (const [key, zone] of own.zones) this.zones.adoptZone(key, zone);
    const ipt = { 4: parseSave(v4), 6: parseSave(v6) };
    this.zones.adopt(ipt[4].raw.get(wrapped('PREROUTING')) ?? []);
    for (const key of [...own.ports, ...adoptedKeys(ipt)]) this.held.set(key, { key, zone: own.zones.get(key) });
    for (const h of this.held.values()) h.zone ??= this.zones.get(h.key);
    if (hasOurChains(ipt[4]) || hasOurChains(ipt[6])) this.iptablesLeft = ipt;
    this.started = true;
    return 3;
  }

  /** The remote groups' member sets the ports' rules name: hosts (`rg4-<sg>`, a hash set) and networks (`rg4n-<sg>`, an interval set). */
  private wantedSets(): Map<string, NftSet> {
    const out = new Map<string, NftSet>();
    for (const { rule: r, remoteGroupId, addresses } of this.remoteGroupRules()) {
      const name = remoteSetName(remoteGroupId, r.ethertype);
      if (out.has(name)) continue;
      const family = r.ethertype === 'IPv4' ? 4 : 6;
      const all = coverAddresses(addresses());
      out.set(name, { family, interval: false, members: all.filter((a) => !a.includes('/')) });
      out.set(name.replace(/^rg([46])-/, 'rg$1n-'), { family, interval: true, members: all.filter((a) => a.includes('/')) });
    }
    return out;
  }

  /** A port's elements, rebuilt only when the port, its zone or its statefulness changed. */
  private cachedElements(p: HybridPort): PortElements {
    const stateful = portIsStateful(p, this);
    const zone = this.zones.zoneOf(p.portId, () => this.ports.keys());
    const sig = `${JSON.stringify(p)}|${stateful}|${zone}`;
    const hit = this.elementCache.get(p.portId);
    if (hit?.sig === sig) return hit.elements;
    const elements = portElements(p, stateful, zone);
    this.elementCache.set(p.portId, { sig, elements });
    return elements;
  }
}
