/**
 * Every option neutron-openvswitch-agent 21 reads, each once, with what this
 * agent does with it: `honoured` (options.ts), `partial` (honoured, but some
 * of its values are not supported and are warned about: its help says which),
 * `ignored` (warned about when set), `refused`
 * (stops the start when set to anything but its default or a harmless value)
 * or `server` (a neutron-server option Neutron's agent registers and does not
 * use; reported when set). The loader and docs/configuration.md both read it.
 */
import { NOT_HONOURED, SERVER_OPTIONS, type NotHonouredSpec } from './not-honoured.js';
import { OPTIONS, type OptionSpec } from './options.js';

export type OptionStatus = 'honoured' | 'partial' | 'ignored' | 'refused' | 'server';

export interface InventoryEntry {
  section: string;
  name: string;
  status: OptionStatus;
  spec: OptionSpec;
  /** What not honouring it means for the operator (all but `honoured`). */
  meaning?: string;
  /** A refused option's values that are only warned about. */
  harmless?: readonly unknown[];
}

const SERVER_MEANING = 'an option of neutron-server or of another Neutron agent: Neutron\'s OVS agent does not use it either';

function build(): InventoryEntry[] {
  const out: InventoryEntry[] = [];
  const seen = new Set<string>();
  const add = (e: InventoryEntry): void => {
    const key = `${e.section}\0${e.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  for (const [section, opts] of Object.entries(OPTIONS as Record<string, Record<string, OptionSpec>>)) {
    for (const [name, spec] of Object.entries(opts)) {
      add({ section, name, status: spec.partly ? 'partial' : 'honoured', spec });
    }
  }
  for (const [section, opts] of Object.entries(NOT_HONOURED as Record<string, Record<string, NotHonouredSpec>>)) {
    for (const [name, spec] of Object.entries(opts)) {
      add({ section, name, status: spec.status, spec, meaning: spec.meaning, harmless: spec.harmless });
    }
  }
  for (const name of SERVER_OPTIONS) {
    const deprecated = name === 'global_physnet_mtu' ? [{ group: 'ml2', name: 'segment_mtu' }] : undefined;
    add({ section: 'DEFAULT', name, status: 'server', spec: { type: { kind: 'string' }, default: undefined, help: 'neutron-server option.', deprecated },
      meaning: SERVER_MEANING });
  }
  return out;
}

export const INVENTORY: readonly InventoryEntry[] = build();

/** section → option → entry. Names from files are looked up here, never as properties. */
export const BY_SECTION: ReadonlyMap<string, ReadonlyMap<string, InventoryEntry>> = (() => {
  const m = new Map<string, Map<string, InventoryEntry>>();
  for (const e of INVENTORY) {
    let s = m.get(e.section);
    if (!s) m.set(e.section, (s = new Map()));
    s.set(e.name, e);
  }
  return m;
})();

/** The (section, name) pairs an option is read under: its own first, then its deprecated ones (oslo.config's order). */
export function namesOf(e: InventoryEntry): Array<{ section: string; name: string; note?: string }> {
  return [{ section: e.section, name: e.name },
    ...(e.spec.deprecated ?? []).map((d) => ({ section: normalizeSection(d.group ?? e.section), name: d.name ?? e.name, note: d.note }))];
}

/** oslo.config's group name normalization: every section but DEFAULT is read in lower case. */
export function normalizeSection(name: string): string {
  return name === 'DEFAULT' ? name : name.toLowerCase();
}
