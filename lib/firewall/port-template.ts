/**
 * A port's base flows stamped from a template of its shape rather than
 * built flow by flow. Ports of one shape (stateful or not, how its network
 * classifies untranslated frames, how many MACs and address pairs, which
 * addresses are /0) get the same ~42 base flows, differing only in their
 * words (port-words.ts): ofport, local VLAN, MACs, addresses and the action
 * lists that name the ofport. The template is made by running the builders
 * themselves (base-flows.ts, baseFlowsOf) once with placeholders for the
 * words; a port's flows are then its template's keys with the placeholders
 * replaced by the port's own bytes. The builders stay the one definition of
 * the flows, so a stamped port gets exactly the flows built ones get (the
 * spec builds both for every shape and compares them).
 *
 * Why: a pass of 100 new ports ran each builder 100 times, too few for V8 to
 * compile them, and made a list of parts per flow; stamping is one short
 * loop over flat arrays.
 */
import { baseFlowsOf, type BaseFlowOptions, type PortMode } from './base-flows.js';
import { keyPartOffset, type DesiredFlow as Flow } from '../flows/flow.js';
import { apply, output, type Instructions } from '../flows/actions.js';
import { rankOf, reg, type MatchPart } from '../flows/match.js';
import type { Action } from '@ovs-agent/openflow';
import { Reg } from './constants.js';
import type { FieldName } from '@ovs-agent/openflow';
import { portWords, type PortWords } from './port-words.js';
import { portAddresses, type FirewallPort } from './port.js';

/** A placeholder's char in a template key: above any byte (keys hold one byte per char). */
const MARK = 0x100;

/** How a placeholder gets its value from a port's words: a part's OXM bytes, or a list. */
type Slot = (w: PortWords) => string | Instructions;

interface Template {
  /** undefined: a slot no flow of the shape uses. */
  readonly slots: ReadonlyArray<Slot | undefined>;
  /** Per flow: its key as constant runs and placeholder numbers. */
  readonly keys: ReadonlyArray<ReadonlyArray<string | number>>;
  /** Per flow: its instructions, or a placeholder number. */
  readonly instructions: ReadonlyArray<Instructions | number>;
}

/**
 * A port's rule flows as built for the ofport RULE_OFPORT: each flow's key
 * either side of its `reg5=` field, and its instructions, to be rebuilt for
 * the port's ofport when they output to it.
 */
interface RuleTemplate {
  readonly heads: readonly string[];
  /** Per flow: the key after its reg5 field; undefined: the key has none (heads[i] is the whole key). */
  readonly tails: ReadonlyArray<string | undefined>;
  readonly instructions: readonly Instructions[];
  /** Per flow: whether its instructions output to the port. */
  readonly rebased: readonly boolean[];
}

/**
 * The ofport rule templates are built for: one OVS never gives a port
 * (ofports are 1-65279). The rule flows name a port's ofport in two places
 * only: their `reg5` match (rules.ts, ruleMatches and the accept flows) and
 * the ingress accept's `output`.
 */
const RULE_OFPORT = 0x7ffffffe;
const RULE_REG = reg(Reg.PORT, RULE_OFPORT);
const RULE_OUTPUT = output(RULE_OFPORT);

/** Shapes a host's ports come in are few; the map is bounded all the same (shapes come from outside input). */
const MAX_SHAPES = 256;

export class PortTemplates {
  private readonly templates = new Map<string, Template>();
  private readonly rules = new Map<string, RuleTemplate>();

  constructor(private readonly opts: BaseFlowOptions) {}

  /** The base flows of a filtered port (base-flows.ts, filteredPortBaseFlows), stamped. */
  baseFlows(p: FirewallPort, mode: PortMode): Flow[] {
    const w = portWords(p, portAddresses(p));
    const shape = shapeOf(p, w, mode);
    let t = this.templates.get(shape);
    if (t === undefined) {
      t = makeTemplate(p, w, this.opts, mode);
      if (this.templates.size >= MAX_SHAPES) this.templates.clear();
      this.templates.set(shape, t);
    }
    return stamp(t, w);
  }

  /**
   * Appends to `out` a port's rule flows (port-filter.ts): `build(ofport)`
   * builds them; ports of one `shape` (their groups' rules and conjunction
   * ids) get the same flows but for their ofport, so they are built once
   * per shape and rebased onto each port's ofport.
   */
  ruleFlows(ofport: number, shape: string, out: Flow[], build: (ofport: number) => Flow[]): Flow[] {
    let t = this.rules.get(shape);
    if (t === undefined) {
      t = ruleTemplate(build(RULE_OFPORT));
      if (this.rules.size >= MAX_SHAPES) this.rules.clear();
      this.rules.set(shape, t);
    }
    const regOxm = reg(Reg.PORT, ofport).oxm;
    const out1 = output(ofport);
    let from: Instructions | undefined;
    let to: Instructions | undefined;
    for (let i = 0; i < t.heads.length; i++) {
      const tail = t.tails[i];
      let key = t.heads[i];
      if (tail !== undefined) {
        joining[0] = key;
        joining[1] = regOxm;
        joining[2] = tail;
        joining.length = 3;
        key = joining.join('');
      }
      let instructions = t.instructions[i];
      if (t.rebased[i]) {
        // A port's rule flows use one or two such lists, one after the other.
        if (instructions !== from) {
          from = instructions;
          to = rebase(instructions, out1);
        }
        instructions = to!;
      }
      out.push({ key, instructions });
    }
    joining.length = 0;
    return out;
  }
}

function ruleTemplate(flows: readonly Flow[]): RuleTemplate {
  const heads: string[] = [];
  const tails: Array<string | undefined> = [];
  for (const f of flows) {
    const at = keyPartOffset(f.key, RULE_REG);
    heads.push(at < 0 ? f.key : f.key.slice(0, at));
    tails.push(at < 0 ? undefined : f.key.slice(at + RULE_REG.oxm.length));
  }
  return {
    heads, tails, instructions: flows.map((f) => f.instructions), rebased: flows.map((f) => outputsToPort(f.instructions)),
  };
}

function outputsToPort(list: Instructions): boolean {
  return list.some((i) => i.type === 'apply_actions' && i.actions.includes(RULE_OUTPUT));
}

/** The list with the template's output replaced by the port's (only apply-actions lists hold one). */
function rebase(list: Instructions, out: Action): Instructions {
  if (list.length !== 1 || list[0].type !== 'apply_actions') throw new Error('a rule flow outputs to the port other than in one apply-actions list');
  return apply(...list[0].actions.map((a) => (a === RULE_OUTPUT ? out : a)));
}

/** Everything besides the words' values that the builders branch on. */
function shapeOf(p: FirewallPort, w: PortWords, mode: PortMode): string {
  let s = `${mode}|${w.segVlan !== undefined ? 'v' : p.networkType === 'flat' ? 'f' : '-'}|${w.dst.length}|`;
  for (const a of w.pairs4) s += `${a.arpSpa ? 1 : 0}${a.nwSrc ? 1 : 0}`;
  s += '|';
  for (const a of w.pairs6) s += `${a.ipv6Src ? 1 : 0}${a.ndTarget ? 1 : 0}`;
  return s;
}

/** Runs the builders once with placeholders in the shape of `like` (a port of this shape, and its words). */
function makeTemplate(p: FirewallPort, like: PortWords, opts: BaseFlowOptions, mode: PortMode): Template {
  const slots: Slot[] = [];
  const listSlots = new Map<Instructions, number>();
  const part = (field: FieldName, get: (w: PortWords) => MatchPart): MatchPart => {
    const oxm = String.fromCharCode(MARK + slots.length);
    slots.push((w) => get(w).oxm);
    return { field, rank: rankOf(field), oxm };
  };
  const maybe = (field: FieldName, present: unknown, get: (w: PortWords) => MatchPart | undefined): MatchPart | undefined =>
    present ? part(field, (w) => get(w)!) : undefined;
  const list = (get: (w: PortWords) => Instructions): Instructions => {
    const l: Instructions = Object.freeze([]);
    listSlots.set(l, slots.length);
    slots.push(get);
    return l;
  };
  const marked: PortWords = {
    inPort: part('in_port', (w) => w.inPort),
    reg: part('reg5', (w) => w.reg),
    net: part('reg6', (w) => w.net),
    zone: part('ct_zone', (w) => w.zone),
    localVlan: part('vlan_vid', (w) => w.localVlan),
    segVlan: maybe('vlan_vid', like.segVlan, (w) => w.segVlan),
    ownSrc: part('eth_src', (w) => w.ownSrc),
    dst: like.dst.map((_, i) => part('eth_dst', (w) => w.dst[i])),
    pairs4: like.pairs4.map((a, i) => ({
      src: part('eth_src', (w) => w.pairs4[i].src),
      arpSpa: maybe('arp_spa', a.arpSpa, (w) => w.pairs4[i].arpSpa),
      nwSrc: maybe('ip_src', a.nwSrc, (w) => w.pairs4[i].nwSrc),
    })),
    pairs6: like.pairs6.map((a, i) => ({
      src: part('eth_src', (w) => w.pairs6[i].src),
      ipv6Src: maybe('ipv6_src', a.ipv6Src, (w) => w.pairs6[i].ipv6Src),
      ndTarget: maybe('nd_target', a.ndTarget, (w) => w.pairs6[i].ndTarget),
    })),
    toEgress: list((w) => w.toEgress),
    toIngress: list((w) => w.toIngress),
    untagToIngress: list((w) => w.untagToIngress),
    toPortIngress: list((w) => w.toPortIngress),
    deliver: list((w) => w.deliver),
  };
  const flows = baseFlowsOf(p, marked, opts, mode);
  const keys = flows.map((f) => splitKey(f.key));
  const instructions = flows.map((f) => listSlots.get(f.instructions) ?? f.instructions);
  // Only the slots the flows use are filled for a port (its lists are made when asked for).
  const used = new Set<number>();
  for (const k of keys) for (const piece of k) if (typeof piece === 'number') used.add(piece);
  for (const i of instructions) if (typeof i === 'number') used.add(i);
  return { slots: slots.map((s, i) => (used.has(i) ? s : undefined)), keys, instructions };
}

/** A key with placeholders as its constant runs and the placeholders' numbers. */
function splitKey(key: string): Array<string | number> {
  const out: Array<string | number> = [];
  let from = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < MARK) continue;
    if (i > from) out.push(oneByte(key.slice(from, i)));
    out.push(c - MARK);
    from = i + 1;
  }
  if (from < key.length) out.push(oneByte(key.slice(from)));
  return out;
}

/**
 * A run of a template key as a one-byte string: the placeholders made the
 * key a two-byte string, and so its slices, and a key joined from them
 * would be one too (twice the memory in the table, slower to hash and read).
 */
function oneByte(run: string): string {
  return Buffer.from(run, 'latin1').toString('latin1');
}

/** Reused to join a key's pieces into one flat string (`a + b` would keep a rope per key). */
const joining: string[] = [];

function stamp(t: Template, w: PortWords): Flow[] {
  const values = t.slots.map((s) => s?.(w));
  const n = t.keys.length;
  const out = new Array<Flow>(n);
  for (let i = 0; i < n; i++) {
    const pieces = t.keys[i];
    for (let j = 0; j < pieces.length; j++) {
      const piece = pieces[j];
      joining[j] = typeof piece === 'number' ? (values[piece] as string) : piece;
    }
    joining.length = pieces.length;
    const instr = t.instructions[i];
    out[i] = { key: joining.join(''), instructions: typeof instr === 'number' ? (values[instr] as Instructions) : instr };
  }
  joining.length = 0;
  return out;
}
