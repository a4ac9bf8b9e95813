/**
 * The words flows act with. An instruction list is made frozen, with every
 * action in it, and interned: lists that say the same on the wire are one
 * object. protocol/openflow encodes a frozen list once and copies its bytes
 * after, lists recur across flows and ports (a port's outputs, resubmits and
 * conntrack commits in dozens of its flows, the same conjunctions on every
 * port of a group), and a flow table compares them by identity first
 * (sameInstructions). Interning took the lists a 100-port pass keeps from
 * 2,705 objects to 818 (bench/_firewall-pass.ts).
 */
import {
  OFPP, instructionBytes, type Action, type CtAction, type FieldName, type Instruction, type LearnAction,
  type Match, type Subfield,
} from '@ovs-agent/openflow';

export type Instructions = readonly Instruction[];
export { instructionBytes };

function frozen<T extends object>(a: T): T {
  for (const v of Object.values(a)) if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) frozen(v as object);
  return Object.freeze(a);
}

/** No instruction at all: how OpenFlow drops. */
export const DROP: Instructions = Object.freeze<Instruction[]>([]);

/**
 * The lists `apply` made, by the identity of their actions in order (each
 * action object gets a number the first time it is seen): the actions below
 * are made once per value, so a list asked for again (a port's resubmits in
 * dozens of its flows, every port's conjunctions) is found by one lookup,
 * without freezing or encoding it again. Bounded as `interned` is.
 */
const APPLIED_MAX = 50_000;
const actionIds = new WeakMap<Action, number>();
let nextActionId = 0;
const applied = new Map<number | string, Instructions>();
/** Two ids below this fit one small integer key (2^30). */
const PAIR_IDS = 32_768;

function actionId(a: Action): number {
  let id = actionIds.get(a);
  if (id === undefined) actionIds.set(a, (id = nextActionId++));
  return id;
}

/** Apply these actions (none: drop). */
export function apply(...actions: Action[]): Instructions {
  if (actions.length === 0) return DROP;
  let k: number | string = actionId(actions[0]);
  if (actions.length === 2 && k < PAIR_IDS) {
    // Most lists are one or two actions: two small ids make a negative small integer, no string.
    const b = actionId(actions[1]);
    if (b < PAIR_IDS) k = -(k * PAIR_IDS + b) - 1;
    else k = `${k}.${b}`;
  } else {
    for (let i = 1; i < actions.length; i++) k = `${k}.${actionId(actions[i])}`;
  }
  let list = applied.get(k);
  if (list === undefined) {
    // The actions made here are frozen already: only the new array and instruction need it.
    for (let i = 0; i < actions.length; i++) if (!Object.isFrozen(actions[i])) frozen(actions[i]);
    list = internFrozen(Object.freeze([Object.freeze<Instruction>({ type: 'apply_actions', actions: Object.freeze(actions) as Action[] })]));
    if (applied.size >= APPLIED_MAX) applied.clear();
    applied.set(k, list);
  }
  return list;
}

/** Apply these actions, then continue in `table` (goto_table). */
export function applyThenGoto(actions: readonly Action[], table: number): Instructions {
  const out: Instruction[] = [];
  if (actions.length) out.push({ type: 'apply_actions', actions: [...actions] });
  out.push({ type: 'goto_table', tableId: table });
  return intern(out);
}

/**
 * Lists by their wire bytes. Bounded: lists are made from outside input
 * (ofports, addresses, conjunction ids); a table that outgrew its bound is
 * started again (lists already made stay valid, only no longer shared).
 */
const INTERNED_MAX = 100_000;
const interned = new Map<string, Instructions>();

function intern(list: Instruction[]): Instructions {
  for (const i of list) frozen(i);
  return internFrozen(Object.freeze(list));
}

function internFrozen(made: Instructions): Instructions {
  // The codec keeps a frozen list's bytes to send them: the same string is the key here.
  const bytes = instructionBytes(made);
  const known = interned.get(bytes);
  if (known) return known;
  if (interned.size >= INTERNED_MAX) interned.clear();
  interned.set(bytes, made);
  return made;
}

const gotoCache = new Map<number, Instructions>();
/** Continue in `table`. */
export function gotoTable(table: number): Instructions {
  let g = gotoCache.get(table);
  if (!g) gotoCache.set(table, (g = applyThenGoto([], table)));
  return g;
}

/**
 * Actions that recur are made once per value (apply looks lists up by the
 * identity of their actions). Bounded: values come from outside (ofports,
 * conjunction ids); a cache that outgrew its bound is started again.
 */
const CACHE_MAX = 65_536;
function cached<K>(make: (k: K) => Action): (k: K) => Action {
  const cache = new Map<K, Action>();
  return (k) => {
    let a = cache.get(k);
    if (a === undefined) {
      a = make(k);
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(k, a);
    }
    return a;
  };
}

export const output = cached((port: number): Action => frozen({ type: 'output', port, maxLen: 0 }));
export const NORMAL: Action = output(OFPP.NORMAL);
export const IN_PORT: Action = output(OFPP.IN_PORT);
export const resubmit = cached((table: number): Action => frozen({ type: 'resubmit', port: OFPP.IN_PORT, table, ct: false }));
export const POP_VLAN: Action = frozen({ type: 'pop_vlan' });
export const PUSH_VLAN: Action = frozen({ type: 'push_vlan', ethertype: 0x8100 });
export const CT_CLEAR: Action = frozen({ type: 'ct_clear' });
export const setField = <F extends FieldName>(field: F, value: NonNullable<Match[F]>): Action =>
  frozen({ type: 'set_field', field, value } as Action);
/** set_field:0x1000|vid->vlan_vid: the tag gets this VLAN id. */
export const setVlanVid = (vid: number): Action => setField('vlan_vid', 0x1000 | vid);
export const setTunnelId = (id: number): Action => setField('tun_id', BigInt(id));
const setRegs = Array.from({ length: 16 }, (_, n) => cached((v: number) => setField(`reg${n}` as FieldName, v)));
export const setReg = (n: number, v: number): Action => setRegs[n]?.(v) ?? setField(`reg${n}` as FieldName, v);
/** move:SRC->DST (whole fields unless bit ranges are given). */
export const move = (src: Subfield, dst: Subfield): Action => frozen({ type: 'reg_move', src, dst });
const conjunctions = cached((k: number) => frozen({ type: 'conjunction', id: Math.floor(k / 65_536), clause: (k >>> 8) & 0xff, nClauses: k & 0xff }));
/** conjunction(id, clause/nClauses): made once per value when the numbers fit the cache's key. */
export const conjunction = (id: number, clause: number, nClauses: number): Action =>
  clause >= 0 && clause <= 0xff && nClauses >= 0 && nClauses <= 0xff && Number.isSafeInteger(id) && id >= 0
    ? conjunctions(id * 65_536 + clause * 256 + nClauses)
    : frozen({ type: 'conjunction', id, clause, nClauses });
export const learn = (spec: Omit<LearnAction, 'type'>): Action => frozen({ type: 'learn', ...spec } as LearnAction);
export const ct = (spec: Omit<CtAction, 'type'>): Action => frozen({ type: 'ct', ...spec } as CtAction);

/** A whole field as a subfield (move's operands). */
export function whole(field: FieldName, nBits: number): Subfield {
  return frozen({ field, ofs: 0, nBits });
}

/** Whether two lists do the same on the wire: the same object, or the same bytes. */
export function sameInstructions(a: Instructions, b: Instructions): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return instructionBytes(a) === instructionBytes(b);
}
