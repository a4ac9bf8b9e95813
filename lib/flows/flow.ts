/**
 * A flow the agent wants on a bridge, in OpenFlow terms from the builder to
 * the wire: no text on the way (text is a view for people: logs, status,
 * tests; flowText()).
 *
 * A flow's identity in an OpenFlow table is (table, priority, match): an add
 * with the same identity replaces the flow's actions, a strict delete removes
 * exactly it. The identity is the flow's `key`, spelled once when the flow
 * is built, in bytes: the table, the priority (2 bytes, big-endian) and the
 * match's OXM TLVs in canonical field order, each with its 4- or 8-byte
 * header said in one byte (match.ts, compactOxm), one byte per char.
 * Bytes rather than ovs-ofctl text because they cost less to build (the
 * parts' TLVs are joined), less to keep (about half the characters), and
 * have one spelling per flow: a flow read back from the switch gets the same
 * key however the switch orders or spells its fields.
 */
import {
  OFPG, OFPMT, OFPP, OFP_NO_BUFFER, OfReader, decodeMatch, formatFlow, type FlowMod, type FlowModCommand, type FlowStats,
  type Instruction, type Match, type OfWriter,
} from '@ovs-agent/openflow';
import type { Instructions } from './actions.js';
import { canonicalOxm, expandOxm, matchKey, partOffset, writeExpandedOxm, type MatchPart, type MatchParts } from './match.js';

/**
 * A flow is its key and its instructions, nothing else: no match object is
 * made for it, ever on the way to the switch (the flow-mod's match is
 * written from the key's bytes, KeyedFlowMod), so a flow costs two pointers
 * and a flat string from its builder to the wire.
 */
export interface DesiredFlow {
  /** Table, priority and canonical match bytes: the flow's identity (see above). */
  readonly key: string;
  readonly instructions: Instructions;
}

export class FlowBuildError extends Error {
  override readonly name = 'FlowBuildError';
  readonly code = 'FLOW_BAD_FLOW';
}

/** Key heads by table and priority: a bridge uses a few dozen. */
const heads = new Map<number, string>();

function keyHead(table: number, priority: number): string {
  if (!Number.isInteger(table) || table < 0 || table > 254) throw new FlowBuildError(`table ${table} is not an OpenFlow table id (0-254)`);
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff) throw new FlowBuildError(`priority ${priority} is not 0-65535`);
  const k = table * 0x10000 + priority;
  let h = heads.get(k);
  if (h === undefined) {
    h = String.fromCharCode(table, priority >>> 8, priority & 0xff);
    if (heads.size >= 4096) heads.clear();
    heads.set(k, h);
  }
  return h;
}

/** A flow from match parts (match.ts, MatchParts) and an instruction list (actions.ts). */
export function flow(table: number, priority: number, parts: MatchParts, instructions: Instructions): DesiredFlow {
  return { key: matchKey(parts, keyHead(table, priority)), instructions };
}

/** The key of a flow reported by the switch (a dump), to compare it with the desired ones. */
export function keyOfStats(s: Pick<FlowStats, 'tableId' | 'priority' | 'match'>): string {
  return [keyHead(s.tableId, s.priority), canonicalOxm(s.match)].join('');
}

export const tableOf = (key: string): number => key.charCodeAt(0);
export const priorityOf = (key: string): number => (key.charCodeAt(1) << 8) | key.charCodeAt(2);

/** Where a key holds `part` (its first char), or -1 when its match has no such field with that value. */
export function keyPartOffset(key: string, part: MatchPart): number {
  return partOffset(key, KEY_HEAD, part);
}

/** The match a key spells. */
export function matchOfKey(key: string): Match {
  const tlvs = expandOxm(key.slice(KEY_HEAD));
  const oxm = tlvs.length;
  const padded = (4 + oxm + 7) & ~7;
  const b = Buffer.alloc(padded);
  b[1] = OFPMT.OXM;
  b[2] = (4 + oxm) >>> 8;
  b[3] = (4 + oxm) & 0xff;
  b.write(tlvs, 4, 'latin1');
  return decodeMatch(new OfReader(b, 0, padded));
}

/** The flow-mod that adds (or replaces) `f` with `cookie`. */
export function addOf(f: DesiredFlow, cookie: bigint): FlowMod {
  return new KeyedFlowMod('add', f.key, f.instructions, cookie, 0n);
}

/**
 * The flow-mod that deletes exactly the flow with this key. With `cookie`,
 * only if it carries that cookie (a flow someone else re-added with theirs
 * stays); without, whatever its cookie.
 */
export function deleteOf(key: string, cookie?: bigint): FlowMod {
  return new KeyedFlowMod('delete_strict', key, DELETE_INSTRUCTIONS, cookie ?? 0n, cookie === undefined ? 0n : ALL_COOKIE_BITS);
}

const ALL_COOKIE_BITS = 0xffffffffffffffffn;
const DELETE_INSTRUCTIONS: Instructions = Object.freeze([]);

/**
 * A flow-mod of a key: its match is written from the key's bytes
 * (writeOxm), and made as an object only when someone reads it (a log, an
 * error, a test). `writeOxm` is an own property (one shared function), so a
 * copy (`{ ...mod, xid }`) still encodes the same bytes; the copy's `match`,
 * on the prototype, is not copied.
 */
class KeyedFlowMod implements FlowMod {
  readonly type = 'flow_mod';
  readonly xid = 0;
  readonly tableId: number;
  readonly priority: number;
  readonly idleTimeout = 0;
  readonly hardTimeout = 0;
  readonly bufferId = OFP_NO_BUFFER;
  readonly outPort = OFPP.ANY;
  readonly outGroup = OFPG.ANY;
  readonly flags = 0;
  readonly instructions: Instruction[];
  readonly writeOxm = writeKeyOxm;

  constructor(
    readonly command: FlowModCommand, readonly key: string, instructions: Instructions,
    readonly cookie: bigint, readonly cookieMask: bigint,
  ) {
    this.tableId = tableOf(key);
    this.priority = priorityOf(key);
    this.instructions = instructions as Instruction[];
  }

  get match(): Match {
    return matchOfKey(this.key);
  }
}

function writeKeyOxm(this: { readonly key: string }, w: OfWriter): void {
  writeExpandedOxm(w, this.key, KEY_HEAD);
}

/** Chars of a key before its match: table, priority. */
const KEY_HEAD = 3;

function flowModOf(command: FlowModCommand, key: string, match: Match, instructions: Instructions, cookie: bigint, cookieMask: bigint): FlowMod {
  return {
    type: 'flow_mod', xid: 0, command, cookie, cookieMask, tableId: tableOf(key), priority: priorityOf(key),
    idleTimeout: 0, hardTimeout: 0, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0,
    match, instructions: instructions as FlowMod['instructions'],
  };
}

/** `table=T, priority=P,MATCH actions=A` as ovs-ofctl dump-flows prints it (cookie 0 left out): for people. */
export function flowText(f: Pick<DesiredFlow, 'key' | 'instructions'> & { match?: Match }): string {
  return formatFlow(flowModOf('add', f.key, f.match ?? matchOfKey(f.key), f.instructions, 0n, 0n));
}

/** `table=T, priority=P,MATCH` of a key, for people. */
export function keyText(key: string): string {
  const text = flowText({ key, instructions: [] });
  return text.slice(0, text.lastIndexOf(' actions='));
}
