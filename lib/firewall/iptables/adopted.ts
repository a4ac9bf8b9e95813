/**
 * Until the agent's first full sync ends, a port whose rules the kernel
 * holds (left by the agent before its restart, or by Neutron's agent) but
 * that no pass has handed to the driver yet keeps them: its chains, its
 * jumps and its zone rules are carried into every ruleset as they were
 * read, so a port the first pass could not look up is never left
 * unfiltered (with no jump for its tap, FORWARD would accept its frames).
 */
import { deviceName, LINUX_DEV_LEN, WRAP, wrapped } from './names.js';
import type { Ruleset } from './ruleset.js';

const KEY_LEN = LINUX_DEV_LEN - 3;

/** The device keys (first 11 characters of the port id) of the ports the kernel's rules filter. */
export function adoptedKeys(current: Ruleset): Set<string> {
  const out = new Set<string>();
  for (const rule of current[4].filter.get(wrapped('FORWARD')) ?? []) {
    const m = /--physdev-(?:in|out) tap(\S+) /.exec(rule);
    if (m && m[1].length === KEY_LEN) out.add(m[1]);
  }
  return out;
}

const mentions = (rule: string, key: string): boolean =>
  rule.includes(`${deviceName('tap', key)} `) || rule.includes(`${deviceName('qvb', key)} `);

const deviceKey = (rule: string): string | undefined => /(?:tap|qvb)(\S{11}) /.exec(rule)?.[1];

/**
 * A shared chain's lines with the carried ones where a fresh build would
 * have put them: the filtered ports' lines sorted by port (stable, so each
 * port's own lines keep their order), then port-security-disabled ACCEPTs
 * and the chain's final line as they were.
 */
function inPortOrder(rules: string[]): string[] {
  const filtered = rules.filter((r) => deviceKey(r) !== undefined && !r.endsWith('-j ACCEPT'));
  const rest = rules.filter((r) => !filtered.includes(r));
  const key = (r: string): string => deviceKey(r)!;
  return [...filtered.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)), ...rest];
}

/** Adds to `desired` what `current` holds for the ports of `keys` (none of which `desired` has). */
export function carryAdopted(desired: Ruleset, current: Ruleset, keys: ReadonlySet<string>): void {
  if (!keys.size) return;
  for (const family of [4, 6] as const) {
    const cur = current[family];
    const want = desired[family];
    for (const [chain, rules] of cur.filter) {
      const m = new RegExp(`^${WRAP}-[ios](.+)$`).exec(chain);
      if (m && [...keys].some((k) => k.startsWith(m[1])) && !want.filter.has(chain)) want.filter.set(chain, rules);
    }
    const carried = (table: 'filter' | 'raw', chain: string): string[] =>
      (cur[table].get(wrapped(chain)) ?? []).filter((r) => [...keys].some((k) => mentions(r, k)));
    for (const [table, chain] of [['filter', 'FORWARD'], ['filter', 'sg-chain'], ['filter', 'INPUT'], ['raw', 'PREROUTING']] as const) {
      const name = wrapped(chain);
      want[table].set(name, inPortOrder([...want[table].get(name)!, ...carried(table, chain)]));
    }
  }
}
