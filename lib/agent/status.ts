/** What `ovs-agent status` shows: the agent's state, as one JSON document. */
import { formatCookie } from '../bridges/cookie.js';
import type { NetworkType } from '../model/index.js';
import type { BridgeSetup } from './bridge-setup.js';
import type { FlowSync, OvsState } from './flow-sync.js';
import type { Networks } from './networks.js';
import type { PortTracker, WiredPort } from './ports.js';
import type { TunnelPort, Tunnels } from './tunnels.js';
import type { Readiness } from '../observe/readiness.js';

export interface AgentStatus {
  host: string;
  startedAt: string;
  ovsState: OvsState;
  ports: WiredPort[];
  localVlans: Array<{ networkId: string; lvid: number; networkType: NetworkType; segmentationId?: number; physicalNetwork?: string; ports: number }>;
  tunnels: TunnelPort[];
  bridges: Array<{ name: string; cookie: string; flows: number }>;
  lastSync?: { at: string; durationMs: number; ports: number; ok: boolean };
  firstSyncDone: boolean;
  passes: number;
  /** Flow-mods sent since start (all bridges). */
  flowModsSent: number;
  ancillaryBridges: string[];
  /** Ready or not, and why not; each session up or down (docs/operations.md, "Health"). */
  readiness: Readiness;
}

export interface StatusParts {
  host: string;
  startedAt: Date;
  ports: PortTracker;
  networks: Networks;
  tunnels: Tunnels;
  bridges: BridgeSetup;
  flows: FlowSync;
  lastSync: AgentStatus['lastSync'];
  firstSyncDone: boolean;
  passes: number;
  readiness: Readiness;
}

export function agentStatus(s: StatusParts): AgentStatus {
  return {
    host: s.host,
    startedAt: s.startedAt.toISOString(),
    ovsState: s.flows.state,
    ports: [...s.ports.all()].map(({ readyPerf: _r, ...p }) => ({ ...p })),
    localVlans: [...s.networks.mappings()].map((m) => ({
      networkId: m.networkId, lvid: m.lvid, networkType: m.networkType, segmentationId: m.segmentationId,
      physicalNetwork: m.physicalNetwork, ports: m.ports.size,
    })),
    tunnels: s.tunnels.list(),
    bridges: s.bridges.tables().map((t) => ({ name: t.bridge, cookie: formatCookie(t.cookie), flows: t.size })),
    lastSync: s.lastSync,
    firstSyncDone: s.firstSyncDone,
    passes: s.passes,
    flowModsSent: s.flows.flowModsSent,
    ancillaryBridges: [...s.ports.ancillaryBridges],
    readiness: s.readiness,
  };
}
