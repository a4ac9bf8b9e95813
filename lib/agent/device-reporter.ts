/**
 * Reports ports up and down to the control plane behind the wiring.
 *
 * neutron-server handles `update_device_list` one device at a time (about
 * 0.1 s a port on this class of machine), so a pass that awaited it would
 * hold every port plugged meanwhile for the whole round trip. Instead a pass
 * ends once the switch has confirmed its flows and OVSDB its tags, and hands
 * its ports here. Each batch goes out at once, up to `maxInFlight` calls, so
 * the agent's part ends when the server has the news and any queueing is the
 * server's. A port is never in two calls at a time: its next status waits
 * for the answer to the previous one, so the server sees each port's changes
 * in order. A port's latest status wins, so an up still queued for a port
 * that is then removed is never sent.
 */
import type { UpdateDeviceListReply } from '../control-plane/types.js';

export type DeviceStatus = 'up' | 'down';

export interface ReportedBatch extends UpdateDeviceListReply {
  up: string[];
  down: string[];
}

export interface DeviceReporterOptions {
  send(up: string[], down: string[]): Promise<UpdateDeviceListReply>;
  /** After each answered call, with what the server refused. */
  onReported(batch: ReportedBatch): void;
  /** After a call that failed as a whole; its ports are queued again and retried after `retryInMs`. */
  onFailed(err: Error, ports: number, retryInMs: number): void;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Calls out at once (default 4): beyond a few, the server only queues them. */
  maxInFlight?: number;
}

export class DeviceReporter {
  private queued = new Map<string, DeviceStatus>();
  /** Port → the status in the call that is out for it. */
  private readonly inFlight = new Map<string, DeviceStatus>();
  private calls = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private kickQueued = false;

  constructor(private readonly opts: DeviceReporterOptions) {}

  report(id: string, status: DeviceStatus): void {
    this.queued.set(id, status);
    // A pass reports its ports in one synchronous loop: they go out as one call.
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  /** The status a port is waiting to have reported (queued or in flight), if any. */
  pending(id: string): DeviceStatus | undefined {
    return this.queued.get(id) ?? this.inFlight.get(id);
  }

  /** Whether `id` has a newer status queued than the one in flight. */
  superseded(id: string, status: DeviceStatus): boolean {
    const next = this.queued.get(id);
    return next !== undefined && next !== status;
  }

  get idle(): boolean {
    return this.calls === 0 && this.queued.size === 0 && !this.kickQueued;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private kick(): void {
    if (this.stopped || this.retryTimer || this.queued.size === 0) return;
    if (this.calls >= (this.opts.maxInFlight ?? 4)) return;
    const batch = new Map<string, DeviceStatus>();
    for (const [id, status] of this.queued) {
      if (this.inFlight.has(id)) continue;
      batch.set(id, status);
      this.inFlight.set(id, status);
    }
    if (batch.size === 0) return;
    for (const id of batch.keys()) this.queued.delete(id);
    this.calls++;
    void this.send(batch);
  }

  private settle(batch: ReadonlyMap<string, DeviceStatus>): void {
    this.calls--;
    for (const id of batch.keys()) this.inFlight.delete(id);
  }

  private async send(batch: ReadonlyMap<string, DeviceStatus>): Promise<void> {
    const up: string[] = [];
    const down: string[] = [];
    for (const [id, status] of batch) (status === 'up' ? up : down).push(id);
    try {
      const reply = await this.opts.send(up, down);
      this.failures = 0;
      this.settle(batch);
      this.opts.onReported({ up, down, failedUp: reply.failedUp, failedDown: reply.failedDown });
    } catch (err) {
      this.settle(batch);
      // The wiring is done; only the report is missing. A status queued since is newer and wins.
      for (const [id, status] of batch) if (!this.queued.has(id)) this.queued.set(id, status);
      this.failures++;
      const base = this.opts.retryBaseMs ?? 500;
      const delay = Math.min(this.opts.retryMaxMs ?? 30_000, base * 2 ** (this.failures - 1));
      if (!this.stopped) {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, delay);
        this.retryTimer.unref();
      }
      this.opts.onFailed(err as Error, batch.size, delay);
    }
    this.kick();
  }
}
