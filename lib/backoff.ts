/**
 * The one backoff rule of the agent: a wait that doubles with each failure
 * in a row, from `baseMs` up to `maxMs`. Every retry (a port's wiring, a
 * report to the control plane, a comparison with the switch) uses it, so
 * they all behave alike and are tuned in one place.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The delay before try number `failures + 1`, after `failures` (≥ 1) failures in a row. */
export function backoffMs(policy: BackoffPolicy, failures: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
}

/** The agent's own retries (wiring, reports, recovery): 200 ms doubling to 10 s. */
export const AGENT_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 10_000 };
