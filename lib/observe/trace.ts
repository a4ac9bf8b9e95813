/**
 * `ovs-agent trace`: ovs-vswitchd's own `ofproto/trace` of a packet from a
 * port, each flow it crossed annotated with what the flow is for, from the
 * owner the agent gave it (intentions.ts) and, for a flow of a port's
 * security-group filter, the rule it comes from (the firewall says). The
 * trace names a flow by table, priority and match (in ovs-ofctl's text); the
 * agent's flows are looked up by the same three: table and priority first,
 * the match text to choose between flows that share them. The flows crossed
 * are returned too, for the verdict (trace-verdict.ts).
 */
import { keyText, priorityOf, tableOf } from '../flows/flow.js';
import type { FlowTable } from '../flows/flow-table.js';
import { intentionOf } from './intentions.js';

interface Known {
  match: string;
  owner: string;
  key: string;
}

/** One flow the packet crossed, as the trace shows it and the agent annotated it. */
export interface CrossedFlow {
  bridge: string;
  table: number;
  priority: number;
  match: string;
  /** What it is for (the annotation without its `#`). */
  note: string;
  /** Its actions as traced (`drop`, `resubmit(,73)`, `output:4`, …), ovs-vswitchd's `->` remarks left out. */
  actions: string[];
  /** The trace's section: 0, then one more per conntrack recirculation. */
  section: number;
}

export interface AnnotatedTrace {
  text: string;
  crossed: CrossedFlow[];
}

/** What the firewall knows of a port's filter flow: the security-group rule it comes from, for people. */
export type RuleExplainer = (portId: string, key: string) => string | undefined;

/** A trace's table line: ` 0. in_port=1,dl_vlan=100, priority 3, cookie 0x1234` (nested bridges indent it further). */
const TABLE_LINE = /^(\s*)(\d+)\. (?:(.*?), )?priority (\d+)(?:, cookie (0x[0-9a-f]+))?\s*$/;
/** `bridge("br-int")`, indented when the packet went through a patch port. */
const BRIDGE_LINE = /^\s*bridge\("([^"]+)"\)/;
const SECTION_LINE = /^={20,}$/;
const FIREWALL_PORT = 'fw|p|';

/** The match part of a key's text (`table=T, priority=P,MATCH`). */
function matchOf(key: string): string {
  return /priority=\d+,?(.*)$/.exec(keyText(key))?.[1] ?? '';
}

/** Field sets compare equal whatever the order (the trace and ovs-ofctl may order a match differently). */
const canonical = (m: string): string => m.split(',').filter(Boolean).sort().join(',');

function indexTables(tables: readonly FlowTable[]): { index: Map<string, Map<string, Known[]>>; cookies: Map<string, bigint> } {
  const index = new Map<string, Map<string, Known[]>>();
  const cookies = new Map<string, bigint>();
  for (const t of tables) {
    const byTp = new Map<string, Known[]>();
    for (const owner of t.ownerNames()) {
      for (const f of t.flowsOf(owner)) {
        const tp = `${tableOf(f.key)}/${priorityOf(f.key)}`;
        let list = byTp.get(tp);
        if (!list) byTp.set(tp, list = []);
        list.push({ match: canonical(matchOf(f.key)), owner, key: f.key });
      }
    }
    index.set(t.bridge, byTp);
    cookies.set(t.bridge, t.cookie);
  }
  return { index, cookies };
}

export function annotateTrace(text: string, tables: readonly FlowTable[], explain?: RuleExplainer): AnnotatedTrace {
  const { index, cookies } = indexTables(tables);
  /** What a traced flow is for, from the agent's tables. */
  const noteOf = (bridge: string, table: string, priority: string, match: string | undefined, cookie: string | undefined): string => {
    const agentCookie = cookies.get(bridge);
    if (agentCookie === undefined) return '(not one of the agent\'s bridges)';
    if (cookie !== undefined && BigInt(cookie) !== agentCookie) return `NOT THE AGENT'S FLOW (cookie ${cookie})`;
    const candidates = index.get(bridge)?.get(`${table}/${priority}`) ?? [];
    const exact = candidates.filter((c) => c.match === canonical(match ?? ''));
    const owners = [...new Set((exact.length ? exact : candidates).map((c) => c.owner))];
    if (owners.length === 0) return 'not in the agent\'s flow table';
    if (owners.length > 1) return `one of: ${owners.map((o) => `${intentionOf(o).text} [${o}]`).join('; ')}`;
    const owner = owners[0];
    const i = intentionOf(owner);
    const rule = exact.length === 1 && owner.startsWith(FIREWALL_PORT) ? explain?.(owner.slice(FIREWALL_PORT.length), exact[0].key) : undefined;
    return rule ? `${i.group}: ${rule}, in the ${i.text} [${owner}]` : `${i.group}: ${i.text} [${owner}]`;
  };

  let bridge: string | undefined;
  let section = 0;
  const out: string[] = [];
  const crossed: CrossedFlow[] = [];
  const lines = text.split('\n');
  let current: CrossedFlow | undefined;
  for (const [n, line] of lines.entries()) {
    out.push(line);
    if (SECTION_LINE.test(line) && lines[n + 2] !== undefined && SECTION_LINE.test(lines[n + 2])) section++;
    const b = BRIDGE_LINE.exec(line);
    if (b) {
      bridge = b[1];
      current = undefined;
      continue;
    }
    const m = TABLE_LINE.exec(line);
    if (!m || bridge === undefined) {
      const action = line.trim();
      if (action === '') current = undefined;
      else if (current && !action.startsWith('->')) current.actions.push(action);
      continue;
    }
    const [, indent, table, match, priority, cookie] = m;
    const note = noteOf(bridge, table, priority, match, cookie);
    // Under the flow's line, where ovs-vswitchd writes its actions.
    out.push(`${' '.repeat(indent.length + table.length + 2)}# ${note}`);
    current = { bridge, table: Number(table), priority: Number(priority), match: match ?? '', note, actions: [], section };
    crossed.push(current);
  }
  return { text: out.join('\n'), crossed };
}
