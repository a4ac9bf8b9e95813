/**
 * The one poller of the specs and benches: waits on a dependency (a flow on
 * the switch, a port ACTIVE on neutron-server) with a functional deadline,
 * and says what it waited for when the deadline passes. Never a timing
 * assertion: the bound only turns a hang into a message.
 */

/** A check that gives its result when the wait is over, and undefined or false while it is not; a throw counts as "not yet". */
export type Probe<T> = () => Promise<T | undefined | false> | T | undefined | false;

/** Polls `probe` every `stepMs` until it gives a value; after `timeoutMs`, throws naming `what` and the probe's last error. */
export async function until<T>(probe: Probe<T>, what: string, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? `: ${lastErr.message}` : lastErr === undefined ? '' : `: ${String(lastErr)}`;
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** `until` with another default deadline and step, for a spec whose waits share them (a neutron-server round trip is slower than a flow). */
export function waiter(defaultTimeoutMs: number, defaultStepMs = 100): <T>(probe: Probe<T>, what: string, timeoutMs?: number, stepMs?: number) => Promise<T> {
  return (probe, what, timeoutMs = defaultTimeoutMs, stepMs = defaultStepMs) => until(probe, what, timeoutMs, stepMs);
}
