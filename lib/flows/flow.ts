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
  type Match,
} from '@ovs-agent/openflow';
import type { Instructions } from './actions.js';
import { buildMatch, canonicalOxm, expandOxm, type MatchPart } from './match.js';

export interface DesiredFlow {
  /** Table, priority and canonical match bytes: the flow's identity (see above). */
  readonly key: string;
  readonly instructions: Instructions;
  /**
   * The codec's match, kept until the flow is first sent; a later re-send
   * (a switch that lost its tables) decodes it from the key.
   */
  match: Match | undefined;
}

export class FlowBuildError extends Error {
  override readonly name = 'FlowBuildError';
  readonly code = 'FLOW_BAD_FLOW';
}

function keyHead(table: number, priority: number): string {
  if (!Number.isInteger(table) || table < 0 || table > 254) throw new FlowBuildError(`table ${table} is not an OpenFlow table id (0-254)`);
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff) throw new FlowBuildError(`priority ${priority} is not 0-65535`);
  return String.fromCharCode(table, priority >>> 8, priority & 0xff);
}

/** A flow from match parts (false/undefined skipped) and an instruction list (actions.ts). */
export function flow(table: number, priority: number, parts: ReadonlyArray<MatchPart | false | undefined>, instructions: Instructions): DesiredFlow {
  const { match, oxm } = buildMatch(parts, keyHead(table, priority));
  return { key: oxm, instructions, match };
}

/** The key of a flow reported by the switch (a dump), to compare it with the desired ones. */
export function keyOfStats(s: Pick<FlowStats, 'tableId' | 'priority' | 'match'>): string {
  return [keyHead(s.tableId, s.priority), canonicalOxm(s.match)].join('');
}

export const tableOf = (key: string): number => key.charCodeAt(0);
export const priorityOf = (key: string): number => (key.charCodeAt(1) << 8) | key.charCodeAt(2);

/** The match a key spells. */
export function matchOfKey(key: string): Match {
  const tlvs = expandOxm(key.slice(3));
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
  return flowModOf('add', f.key, f.match ?? matchOfKey(f.key), f.instructions, cookie, 0n);
}

/**
 * The flow-mod that deletes exactly the flow with this key. With `cookie`,
 * only if it carries that cookie (a flow someone else re-added with theirs
 * stays); without, whatever its cookie.
 */
export function deleteOf(key: string, cookie?: bigint): FlowMod {
  return flowModOf('delete_strict', key, matchOfKey(key), [], cookie ?? 0n, cookie === undefined ? 0n : ALL_COOKIE_BITS);
}

const ALL_COOKIE_BITS = 0xffffffffffffffffn;

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
