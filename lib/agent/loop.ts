/**
 * When passes run: events mark work and ask for a pass; everything asked in
 * one I/O turn, and everything asked while a pass runs, makes one pass. A
 * pass is never run twice at once, and not before the agent has started
 * (start-up notes the ports already on the bridge first: a pass before that
 * would find none and delete their flows as stale). Waiters for "idle"
 * (tests, the demo) and a timer for work that is due later (retries) live
 * here too.
 */
export class PassLoop {
  private running = false;
  private again = false;
  private timer: NodeJS.Immediate | undefined;
  private laterTimer: NodeJS.Timeout | undefined;
  private laterAt = Infinity;
  private waiters: Array<() => void> = [];
  private open = false;
  private stopped = false;

  /**
   * @param pass runs one pass (errors are its own business)
   * @param quiet whether nothing at all is left to do: no work pending, nothing in flight
   */
  constructor(private readonly pass: () => Promise<void>, private readonly quiet: () => boolean) {}

  /** Passes may run from now on. */
  start(): void {
    this.open = true;
    this.schedule();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Asks for a pass (coalesced). */
  schedule(): void {
    if (this.stopped || !this.open) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    // setImmediate, not setTimeout(0): the same coalescing (every event of this I/O turn joins the
    // pass) without the timer's extra millisecond.
    this.timer = setImmediate(() => {
      this.timer = undefined;
      void this.runOne();
    });
  }

  /** Asks for a pass at `at` (ms since epoch): the earliest of such times wins. */
  scheduleAt(at: number): void {
    if (this.stopped || at >= this.laterAt) return;
    if (this.laterTimer) clearTimeout(this.laterTimer);
    this.laterAt = at;
    this.laterTimer = setTimeout(() => {
      this.laterTimer = undefined;
      this.laterAt = Infinity;
      this.schedule();
    }, Math.max(0, at - Date.now()));
  }

  private async runOne(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    try {
      await this.pass();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
      this.notify();
    }
  }

  /** No pass running or asked for, and nothing else pending (`quiet`). */
  get idle(): boolean {
    return !this.running && !this.timer && !this.again && this.quiet();
  }

  /** Resolves once idle. */
  whenIdle(): Promise<void> {
    if (this.idle || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Something outside a pass finished (a report answered, a recovery ended): idle waiters are checked. */
  notify(): void {
    if (!this.idle && !this.stopped) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearImmediate(this.timer);
    if (this.laterTimer) clearTimeout(this.laterTimer);
    this.notify();
  }
}
