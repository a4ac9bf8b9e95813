/**
 * The words flows act with. An instruction list is made frozen, with every
 * action in it: protocol/openflow encodes a frozen list once and copies its
 * bytes after, and lists are shared by many flows (a port's outputs,
 * resubmits and conntrack commits recur in dozens of its flows), so they are
 * written once and compared cheaply (sameInstructions).
 */
import {
  OFPP, OfWriter, encodeInstructions, type Action, type CtAction, type FieldName, type Instruction, type LearnAction,
  type Match, type Subfield,
} from '../../protocol/openflow/index.js';

export type Instructions = readonly Instruction[];

function frozen<T extends object>(a: T): T {
  for (const v of Object.values(a)) if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) frozen(v as object);
  return Object.freeze(a);
}

/** No instruction at all: how OpenFlow drops. */
export const DROP: Instructions = Object.freeze<Instruction[]>([]);

/** Apply these actions (none: drop). */
export function apply(...actions: Action[]): Instructions {
  if (actions.length === 0) return DROP;
  return Object.freeze([frozen<Instruction>({ type: 'apply_actions', actions })]);
}

/** Apply these actions, then continue in `table` (goto_table). */
export function applyThenGoto(actions: readonly Action[], table: number): Instructions {
  const out: Instruction[] = [];
  if (actions.length) out.push(frozen<Instruction>({ type: 'apply_actions', actions: [...actions] }));
  out.push(frozen<Instruction>({ type: 'goto_table', tableId: table }));
  return Object.freeze(out);
}

const gotoCache = new Map<number, Instructions>();
/** Continue in `table`. */
export function gotoTable(table: number): Instructions {
  let g = gotoCache.get(table);
  if (!g) gotoCache.set(table, (g = applyThenGoto([], table)));
  return g;
}

export const output = (port: number): Action => frozen({ type: 'output', port, maxLen: 0 });
export const NORMAL: Action = output(OFPP.NORMAL);
export const IN_PORT: Action = output(OFPP.IN_PORT);
export const resubmit = (table: number): Action => frozen({ type: 'resubmit', port: OFPP.IN_PORT, table, ct: false });
export const POP_VLAN: Action = frozen({ type: 'pop_vlan' });
export const PUSH_VLAN: Action = frozen({ type: 'push_vlan', ethertype: 0x8100 });
export const CT_CLEAR: Action = frozen({ type: 'ct_clear' });
export const setField = <F extends FieldName>(field: F, value: NonNullable<Match[F]>): Action =>
  frozen({ type: 'set_field', field, value } as Action);
/** set_field:0x1000|vid->vlan_vid: the tag gets this VLAN id. */
export const setVlanVid = (vid: number): Action => setField('vlan_vid', 0x1000 | vid);
export const setTunnelId = (id: number): Action => setField('tun_id', BigInt(id));
export const setReg = (n: number, v: number): Action => setField(`reg${n}` as FieldName, v);
/** move:SRC->DST (whole fields unless bit ranges are given). */
export const move = (src: Subfield, dst: Subfield): Action => frozen({ type: 'reg_move', src, dst });
export const conjunction = (id: number, clause: number, nClauses: number): Action =>
  frozen({ type: 'conjunction', id, clause, nClauses });
export const learn = (spec: Omit<LearnAction, 'type'>): Action => frozen({ type: 'learn', ...spec } as LearnAction);
export const ct = (spec: Omit<CtAction, 'type'>): Action => frozen({ type: 'ct', ...spec } as CtAction);

/** A whole field as a subfield (move's operands). */
export function whole(field: FieldName, nBits: number): Subfield {
  return frozen({ field, ofs: 0, nBits });
}

const scratch = new OfWriter(4096);

/** The wire bytes of an instruction list, as a string (frozen lists are encoded once by the codec). */
export function instructionBytes(list: Instructions): string {
  scratch.reset();
  encodeInstructions(scratch, list);
  return scratch.buf.toString('latin1', 0, scratch.pos);
}

/** Whether two lists do the same on the wire: the same object, or the same bytes. */
export function sameInstructions(a: Instructions, b: Instructions): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return instructionBytes(a) === instructionBytes(b);
}
