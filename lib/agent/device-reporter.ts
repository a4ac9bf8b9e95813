/**
 * Reports ports up and down to the control plane behind the wiring.
 *
 * neutron-server handles `update_device_list` one device at a time (about
 * 0.1 s a port on this class of machine), so a pass that awaited it would
 * hold every port plugged meanwhile for the whole round trip. Instead a pass
 * ends once the switch has confirmed its flows and OVSDB its tags, and hands
 * its ports here: one call is in flight at a time, and the ports finished
 * while it is out go together in the next one (the server would serialise
 * parallel calls anyway). A port's latest status wins, so an up still queued
 * for a port that is then removed is never sent, and calls stay in order.
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
}

export class DeviceReporter {
  private queued = new Map<string, DeviceStatus>();
  private inFlight: ReadonlyMap<string, DeviceStatus> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly opts: DeviceReporterOptions) {}

  report(id: string, status: DeviceStatus): void {
    this.queued.set(id, status);
    this.kick();
  }

  /** The status a port is waiting to have reported (queued or in flight), if any. */
  pending(id: string): DeviceStatus | undefined {
    return this.queued.get(id) ?? this.inFlight?.get(id);
  }

  /** Whether `id` has a newer status queued than the one in flight. */
  superseded(id: string, status: DeviceStatus): boolean {
    const next = this.queued.get(id);
    return next !== undefined && next !== status;
  }

  get idle(): boolean {
    return !this.inFlight && this.queued.size === 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private kick(): void {
    if (this.stopped || this.inFlight || this.retryTimer || this.queued.size === 0) return;
    const batch = this.queued;
    this.queued = new Map();
    this.inFlight = batch;
    void this.send(batch);
  }

  private async send(batch: ReadonlyMap<string, DeviceStatus>): Promise<void> {
    const up: string[] = [];
    const down: string[] = [];
    for (const [id, status] of batch) (status === 'up' ? up : down).push(id);
    try {
      const reply = await this.opts.send(up, down);
      this.failures = 0;
      this.inFlight = undefined;
      this.opts.onReported({ up, down, failedUp: reply.failedUp, failedDown: reply.failedDown });
    } catch (err) {
      this.inFlight = undefined;
      // The wiring is done; only the report is missing. A status queued since is newer and wins.
      for (const [id, status] of batch) if (!this.queued.has(id)) this.queued.set(id, status);
      this.failures++;
      const base = this.opts.retryBaseMs ?? 500;
      const delay = Math.min(this.opts.retryMaxMs ?? 30_000, base * 2 ** (this.failures - 1));
      if (!this.stopped) {
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
