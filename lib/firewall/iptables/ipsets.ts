/**
 * Remote groups' members as ipsets (`NIPv4<sg>` / `NIPv6<sg>`, hash:net),
 * changed in place with ONE `ipset restore` per pass: members added and
 * removed, never a set swapped or emptied, so a rule that matches a set
 * never sees it half built. Sets no rule uses any more are destroyed after
 * the rules that used them are gone.
 */
import { ipToCidr } from './sg-rules.js';

export type SetFamily = 'inet' | 'inet6';

export interface IpsetWant {
  family: SetFamily;
  /** Member CIDRs, as Neutron writes them (`10.0.0.5/32`). */
  members: string[];
}

/** The sets of ours on the host: name → family and members. */
export type IpsetState = Map<string, { family: SetFamily; members: Set<string> }>;

const isOurSet = (name: string): boolean => /^NIPv[46]/.test(name) && !name.endsWith('-n');

/**
 * A member as the set holds it; ipset has no /0, so Neutron writes the two
 * halves of the address space instead.
 */
export function setMembers(addresses: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const a of addresses) {
    const c = ipToCidr(a);
    if (c === '0.0.0.0/0' || (c.endsWith('/0') && c.startsWith('0.'))) out.add('0.0.0.0/1').add('128.0.0.0/1');
    else if (c.endsWith('/0') && c.includes(':')) out.add('::/1').add('8000::/1');
    else out.add(c);
  }
  return [...out];
}

/** `ipset save` output: our sets and their members. */
export function parseIpsetSave(text: string): IpsetState {
  const out: IpsetState = new Map();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'create' && isOurSet(f[1])) out.set(f[1], { family: f.includes('inet6') ? 'inet6' : 'inet', members: new Set() });
    else if (f[0] === 'add' && out.has(f[1])) out.get(f[1])!.members.add(ipToCidr(f[2]));
  }
  return out;
}

/** The `ipset restore` input (sets created and filled) and the sets to destroy once no rule names them. */
export function renderIpsets(current: IpsetState, desired: ReadonlyMap<string, IpsetWant>): { restore: string; destroy: string[] } {
  const lines: string[] = [];
  for (const [name, want] of desired) {
    const have = current.get(name);
    if (!have) lines.push(`create ${name} hash:net family ${want.family} -exist`);
    const keep = new Set(want.members);
    for (const m of want.members) if (!have?.members.has(m)) lines.push(`add ${name} ${m} -exist`);
    if (have) for (const m of have.members) if (!keep.has(m)) lines.push(`del ${name} ${m} -exist`);
  }
  const destroy = [...current.keys()].filter((n) => !desired.has(n));
  return { restore: lines.length ? lines.join('\n') + '\n' : '', destroy };
}
