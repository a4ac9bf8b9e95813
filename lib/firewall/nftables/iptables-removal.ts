/**
 * Switching to the nftables backend from the iptables one (or from
 * Neutron's agent): once the nft tables are in, the iptables chains of ours
 * go, as ONE `iptables-restore --noflush` per family (our chains emptied
 * and deleted, the jumps to them from shared chains deleted, nothing else of
 * those chains touched), and then the ipsets they used.
 */
import { isOurChain, WRAP } from '../iptables/names.js';
import type { Tables, TableName } from '../iptables/ruleset.js';

/** True when iptables-save's tables hold any chain of ours. */
export function hasOurChains(t: Tables): boolean {
  return [...t.filter.keys(), ...t.raw.keys()].some(isOurChain);
}

/** The restore input removing our chains and the jumps to them (parseSave's view of the kernel); empty when none. */
export function renderRemoval(current: Tables): string {
  const out: string[] = [];
  for (const table of ['filter', 'raw'] as TableName[]) {
    const ours = [...current[table].keys()].filter(isOurChain);
    const jumps: string[] = [];
    for (const [chain, rules] of current[table]) {
      if (isOurChain(chain)) continue;
      // Jumps to neutron-filter-top stay: Neutron's other agents share it.
      for (const r of rules) if (r.includes(`-j ${WRAP}-`)) jumps.push(`-D ${chain} ${r}`);
    }
    if (!ours.length && !jumps.length) continue;
    out.push(`*${table}`, ...ours.map((c) => `:${c} - [0:0]`), ...jumps, ...ours.map((c) => `-X ${c}`), 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}
