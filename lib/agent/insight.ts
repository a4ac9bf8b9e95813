/**
 * What the agent shows of itself beyond its status (docs/operations.md):
 * whether each session is up (OVSDB, each bridge's OpenFlow session, the
 * control plane) and so whether it is ready, the counts a metrics scrape
 * reads, and the `ovs-agent flows` and `ovs-agent trace` answers. It owns
 * the sessions' states only; everything else it reads from the parts.
 */
import type { ControlPlane } from '../control-plane/types.js';
import type { FlowReport } from '../observe/flow-report.js';
import type { AgentObserver, ObservedFacts } from '../observe/observer.js';
import { readiness, type Readiness } from '../observe/readiness.js';
import { Sessions, type SessionKind } from '../observe/sessions.js';
import type { BridgeSetup } from './bridge-setup.js';
import { flowsCommand, type FlowsRequest } from './flows-command.js';
import { traceCommand, type TraceAnswer, type TraceRequest } from './trace-command.js';
import type { FlowSync } from './flow-sync.js';
import type { Networks } from './networks.js';
import type { PortTracker } from './ports.js';
import type { FlowChannel } from './switch.js';
import type { Tunnels } from './tunnels.js';
import type { Firewall } from '../firewall/index.js';

/** The parts read, given late: the agent builds them after this. */
export interface InsightParts {
  ports: PortTracker;
  bridges: BridgeSetup;
  flows: FlowSync;
  networks: Networks;
  firstSyncDone: () => boolean;
  ovsRundir: string;
  tunnels: Tunnels;
  firewall: Firewall | undefined;
}

export class AgentInsight {
  readonly sessions = new Sessions();
  /** A control plane that reports its connection is Neutron's over RabbitMQ; the local file is there once started. */
  private readonly cpSession: SessionKind;

  constructor(private readonly cp: ControlPlane, observer: AgentObserver | undefined, private readonly parts: () => InsightParts) {
    this.cpSession = cp.observe ? 'amqp' : 'control_plane';
    cp.observe?.({
      session: (up, error) => this.sessions.set('amqp', up, { error }),
      rpc: (method, seconds, outcome) => observer?.rpc(method, seconds, outcome),
    });
  }

  /** The control plane's own session (the local file's) is up once the agent has started. */
  started(): void {
    if (this.cpSession === 'control_plane') this.sessions.set('control_plane', true);
  }

  /** A bridge's channel, its session's ups and downs kept in `sessions`. */
  async watchChannel(bridge: string, open: (bridge: string) => Promise<FlowChannel>, unsubscribe: Array<() => void>): Promise<FlowChannel> {
    const ch = await open(bridge);
    this.sessions.set('openflow', true, { bridge });
    unsubscribe.push(ch.onEvent((e) => this.sessions.set('openflow', e.kind === 'connected', { bridge, error: e.kind === 'disconnected' ? e.error : undefined })));
    return ch;
  }

  /** Ready: first full sync done, OVSDB, every bridge's OpenFlow session and the control plane connected. */
  readiness(): Readiness {
    const p = this.parts();
    return readiness({
      firstSyncDone: p.firstSyncDone(), bridges: p.bridges.tables().map((t) => t.bridge), controlPlane: this.cpSession, sessions: this.sessions,
    });
  }

  /** `ovs-agent flows`: the agent's flows (one port's or all) against a dump of the switch, repaired if asked. */
  flowReport(req: FlowsRequest): Promise<FlowReport> {
    const p = this.parts();
    return flowsCommand({ ports: p.ports, tables: p.bridges.tables(), flows: p.flows, firstSyncDone: p.firstSyncDone() }, req);
  }

  /** `ovs-agent trace`: ovs-vswitchd's trace of a packet from a port, annotated with the flows' owners. */
  trace(req: TraceRequest): Promise<TraceAnswer> {
    const p = this.parts();
    return traceCommand({
      ports: p.ports, tables: p.bridges.tables(), integrationBridge: p.bridges.brInt.name, rundir: p.ovsRundir, firewall: p.firewall, tunnels: () => p.tunnels.list(),
    }, req);
  }

  /** What a metrics scrape reads: counts kept anyway. */
  facts(): ObservedFacts {
    const p = this.parts();
    return {
      ports: p.ports.counts(), localVlans: [...p.networks.mappings()].length, flows: p.bridges.tables().map((t) => ({ bridge: t.bridge, byOwner: t.flowCounts() })),
      flowModsSent: p.flows.flowModsSent, bundlesSent: p.flows.bundlesSent, driftRepaired: p.flows.driftRepaired, resourceCache: this.cp.resourceCacheStats?.(),
    };
  }
}
