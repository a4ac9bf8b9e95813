/**
 * The agent's Prometheus metrics (docs/operations.md, "Metrics"), with
 * prom-client. Counters and histograms move on the agent's own events
 * (observer.ts: a pass's summary, a port made ACTIVE, an RPC answered, a
 * session up or down); gauges and the counters the agent keeps anyway
 * (flow-mods, bundles) are read when scraped. Labels are bounded: states,
 * phases, bridges, sessions and RPC method names, never a port or network id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentObserver, ObservedFacts, PassFacts, RpcOutcome } from './observer.js';
import { INTENTION_GROUPS, intentionOf, type IntentionGroup } from './intentions.js';
import type { Readiness } from './readiness.js';
import type { Sessions } from './sessions.js';

const PREFIX = 'ovs_agent_';
/** lib/agent/port-record.ts PortState: every state is exported, 0 included. */
const PORT_STATES = ['ACTIVE', 'WAITING', 'DEAD', 'DOWN', 'FAILED'];
/** 1 ms to 60 s: a pass of one port on an idle host to a full sync of thousands. */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** A bundle's commit: a few flow-mods on an idle switch in well under 1 ms, a full firewall resync in seconds. */
const BUNDLE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** RPCs: neutron-server answers in ms, times out after rpc_response_timeout (60 s by default, backed off to 600). */
const RPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 600];

/** Where a scrape reads the agent; undefined until start-up built it. */
export interface MetricsSource {
  facts(): ObservedFacts;
  readiness(): Readiness;
}

/** How often the event loop's delay is sampled (prom-client's eventLoopMonitoringPrecision). */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class AgentMetrics implements AgentObserver {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;
  private readonly passDuration: Histogram<'result'>;
  private readonly passPhase: Histogram<'phase'>;
  private readonly portWiring: Histogram<'stage'>;
  private readonly portsWired: Counter;
  private readonly rpcCalls: Counter<'method' | 'outcome'>;
  private readonly rpcDuration: Histogram<'method'>;
  private readonly reconnects: Counter<'session' | 'bridge'>;
  private readonly bundleCommit: Histogram<'bridge'>;
  /** Children per bridge: the bridges are the configuration's, a handful. */
  private readonly bundleChildren = new Map<string, { observe(v: number): void }>();
  private readonly sessionsUnsubscribe: Array<() => void> = [];
  private readonly passOk: { observe(v: number): void };
  private readonly passFailed: { observe(v: number): void };
  private readonly flowsConfirmed: { observe(v: number): void };
  private readonly reportedUp: { observe(v: number): void };
  /** Phase names come from PassSummary's fixed keys: a handful. */
  private readonly phases = new Map<string, { observe(v: number): void }>();

  constructor() {
    const registers = [this.registry];
    // prom-client samples the event loop's delay every 10 ms by default: a timer that wakes an idle
    // agent 100 times a second (measured: +23% of its CPU, docs/operations.md). Each sample still
    // measures the delay exactly; 10 a second are enough for the lag's percentiles.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    this.passDuration = new Histogram({
      name: `${PREFIX}pass_duration_seconds`, help: 'Duration of a pass (ports looked up, flows sent as one bundle per bridge and confirmed, tags written), by result: ok or failed.',
      labelNames: ['result'], buckets: SECONDS_BUCKETS, registers,
    });
    this.passPhase = new Histogram({
      name: `${PREFIX}pass_phase_seconds`, help: 'Time a pass spent per phase: details, compute, firewall, flows (bundles to their barriers), tags, report.',
      labelNames: ['phase'], buckets: SECONDS_BUCKETS, registers,
    });
    this.portWiring = new Histogram({
      name: `${PREFIX}port_wiring_seconds`,
      help: 'From a port\'s interface seen ready in OVSDB to its flows and tag confirmed by the switch (stage="flows_confirmed") and to the control plane taking its status up (stage="reported_up").',
      labelNames: ['stage'], buckets: SECONDS_BUCKETS, registers,
    });
    this.passOk = this.passDuration.labels('ok');
    this.passFailed = this.passDuration.labels('failed');
    this.flowsConfirmed = this.portWiring.labels('flows_confirmed');
    this.reportedUp = this.portWiring.labels('reported_up');
    this.portsWired = new Counter({ name: `${PREFIX}ports_wired_total`, help: 'Ports wired by passes (flows and tag confirmed), once per time their interface became ready in OVSDB.', registers });
    this.rpcCalls = new Counter({
      name: `${PREFIX}rpc_calls_total`, help: 'RPC calls to neutron-server by method and outcome (ok, timeout, error), each attempt (a retried call counts each).',
      labelNames: ['method', 'outcome'], registers,
    });
    this.rpcDuration = new Histogram({
      name: `${PREFIX}rpc_duration_seconds`, help: 'RPC call latency by method, whatever the outcome (a timeout counts its whole wait).', labelNames: ['method'], buckets: RPC_BUCKETS, registers,
    });
    this.reconnects = new Counter({
      name: `${PREFIX}session_reconnects_total`, help: 'Times a session came back after it was lost (session: ovsdb, openflow with its bridge, amqp, control_plane).',
      labelNames: ['session', 'bridge'], registers,
    });
    this.bundleCommit = new Histogram({
      name: `${PREFIX}bundle_commit_seconds`, help: 'Time from an OpenFlow bundle sent to the switch committing it (its barrier answered), per bridge.',
      labelNames: ['bridge'], buckets: BUNDLE_BUCKETS, registers,
    });
    // Read at scrape time: what the agent keeps anyway.
    const source = (): MetricsSource | undefined => this.source;
    new Gauge({
      name: `${PREFIX}session_up`, help: 'Whether the session is up (1) or down (0); session: ovsdb, openflow (with its bridge), amqp (Neutron over RabbitMQ) or control_plane (the local file).', labelNames: ['session', 'bridge'], registers,
      collect() {
        for (const s of source()?.readiness().sessions ?? []) this.set({ session: s.kind, bridge: s.bridge ?? '' }, s.up ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}ready`, help: 'Whether the agent is ready: first full sync done, OVSDB, every bridge\'s OpenFlow session and the control plane connected.', registers,
      collect() {
        this.set(source()?.readiness().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}first_sync_done`, help: 'Whether the first full sync is done.', registers,
      collect() {
        this.set(source()?.readiness().firstSyncDone ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}ports`, help: 'Ports on the integration bridge by state: ACTIVE, WAITING, DEAD, DOWN, FAILED.', labelNames: ['state'], registers,
      collect() {
        const f = source()?.facts();
        for (const s of PORT_STATES) this.set({ state: s }, f?.ports[s] ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}local_vlans`, help: 'Local VLANs in use (one per network with ports on this host).', registers,
      collect() {
        this.set(source()?.facts().localVlans ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}flows`, help: 'Flows the agent keeps installed per bridge and group (what each is for: base, network, port, firewall, l2pop, tunnel).',
      labelNames: ['bridge', 'group'], registers,
      collect() {
        for (const b of source()?.facts().flows ?? []) {
          const byGroup = new Map<IntentionGroup, number>(INTENTION_GROUPS.map((g) => [g, 0]));
          for (const [owner, n] of b.byOwner) {
            const g = intentionOf(owner).group;
            byGroup.set(g, byGroup.get(g)! + n);
          }
          for (const [group, n] of byGroup) this.set({ bridge: b.bridge, group }, n);
        }
      },
    });
    const driftSeen = new Map<string, number>();
    new Counter({
      name: `${PREFIX}flow_drift_repaired_total`,
      help: 'Flow-mods sent to put a bridge back as the agent wants it after comparing it with the switch (a reconnect, ovs-agent flows --repair), per bridge: flows someone else deleted, changed or added; an ovs-vswitchd restart\'s resend not counted.',
      labelNames: ['bridge'], registers,
      collect() {
        const facts = source()?.facts();
        // Every bridge's series from the start (0 until a drift): an alert's increase() then sees the first one.
        for (const b of facts?.flows ?? []) this.inc({ bridge: b.bridge }, 0);
        for (const [bridge, n] of facts?.driftRepaired ?? []) {
          this.inc({ bridge }, n - (driftSeen.get(bridge) ?? 0));
          driftSeen.set(bridge, n);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}resource_cache_objects`, help: 'Objects in the Neutron control plane\'s resource cache, per type (absent with the local control plane).',
      labelNames: ['type'], registers,
      collect() {
        for (const [type, n] of Object.entries(source()?.facts().resourceCache?.objects ?? {})) this.set({ type }, n);
      },
    });
    const pullsSeen = new Map<string, number>();
    new Counter({
      name: `${PREFIX}resource_cache_pulls_total`, help: 'bulk_pull requests the resource cache asked of neutron-server (on a miss or a refresh), per type.',
      labelNames: ['type'], registers,
      collect() {
        for (const [type, n] of Object.entries(source()?.facts().resourceCache?.pulls ?? {})) {
          this.inc({ type }, n - (pullsSeen.get(type) ?? 0));
          pullsSeen.set(type, n);
        }
      },
    });
    let modsSeen = 0;
    new Counter({
      name: `${PREFIX}flow_mods_total`, help: 'Flow-mods sent to the switch (all bridges), by passes and recoveries.', registers,
      collect() {
        const n = source()?.facts().flowModsSent ?? modsSeen;
        if (n > modsSeen) this.inc(n - modsSeen);
        modsSeen = n;
      },
    });
    const bundlesSeen = new Map<string, number>();
    new Counter({
      name: `${PREFIX}bundles_total`, help: 'OpenFlow bundles committed, per bridge.', labelNames: ['bridge'], registers,
      collect() {
        for (const [bridge, n] of source()?.facts().bundlesSent ?? []) {
          const seen = bundlesSeen.get(bridge) ?? 0;
          this.inc({ bridge }, n - seen);
          bundlesSeen.set(bridge, n);
        }
      },
    });
  }

  /** The agent a scrape reads, and the sessions whose comebacks are counted. */
  bind(source: MetricsSource, sessions: Sessions): void {
    this.source = source;
    this.sessionsUnsubscribe.push(sessions.onChange((s, reconnected) => {
      if (reconnected) this.reconnects.inc({ session: s.kind, bridge: s.bridge ?? '' });
    }));
  }

  pass(s: PassFacts): void {
    (s.ok ? this.passOk : this.passFailed).observe(s.durationMs / 1000);
    for (const phase in s.phases) {
      const ms = s.phases[phase];
      if (ms > 0) this.phaseChild(phase).observe(ms / 1000);
    }
    for (const ms of s.wiredMs) this.flowsConfirmed.observe(ms / 1000);
    if (s.wiredMs.length) this.portsWired.inc(s.wiredMs.length);
  }

  portActive(ms: number): void {
    this.reportedUp.observe(ms / 1000);
  }

  /** Children bound to their labels once: an observation then skips hashing its labels. */
  private phaseChild(phase: string): { observe(v: number): void } {
    let c = this.phases.get(phase);
    if (!c) this.phases.set(phase, c = this.passPhase.labels(phase));
    return c;
  }

  bundle(bridge: string, seconds: number): void {
    let c = this.bundleChildren.get(bridge);
    if (!c) this.bundleChildren.set(bridge, c = this.bundleCommit.labels(bridge));
    c.observe(seconds);
  }

  rpc(method: string, seconds: number, outcome: RpcOutcome): void {
    this.rpcCalls.inc({ method, outcome });
    this.rpcDuration.observe({ method }, seconds);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  close(): void {
    for (const u of this.sessionsUnsubscribe.splice(0)) u();
  }
}
