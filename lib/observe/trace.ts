/**
 * `ovs-agent trace`: ovs-vswitchd's own `ofproto/trace` of a packet from a
 * port, each flow it crossed annotated with what the flow is for, from the
 * owner the agent gave it (intentions.ts). The trace names a flow by table,
 * priority and match (in ovs-ofctl's text); the agent's flows are looked up
 * by the same three: table and priority first, the match text to choose
 * between flows that share them.
 */
import { keyText, priorityOf, tableOf } from '../flows/flow.js';
import type { FlowTable } from '../flows/flow-table.js';
import { intentionOf } from './intentions.js';

interface Known {
  match: string;
  owner: string;
}

/** A trace's table line: ` 0. in_port=1,dl_vlan=100, priority 3, cookie 0x1234`. */
const TABLE_LINE = /^(\s*)(\d+)\. (?:(.*?), )?priority (\d+)(?:, cookie (0x[0-9a-f]+))?\s*$/;
const BRIDGE_LINE = /^bridge\("([^"]+)"\)/;

/** The match part of a key's text (`table=T, priority=P,MATCH`). */
function matchOf(key: string): string {
  return /priority=\d+,?(.*)$/.exec(keyText(key))?.[1] ?? '';
}

/** Field sets compare equal whatever the order (the trace and ovs-ofctl may order a match differently). */
const canonical = (m: string): string => m.split(',').filter(Boolean).sort().join(',');

export function annotateTrace(text: string, tables: readonly FlowTable[]): string {
  const index = new Map<string, Map<string, Known[]>>();
  const cookies = new Map<string, bigint>();
  for (const t of tables) {
    const byTp = new Map<string, Known[]>();
    for (const owner of t.ownerNames()) {
      for (const f of t.flowsOf(owner)) {
        const tp = `${tableOf(f.key)}/${priorityOf(f.key)}`;
        let list = byTp.get(tp);
        if (!list) byTp.set(tp, list = []);
        list.push({ match: canonical(matchOf(f.key)), owner });
      }
    }
    index.set(t.bridge, byTp);
    cookies.set(t.bridge, t.cookie);
  }
  let bridge: string | undefined;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    out.push(line);
    const b = BRIDGE_LINE.exec(line);
    if (b) {
      bridge = b[1];
      continue;
    }
    const m = TABLE_LINE.exec(line);
    if (!m || bridge === undefined) continue;
    const [, , table, match, priority, cookie] = m;
    // Under the flow's line, where ovs-vswitchd writes its actions.
    const pad = '    ';
    const agentCookie = cookies.get(bridge);
    if (agentCookie === undefined) {
      out.push(`${pad}# (not one of the agent's bridges)`);
      continue;
    }
    if (cookie !== undefined && BigInt(cookie) !== agentCookie) {
      out.push(`${pad}# NOT THE AGENT'S FLOW (cookie ${cookie})`);
      continue;
    }
    const candidates = index.get(bridge)?.get(`${table}/${priority}`) ?? [];
    const exact = candidates.filter((c) => c.match === canonical(match ?? ''));
    const owners = [...new Set((exact.length ? exact : candidates).map((c) => c.owner))];
    if (owners.length === 1) {
      const i = intentionOf(owners[0]);
      out.push(`${pad}# ${i.group}: ${i.text} [${owners[0]}]`);
    } else if (owners.length > 1) {
      out.push(`${pad}# one of: ${owners.map((o) => `${intentionOf(o).text} [${o}]`).join('; ')}`);
    } else {
      out.push(`${pad}# not in the agent's flow table`);
    }
  }
  return out.join('\n');
}
