/**
 * From the chains the kernel holds to the chains wanted, as ONE
 * `iptables-restore --noflush` input per family: each table is committed
 * atomically, so no packet meets a half-written chain. A changed chain of
 * ours is declared (which, with --noflush, empties it) and written whole;
 * a chain of ours no longer wanted is emptied and deleted after every jump
 * to it was rewritten; built-in chains and Neutron's shared
 * neutron-filter-top only get the jumps they lack, at the top, so other
 * software's rules there are left alone.
 */
import { FILTER_TOP, isOurChain } from './names.js';
import { BUILTIN, type Chains, type TableName, type Tables } from './ruleset.js';

const TABLES: readonly TableName[] = ['filter', 'raw'];

const sameRules = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  a === b || a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);

/** Chains we share with others: never emptied, our jumps inserted when missing. */
const isShared = (table: TableName, chain: string): boolean => BUILTIN[table].includes(chain) || chain === FILTER_TOP;

/** The restore input taking `current` to `desired` (empty string: nothing to do). */
export function renderRestore(current: Tables, desired: Tables): string {
  const out: string[] = [];
  for (const table of TABLES) {
    const cur = current[table];
    const want = desired[table];
    const declare: string[] = [];
    const lines: string[] = [];
    for (const [chain, rules] of want) {
      if (isShared(table, chain)) {
        const have = cur.get(chain);
        if (!have && !BUILTIN[table].includes(chain)) declare.push(`:${chain} - [0:0]`);
        // Inserted at the top in reverse, so they end up first and in order.
        const missing = rules.filter((r) => !have?.includes(r));
        for (const r of missing.reverse()) lines.push(`-I ${chain} 1 ${r}`);
        continue;
      }
      if (sameRules(cur.get(chain), rules)) continue;
      declare.push(`:${chain} - [0:0]`);
      for (const r of rules) lines.push(`-A ${chain} ${r}`);
    }
    const gone = [...cur.keys()].filter((c) => isOurChain(c) && !want.has(c));
    for (const chain of gone) declare.push(`:${chain} - [0:0]`);
    for (const chain of gone) lines.push(`-X ${chain}`);
    if (!declare.length && !lines.length) continue;
    out.push(`*${table}`, ...declare, ...lines, 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** MAC addresses as our rules write them (some iptables versions print them in lower case). */
const upperMacs = (rule: string): string => rule.replace(/(?:[0-9a-f]{2}:){5}[0-9a-f]{2}/g, (m) => m.toUpperCase());

/**
 * iptables-save's text as tables of our chains: chains of ours with all
 * their rules, shared chains with only the rules that jump to ours (the
 * only ones renderRestore compares).
 */
export function parseSave(text: string): Tables {
  const out: Tables = { filter: new Map(), raw: new Map() };
  let cur: Chains | undefined;
  let table: TableName | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1) === 'filter' || line.slice(1) === 'raw' ? (line.slice(1) as TableName) : undefined;
      cur = table && out[table];
    } else if (!cur || !table) {
      continue;
    } else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0];
      if (isOurChain(chain) || isShared(table, chain)) cur.set(chain, []);
    } else if (line.startsWith('-A ')) {
      const sp = line.indexOf(' ', 3);
      const chain = line.slice(3, sp);
      const rule = upperMacs(line.slice(sp + 1));
      const rules = cur.get(chain);
      if (!rules) continue;
      if (isOurChain(chain) || /-j (neutron-openvswi-|neutron-filter-top)/.test(rule)) rules.push(rule);
    }
  }
  return out;
}
