/**
 * Waits on dependencies, said out loud. A wait (OVSDB, a bridge's OpenFlow
 * session, RabbitMQ, neutron-server) is logged a couple of seconds after it
 * starts, with what it waits for, where, for how long so far and the last
 * error, then again at doubling intervals (capped); it is listed meanwhile,
 * for `ovs-agent status`, and its end is logged if its start was. A
 * dependency that answers at once is never mentioned.
 */

/** The few log calls a wait makes (the agent's logger fits). */
export interface WaitLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

export interface WaitInfo {
  /** What is awaited: `OVSDB`, `the OpenFlow session of br-int`, `RabbitMQ`, `neutron-server`. */
  what: string;
  /** Where it is looked for: a socket, a URL (without password). */
  where: string;
  /** Which option says where, or what is asked there. */
  hint?: string;
  /** ISO time the wait began. */
  since: string;
  waitedMs: number;
  /** Why the last attempt failed. */
  lastError?: string;
}

export interface Wait {
  /** Why it is still waiting (a failed attempt): shown by the next report and in status. */
  note(reason: Error | string): void;
  /** Got it: logged if the wait had been reported. */
  done(): void;
  /** Gave up or was stopped: unlisted, nothing logged. */
  cancel(): void;
}

/** What a component that waits needs: lib/control-plane and lib/agent/ovs take this, not the registry. */
export interface WaitReporter {
  begin(what: string, where: string, hint?: string): Wait;
}

/** Raised when a bounded wait runs out (e.g. of_connect_timeout): the dependency is not usable. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'WAIT_TIMEOUT';
}

export interface WaitsOptions {
  /** First report after this long (default 2 s: the promise is "within 5 s"). */
  firstReportMs?: number;
  /** Reports then come at doubling intervals up to this (default 2 min). */
  maxIntervalMs?: number;
}

interface Entry {
  info: Omit<WaitInfo, 'waitedMs'>;
  began: number;
  reported: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** The process's waits: begin() one per wait; list() for status. */
export class Waits implements WaitReporter {
  private readonly entries = new Set<Entry>();
  private readonly firstMs: number;
  private readonly maxMs: number;

  constructor(private readonly log: WaitLogger, opts: WaitsOptions = {}) {
    this.firstMs = opts.firstReportMs ?? 2000;
    this.maxMs = opts.maxIntervalMs ?? 120_000;
  }

  begin(what: string, where: string, hint?: string): Wait {
    const e: Entry = { info: { what, where, hint, since: new Date().toISOString() }, began: Date.now(), reported: false, timer: undefined };
    this.entries.add(e);
    const schedule = (delay: number): void => {
      e.timer = setTimeout(() => {
        this.report(e);
        schedule(Math.min(delay * 2, this.maxMs));
      }, delay);
      // The thing awaited keeps the process alive, not its reporter.
      e.timer.unref();
    };
    schedule(this.firstMs);
    const end = (): boolean => {
      if (!this.entries.delete(e)) return false;
      clearTimeout(e.timer);
      return true;
    };
    return {
      note: (reason) => {
        e.info.lastError = typeof reason === 'string' ? reason : reason.message;
      },
      done: () => {
        if (end() && e.reported) {
          this.log.info(`${what} at ${where} ready after ${seconds(Date.now() - e.began)} s`, { what, where, waitedMs: Date.now() - e.began });
        }
      },
      cancel: () => void end(),
    };
  }

  /** Runs `work` as a wait: done when it resolves, cancelled when it rejects. */
  async around<T>(what: string, where: string, hint: string | undefined, work: Promise<T>): Promise<T> {
    const w = this.begin(what, where, hint);
    try {
      const v = await work;
      w.done();
      return v;
    } catch (err) {
      w.cancel();
      throw err;
    }
  }

  /** The waits in progress, oldest first. */
  list(): WaitInfo[] {
    const now = Date.now();
    return [...this.entries].map((e) => ({ ...e.info, waitedMs: now - e.began }));
  }

  private report(e: Entry): void {
    const waitedMs = Date.now() - e.began;
    const { what, where, hint, lastError } = e.info;
    this.log.warn(`${e.reported ? 'still ' : ''}${describeWait({ ...e.info, waitedMs })}`, { what, where, hint, waitedMs, lastError });
    e.reported = true;
  }
}

/** "waiting for OVSDB at unix:/run/db.sock ([ovs] ovsdb_connection) for 12 s: <last error>" */
export function describeWait(w: WaitInfo, opts: { since?: boolean } = {}): string {
  const hint = w.hint ? ` (${w.hint})` : '';
  const when = opts.since ? ` since ${w.since} (${seconds(w.waitedMs)} s)` : ` for ${seconds(w.waitedMs)} s`;
  return `waiting for ${w.what} at ${w.where}${hint}${when}${w.lastError ? `: ${w.lastError}` : ''}`;
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

/** A promise for `ms` that ends early, rejecting with the signal's reason, when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
