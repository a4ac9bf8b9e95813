/**
 * What the agent tells the control plane: ports up and down (the only
 * place a status is reported and retried: device-reporter.ts sends behind
 * the passes, with the agent's one backoff), and the periodic state report
 * that registers this host (docs/neutron.md, "The state report").
 * A port becomes ACTIVE here, when the server has taken its "up".
 */
import { AGENT_BACKOFF } from '../backoff.js';
import type { AgentConfig } from '../config/index.js';
import type { ControlPlane } from '../control-plane/types.js';
import { named, type Logger } from '../log.js';
import { DeviceReporter, type ReportedBatch } from './device-reporter.js';
import { hybridPlug } from './firewall-config.js';
import type { PortTracker } from './ports.js';
import type { RetrySchedule } from './retries.js';
import { firstTiming } from './wiring-clock.js';

export interface ReportsOptions {
  config: AgentConfig;
  cp: ControlPlane;
  ports: PortTracker;
  retries: RetrySchedule;
  log: Logger;
  /** The server refused a port's status: it is wired and reported again after a backoff. */
  refused: (id: string, err: Error) => void;
  /** The server answered `revived` (it had taken us for dead): a full resync. */
  revived: () => void;
  /** A report was answered (idle waiters may be released). */
  settled: () => void;
  /** Whether ovs-vswitchd answers (no state report while it does not, as Neutron's agent). */
  switchAlive: () => boolean;
  /** Whether a pass has run (the start flag is kept until one has). */
  passesRun: () => number;
  /** A port became ACTIVE, `ms` after its interface was seen ready (metrics). */
  active?: (ms: number) => void;
}

export class Reports {
  private readonly reporter: DeviceReporter;
  /** Ports reported up, not yet answered: ACTIVE on the answer unless they went dead or away meanwhile. */
  private readonly awaitingUp = new Set<string>();
  private startFlag = true;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: ReportsOptions) {
    this.log = named(opts.log, 'ovs_agent.agent.report');
    this.reporter = new DeviceReporter({
      send: (up, down) => opts.cp.updateDeviceList(up, down),
      onReported: (batch) => this.onReported(batch),
      onFailed: (err, ports, retryInMs) => {
        this.log.warn('reporting ports to the control plane failed; retrying', { error: err.message, ports, retryInMs });
      },
      retryBaseMs: AGENT_BACKOFF.baseMs,
      retryMaxMs: AGENT_BACKOFF.maxMs,
    });
  }

  /** Wired (flows and tag confirmed): tell the server. */
  up(id: string): void {
    this.awaitingUp.add(id);
    this.reporter.report(id, 'up');
  }

  down(id: string): void {
    this.awaitingUp.delete(id);
    this.reporter.report(id, 'down');
  }

  /** An "up" on its way no longer holds (the port went dead or away): its answer must not make it ACTIVE. */
  withdraw(id: string): void {
    this.awaitingUp.delete(id);
  }

  /** Reported up and waiting for the answer. */
  awaiting(id: string): boolean {
    return this.awaitingUp.has(id);
  }

  get idle(): boolean {
    return this.reporter.idle;
  }

  /** The server has a batch of statuses: wired ports become ACTIVE, refused ones are retried. */
  private onReported(batch: ReportedBatch): void {
    const refused = new Set([...batch.failedUp, ...batch.failedDown]);
    for (const id of refused) this.opts.refused(id, new Error('control plane refused the status update'));
    const doneAt = performance.now();
    for (const id of batch.up) {
      const p = this.opts.ports.get(id);
      // Gone, dead or unplugged since: a newer status is on its way and this one is stale.
      if (!this.awaitingUp.delete(id) || !p || refused.has(id) || !this.opts.ports.isPresent(id) || this.reporter.superseded(id, 'up')) continue;
      p.state = 'ACTIVE';
      p.error = undefined;
      if (firstTiming(p, 'up')) {
        p.wiredInMs = Math.round((doneAt - p.readyPerf) * 100) / 100;
        this.opts.active?.(doneAt - p.readyPerf);
      }
      this.opts.retries.clear(id);
      this.log.info(`port ${id} is ACTIVE`, { port_id: id, interface: p.name, ms: p.wiredInMs });
    }
    for (const id of batch.down) {
      if (refused.has(id) || this.reporter.superseded(id, 'down')) continue;
      this.log.info(`port ${id} reported down`, { port_id: id, interface: this.opts.ports.get(id)?.name });
    }
    this.opts.settled();
  }

  // ------------------------------------------------------------ state reports

  /** Reports now and every `report_interval` (none when it is 0). */
  startStateReports(): void {
    const ms = this.opts.config.agent.report_interval * 1000;
    if (ms <= 0) return;
    void this.reportState();
    this.timer = setInterval(() => void this.reportState(), ms);
    this.timer.unref();
  }

  /** ovs-vswitchd restarted: the next report says the agent (re)started, as Neutron's does. */
  restarted(): void {
    this.startFlag = true;
  }

  private async reportState(): Promise<void> {
    if (this.stopped || !this.opts.switchAlive()) return;
    let devices = 0;
    for (const p of this.opts.ports.all()) if (p.state !== 'DOWN') devices++;
    try {
      const reply = await this.opts.cp.reportState({ startFlag: this.startFlag, devices, configurations: this.configurations() });
      if (this.opts.passesRun() > 0) this.startFlag = false;
      if (reply === 'revived') {
        this.log.info('control plane revived us: full resync');
        this.opts.revived();
      }
    } catch (err) {
      this.log.warn('state report failed; retrying next interval', { error: (err as Error).message });
    }
  }

  /** `configurations` of the state report: what the server binds ports to this host with. */
  configurations(): Record<string, unknown> {
    const c = this.opts.config;
    return {
      bridge_mappings: c.ovs.bridge_mappings,
      integration_bridge: c.ovs.integration_bridge,
      tunnel_types: c.agent.tunnel_types,
      tunneling_ip: c.ovs.local_ip ?? null,
      l2_population: c.agent.l2_population,
      arp_responder_enabled: c.agent.arp_responder && c.agent.l2_population,
      enable_distributed_routing: false,
      log_agent_heartbeats: c.agent.log_agent_heartbeats,
      // Only qos and trunk can be configured (any other extension is refused at start), and each runs whenever it is (docs/qos.md, docs/trunk.md).
      extensions: [...c.agent.extensions],
      datapath_type: c.ovs.datapath_type,
      vhostuser_socket_dir: c.ovs.vhostuser_socket_dir,
      ovs_hybrid_plug: hybridPlug(c),
      baremetal_smartnic: false,
      in_distributed_mode: false,
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.reporter.stop();
  }
}
