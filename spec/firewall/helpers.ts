import type { Firewall, FirewallPort } from '../../lib/firewall/index.js';
import { flowText, keyText } from '../../lib/flows/flow.js';
import type { FlowTable } from '../../lib/flows/flow-table.js';
import { formatFlow, parseFlow } from '@ovs-agent/openflow';

/**
 * One flow-mod as an ovs-ofctl line (`add …` with the table's cookie, or a
 * strict `delete_strict` by table, priority and match), the spelling
 * ovs-ofctl's dump-flows prints: what the firewall's flows become on the
 * wire, as a test reads them.
 */
export interface FlowChange {
  readonly op: 'add' | 'delete_strict';
  readonly text: string;
}

/** What the table would send now, as lines; taken as sent (committed). */
export function takeChanges(table: FlowTable): FlowChange[] {
  const c = table.takeChanges();
  const cookie = `cookie=0x${table.cookie.toString(16)}, `;
  const out = [
    ...c.adds.map((f) => ({ op: 'add' as const, text: cookie + flowText(f) })),
    ...c.deletes.map((k) => ({ op: 'delete_strict' as const, text: keyText(k) })),
  ];
  table.commit(c);
  return out;
}

/** The firewall's flush, and what it changed in its table. */
export function flushOf(fw: Firewall): FlowChange[] {
  fw.flush();
  return 'flows' in fw ? takeChanges((fw as { flows: FlowTable }).flows) : [];
}

/** The firewall's bridge-wide flows, as flushOf gives them. */
export function initOf(fw: Firewall): FlowChange[] {
  fw.initialize();
  return 'flows' in fw ? takeChanges((fw as { flows: FlowTable }).flows) : [];
}

/** How many flows the firewall wants. */
export function flowCount(fw: Firewall & { wantedFlows(): unknown[] }): number {
  return fw.wantedFlows().length;
}

/** The lines for `ovs-ofctl --bundle add-flows`. */
export function changesToOfctlLines(changes: readonly FlowChange[]): string {
  let out = '';
  for (const c of changes) out += `${c.op} ${c.text}\n`;
  return out;
}

/** Splits on commas outside parentheses. */
export function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * A flow as an order-independent string: `T<table> p<prio> <sorted match fields> -> actions`.
 * Accepts the ovs-ofctl text we emit and the spaced wording the specs' expectations use (`table=60 priority=100 ...`).
 */
export function canon(text: string): string {
  const t = dumpSpelling(text.replace(/^(add|delete_strict) /, '').replace(/^cookie=[^,]+, ?/, ''));
  const [m, a] = t.split(/ actions=/);
  const fields = splitTop(m.replace(/ /g, ','));
  let table = '0';
  let prio = '32768';
  const rest: string[] = [];
  for (const f of fields) {
    if (f === '') continue;
    if (f.startsWith('table=')) table = f.slice(6);
    else if (f.startsWith('priority=')) prio = f.slice(9);
    else rest.push(f);
  }
  rest.sort();
  return `T${table} p${prio} ${rest.join(',')}${a === undefined ? '' : ` -> ${a}`}`;
}

/** Any ovs-ofctl spelling of a flow (Neutron's, ours) in the one dump-flows prints; a text without actions stays without. */
function dumpSpelling(text: string): string {
  if (/[ ,]actions=/.test(text)) return formatFlow(parseFlow(text));
  const f = formatFlow(parseFlow(`${text},actions=drop`));
  return f.slice(0, f.lastIndexOf(' actions='));
}

export const canonAll = (changes: readonly FlowChange[]): string[] => changes.map((c) => canon(c.text)).sort();

export const adds = (changes: readonly FlowChange[]): string[] => canonAll(changes.filter((c) => c.op === 'add'));
export const deletes = (changes: readonly FlowChange[]): string[] => canonAll(changes.filter((c) => c.op === 'delete_strict'));

export function vmPort(n: number, over: Partial<FirewallPort> = {}): FirewallPort {
  const hex = n.toString(16).padStart(2, '0');
  return {
    portId: `port-${n}`,
    ofport: n,
    lvid: 3,
    macAddress: `fa:16:3e:00:00:${hex}`,
    fixedIps: [`10.0.0.${n}`],
    allowedAddressPairs: [],
    portSecurityEnabled: true,
    securityGroups: ['sg-web'],
    networkType: 'vxlan',
    segmentationId: 1001,
    ...over,
  };
}
