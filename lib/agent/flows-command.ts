/**
 * `ovs-agent flows [PORT] [--repair]` as the running agent answers it
 * (lib/observe/flow-report.ts compares; this picks the port and the
 * bridges, dumps them, and repairs through FlowSync, which owns the
 * sessions). A pass may be sending a bundle while the bridges are dumped:
 * its flows then show as missing for that instant; asking again tells.
 */
import type { FlowTable } from '../flows/flow-table.js';
import { compareFlows, FlowReportError, portOwners, type FlowReport, type OwnerFilter } from '../observe/flow-report.js';
import type { FlowSync } from './flow-sync.js';
import type { PortTracker } from './ports.js';

export interface FlowsRequest {
  /** A Neutron port id or an interface name; absent: every flow of the agent's bridges. */
  port?: string;
  /** Put missing and changed flows back, remove unexpected ones (as after a new OpenFlow session). */
  repair?: boolean;
}

export async function flowsCommand(parts: { ports: PortTracker; tables: FlowTable[]; flows: FlowSync; firstSyncDone: boolean },
  req: FlowsRequest): Promise<FlowReport> {
  let filter: OwnerFilter | undefined;
  let port: FlowReport['port'];
  if (req.port !== undefined) {
    const p = parts.ports.get(req.port) ?? [...parts.ports.all()].find((x) => x.name === req.port);
    if (!p) throw new FlowReportError(`no port ${req.port} on this host (give a Neutron port id or its interface name)`, 'FLOWS_UNKNOWN_PORT');
    port = { portId: p.portId, name: p.name, ofport: p.ofport, networkId: p.networkId, lvid: p.lvid, state: p.state };
    filter = portOwners(p.portId, p.networkId);
  }
  if (!parts.firstSyncDone) throw new FlowReportError('the first full sync is not done yet: the agent\'s flows are not all computed', 'FLOWS_NOT_READY');
  const bridges = parts.tables.map((t) => t.bridge);
  const compare = async () => compareFlows(parts.tables, await parts.flows.dump(bridges), filter);
  const found = await compare();
  if (!req.repair) return { port, ...found };
  await parts.flows.repair(bridges);
  return { port, ...await compare(), repaired: found.drift };
}
