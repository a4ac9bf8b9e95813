/**
 * Every chain the hybrid driver wants, per family and table, computed from
 * the ports and groups alone (no I/O): what Neutron's IptablesManager would
 * hold after its driver set up the same ports, chain for chain and rule for
 * rule in the same order (checked against Neutron's own driver:
 * spec/firewall/iptables-oracle.spec.ts).
 */
import { C, commented } from './comments.js';
import { deviceName, FILTER_TOP, portChain, wrapped } from './names.js';
import { portChains, portIsStateful, type GroupsView, type HybridPort, type PortChains } from './port-chains.js';

export type Family = 4 | 6;
export type TableName = 'filter' | 'raw';
/** chain → its rules in order; built-in chains hold only our jumps. */
export type Chains = Map<string, string[]>;
export type Tables = Record<TableName, Chains>;
export type Ruleset = Record<Family, Tables>;

export const BUILTIN: Readonly<Record<TableName, readonly string[]>> = { filter: ['INPUT', 'OUTPUT', 'FORWARD'], raw: ['PREROUTING', 'OUTPUT'] };

const physdev = (dir: 'in' | 'out', dev: string): string => `-m physdev --physdev-${dir} ${dev} --physdev-is-bridged`;

function emptyTables(): Tables {
  const filter: Chains = new Map();
  // Shared with Neutron's other agents (FORWARD and OUTPUT jump to it first); ours hangs off it.
  filter.set('FORWARD', [`-j ${FILTER_TOP}`, `-j ${wrapped('FORWARD')}`]);
  filter.set('INPUT', [`-j ${wrapped('INPUT')}`]);
  filter.set('OUTPUT', [`-j ${FILTER_TOP}`, `-j ${wrapped('OUTPUT')}`]);
  filter.set(FILTER_TOP, [`-j ${wrapped('local')}`]);
  for (const c of ['FORWARD', 'INPUT', 'OUTPUT', 'local']) filter.set(wrapped(c), []);
  filter.set(wrapped('sg-chain'), []);
  filter.set(wrapped('sg-fallback'), [commented('-j DROP', C.UNMATCH_DROP)]);
  const raw: Chains = new Map();
  raw.set('PREROUTING', [`-j ${wrapped('PREROUTING')}`]);
  raw.set('OUTPUT', [`-j ${wrapped('OUTPUT')}`]);
  raw.set(wrapped('PREROUTING'), []);
  raw.set(wrapped('OUTPUT'), []);
  return { filter, raw };
}

/** The three rules that put a port's packets in its conntrack zone (or take them out of conntrack). */
export function zoneRules(port: HybridPort, zone: number, stateful: boolean): string[] {
  const target = stateful ? `-j CT --zone ${zone}` : '-j CT --notrack';
  const comment = stateful ? `Set zone for ${port.portId}` : `Make ${port.portId} stateless`;
  const qvb = deviceName('qvb', port.portId);
  return [`-m physdev --physdev-in ${qvb}`, `-i ${qvb}`, `-m physdev --physdev-in ${deviceName('tap', port.portId)}`]
    .map((m) => `${m} -m comment --comment "${comment}" ${target}`);
}

/**
 * `ports` in the order the driver learnt them (Neutron's dict order, which
 * decides where port-security-disabled ports' rules go); filtered ports are
 * laid out sorted by id, as Neutron sorts them. `zoneOf` gives each
 * filtered port's conntrack zone. `chainsOf` may hand back a port's chains
 * from a cache (the same arrays when nothing of the port changed, which
 * renderRestore then skips at once); by default they are built.
 */
export function buildRuleset(ports: Iterable<HybridPort>, groups: GroupsView, zoneOf: (portId: string) => number,
  chainsOf: (port: HybridPort) => PortChains = (p) => portChains(p, groups)): Ruleset {
  const out: Ruleset = { 4: emptyTables(), 6: emptyTables() };
  const all = [...ports];
  const filtered = all.filter((p) => p.portSecurityEnabled).sort((a, b) => (a.portId < b.portId ? -1 : a.portId > b.portId ? 1 : 0));
  const unfiltered = all.filter((p) => !p.portSecurityEnabled);
  const fwdTop: string[] = [];
  const sgChain: string[] = [];
  const input: string[] = [];
  const prerouting = out[4].raw.get(wrapped('PREROUTING'))!;
  for (const p of filtered) {
    const tap = deviceName('tap', p.portId);
    prerouting.push(...zoneRules(p, zoneOf(p.portId), portIsStateful(p, groups)));
    const chains = chainsOf(p);
    for (const [family, fc] of [[4, chains.v4], [6, chains.v6]] as const) {
      const f = out[family].filter;
      f.set(portChain('i', p.portId), fc.i);
      f.set(portChain('o', p.portId), fc.o);
      if (fc.s) f.set(portChain('s', p.portId), fc.s);
    }
    for (const [dir, kind] of [['out', 'i'], ['in', 'o']] as const) {
      fwdTop.push(commented(`${physdev(dir, tap)} -j ${wrapped('sg-chain')}`, C.VM_INT_SG));
      sgChain.push(commented(`${physdev(dir, tap)} -j ${portChain(kind, p.portId)}`, C.SG_TO_VM_SG));
    }
    input.push(commented(`${physdev('in', tap)} -j ${portChain('o', p.portId)}`, C.INPUT_TO_SG));
  }
  sgChain.push('-j ACCEPT');
  const fwdBottom: string[] = [];
  const inputBottom: string[] = [];
  for (const p of unfiltered) {
    const tap = deviceName('tap', p.portId);
    fwdBottom.push(commented(`${physdev('out', tap)} -j ACCEPT`, C.PORT_SEC_ACCEPT), commented(`${physdev('in', tap)} -j ACCEPT`, C.PORT_SEC_ACCEPT));
    inputBottom.push(commented(`${physdev('in', tap)} -j ACCEPT`, C.PORT_SEC_ACCEPT));
  }
  for (const family of [4, 6] as const) {
    const f = out[family].filter;
    f.set(wrapped('FORWARD'), [...fwdTop, ...fwdBottom]);
    f.set(wrapped('INPUT'), [...input, ...inputBottom]);
    f.set(wrapped('sg-chain'), sgChain);
  }
  out[6].raw.set(wrapped('PREROUTING'), [...prerouting]);
  return out;
}
