/**
 * Flows an extension hands over: the firewall's come with their OpenFlow
 * match and instructions built alongside the text (lib/firewall/flow-parts.ts);
 * another `Firewall` implementation may give ovs-ofctl text only. Either way
 * they become desired flows in the extension's own spelling, with what is
 * to be sent attached: the OpenFlow form as built, else the text parsed once
 * when it arrives (a bad flow is refused there, not in the middle of a
 * bundle). Nothing is formatted back to text on the way (the canonical
 * spelling is worked out only if a restart must compare them with a dump,
 * canonical.ts).
 *
 * Action lists repeat across flows, so a parse keeps them per distinct text.
 * An action list's meaning depends on the match only through what OVS reads
 * from it (a VLAN tag present, the Ethernet type, the IP protocol), so that
 * is part of the cache key.
 */
import { flowMod } from '../../protocol/openflow/builders.js';
import { formatFlow, parseActions, parseFlow } from '../../protocol/openflow/text/index.js';
import type { FlowMod, Instruction, Match } from '../../protocol/openflow/types.js';
import { flowKey, flowModText, parseDumpLine, type Flow, type PrebuiltFlow } from './flow.js';
import type { FlowTable } from './flow-table.js';

const ACTIONS_CACHE_MAX = 20_000;
const actionsCache = new Map<string, Instruction[]>();

/** Table, priority and match of a flow written as the firewall writes it: `[cookie=C,]table=T,priority=P[,MATCH][ actions=A]`. */
interface Identity {
  table: number;
  priority: number;
  match: string;
  actions: string | undefined;
}

function identity(text: string): Identity | undefined {
  const at = text.indexOf(' actions=');
  const end = at < 0 ? text.length : at;
  let pos = 0;
  if (text.startsWith('cookie=')) {
    pos = text.indexOf(',') + 1;
    if (pos === 0) return undefined;
  }
  if (!text.startsWith('table=', pos)) return undefined;
  const comma1 = text.indexOf(',', pos);
  if (comma1 < 0 || comma1 > end || !text.startsWith('priority=', comma1 + 1)) return undefined;
  let comma2 = text.indexOf(',', comma1 + 1);
  if (comma2 < 0 || comma2 > end) comma2 = end;
  const table = Number(text.slice(pos + 6, comma1));
  const priority = Number(text.slice(comma1 + 10, comma2));
  if (!Number.isInteger(table) || !Number.isInteger(priority)) return undefined;
  return { table, priority, match: comma2 < end ? text.slice(comma2 + 1, end) : '', actions: at < 0 ? undefined : text.slice(at + 9) };
}

function slot(v: Match[keyof Match]): string {
  if (v === undefined) return '';
  if (typeof v === 'object' && v !== null && 'value' in v) return `${String(v.value)}/${String(v.mask)}`;
  return String(v);
}

/** What an action list's parse reads from the match (parseActions' documented dependency). */
function actionContext(m: Match): string {
  return `${slot(m.vlan_vid)}|${slot(m.vlan_pcp)}|${slot(m.eth_type)}|${slot(m.ip_proto)}`;
}

/** Parses an add-flow text, reusing the parse of its action list when the same list was seen with the same context. */
export function parseExtensionFlow(text: string): FlowMod {
  const at = text.indexOf(' actions=');
  if (at < 0) return parseFlow(text);
  const fm = parseFlow(`${text.slice(0, at)},actions=drop`);
  const actions = text.slice(at + 9);
  const key = `${actionContext(fm.match)}\n${actions}`;
  let instructions = actionsCache.get(key);
  if (!instructions) {
    instructions = parseActions(actions, fm.match);
    if (actionsCache.size >= ACTIONS_CACHE_MAX) actionsCache.clear();
    actionsCache.set(key, instructions);
  }
  fm.instructions = instructions;
  return fm;
}

/** An extension's add as it hands it over (lib/firewall's FlowChange): the flow and its OpenFlow form, or text only. */
export interface ExtensionAdd {
  readonly text: string;
  readonly flow?: { readonly table: number; readonly priority: number; readonly match: string; readonly actions: string };
  readonly of?: PrebuiltFlow;
}

/** An extension's add or delete as it hands it over (lib/firewall's FlowChange). */
export interface ExtensionChange extends ExtensionAdd {
  readonly op: 'add' | 'delete_strict';
  readonly key?: string;
}

/**
 * An extension's add or delete into a desired table: the add as `extensionAdd`
 * makes it, both under `extensionKey`. Throws the parser's error for an add
 * of bad text.
 */
export function applyExtensionChange(table: FlowTable, owner: string, change: ExtensionChange): void {
  if (change.op === 'add') table.put(owner, extensionKey(change), extensionAdd(change));
  else table.removeKeys(owner, [extensionKey(change)]);
}

/** An extension's add as a desired flow: as built when it comes with its OpenFlow form, else parsed from its text. */
export function extensionAdd(change: ExtensionAdd): Flow {
  const { flow: f, of } = change;
  if (!f || !of) return extensionFlow(change.text);
  return { table: f.table, priority: f.priority, match: f.match, actions: f.actions, extension: true, of };
}

/**
 * An extension's `add` text as a desired flow: its own spelling as identity,
 * its FlowMod attached. Throws the parser's FlowSyntaxError for bad text.
 */
export function extensionFlow(text: string): Flow {
  const id = identity(text);
  if (id?.actions !== undefined) {
    const mod = parseExtensionFlow(text);
    if (mod.tableId === id.table && mod.priority === id.priority) {
      return { table: id.table, priority: id.priority, match: id.match, actions: id.actions, extension: true, mod };
    }
  }
  // Not the shape the firewall writes: the switch's own spelling is the identity.
  const mod = parseFlow(text);
  return { ...canonicalSpelling(text), mod };
}

/** A flow's dump-flows spelling, cookie left out, actions `drop` when the text has none (a delete). */
function canonicalSpelling(text: string): Flow {
  const noCookie = text.split(',').filter((p) => !p.startsWith('cookie=')).join(',');
  const add = noCookie.includes(' actions=') || noCookie.includes(',actions=') ? noCookie : `${noCookie},actions=drop`;
  const f = parseDumpLine(formatFlow(parseFlow(add)))?.flow;
  if (!f) throw new Error(`cannot read flow ${JSON.stringify(text)}`);
  return f;
}

/**
 * The desired-table key of an extension's add or delete: its identity in its
 * own spelling, `table=T,priority=P[,MATCH]`, which is the firewall ledger's
 * key, so a change that carries it (`key`) is used as it is and br-int's
 * table neither builds nor hashes a second string for each firewall flow.
 * A text of another shape is keyed by the switch's spelling of it. An add and
 * the delete of the same flow get the same key.
 */
export function extensionKey(change: { readonly text: string; readonly key?: string }): string {
  if (change.key !== undefined) return change.key;
  const id = identity(change.text);
  return id ? identityText(id) : flowKey(canonicalSpelling(change.text));
}

/** `table=T,priority=P[,MATCH]`: a flow's identity as the firewall spells it (its ledger's key). */
function identityText(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  return f.match === '' ? `table=${f.table},priority=${f.priority}` : `table=${f.table},priority=${f.priority},${f.match}`;
}

/**
 * The FlowMod that adds `f` with `cookie`: from the OpenFlow form or the
 * parse it came with while they are kept, else parsed now.
 */
export function flowModOf(f: Flow, cookie = 0n): FlowMod {
  if (f.of) return flowMod({ cookie, tableId: f.table, priority: f.priority, match: f.of.match, instructions: f.of.instructions });
  if (f.mod) return f.mod.cookie === cookie ? f.mod : { ...f.mod, cookie };
  if (!f.extension) return parseFlow(flowModText(f, cookie));
  const parsed = parseExtensionFlow(`${identityText(f)} actions=${f.actions}`);
  parsed.cookie = cookie;
  return parsed;
}
