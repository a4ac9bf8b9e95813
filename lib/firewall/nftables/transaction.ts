/**
 * From the ruleset the kernel holds to the one wanted, as ONE `nft -f`
 * input (one transaction: every packet meets the old ruleset or the new
 * one, never a part). When only remote groups' members changed, their sets
 * are changed in place (elements added and deleted); otherwise both tables
 * are deleted and defined again in the same transaction, which replaces
 * them atomically (never flushed first).
 */
import { NFT_TABLE, type NftRuleset, type NftSet } from './ruleset.js';

const chunk = <T>(items: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
};

function elementLines(verb: 'add' | 'delete', set: string, members: readonly string[]): string[] {
  return chunk(members, 2000).map((c) => `${verb} element inet ${NFT_TABLE} ${set} { ${c.join(', ')} }`);
}

function fillSets(sets: Map<string, NftSet>): string[] {
  const out: string[] = [];
  for (const [name, s] of sets) out.push(...elementLines('add', name, s.members));
  return out;
}

/** The `nft -f` input taking `current` (undefined: unknown or absent) to `desired`; empty when nothing changes. */
export function renderTransaction(current: NftRuleset | undefined, desired: NftRuleset): string {
  if (!current || current.structure !== desired.structure) {
    // `table X` first so that the delete works whether or not the table exists.
    const out = [`table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`, `table bridge ${NFT_TABLE}`, `delete table bridge ${NFT_TABLE}`,
      desired.structure.trimEnd(), ...fillSets(desired.sets)];
    return out.join('\n') + '\n';
  }
  const out: string[] = [];
  for (const [name, want] of desired.sets) {
    const have = new Set(current.sets.get(name)?.members ?? []);
    const keep = new Set(want.members);
    // Deleted first: a wider member replacing narrower ones must not overlap them.
    out.push(...elementLines('delete', name, [...have].filter((m) => !keep.has(m))));
    out.push(...elementLines('add', name, want.members.filter((m) => !have.has(m))));
  }
  return out.length ? out.join('\n') + '\n' : '';
}
