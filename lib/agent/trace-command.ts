/**
 * `ovs-agent trace PORT [FLOW]` as the running agent answers it
 * (docs/operations.md): ovs-vswitchd's `ofproto/trace` of a packet entering
 * br-int from the port, asked over its control socket, annotated with what
 * each flow crossed is for (lib/observe/trace.ts), and the verdict
 * (lib/observe/trace-verdict.ts) with the datapath's ports from
 * `dpif/show`. When the destination MAC is a port of this host that the
 * packet does not reach, the answer says on which network each is.
 */
import type { Firewall } from '../firewall/index.js';
import type { FlowTable } from '../flows/flow-table.js';
import { FlowReportError } from '../observe/flow-report.js';
import { annotateTrace } from '../observe/trace.js';
import { parseDpifShow, traceVerdict } from '../observe/trace-verdict.js';
import { unixctl, vswitchdControlSocket } from './ovs/unixctl.js';
import type { PortTracker } from './ports.js';
import type { TunnelPort } from './tunnels.js';

export interface TraceRequest {
  /** The source: a Neutron port id or its interface name on br-int. */
  port: string;
  /** The rest of the packet in ovs-ofctl's flow syntax (`tcp,dl_dst=…,nw_dst=…,tp_dst=22`); in_port and dl_src come from the port. */
  flow?: string;
}

export interface TraceAnswer {
  /** What was traced: `ofproto/trace BRIDGE FLOW`. */
  traced: string;
  /** ovs-vswitchd's trace, each flow annotated with what it is for. */
  trace: string;
  /** Where the packet goes (one line per output) or which flow dropped it; then notes. */
  verdict: string[];
}

export interface TraceParts {
  ports: PortTracker;
  tables: FlowTable[];
  integrationBridge: string;
  rundir: string;
  firewall: Firewall | undefined;
  tunnels: () => TunnelPort[];
}

/** ovs-vswitchd's `ofproto/trace` of a packet from a port, annotated with the owners of the flows it crossed, and its verdict. */
export async function traceCommand(parts: TraceParts, req: TraceRequest): Promise<TraceAnswer> {
  const portOf = (idOrName: string) => parts.ports.get(idOrName) ?? [...parts.ports.all()].find((x) => x.name === idOrName);
  const p = portOf(req.port);
  if (!p) throw new FlowReportError(`no port ${req.port} on this host (give a Neutron port id or its interface name)`, 'FLOWS_UNKNOWN_PORT');
  const extra = (req.flow ?? '').trim();
  // The user's fields first: a protocol keyword (tcp, arp...) is taken as written; the port's own come last.
  const flow = [extra, `in_port=${p.ofport}`, `dl_src=${p.mac}`].filter(Boolean).join(',');
  const socket = vswitchdControlSocket(parts.rundir);
  const [text, dpif] = await Promise.all([
    unixctl(socket, 'ofproto/trace', [parts.integrationBridge, flow]),
    unixctl(socket, 'dpif/show', []),
  ]);
  const annotated = annotateTrace(text, parts.tables, parts.firewall?.ruleOrigin && ((id, key) => parts.firewall!.ruleOrigin!(id, key)));
  const verdict = traceVerdict(text, annotated.crossed, parseDpifShow(dpif), {
    integrationBridge: parts.integrationBridge,
    portOf: (name) => [...parts.ports.all()].find((x) => x.name === name)?.portId,
    tunnelRemote: (name) => parts.tunnels().find((t) => t.name === name)?.remoteIp,
  });
  // The port the destination MAC belongs to, if on this host and not reached: say why (another network, a dead port).
  const dst = /(?:^|,)dl_dst=([0-9a-f:]{17})(?:,|$)/i.exec(extra)?.[1]?.toLowerCase();
  const target = dst && [...parts.ports.all()].find((x) => x.mac.toLowerCase() === dst && x.portId !== p.portId);
  if (target && !verdict.some((v) => v.startsWith(`delivered to port ${target.portId} `))) {
    const where = (x: typeof p) => `${x.state}, network ${x.networkId ?? '(none)'}${x.lvid !== undefined ? ` (local VLAN ${x.lvid})` : ''}`;
    const sameNetwork = target.networkId !== undefined && target.networkId === p.networkId && target.lvid === p.lvid;
    verdict.push(`not delivered to port ${target.portId} (${target.name}), whose MAC is the destination: ${sameNetwork
      ? `same network as the source (${where(target)})` : `it is ${where(target)}; the packet comes from port ${p.portId}, ${where(p)}`}`);
  }
  return { traced: `ofproto/trace ${parts.integrationBridge} ${flow}`, trace: annotated.text, verdict };
}

/** The answer as `ovs-agent trace` prints it. */
export function traceText(t: TraceAnswer): string {
  return `${t.traced}\n\n${t.trace}\n\nverdict:\n${t.verdict.map((v) => `  ${v}`).join('\n')}\n`;
}
