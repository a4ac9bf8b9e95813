/**
 * Running passes (pass.ts says what one does): what each takes on (the
 * ports that are due, everything after a full resync), what a failed one
 * leaves to retry (with the one backoff, retries.ts), when the first full
 * sync is done, and the pass's record for the status and the log.
 */
import { named, type Logger } from '../log.js';
import type { PassLoop } from './loop.js';
import { newSummary, unwindUnwired, wirePorts, type PassParts, type PassSummary } from './pass.js';
import { MAX_DEVICE_RETRIES } from './retries.js';
import type { AgentStatus } from './status.js';

export interface PassRunnerOptions {
  parts: PassParts;
  loop: () => PassLoop;
  log: Logger;
  onPass?: (summary: PassSummary) => void;
  /** The first full sync ended with a pass (its stale flows went with its bundle). */
  firstSyncDone: () => void;
}

export class PassRunner {
  /** Every port is looked at again by the next pass (start-up, an OVS restart, the server's `revived`). */
  fullSyncPending = true;
  firstSyncDone = false;
  count = 0;
  lastSync: AgentStatus['lastSync'];
  /** A pass is past its wait for recoveries (a recovery waits for it in turn). */
  active = false;
  private readonly parts: PassParts;
  private readonly log: Logger;

  constructor(private readonly opts: PassRunnerOptions) {
    this.parts = opts.parts;
    this.log = named(opts.log, 'ovs_agent.agent.passes');
  }

  async run(): Promise<void> {
    const { ports, retries, flows, reports } = this.parts;
    const log = this.log;
    // A recovery may start while the pass waits for the previous one: wait for it too.
    while (flows.busy) await flows.busy;
    this.active = true;
    const t0 = Date.now();
    const summary = newSummary();
    if (this.fullSyncPending) {
      this.fullSyncPending = false;
      ports.markAll();
    }
    const work = ports.take((id) => retries.due(id, t0));
    const wiredBefore = new Set(work.ids.filter((id) => ports.get(id)?.state === 'ACTIVE' || reports.awaiting(id)));
    const startPerf = performance.now();
    try {
      const first = await wirePorts(this.parts, work, summary, () => !this.firstSyncDone && ports.pendingIds.size === 0 && ports.noneDeferred);
      await this.reportAncillary();
      this.count++;
      if (first) {
        this.firstSyncDone = true;
        this.opts.firstSyncDone();
      }
    } catch (err) {
      summary.ok = false;
      summary.error = err as Error;
      log.error('pass failed; its ports will be retried', { error: (err as Error).message, ports: work.ids.length });
      unwindUnwired(this.parts, work.ids, wiredBefore);
      for (const id of work.ids) this.fail(id, err as Error, summary);
      ports.giveBack(work);
    } finally {
      summary.durationMs = Date.now() - t0;
      if (work.ids.length || work.removed.length || !summary.ok) {
        this.lastSync = { at: new Date(t0).toISOString(), durationMs: summary.durationMs, ports: work.ids.length + work.removed.length, ok: summary.ok };
        // Diagnostics: how long the port seen first had waited for this pass.
        let oldest = startPerf;
        for (const id of work.ids) oldest = Math.min(oldest, ports.get(id)?.readyPerf ?? startPerf);
        log.debug('pass done', { ms: summary.durationMs, up: summary.up.length, dead: summary.dead.length,
          removed: summary.removed.length, flowMods: summary.flowMods, bundles: summary.bundles.length, ok: summary.ok,
          waitedMs: Math.round(startPerf - oldest),
          phasesMs: Object.fromEntries(Object.entries(summary.phases).map(([k, v]) => [k, Math.round(v)])) });
      }
      this.active = false;
      ports.passEnded(summary.ok, (name) => this.parts.db.vif(name));
      this.opts.onPass?.(summary);
      if (ports.hasWork((id) => retries.due(id))) this.opts.loop().schedule();
      else {
        // A retry timer may fire a little before its time by the wall clock (libuv starts it from the loop's
        // cached time), and then this pass found its port not yet due: the timer is armed again, else the
        // port would wait for some unrelated event.
        const next = retries.nextDue(ports.pendingIds);
        if (next !== undefined) this.opts.loop().scheduleAt(next);
      }
    }
  }

  /** A port's wiring failed: tried again after a backoff, or given up after MAX_DEVICE_RETRIES. */
  fail(id: string, err: Error, summary?: PassSummary): void {
    const p = this.parts.ports.get(id);
    const r = this.parts.retries.fail(id);
    if (r.verdict === 'give-up') {
      this.log.error(`giving up on port ${id} after ${MAX_DEVICE_RETRIES} retries`, { port_id: id, error: err.message });
      if (p) {
        p.state = 'FAILED';
        p.error = err.message;
      }
      return;
    }
    this.log.info(`port ${id} failed: ${err.message}; tried again after a backoff`, { port_id: id, error: err.message });
    summary?.failed.push(id);
    if (p) p.error = err.message;
    this.parts.ports.mark(id);
    this.opts.loop().scheduleAt(r.at);
  }

  /** Ancillary bridges' VIFs are only reported up and down. */
  private async reportAncillary(): Promise<void> {
    const { up, down } = this.parts.ports.takeAncillary();
    if (!up.length && !down.length) return;
    try {
      await this.parts.cp.updateDeviceList(up, down);
    } catch (err) {
      this.parts.ports.giveBackAncillary(up, down);
      throw err;
    }
  }
}
