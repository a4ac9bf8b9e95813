/**
 * The address side (dimension 1/2) of remote-group conjunctions, per
 * network: one owner per member address (`fw|a|<lvid>|<direction>|
 * <ethertype>|<mode>|<member>`), rewritten only when the conjunction ids
 * that address feeds changed, so a membership change rewrites only that
 * member's flows whatever the group's size (O(N) flows for N members,
 * never O(N²)).
 */
import { parseCidr } from './addresses.js';
import type { ConjIdMap } from './conj-ids.js';
import type { FirewallErrorHandler } from './driver.js';
import type { FlowTable } from '../flows/flow-table.js';
import { keyPartOffset, type DesiredFlow as Flow } from '../flows/flow.js';
import type { Instructions } from '../flows/actions.js';
import { address, type MatchPart } from './flow-parts.js';
import type { SecurityGroups } from './groups.js';
import type { FirewallPort } from './port.js';
import { conjunctionAddressFlows, priorityOffset, type Direction, type Ethertype } from './rules.js';

/** Address templates kept at most (they come from outside input: ids and networks); the map is started again past it. */
const MAX_TEMPLATES = 1024;

/** A member's flows with its address left out: each key either side of the address field. */
interface AddressTemplate {
  readonly heads: readonly string[];
  readonly tails: readonly string[];
  readonly instructions: readonly Instructions[];
}

/** The match part the member's address is in (the field conjunctionAddressFlows matches it with). */
function memberPart(cidr: string, direction: Direction): MatchPart {
  const field = cidr.includes(':') ? (direction === 'ingress' ? 'ipv6_src' : 'ipv6_dst') : direction === 'ingress' ? 'nw_src' : 'nw_dst';
  const part = address(field, cidr);
  if (part === undefined) throw new Error(`${cidr}: a /0 member has no address part`);
  return part;
}

function addressTemplate(flows: readonly Flow[], standIn: MatchPart): AddressTemplate {
  const heads: string[] = [];
  const tails: string[] = [];
  for (const f of flows) {
    const at = keyPartOffset(f.key, standIn);
    if (at < 0) throw new Error('a remote-group address flow without its address');
    heads.push(f.key.slice(0, at));
    tails.push(f.key.slice(at + standIn.oxm.length));
  }
  return { heads, tails, instructions: flows.map((f) => f.instructions) };
}

function stampAddress(t: AddressTemplate, part: MatchPart): Flow[] {
  const out = new Array<Flow>(t.heads.length);
  for (let i = 0; i < out.length; i++) out[i] = { key: [t.heads[i], part.oxm, t.tails[i]].join(''), instructions: t.instructions[i] };
  return out;
}

/** Per (direction, ethertype, mode): remote group → the conjunction ids the network's ports use with it. */
type Wanted = Map<string, Map<string, Set<number>>>;

interface AddressEntry {
  cidr: string;
  mac: string | null;
  ids: Set<number>;
}

export class RemoteGroupAddresses {
  /**
   * Per network: the conjunction ids its ports' remote-group rules use, and
   * the remote groups named. Kept across membership changes, which only
   * re-read member addresses.
   */
  private readonly netWanted = new Map<number, { wanted: Wanted; remotes: Set<string> }>();
  /** Per network: address owner → signature (its sorted conj ids) last emitted. */
  private readonly netAddresses = new Map<number, Map<string, string>>();
  private readonly cidrCache = new Map<string, { cidr: string; any: boolean }>();
  /** conjunctionAddressFlows by (direction, ethertype, network, mode, prefix length, ids), for a stand-in address. */
  private readonly addressTemplates = new Map<string, AddressTemplate>();

  constructor(
    private readonly owner: string,
    private readonly groups: SecurityGroups,
    private readonly conjIds: ConjIdMap,
    private readonly onError: FirewallErrorHandler,
  ) {}

  /** The ports or rules of a network changed: its conjunction ids are worked out again at the next refresh. */
  forget(lvid: number): void {
    this.netWanted.delete(lvid);
  }

  /** The networks whose ports name `groupId` as a remote group. */
  networksUsing(groupId: string): number[] {
    const out: number[] = [];
    for (const [lvid, net] of this.netWanted) if (net.remotes.has(groupId)) out.push(lvid);
    return out;
  }

  /**
   * Rewrites the address side on one network, only for members whose ids
   * changed. `ports`: the network's filtered ports whose flows could be built.
   */
  refresh(flows: FlowTable, lvid: number, ports: () => Iterable<FirewallPort>): void {
    let net = this.netWanted.get(lvid);
    if (!net) {
      net = this.networkConjIds(ports());
      this.netWanted.set(lvid, net);
    }
    this.writeNetworkAddresses(flows, lvid, net.wanted);
  }

  /**
   * conjunctionAddressFlows for one member. Members of a network feeding the
   * same ids get the same flows but for their address: those are built once
   * with a stand-in address of the same prefix length, and the member's
   * address put in its place (a /0 member, which also matches its MAC, is
   * built on its own).
   */
  private addressFlows(
    e: AddressEntry, direction: Direction, ethertype: Ethertype, lvid: number, ids: number[], signature: string, stateless: boolean,
  ): Flow[] {
    if (e.mac !== null) return conjunctionAddressFlows(e.cidr, e.mac, direction, ethertype, lvid, ids, stateless);
    const slash = e.cidr.indexOf('/');
    const len = e.cidr.slice(slash + 1);
    const k = [direction, ethertype, lvid, stateless ? 's' : '', len, signature].join('|');
    let t = this.addressTemplates.get(k);
    if (t === undefined) {
      const standIn = `${ethertype === 'IPv4' ? '0.0.0.0' : '::'}/${len}`;
      t = addressTemplate(conjunctionAddressFlows(standIn, null, direction, ethertype, lvid, ids, stateless), memberPart(standIn, direction));
      if (this.addressTemplates.size >= MAX_TEMPLATES) this.addressTemplates.clear();
      this.addressTemplates.set(k, t);
    }
    return stampAddress(t, memberPart(e.cidr, direction));
  }

  private memberCidr(ip: string): { cidr: string; any: boolean } {
    let c = this.cidrCache.get(ip);
    if (!c) {
      const p = parseCidr(ip);
      c = { cidr: `${p.address}/${p.prefixLen}`, any: p.prefixLen === 0 };
      this.cidrCache.set(ip, c);
    }
    return c;
  }

  /** Which conjunction ids the ports of one network use, per (direction, ethertype) and remote group. */
  private networkConjIds(ports: Iterable<FirewallPort>): { wanted: Wanted; remotes: Set<string> } {
    const wanted: Wanted = new Map();
    const remotes = new Set<string>();
    for (const port of ports) {
      const stateless = this.groups.isStateless(port);
      for (const sgId of port.securityGroups) {
        for (const r of this.groups.remoteRules(sgId)) {
          const base = this.conjIds.peek(sgId, r.remoteId!, r.direction, r.ethertype, stateless);
          if (base === undefined) continue;
          const de = `${r.direction}|${r.ethertype}|${stateless ? 'stateless' : 'stateful'}`;
          let byRemote = wanted.get(de);
          if (!byRemote) {
            byRemote = new Map();
            wanted.set(de, byRemote);
          }
          let ids = byRemote.get(r.remoteId!);
          if (!ids) {
            ids = new Set();
            byRemote.set(r.remoteId!, ids);
          }
          ids.add(base + 2 * priorityOffset(r, true));
          remotes.add(r.remoteId!);
        }
      }
    }
    return { wanted, remotes };
  }

  /** The address side for one network: one owner per member address, rewritten only when its ids changed. */
  private writeNetworkAddresses(flows: FlowTable, lvid: number, wanted: Wanted): void {
    const previous = this.netAddresses.get(lvid) ?? new Map<string, string>();
    const current = new Map<string, string>();
    for (const [de, byRemote] of wanted) {
      const [direction, ethertype, mode] = de.split('|') as [Direction, Ethertype, string];
      const addresses = new Map<string, AddressEntry>();
      for (const [remoteId, ids] of byRemote) {
        for (const [ip, mac] of this.groups.membersOf(remoteId, ethertype)) {
          let c: { cidr: string; any: boolean };
          try {
            c = this.memberCidr(ip);
          } catch (err) {
            this.onError(err as Error, { securityGroupId: remoteId });
            continue;
          }
          // Members are keyed by CIDR; only a /0 member (an allowed address pair) is told apart by its MAC.
          const key = c.any ? `${c.cidr}|${mac ?? ''}` : c.cidr;
          let e = addresses.get(key);
          if (!e) {
            e = { cidr: c.cidr, mac: c.any ? mac : null, ids: new Set() };
            addresses.set(key, e);
          }
          for (const id of ids) e.ids.add(id);
        }
      }
      for (const [key, e] of addresses) {
        const owner = [this.owner, 'a|', lvid, '|', de, '|', key].join('');
        const ids = [...e.ids].sort((a, b) => a - b);
        const signature = ids.join(',');
        current.set(owner, signature);
        if (previous.get(owner) === signature) continue;
        flows.replace(owner, this.addressFlows(e, direction, ethertype, lvid, ids, signature, mode === 'stateless'));
      }
    }
    for (const owner of previous.keys()) if (!current.has(owner)) flows.remove(owner);
    if (current.size === 0) this.netAddresses.delete(lvid);
    else this.netAddresses.set(lvid, current);
  }
}
