/**
 * The verdict of a trace (`ovs-agent trace`): where ovs-vswitchd would send
 * the packet, read from the trace's last `Datapath actions:` (what the
 * datapath is told to do, after every recirculation, NORMAL's learning and
 * flooding included), each output port named from `dpif/show` (datapath
 * port → bridge, name, type) and said for people: delivered to a port of
 * this host (its Neutron id), sent to a tunnel (its remote address), sent out
 * of a physical bridge. A dropped packet is said dropped by the last flow
 * that dropped it, with what that flow is for and the flow before it.
 */
import type { CrossedFlow } from './trace.js';

/** A port of the datapath as `dpif/show` lists it. */
export interface DatapathPort {
  bridge: string;
  name: string;
  ofport: number | undefined;
  odp: number;
  /** `system`, `internal`, `dummy-internal`, `vxlan`, `patch`, … */
  type: string;
}

/** `    tap1 3/3: (system)` under `  br-int:`; patch ports (no datapath port: `1/none`) are left out. */
export function parseDpifShow(text: string): Map<number, DatapathPort> {
  const out = new Map<number, DatapathPort>();
  let bridge: string | undefined;
  for (const line of text.split('\n')) {
    const b = /^ {2}(\S+):\s*$/.exec(line);
    if (b) {
      bridge = b[1];
      continue;
    }
    const p = /^ {4}(\S+) (\d+)\/(\d+): \(([^:)]+)/.exec(line);
    if (!p || bridge === undefined) continue;
    out.set(Number(p[3]), { bridge, name: p[1], ofport: Number(p[2]) === 65534 ? undefined : Number(p[2]), odp: Number(p[3]), type: p[4] });
  }
  return out;
}

/** What the verdict needs of the agent: its ports (by interface name) and its tunnels (by port name). */
export interface VerdictNames {
  portOf(name: string): string | undefined;
  tunnelRemote(name: string): string | undefined;
  integrationBridge: string;
}

/** Splits datapath actions at commas outside parentheses. */
function actionsOf(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of line) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out.map((a) => a.trim());
}

const TUNNEL_TYPES = new Set(['vxlan', 'gre', 'geneve', 'erspan', 'ip6gre', 'ip6erspan', 'stt', 'gtpu', 'bareudp']);
const flowName = (f: CrossedFlow): string => `${f.bridge} table ${f.table} priority ${f.priority}${f.match ? ` (${f.match})` : ''}`;

export function traceVerdict(trace: string, crossed: readonly CrossedFlow[], ports: ReadonlyMap<number, DatapathPort>, names: VerdictNames): string[] {
  const last = [...trace.matchAll(/^Datapath actions: (.*)$/gm)].pop()?.[1];
  if (last === undefined) return ['no verdict: the trace has no datapath actions'];
  const acts = actionsOf(last);
  const outputs = acts.flatMap((a, i) => (/^\d+$/.test(a) ? [{ odp: Number(a), before: acts.slice(0, i) }] : []));
  if (outputs.length === 0) {
    const section = crossed.length ? crossed[crossed.length - 1].section : 0;
    const inLast = crossed.filter((f) => f.section === section);
    const k = inLast.map((f) => f.actions[0]).lastIndexOf('drop');
    if (k < 0) return [`dropped (datapath actions: ${last})`];
    const drop = inLast[k];
    const lines = [`dropped by ${flowName(drop)}: ${drop.note}`];
    if (k > 0) lines.push(`  reached from ${flowName(inLast[k - 1])}: ${inLast[k - 1].note}`);
    return lines;
  }
  /** The flow that sent the packet to a port: the last to output to it, else the last NORMAL switching on its bridge. */
  const by = (p: DatapathPort): string => {
    const f = crossed.findLast((c) => c.bridge === p.bridge && c.actions.includes(`output:${p.ofport}`))
      ?? crossed.findLast((c) => c.bridge === p.bridge && c.actions.includes('NORMAL'));
    return f ? `, by ${flowName(f)}: ${f.note}${f.actions.includes('NORMAL') ? ' (NORMAL switching)' : ''}` : '';
  };
  return outputs.map(({ odp, before }) => {
    const p = ports.get(odp);
    if (!p) return `sent to datapath port ${odp} (not in dpif/show)`;
    return where(p, before) + by(p);
  });

  function where(p: DatapathPort, before: string[]): string {
    const vlan = [...before].reverse().find((a) => a.startsWith('push_vlan(') || a === 'pop_vlan');
    const vid = vlan?.startsWith('push_vlan(') ? /vid=(\d+)/.exec(vlan)?.[1] : undefined;
    if (TUNNEL_TYPES.has(p.type)) {
      const dst = [...before].reverse().map((a) => /\bdst=([0-9a-f.:]+)/.exec(a)?.[1]).find(Boolean);
      return `sent to tunnel ${p.name} (${p.type}, remote ${dst ?? names.tunnelRemote(p.name) ?? '?'}) on ${p.bridge}`;
    }
    if (p.ofport === undefined) return `to ${p.bridge}'s own internal port${vid ? ` (VLAN ${vid})` : ''}`;
    const portId = p.bridge === names.integrationBridge ? names.portOf(p.name) : undefined;
    if (portId) return `delivered to port ${portId} (${p.name}, ofport ${p.ofport})`;
    return `sent out of ${p.name} on ${p.bridge}${vid ? ` (VLAN ${vid})` : ''}`;
  }
}
