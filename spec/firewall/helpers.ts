import type { FlowChange } from '../../lib/firewall/index.js';
import type { FirewallPort } from '../../lib/firewall/index.js';

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
 * Accepts the ovs-ofctl text we emit and the reference's wording (spaces between fields).
 */
export function canon(text: string): string {
  const t = text.replace(/^(add|delete_strict) /, '').replace(/^cookie=[^,]+,/, '');
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
