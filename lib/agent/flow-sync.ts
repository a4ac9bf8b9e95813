/**
 * The agent's flows on the switch: the only owner of the OpenFlow sessions.
 * It opens one per bridge and adopts what the switch already holds, sends a
 * pass's changes as one bundle per bridge (lib/flows/installer.ts), and keeps
 * the switch right when its sessions change: a new session means the switch
 * may not hold what the agent believes (it restarted with empty tables, or
 * someone changed flows while the agent was not looking), so the bridge is
 * dumped and the difference sent, at once. An empty canary table on br-int
 * means ovs-vswitchd restarted: `onRestart` then sets the bridges up again
 * (docs/agent.md, Recovery). A periodic canary check backs the session events.
 */
import { AGENT_BACKOFF, backoffMs } from '../backoff.js';
import { Table } from '../bridges/constants.js';
import type { FlowTable } from '../flows/flow-table.js';
import { FlowInstaller, type FlushResult } from '../flows/installer.js';
import { named, type Logger } from '../log.js';
import type { FlowChannel, FlowChannelEvent } from './switch.js';
import type { FlowStats } from '@ovs-agent/openflow';

export type OvsState = 'NORMAL' | 'RESTARTED' | 'DEAD';

export interface FlowSyncOptions {
  log: Logger;
  /** Opens a bridge's channel (once per bridge; it reconnects by itself). */
  open: (bridge: string) => Promise<FlowChannel>;
  /** br-int's table: its canary tells a restart. */
  integration: () => FlowTable;
  /** Every bridge's table. */
  tables: () => FlowTable[];
  /** `events` (default): session events and the canary poll; `poll`: the canary poll alone (benchmarks). */
  detection: 'events' | 'poll';
  /** What an ovs-vswitchd restart asks of the rest of the agent (docs/agent.md, Recovery). */
  restart: {
    /** Seen: every port is to be re-wired (marked first: should the rest fail, they still are once it succeeds). */
    detected(): void;
    /** Set the bridges up again in OVSDB and rebuild what depends on ofports, into the tables. */
    setUp(): Promise<void>;
    /** What setUp put in the tables is on the switch (the physical patches may be peered now). */
    settled(): Promise<void>;
  };
  /** Whether flows nobody claims may be deleted yet (not before the first full sync). */
  firstSyncDone: () => boolean;
  /** Passes hold while a recovery runs: resolves when none is running. */
  passIdle: () => Promise<void>;
  /** A recovery ended (passes may run again). */
  onRecovered: () => void;
  /** A bundle was committed: its bridge and its time from sent to committed (metrics). */
  onBundle?: (bridge: string, seconds: number) => void;
}

export class FlowSync {
  private readonly channels = new Map<string, FlowChannel>();
  private readonly installer = new FlowInstaller((bridge) => this.channels.get(bridge));
  private readonly unsubscribe: Array<() => void> = [];
  /** Bridges whose session changed since their flows were last compared with the switch's. */
  private readonly sessionChanged = new Set<string>();
  private recovering: Promise<void> | undefined;
  private recoverAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private ready = false;
  private stopped = false;
  state: OvsState = 'NORMAL';
  /** Flow-mods sent since start, all bridges. */
  flowModsSent = 0;
  /** Bundles committed since start, per bridge (the agent's bridges only). */
  readonly bundlesSent = new Map<string, number>();
  /**
   * Flow-mods sent per bridge to put right what a comparison with the switch found different (drift: flows
   * someone else changed or deleted, or added under our cookie), not counting an ovs-vswitchd restart's resend.
   */
  readonly driftRepaired = new Map<string, number>();
  private readonly log: Logger;

  constructor(private readonly opts: FlowSyncOptions) {
    this.log = named(opts.log, 'ovs_agent.agent.flow_sync');
  }

  /** Opens a session per bridge and adopts what the switch holds (nothing deleted yet, but br-int with `drop_flows_on_start`). */
  async connect(dropIntegrationFlows: boolean): Promise<void> {
    const int = this.opts.integration();
    for (const table of this.opts.tables()) {
      if (this.channels.has(table.bridge)) continue;
      const ch = await this.opts.open(table.bridge);
      this.channels.set(table.bridge, ch);
      this.unsubscribe.push(ch.onEvent((e) => this.onChannelEvent(table.bridge, e)));
      await this.installer.adopt(table, { deleteUnwanted: dropIntegrationFlows && table === int });
    }
  }

  /** Recoveries may run from now on (start-up is done); those asked for meanwhile run now. */
  open(): void {
    this.ready = true;
    if (this.sessionChanged.size) this.recover('OpenFlow sessions changed during start-up');
  }

  /** Sends every table's pending changes: one bundle per bridge. */
  async flush(tables = this.opts.tables()): Promise<FlushResult> {
    const r = await this.installer.flush(tables);
    this.flowModsSent += r.flowMods;
    r.bridges.forEach((b, i) => {
      this.bundlesSent.set(b, (this.bundlesSent.get(b) ?? 0) + 1);
      this.opts.onBundle?.(b, r.commitSeconds[i]);
    });
    return r;
  }

  /** After the first full sync: flows the switch held that nobody claimed go with the next flush. */
  dropUnclaimed(): void {
    for (const t of this.opts.tables()) t.deleteUnclaimed();
  }

  /** A recovery is running (passes wait for it). */
  get busy(): Promise<void> | undefined {
    return this.recovering;
  }

  private onChannelEvent(bridge: string, e: FlowChannelEvent): void {
    if (e.kind === 'disconnected') {
      this.log.warn(`OpenFlow channel to ${bridge} lost`, { error: e.error?.message });
      // As Neutron's failed canary dump: the switch cannot be reached, so state reports pause
      // and the status says so until a new session has been reconciled.
      if (bridge === this.opts.integration().bridge) this.state = 'DEAD';
      return;
    }
    if (this.opts.detection === 'poll') return;
    this.sessionChanged.add(bridge);
    this.recover(`new OpenFlow session to ${bridge}`);
  }

  /** The periodic check: no flow in br-int's canary table means ovs-vswitchd lost its tables. */
  async checkCanary(why: string): Promise<void> {
    if (this.stopped || this.recovering) return;
    const ch = this.channels.get(this.opts.integration().bridge);
    if (!ch) return;
    let flows;
    try {
      flows = await ch.dumpFlows(Table.CANARY);
    } catch (err) {
      if (this.state !== 'DEAD') this.log.warn('cannot reach ovs-vswitchd', { error: (err as Error).message, why });
      this.state = 'DEAD';
      return;
    }
    if (flows.length > 0) {
      this.state = 'NORMAL';
      return;
    }
    for (const t of this.opts.tables()) this.sessionChanged.add(t.bridge);
    this.recover(`canary flow gone (${why})`);
  }

  /** Runs a recovery between passes, again while more sessions changed meanwhile; retried with backoff after a failure. */
  private recover(why: string): void {
    // During start-up the bridges stay marked; open() recovers them once it is done.
    if (this.stopped || !this.ready) return;
    if (this.recovering) {
      this.recoverAgain = true;
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    let failed = false;
    this.recovering = (async () => {
      await this.opts.passIdle();
      do {
        this.recoverAgain = false;
        await this.reconcile(why);
      } while (this.recoverAgain && !this.stopped);
      this.failures = 0;
    })().catch((err: Error) => {
      failed = true;
      this.failures++;
      this.log.warn('comparing the bridges with ovs-vswitchd failed; will retry', {
        error: err.message, why, bridges: [...this.sessionChanged], retryInMs: backoffMs(AGENT_BACKOFF, this.failures),
      });
    }).finally(() => {
      this.recovering = undefined;
      if (failed && !this.stopped && this.sessionChanged.size) {
        // A bridge whose session is down also comes back through its own reconnect event; this covers the rest.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.recover(why);
        }, backoffMs(AGENT_BACKOFF, this.failures));
      }
      this.opts.onRecovered();
    });
  }

  /**
   * Dumps every bridge whose session changed and sends it the difference
   * with what the agent wants, one bundle per bridge: nothing when it holds
   * exactly that, every flow when it lost its tables.
   */
  private async reconcile(why: string): Promise<void> {
    const tables = this.opts.tables().filter((t) => this.sessionChanged.has(t.bridge));
    if (!tables.length) return;
    for (const t of tables) this.sessionChanged.delete(t.bridge);
    try {
      const dumps = await Promise.all(tables.map((t) => this.channels.get(t.bridge)!.dumpFlows()));
      const intDump = dumps[tables.indexOf(this.opts.integration())];
      const restarted = intDump !== undefined && !intDump.some((f) => f.tableId === Table.CANARY);
      if (restarted) {
        this.state = 'RESTARTED';
        this.log.warn('ovs-vswitchd restarted (canary flow gone): setting bridges up again and re-wiring every port', { why });
        this.opts.restart.detected();
      }
      // Flows that expire by themselves (br-tun's learned MACs) are the switch's own: the tables skip them.
      tables.forEach((t, i) => t.adopt(dumps[i], { deleteUnwanted: this.opts.firstSyncDone() }));
      // Traffic first: the tables hold the whole pipeline, built with the ofports OVSDB has, which
      // ovs-vswitchd reuses when it comes back (and which the replica could not show changed any sooner).
      const first = await this.flush(tables);
      let n = first.flowMods;
      // After a restart every flow is sent again: that is no drift.
      if (!restarted) first.bridges.forEach((b, i) => this.driftRepaired.set(b, (this.driftRepaired.get(b) ?? 0) + first.bundleMods[i]));
      if (restarted) {
        await this.opts.restart.setUp();
        n += (await this.flush(tables)).flowMods;
        await this.opts.restart.settled();
      }
      this.state = 'NORMAL';
      this.log.info(`compared ${tables.map((t) => t.bridge).join(', ')} with ovs-vswitchd: ${n} flow mods sent`, { why, restarted });
    } catch (err) {
      for (const t of tables) this.sessionChanged.add(t.bridge);
      throw err;
    }
  }

  /** What the switch holds on these bridges now (`ovs-agent flows`). */
  async dump(bridges: readonly string[]): Promise<Map<string, FlowStats[]>> {
    const out = new Map<string, FlowStats[]>();
    for (const b of bridges) {
      const ch = this.channels.get(b);
      if (!ch) throw new Error(`no OpenFlow session to ${b} yet`);
      out.set(b, await ch.dumpFlows());
    }
    return out;
  }

  /**
   * Compares these bridges with the switch and sends the difference now, as after a new
   * session (`ovs-agent flows --repair`); resolves once done, rejects if it failed.
   */
  async repair(bridges: readonly string[]): Promise<void> {
    if (!this.ready || this.stopped) throw new Error('the agent is still starting (or stopping): nothing repaired');
    for (const b of bridges) this.sessionChanged.add(b);
    this.recover('asked to (ovs-agent flows --repair)');
    while (this.recovering) await this.recovering;
    const left = bridges.filter((b) => this.sessionChanged.has(b));
    if (left.length) throw new Error(`comparing ${left.join(', ')} with ovs-vswitchd failed (the agent retries by itself)`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const u of this.unsubscribe) u();
    while (this.recovering) await this.recovering;
    await Promise.all([...this.channels.values()].map((c) => c.close().catch(() => undefined)));
    this.channels.clear();
  }
}
