/**
 * What systemd hears from `ovs-agent run` under a Type=notify unit
 * (docs/service.md):
 *
 *  - STATUS= lines while starting, saying what start-up is doing or waits
 *    for, then a one-line summary of the wiring once running;
 *  - READY=1 once, after the agent's first full sync (every port present at
 *    start looked at, its flows confirmed by the switch): so `systemctl start`
 *    returns, and units ordered After= it start, when the host's ports are
 *    wired, not when the process merely began;
 *  - WATCHDOG=1 every WatchdogSec/2 when systemd asks for it (WATCHDOG_USEC,
 *    for our pid: WATCHDOG_PID), from the event loop, so a loop that no
 *    longer turns stops the pings and systemd restarts the agent;
 *  - RELOADING=1 … READY=1 around a SIGHUP reload, STOPPING=1 on the way out.
 *
 * Without NOTIFY_SOCKET every method does nothing and nothing is started.
 */
import type { Logger } from '../log.js';
import { MAX_STATE_BYTES, SdNotify } from './sd-notify.js';

/** How often start-up's STATUS is looked at (sent only when it changed). */
const STARTUP_POLL_MS = 1000;
/** A running agent's STATUS is sent at most this often (after a pass, when it changed). */
const RUNNING_STATUS_MS = 2000;

/** Where notifications go (SdNotify; a fake in unit tests). */
export interface NotifySink {
  send(state: string): void;
  close(): Promise<void>;
}

/**
 * The part of the agent's status the notifier reads (lib/agent/status.ts's
 * AgentStatus has it), named here so the service layer does not import the
 * agent that the process layer composes with it.
 */
export interface NotifiedAgent {
  status(): {
    firstSyncDone: boolean;
    ports: ReadonlyArray<{ state: string }>;
    localVlans: readonly unknown[];
    tunnels: readonly unknown[];
    ovsState: string;
  };
}

export interface ServiceNotifierOptions {
  sink?: NotifySink;
  /** WATCHDOG=1 every this many ms (half of WATCHDOG_USEC); none when undefined. */
  watchdogMs?: number;
  logger?: Pick<Logger, 'info' | 'error' | 'debug'>;
}

/** The watchdog interval systemd asks of `pid`, as sd_watchdog_enabled(3) reads it; undefined when none. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** One STATUS= value: one line, bounded. */
function statusLine(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ').trim();
  return Buffer.byteLength(line) <= MAX_STATE_BYTES ? line : `${Buffer.from(line).subarray(0, MAX_STATE_BYTES - 3).toString('utf8')}...`;
}

/** "running: 498/500 ports ACTIVE (2 FAILED), 3 local VLANs, 2 tunnels" */
export function runningSummary(s: ReturnType<NotifiedAgent['status']>): string {
  const counts = new Map<string, number>();
  for (const p of s.ports) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  const others = [...counts].filter(([state]) => state !== 'ACTIVE').map(([state, n]) => `${n} ${state}`);
  const ovs = s.ovsState === 'NORMAL' ? '' : `; Open vSwitch ${s.ovsState}`;
  return `running: ${counts.get('ACTIVE') ?? 0}/${s.ports.length} ports ACTIVE${others.length ? ` (${others.join(', ')})` : ''}, `
    + `${s.localVlans.length} local VLANs, ${s.tunnels.length} tunnels${ovs}`;
}

export class ServiceNotifier {
  private readonly sink: NotifySink | undefined;
  private readonly log: ServiceNotifierOptions['logger'];
  private watchdog: NodeJS.Timeout | undefined;
  private startupTimer: NodeJS.Timeout | undefined;
  private runningTimer: NodeJS.Timeout | undefined;
  private agent: NotifiedAgent | undefined;
  private lastStatus: string | undefined;
  private ready = false;
  private stopped = false;

  constructor(opts: ServiceNotifierOptions = {}) {
    this.sink = opts.sink;
    this.log = opts.logger;
    if (this.sink && opts.watchdogMs !== undefined) {
      const ms = opts.watchdogMs;
      this.watchdog = setInterval(() => this.sink!.send('WATCHDOG=1'), ms);
      this.watchdog.unref();
      this.sink.send('WATCHDOG=1');
      this.log?.info(`systemd watchdog: WATCHDOG=1 every ${ms} ms`);
    }
  }

  /**
   * From systemd's variables (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID),
   * which are then removed from `env` so that no child of ours speaks for us.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, logger?: ServiceNotifierOptions['logger'] & Pick<Logger, 'warn'>,
    opts: { python?: string } = {}): ServiceNotifier {
    const sink = SdNotify.fromEnv(env, {
      python: opts.python,
      onError: (err) => logger?.error(err.message, { code: err.code }),
    });
    const watchdogMs = sink ? watchdogIntervalMs(env, process.pid) : undefined;
    for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[k];
    return new ServiceNotifier({ sink, watchdogMs, logger });
  }

  /** Whether systemd listens (NOTIFY_SOCKET was set). */
  get active(): boolean {
    return this.sink !== undefined;
  }

  /**
   * Start-up has begun: `describe` says what it is doing or waiting for. Its
   * text is sent as STATUS= now and whenever it changes, until the agent is
   * attached (then the first sync's progress is sent) and ready.
   */
  startup(describe: () => string | undefined): void {
    if (!this.sink) return;
    const tick = (): void => {
      if (this.ready || this.stopped) return;
      let text: string | undefined;
      try {
        if (this.agent) {
          // Readiness is also looked at here, in case no pass is told to passed().
          this.passed();
          if (this.ready) return;
        }
        text = this.agent ? this.firstSyncProgress() : describe();
      } catch (err) {
        text = `starting (status unavailable: ${(err as Error).message})`;
      }
      if (text) this.status(text);
    };
    tick();
    this.startupTimer = setInterval(tick, STARTUP_POLL_MS);
    this.startupTimer.unref();
  }

  /** The agent is running (its first sync may be under way): READY=1 follows its first full sync. */
  attach(agent: NotifiedAgent): void {
    this.agent = agent;
    if (!this.sink) return;
    this.passed();
    if (!this.ready && !this.startupTimer) this.startup(() => undefined);
  }

  /** After each pass of the agent (its onPass): READY=1 after the first full sync, then STATUS= when it changed. */
  passed(): void {
    if (!this.sink || !this.agent || this.stopped) return;
    if (!this.ready) {
      const s = this.agent.status();
      if (!s.firstSyncDone) return;
      this.ready = true;
      clearInterval(this.startupTimer);
      this.startupTimer = undefined;
      this.lastStatus = statusLine(runningSummary(s));
      this.sink.send(`READY=1\nSTATUS=${this.lastStatus}`);
      this.log?.debug('systemd told READY=1 (first full sync done)');
      return;
    }
    // A busy agent passes many times a second: one summary per interval at most.
    this.runningTimer ??= setTimeout(() => {
      this.runningTimer = undefined;
      if (!this.stopped && this.agent) this.status(runningSummary(this.agent.status()));
    }, RUNNING_STATUS_MS).unref();
  }

  /** SIGHUP: RELOADING=1 now, READY=1 from reloaded(). Only once ready: READY=1 must not come early. */
  reloading(): void {
    if (!this.sink || !this.ready || this.stopped) return;
    this.sink.send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}\nSTATUS=reloading`);
  }

  reloaded(what: string): void {
    if (!this.sink || !this.ready || this.stopped) return;
    const summary = this.agent ? runningSummary(this.agent.status()) : 'running';
    this.lastStatus = statusLine(`${summary}; ${what}`);
    this.sink.send(`READY=1\nSTATUS=${this.lastStatus}`);
  }

  /** On the way out (SIGTERM): STOPPING=1. */
  stopping(why: string): void {
    if (!this.sink || this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.sink.send(`STOPPING=1\nSTATUS=${statusLine(`stopping (${why}); flows stay in place`)}`);
  }

  /** Start-up or the agent failed: the reason shows in `systemctl status` (the exit code says the rest). */
  failed(message: string): void {
    if (!this.sink) return;
    this.stopped = true;
    this.clearTimers();
    this.sink.send(`STATUS=${statusLine(`failed: ${message}`)}`);
  }

  /** Stops the timers and the relay (after what was sent has been handed over). */
  async close(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.sink?.close();
  }

  private status(text: string): void {
    const line = statusLine(text);
    if (line === this.lastStatus) return;
    this.lastStatus = line;
    this.sink!.send(`STATUS=${line}`);
  }

  private firstSyncProgress(): string {
    const s = this.agent!.status();
    const active = s.ports.filter((p) => p.state === 'ACTIVE').length;
    return `first full sync: ${active} of ${s.ports.length} ports wired so far`;
  }

  private clearTimers(): void {
    clearInterval(this.watchdog);
    clearInterval(this.startupTimer);
    clearTimeout(this.runningTimer);
    this.watchdog = this.startupTimer = this.runningTimer = undefined;
  }
}
