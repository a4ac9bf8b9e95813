/** Parsing an action list on its own, outside a flow. */
import type { Instruction, Match } from '../types.js';
import { parseInstructions } from './actions-parse.js';
import { matchToView } from './match-codec.js';

/**
 * Parses what follows `actions=` into instructions. `match` (default: match
 * everything) decides what OVS decides from it: whether a VLAN tag is present
 * for `mod_vlan_vid`/`strip_vlan`, and which transport `mod_tp_dst` sets.
 */
export function parseActions(text: string, match: Match = {}): Instruction[] {
  return parseInstructions(matchToView(match), text, 0, text.length);
}
