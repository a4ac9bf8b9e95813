/**
 * Ports whose wiring failed, and when each may be tried again (one backoff
 * rule, lib/backoff.ts). After MAX_DEVICE_RETRIES failures in a row a port
 * is given up, as Neutron's agent gives up on a device: it stays FAILED until
 * something about it changes.
 */
import { AGENT_BACKOFF, backoffMs } from '../backoff.js';

export const MAX_DEVICE_RETRIES = 5;

export class RetrySchedule {
  private readonly entries = new Map<string, { failures: number; notBefore: number }>();

  /** Records a failure: 'retry' with the time it is due, or 'give-up' (and forgets the port). */
  fail(id: string, now = Date.now()): { verdict: 'retry'; at: number } | { verdict: 'give-up' } {
    const e = this.entries.get(id) ?? { failures: 0, notBefore: 0 };
    e.failures++;
    if (e.failures > MAX_DEVICE_RETRIES) {
      this.entries.delete(id);
      return { verdict: 'give-up' };
    }
    e.notBefore = now + backoffMs(AGENT_BACKOFF, e.failures);
    this.entries.set(id, e);
    return { verdict: 'retry', at: e.notBefore };
  }

  /** The port may be tried now (never failed, or its wait is over). */
  due(id: string, now = Date.now()): boolean {
    const e = this.entries.get(id);
    return e === undefined || e.notBefore <= now;
  }

  /** Success, or nothing left to retry: the count starts again. */
  clear(id: string): void {
    this.entries.delete(id);
  }

  /** The earliest time one of `ids` is due, if any of them is waiting. */
  nextDue(ids: Iterable<string>): number | undefined {
    let next: number | undefined;
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e && (next === undefined || e.notBefore < next)) next = e.notBefore;
    }
    return next;
  }
}
