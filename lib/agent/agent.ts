/**
 * The L2 agent, composed of its parts (docs/design.md#architecture): the
 * bridges (bridge-setup.ts), the ports OVSDB shows (ports.ts), networks and
 * local VLANs (networks.ts), the tunnel mesh (tunnels.ts), the flows on the
 * switch (flow-sync.ts), the reports to the control plane (report.ts), and
 * the loop that runs passes (loop.ts, pass.ts). It sets the bridges up as
 * neutron-openvswitch-agent does, then wires ports in passes driven by
 * events from the OVSDB replica and the control plane.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEAD_VLAN_TAG } from '../bridges/constants.js';
import { onControlPlaneEvent, onDbChange } from './events.js';
import type { AgentConfig } from '../config/index.js';
import type { ControlPlane, ControlPlaneEvent } from '../control-plane/types.js';
import type { Firewall } from '../firewall/index.js';
import { PortQos } from './qos.js';
import { TrunkExtension } from './trunk.js';
import { named, silentLogger, type Logger } from '../log.js';
import { BridgeSetup } from './bridge-setup.js';
import { FlowSync } from './flow-sync.js';
import { PassLoop } from './loop.js';
import { Networks } from './networks.js';
import type { PassSummary } from './pass.js';
import { PassRunner } from './passes.js';
import { PortTracker, type PortState, type WiredPort } from './ports.js';
import { Reports } from './report.js';
import { RetrySchedule } from './retries.js';
import { agentStatus, type AgentStatus } from './status.js';
import type { DbChange, FlowChannel, SwitchDatabase } from './switch.js';
import { Tunnels } from './tunnels.js';
import { warmUpWhileIdle, type WarmUpResult } from './warm-up.js';
import type { AgentObserver } from '../observe/observer.js';
import { AgentInsight } from './insight.js';

export { MAX_DEVICE_RETRIES } from './retries.js';
export type { PassSummary } from './pass.js';
export type { PortState, WiredPort } from './ports.js';
export type { AgentStatus } from './status.js';
export type { TunnelPort } from './tunnels.js';

export interface AgentOptions {
  config: AgentConfig;
  controlPlane: ControlPlane;
  db: SwitchDatabase;
  /** Opens the OpenFlow channel to a bridge (called once per bridge; the channel reconnects by itself). */
  openFlowChannel: (bridge: string) => Promise<FlowChannel>;
  /** The security-group firewall (lib/firewall); its flows go into br-int's table, so into each pass's bundle. */
  firewall?: Firewall;
  logger?: Logger;
  /** Called after each pass (status, the demo, tests). */
  onPass?: (summary: PassSummary) => void;
  /** `other_config:dp-desc` of the agent's bridges: how our controller listener knows the real switch (ovs/controller-trust.ts). */
  switchDescription?: string;
  /** `events` (default): restarts seen on the sessions at once, the canary poll behind; `poll`: the poll alone (benchmarks). */
  restartDetection?: 'events' | 'poll';
  /** Told of passes, ports made ACTIVE and RPCs (lib/observe/metrics.ts); nothing is collected without one. */
  observer?: AgentObserver;
}

/** Bridge external_ids marking an ancillary bridge (e.g. br-ex) whose VIFs are only reported. */
const BRIDGE_ID_KEY = 'bridge-id';

export class OvsAgent {
  readonly config: AgentConfig;
  private readonly cp: ControlPlane;
  private readonly db: SwitchDatabase;
  private readonly log: Logger;
  private readonly firewall: Firewall | undefined;
  private readonly qos: PortQos | undefined;
  private readonly trunk: TrunkExtension | undefined;
  private readonly host: string;
  private readonly agentId = randomUUID();
  private readonly startedAt = new Date();
  private readonly ports: PortTracker;
  private readonly retries = new RetrySchedule();
  private readonly bridges: BridgeSetup;
  private readonly tunnels: Tunnels;
  private readonly networks: Networks;
  private readonly flows: FlowSync;
  private readonly reports: Reports;
  private readonly loop: PassLoop;
  private readonly passes: PassRunner;
  private readonly unsubscribe: Array<() => void> = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private warmUpResult: WarmUpResult | undefined;
  /** Sessions up or down, readiness, the counts metrics read, `flows` and `trace` (insight.ts). */
  readonly insight: AgentInsight;

  constructor(opts: AgentOptions) {
    this.config = opts.config;
    this.cp = opts.controlPlane;
    this.db = opts.db;
    this.log = named(opts.logger ?? silentLogger, 'ovs_agent.agent');
    this.firewall = opts.firewall;
    this.qos = this.config.agent.extensions.includes('qos') ? new PortQos(this.db, this.log) : undefined;
    this.trunk = this.config.agent.extensions.includes('trunk') ? new TrunkExtension(this.cp, this.db, this.log) : undefined;
    this.host = opts.config.DEFAULT.host || hostname();
    this.ports = new PortTracker(this.log);
    const observer = opts.observer;
    this.insight = new AgentInsight(this.cp, observer, () => ({
      ports: this.ports, bridges: this.bridges, flows: this.flows, networks: this.networks,
      firstSyncDone: () => this.passes.firstSyncDone, ovsRundir: this.config.ovs_agent.ovs_rundir, tunnels: this.tunnels, firewall: this.firewall,
    }));
    this.bridges = new BridgeSetup({
      config: this.config, db: this.db, log: this.log, ovsFirewall: this.firewall?.driver === 'openvswitch', switchDescription: opts.switchDescription,
    });
    this.tunnels = new Tunnels(this.config, this.db, this.log, () => this.networks.mappings());
    this.networks = new Networks(this.bridges, this.tunnels, this.config.agent.tunnel_types, this.log, (ids) => {
      for (const id of ids) this.ports.mark(id);
      this.loop.schedule();
    });
    this.loop = new PassLoop(() => this.stopped ? Promise.resolve() : this.passes.run(), () => this.ports.quiet && this.reports.idle && !this.flows.busy);
    this.flows = new FlowSync({
      log: this.log, open: (bridge) => this.insight.watchChannel(bridge, opts.openFlowChannel, this.unsubscribe), integration: () => this.bridges.brInt.flows, tables: () => this.bridges.tables(),
      detection: opts.restartDetection ?? 'events', firstSyncDone: () => this.passes.firstSyncDone, onBundle: observer && ((b, s) => observer.bundle(b, s)),
      passIdle: async () => {
        while (this.passes.active) await new Promise((r) => setTimeout(r, 1));
      },
      onRecovered: () => {
        this.loop.schedule();
        this.loop.notify();
      },
      restart: {
        detected: () => {
          this.reports.restarted();
          this.passes.fullSyncPending = true;
        },
        setUp: async () => {
          await this.bridges.setUpAgain();
          this.tunnels.switchRestarted();
          // Patch ofports may have changed: the same local VLANs, flows rebuilt with the current ofports.
          this.networks.reinstallFlows();
        },
        settled: () => this.bridges.peerPhysicalPatches(),
      },
    });
    this.reports = new Reports({
      config: this.config, cp: this.cp, ports: this.ports, retries: this.retries, log: this.log,
      refused: (id, err) => this.passes.fail(id, err),
      revived: () => {
        this.passes.fullSyncPending = true;
        this.loop.schedule();
      },
      settled: () => this.loop.notify(),
      switchAlive: () => this.flows.state !== 'DEAD',
      passesRun: () => this.passes.count,
      active: observer && ((ms) => observer.portActive(ms)),
    });
    this.passes = new PassRunner({
      parts: {
        cp: this.cp, db: this.db, ports: this.ports, networks: this.networks, tunnels: this.tunnels, bridges: this.bridges,
        flows: this.flows, reports: this.reports, retries: this.retries, firewall: this.firewall, qos: this.qos, log: this.log,
        fail: (id, err, summary) => this.passes.fail(id, err, summary),
      },
      loop: () => this.loop, log: this.log, onPass: observer ? (s) => {
        observer.pass(s);
        opts.onPass?.(s);
      } : opts.onPass, firstSyncDone: () => this.firstSyncEnded(),
    });
  }

  // ---------------------------------------------------------------- start-up

  /** Start-up in Neutron's order; resolves once the bridges are set up and the first pass is scheduled. */
  async start(): Promise<void> {
    const t0 = Date.now();
    await this.db.ready();
    this.insight.sessions.set('ovsdb', true);
    if (this.db.onSession) this.unsubscribe.push(this.db.onSession((up, error) => this.insight.sessions.set('ovsdb', up, { error })));
    await this.bridges.setUp();
    this.ports.setBridges(this.bridges.brInt.name, []);
    if (this.bridges.brTun) this.tunnels.useBridge(this.bridges.brTun);
    this.firewall?.initialize(this.bridges.brInt.flows);
    this.qos?.initialize(this.bridges.brInt);
    await this.flows.connect(this.config.agent.drop_flows_on_start);
    this.networks.restoreHints(this.vlanHints());
    // The pipeline, in one bundle per bridge; then the physical patches, whose drops are now on the switch, may carry traffic.
    await this.flows.flush();
    await this.bridges.peerPhysicalPatches();

    this.unsubscribe.push(this.db.onChange((c) => this.onDbChange(c)));
    this.unsubscribe.push(this.cp.onEvent((e) => this.onControlPlaneEvent(e)));
    await this.cp.start({ host: this.host, agentId: this.agentId, binary: 'neutron-openvswitch-agent' });
    this.insight.started();
    this.firewall?.updateSecurityGroupInfo(await this.cp.securityGroupInfo([]));
    if (this.trunk) this.unsubscribe.push(this.trunk.start(this.bridges.brInt.name));

    const ours = new Set(this.bridges.tables().map((t) => t.bridge));
    const ancillary = this.db.bridges().filter((b) => b.externalIds[BRIDGE_ID_KEY] === b.name && !ours.has(b.name)).map((b) => b.name);
    if (ancillary.length) this.log.info('ancillary bridges (ports reported, not wired)', { bridges: ancillary });
    this.ports.setBridges(this.bridges.brInt.name, ancillary);
    // Everything on br-int now is "added" for the first pass.
    this.ports.noteAll(this.db.vifs());
    this.log.info('agent started', {
      integrationBridge: this.bridges.brInt.name, physicalBridges: [...this.bridges.brPhys.values()].map((b) => b.name),
      tunnelTypes: this.config.agent.tunnel_types, vifs: this.ports.pendingIds.size, ms: Date.now() - t0,
    });
    this.pollTimer = setInterval(() => void this.flows.checkCanary('poll'), this.config.agent.polling_interval * 1000);
    this.pollTimer.unref();
    this.reports.startStateReports();
    this.flows.open();
    this.loop.start();
  }

  /** Port rows keep their tag and other_config:net_uuid/segmentation_id: networks get their old local VLANs back. */
  private *vlanHints(): Iterable<{ networkId: string; segmentationId: number | undefined; lvid: number }> {
    for (const vif of this.db.vifs()) {
      if (vif.bridge !== this.bridges.brInt.name || vif.tag === undefined || vif.tag === DEAD_VLAN_TAG) continue;
      const net = vif.portOtherConfig.net_uuid;
      if (!net) continue;
      const seg = vif.portOtherConfig.segmentation_id;
      yield { networkId: net, segmentationId: seg !== undefined && seg !== 'None' ? Number(seg) : undefined, lvid: vif.tag };
    }
  }

  // ---------------------------------------------------------------- events

  private onDbChange(change: DbChange): void {
    if (!this.stopped && onDbChange(change, this.db, this.ports, this.log)) this.loop.schedule();
  }

  private onControlPlaneEvent(e: ControlPlaneEvent): void {
    if (this.stopped) return;
    onControlPlaneEvent(e, { ports: this.ports, tunnels: this.tunnels, passes: this.passes, loop: this.loop, log: this.log,
      refreshSecurityGroups: this.firewall && (async () => {
        this.firewall!.updateSecurityGroupInfo(await this.cp.securityGroupInfo([...this.ports.all()].map((p) => p.portId)));
      }) });
  }

  /** The first full sync: stale flows went with its bundle; unused VLAN hints are released; the warm-up may run. */
  private firstSyncEnded(): void {
    this.networks.releaseUnusedHints();
    this.log.info('first full sync done', {
      ms: Date.now() - this.startedAt.getTime(), ports: this.portCounts(), flowModsSent: this.flows.flowModsSent,
      flows: Object.fromEntries(this.bridges.tables().map((t) => [t.bridge, t.size])),
    });
    // Queued before any pass this one schedules on its way out: such a pass makes the agent busy, and the warm-up does not start.
    if (this.firewall?.driver === 'openvswitch') {
      setImmediate(() => void warmUpWhileIdle(() => !this.stopped && this.loop.idle,
        (err) => this.log.warn(`flow path warm-up failed: ${err.message}`)).then((r) => {
        this.warmUpResult = r;
        if (r) this.log.debug('flow path warmed up', { flows: r.flows, ms: Math.round(r.ms) });
      }));
    }
  }

  // ---------------------------------------------------------------- status, stop

  /** Resolves when no pass is running or scheduled and nothing is pending (tests, the demo). */
  whenIdle(): Promise<void> {
    return this.loop.whenIdle();
  }

  /** What the start-up warm-up did, once it ran (tests, diagnostics). */
  get warmedUp(): WarmUpResult | undefined {
    return this.warmUpResult;
  }

  /** One port's state without building the whole status. */
  port(portId: string): WiredPort | undefined {
    const p = this.ports.get(portId);
    if (!p) return undefined;
    const { readyPerf: _r, ...rest } = p;
    return rest;
  }

  portCounts(): Record<PortState, number> {
    return this.ports.counts();
  }

  status(): AgentStatus {
    return agentStatus({
      host: this.host, startedAt: this.startedAt, ports: this.ports, networks: this.networks, tunnels: this.tunnels,
      bridges: this.bridges, flows: this.flows, lastSync: this.passes.lastSync, firstSyncDone: this.passes.firstSyncDone, passes: this.passes.count,
      readiness: this.insight.readiness(),
    });
  }

  /** Ends cleanly: timers and channels closed, flows left on the switch so traffic keeps flowing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.loop.stop();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.reports.stop();
    for (const u of this.unsubscribe) u();
    while (this.loop.isRunning) await new Promise((r) => setTimeout(r, 10));
    await this.cp.stop().catch(() => undefined);
    await this.flows.stop();
  }
}
