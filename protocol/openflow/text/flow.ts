/**
 * Whole flows: `ovs-ofctl add-flow`/`del-flows` text → FlowMod, and
 * FlowMod/FlowStats → the line `ovs-ofctl -O OpenFlow13 dump-flows` prints
 * (lib/ofp-flow.c `parse_ofp_str__`, `ofputil_flow_stats_format`).
 */
import { OFPFF, OFPG, OFPP, OFP_NO_BUFFER } from '../constants.js';
import type { FlowMod, FlowModCommand, FlowStats, Instruction, Match } from '../types.js';
import { parseInstructions } from './actions-parse.js';
import { formatInstructions } from './actions-format.js';
import { FlowSyntaxError } from './errors.js';
import { parsePort, withPortNames } from './field-values.js';
import { matchToView, viewToMatch } from './match-codec.js';
import { formatView } from './match-format.js';
import { applyMatchItem, checkPrereqs, type UsedField } from './match-parse.js';
import { scanItems } from './scanner.js';
import { parseBig, parseNumber } from './values.js';
import { borrowView, returnView, type MatchView } from './view.js';

/** Options of `parseFlow`: the flow-mod command, and port names to read as numbers. */
export interface ParseFlowOptions {
  /** As `ovs-ofctl add-flow` (default), `mod-flows [--strict]` or `del-flows [--strict]`. */
  command?: FlowModCommand;
  /**
   * Port names of the bridge (name → OpenFlow port number, e.g. from a
   * port-desc reply), so `in_port=patch-tun` or `output:"tap1"` can be read
   * as ovs-ofctl reads them. Without it only numbers and reserved names are ports.
   */
  ports?: ReadonlyMap<string, number>;
}

/** The statistics a `dump-flows` line carries besides the flow itself. */
export interface FlowLineStats {
  durationSec: number;
  durationNsec: number;
  packetCount: bigint;
  byteCount: bigint;
  idleAge?: number;
  hardAge?: number;
}

const FLAG_WORDS: ReadonlyMap<string, number> = new Map([
  ['send_flow_rem', OFPFF.SEND_FLOW_REM],
  ['check_overlap', OFPFF.CHECK_OVERLAP],
  ['reset_counts', OFPFF.RESET_COUNTS],
  ['no_packet_counts', OFPFF.NO_PKT_COUNTS],
  ['no_byte_counts', OFPFF.NO_BYT_COUNTS],
]);

const U64_MAX = 0xffffffffffffffffn;

const KEYWORDS = new Set([
  'table', 'priority', 'idle_timeout', 'hard_timeout', 'importance', 'cookie', 'out_port', 'out_group', 'duration',
  'n_packets', 'n_bytes', 'idle_age', 'hard_age',
]);

function u16(value: string, at: number, what: string): number {
  const v = parseNumber(value);
  if (v === undefined || v > 0xffff) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', `invalid ${what}`, value, at + 1);
  return v;
}

function u64(value: string, at: number, what: string): bigint {
  const v = parseBig(value);
  if (v === undefined || v > U64_MAX) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', `invalid ${what}`, value, at + 1);
  return v;
}

/** `duration=1.5s` → [sec, nsec]. */
function parseDuration(value: string, at: number): [number, number] {
  const m = /^([0-9]+)(?:\.([0-9]{1,9}))?s$/.exec(value);
  if (!m) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', 'invalid duration', value, at + 1);
  return [Number(m[1]), m[2] ? Number(m[2].padEnd(9, '0')) : 0];
}

/** Offset of the actions (after `actions=`) and of the keyword, as ovs-ofctl's extract_actions finds them. */
function findActions(text: string): [number, number] {
  const kw = text.indexOf('action');
  if (kw < 0) return [-1, -1];
  const eq = text.indexOf('=', kw + 1);
  return eq < 0 ? [-1, -1] : [kw, eq + 1];
}

interface Parsed {
  flowMod: FlowMod;
  stats: FlowLineStats;
}

function parse(text: string, command: FlowModCommand): Parsed {
  const takesActions = command === 'add' || command === 'modify' || command === 'modify_strict';
  let matchEnd = text.length;
  let actionsAt = -1;
  if (takesActions) {
    const [kw, at] = findActions(text);
    if (at < 0) throw new FlowSyntaxError('OFTEXT_MISSING_ACTIONS', 'must specify an action', text.trim().slice(0, 40), text.length + 1);
    matchEnd = kw;
    actionsAt = at;
  }
  const view = borrowView();
  try {
    return parseWith(view, text, command, takesActions, matchEnd, actionsAt);
  } finally {
    returnView(view);
  }
}

function parseWith(
  view: MatchView, text: string, command: FlowModCommand, takesActions: boolean, matchEnd: number, actionsAt: number,
): Parsed {
  const used: UsedField[] = [];
  const fm: FlowMod = {
    type: 'flow_mod', cookie: 0n, cookieMask: 0n, tableId: command === 'add' ? 0 : 0xff, command,
    idleTimeout: 0, hardTimeout: 0, priority: 0x8000, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY,
    flags: 0, match: {}, instructions: [],
  };
  const stats: FlowLineStats = { durationSec: 0, durationNsec: 0, packetCount: 0n, byteCount: 0n };
  const hasPriority = command !== 'delete';
  const hasTimeouts = takesActions;

  for (const it of scanItems(text, 0, matchEnd)) {
    if (applyMatchItem(view, it, used)) continue;
    const flag = FLAG_WORDS.get(it.key);
    if (flag !== undefined && takesActions && it.delim === '') {
      fm.flags |= flag;
      continue;
    }
    if (it.key === 'no_readonly_table' || it.key === 'allow_hidden_fields') continue;
    if (it.delim === '') {
      if (FLAG_WORDS.has(it.key)) {
        throw new FlowSyntaxError('OFTEXT_NOT_ALLOWED', `${it.key} is not allowed in ${command}`, it.key, it.at + 1);
      }
      if (KEYWORDS.has(it.key)) throw new FlowSyntaxError('OFTEXT_SYNTAX', `${it.key} is missing its value`, it.key, it.at + 1);
      throw new FlowSyntaxError('OFTEXT_UNKNOWN_KEYWORD', 'unknown keyword', it.key, it.at + 1);
    }
    const v = it.value;
    const at = it.valueAt;
    switch (it.key) {
      case 'table': {
        const t = parseNumber(v);
        if (t === undefined || t > 0xff) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', 'unknown table', v, at + 1);
        fm.tableId = t;
        continue;
      }
      case 'priority':
        if (!hasPriority) break;
        fm.priority = u16(v, at, 'priority');
        continue;
      case 'idle_timeout':
        if (!hasTimeouts) break;
        fm.idleTimeout = u16(v, at, 'idle_timeout');
        continue;
      case 'hard_timeout':
        if (!hasTimeouts) break;
        fm.hardTimeout = u16(v, at, 'hard_timeout');
        continue;
      case 'importance':
        // OpenFlow 1.4's; an OpenFlow 1.3 flow_mod has no room for it, so ovs-ofctl drops it too.
        if (command !== 'add') break;
        u16(v, at, 'importance');
        continue;
      case 'cookie': {
        const slash = v.indexOf('/');
        if (slash >= 0) {
          if (command === 'add') {
            throw new FlowSyntaxError('OFTEXT_NOT_ALLOWED', 'flow additions cannot use a cookie mask', v, at + 1);
          }
          fm.cookie = u64(v.slice(0, slash), at, 'cookie');
          fm.cookieMask = u64(v.slice(slash + 1), at + slash + 1, 'cookie mask');
        } else {
          if (command === 'delete' || command === 'delete_strict') {
            throw new FlowSyntaxError('OFTEXT_NOT_ALLOWED', 'cannot set cookie', v, at + 1);
          }
          fm.cookie = u64(v, at, 'cookie');
        }
        continue;
      }
      case 'out_port': {
        if (takesActions) break;
        const p = parsePort(v);
        if (p === undefined) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', 'not a valid OpenFlow port', v, at + 1);
        fm.outPort = p;
        continue;
      }
      case 'out_group': {
        if (takesActions) break;
        const g = v === 'ANY' || v === 'any' ? OFPG.ANY : v === 'ALL' || v === 'all' ? OFPG.ALL : parseNumber(v);
        if (g === undefined || g > 0xffffffff) throw new FlowSyntaxError('OFTEXT_BAD_VALUE', 'not a valid OpenFlow group', v, at + 1);
        fm.outGroup = g;
        continue;
      }
      case 'duration':
        [stats.durationSec, stats.durationNsec] = parseDuration(v, at);
        continue;
      case 'n_packets':
        stats.packetCount = u64(v, at, 'n_packets');
        continue;
      case 'n_bytes':
        stats.byteCount = u64(v, at, 'n_bytes');
        continue;
      case 'idle_age':
        stats.idleAge = u16(v, at, 'idle_age');
        continue;
      case 'hard_age':
        stats.hardAge = u16(v, at, 'hard_age');
        continue;
      default:
        throw new FlowSyntaxError('OFTEXT_UNKNOWN_KEYWORD', 'unknown keyword', it.key, it.at + 1);
    }
    throw new FlowSyntaxError('OFTEXT_NOT_ALLOWED', `${it.key} is not allowed in ${command}`, it.key, it.at + 1);
  }
  checkPrereqs(view, used);
  fm.match = viewToMatch(view);
  if (actionsAt >= 0) fm.instructions = parseInstructions(view, text, actionsAt, text.length);
  return { flowMod: fm, stats };
}

/**
 * Parses a flow in ovs-ofctl syntax (`table=0,priority=10,in_port=1,dl_vlan=5,actions=strip_vlan,output:2`),
 * including a line of `ovs-ofctl dump-flows` output, whose statistics are ignored.
 * Throws FlowSyntaxError naming the offending token and its column.
 */
export function parseFlow(text: string, options: ParseFlowOptions = {}): FlowMod {
  if (options.ports) return withPortNames(options.ports, () => parse(text, options.command ?? 'add').flowMod);
  return parse(text, options.command ?? 'add').flowMod;
}

/** Parses a `dump-flows` line into the codec's FlowStats (duration and counters included). */
export function parseFlowStats(line: string): FlowStats {
  const { flowMod: fm, stats } = parse(line, 'add');
  return {
    tableId: fm.tableId, durationSec: stats.durationSec, durationNsec: stats.durationNsec, priority: fm.priority,
    idleTimeout: fm.idleTimeout, hardTimeout: fm.hardTimeout, flags: fm.flags, cookie: fm.cookie,
    packetCount: stats.packetCount, byteCount: stats.byteCount, match: fm.match, instructions: fm.instructions,
  };
}

const COMMAND_WORDS: ReadonlyMap<string, FlowModCommand> = new Map([
  ['add', 'add'], ['modify', 'modify'], ['modify_strict', 'modify_strict'], ['delete', 'delete'], ['delete_strict', 'delete_strict'],
]);

/**
 * Parses an `ovs-ofctl add-flows`/`--bundle` file: one flow per line, blank
 * lines and `#` comments skipped, each line optionally led by a command word
 * (`add`, `modify`, `modify_strict`, `delete`, `delete_strict`; default
 * `add`), as ovs-ofctl reads them. Errors name the line (`FlowSyntaxError.line`)
 * and the column within it.
 */
export function parseFlowFile(text: string, options: Pick<ParseFlowOptions, 'ports'> = {}): FlowMod[] {
  return withPortNames(options.ports, () => parseFileLines(text));
}

function parseFileLines(text: string): FlowMod[] {
  const out: FlowMod[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const t = line.trimStart();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([a-z_]+)(?=[\s,]|$)/.exec(t);
    const command = m ? COMMAND_WORDS.get(m[1]) : undefined;
    // Blank out the command word rather than slicing, so columns stay those of the line.
    const body = command ? line.replace(m![1], ' '.repeat(m![1].length)) : line;
    try {
      out.push(parse(body, command ?? 'add').flowMod);
    } catch (e) {
      throw e instanceof FlowSyntaxError ? e.atLine(n + 1) : e;
    }
  }
  return out;
}

/**
 * Parses the whole output of `ovs-ofctl dump-flows` (reply header lines such
 * as `OFPST_FLOW reply (OF1.3) (xid=0x2):` and blank lines skipped). A
 * FlowSyntaxError's column is then relative to its line, which it names.
 */
export function parseDumpFlows(output: string): FlowStats[] {
  const out: FlowStats[] = [];
  const lines = output.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const t = lines[n];
    if (t.trim() === '' || /^(OFPST|NXST)_FLOW reply/.test(t.trim())) continue;
    try {
      out.push(parseFlowStats(t));
    } catch (e) {
      throw e instanceof FlowSyntaxError ? e.atLine(n + 1) : e;
    }
  }
  return out;
}

/** A match as ovs-ofctl prints it, including `priority=` unless it is the default 32768. */
export function formatMatch(match: Match, priority = 0x8000): string {
  const view = borrowView();
  try {
    return formatView(matchToView(match, view), priority);
  } finally {
    returnView(view);
  }
}

/** Parses just a match (`tcp,nw_src=10.0.0.0/8,tp_dst=22`), with prerequisites checked. */
export function parseMatch(text: string): Match {
  const view = borrowView();
  try {
    return parseMatchWith(view, text);
  } finally {
    returnView(view);
  }
}

function parseMatchWith(view: MatchView, text: string): Match {
  const used: UsedField[] = [];
  for (const it of scanItems(text)) {
    if (!applyMatchItem(view, it, used)) throw new FlowSyntaxError('OFTEXT_UNKNOWN_KEYWORD', 'unknown match field', it.key, it.at + 1);
  }
  checkPrereqs(view, used);
  return viewToMatch(view);
}

function flagsText(flags: number): string {
  let s = '';
  for (const [name, bit] of FLAG_WORDS) if (flags & bit) s += name + ' ';
  return s;
}

function durationText(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}s`;
  if (nsec % 1000000 === 0) return `${sec}.${String(nsec / 1000000).padStart(3, '0')}s`;
  return `${sec}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}s`;
}

interface FlowLike {
  cookie: bigint;
  tableId: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  priority: number;
  match: Match;
  instructions: Instruction[];
}

function formatLine(f: FlowLike, stats: FlowStats | undefined): string {
  let s = '';
  if (stats || f.cookie !== 0n) s += `cookie=0x${f.cookie.toString(16)}, `;
  if (stats) s += `duration=${durationText(stats.durationSec, stats.durationNsec)}, `;
  if (stats || f.tableId !== 0) s += `table=${f.tableId}, `;
  if (stats) s += `n_packets=${stats.packetCount}, n_bytes=${stats.byteCount}, `;
  if (f.idleTimeout) s += `idle_timeout=${f.idleTimeout}, `;
  if (f.hardTimeout) s += `hard_timeout=${f.hardTimeout}, `;
  if (f.flags) s += flagsText(f.flags);
  const m = formatMatch(f.match, f.priority);
  if (m) s += m + ' ';
  return s + 'actions=' + formatInstructions(f.instructions);
}

/**
 * A flow as `ovs-ofctl -O OpenFlow13 dump-flows --no-stats` prints it: the
 * canonical text to compare desired flows with installed ones.
 */
export function formatFlow(flow: FlowMod | FlowStats): string {
  return formatLine(flow, undefined);
}

/** A flow-stats entry as `ovs-ofctl -O OpenFlow13 dump-flows` prints it (without the leading space). */
export function formatFlowStats(stats: FlowStats): string {
  return formatLine(stats, stats);
}
