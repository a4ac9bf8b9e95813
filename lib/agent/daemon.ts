/**
 * `ovs-agent run` as a process: runAgent plus signals and exit codes
 * (exit-codes.ts; docs/agent.md, "Signals" and "Exit codes").
 *
 *  - SIGTERM/SIGINT stop cleanly, also during start-up (whatever start-up
 *    waits for is abandoned and what it opened is closed): status 0. A
 *    second one exits at once.
 *  - SIGHUP re-reads the configuration files, applies the log level
 *    ([DEFAULT] debug) and reopens the log file, as neutron-openvswitch-agent
 *    does on it (lib/service/reload.ts); it never stops the agent.
 *  - Under systemd (NOTIFY_SOCKET), lib/service/notifier.ts tells it what
 *    start-up waits for, READY=1 after the first full sync, the watchdog,
 *    reloads, the stop and a failure (docs/service.md).
 *  - An error that keeps the agent from working, at start or after
 *    (RunOptions.onFatal), ends the process with its exit code after one
 *    line naming what and where, within a second.
 */
import type { AgentConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { ServiceNotifier } from '../service/notifier.js';
import { reloadLogging } from '../service/reload.js';
import { startupStatus } from '../service/startup-status.js';
import { Waits } from '../waits.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { runAgent, type RunningAgent } from './run.js';

/** How long a fatal error's stop may take before the process exits anyway. */
const FATAL_STOP_MS = 1000;
/** How long SIGTERM during start-up, or a clean stop, may take to close what was opened. */
const STOP_MS = 10_000;

export interface DaemonOptions {
  config: AgentConfig;
  /** The process logger; its `level` is what SIGHUP changes. */
  logger: Logger & { level: string };
  /** Reads the configuration files again (SIGHUP). */
  reloadConfig: () => AgentConfig;
}

/** Why start-up was abandoned, and with which status the process ends. */
class StartAbandoned extends Error {
  override readonly name = 'StartAbandoned';
  constructor(readonly why: string, readonly exitCode: number) {
    super(`${why} during start-up`);
  }
}

export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const { config, logger: log } = opts;
  const service = ServiceNotifier.fromEnv(process.env, log);
  // systemd hears the end before it happens; the relay has what was written (a pipe write of a few bytes is immediate).
  const exit = (code: number): never => process.exit(code);
  process.on('uncaughtException', (err) => {
    log.error(`internal error, exiting with status ${ExitCode.FAILED}: ${err.stack ?? err.message}`);
    service.failed(`internal error: ${err.message}`);
    exit(ExitCode.FAILED);
  });
  const waits = new Waits(log);
  service.startup(() => startupStatus(config, () => waits.list()));

  const startup = new AbortController();
  let running: RunningAgent | undefined;
  let stoppingWith: number | undefined;
  const stop = (why: string, code: number): void => {
    if (stoppingWith !== undefined) {
      if (code === ExitCode.OK) {
        log.warn(`${why} again: exiting now`);
        exit(stoppingWith);
      }
      return;
    }
    stoppingWith = code;
    if (code === ExitCode.OK) service.stopping(why);
    else service.failed(`${why}, exiting with status ${code}`);
    setTimeout(() => exit(code), code === ExitCode.OK ? STOP_MS : FATAL_STOP_MS).unref();
    if (!running) {
      // runAgent closes what it opened and rejects with this reason: the exit is below.
      log.info(`${why}: abandoning start-up`);
      startup.abort(new StartAbandoned(why, code));
      return;
    }
    if (code === ExitCode.OK) log.info(`${why}: stopping (flows stay in place)`);
    running.stop().then(() => exit(code), (err: Error) => {
      log.error(`error while stopping: ${err.message}`);
      exit(code === ExitCode.OK ? ExitCode.FAILED : code);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM', ExitCode.OK));
  process.on('SIGINT', () => stop('SIGINT', ExitCode.OK));
  process.on('SIGHUP', () => {
    service.reloading();
    const r = reloadLogging(log, opts.reloadConfig);
    for (const e of r.errors) log.error(`SIGHUP: ${e}`);
    log.info(`SIGHUP: configuration files re-read; ${r.summary}; other options apply at the next start`);
    service.reloaded(r.summary);
  });

  try {
    running = await runAgent({
      config, logger: log, signal: startup.signal, waits,
      onPass: () => service.passed(),
      onFatal: (err) => {
        log.error(`${err.message}; exiting with status ${err.exitCode}`);
        stop('fatal error', err.exitCode);
      },
    });
  } catch (err) {
    if (err instanceof StartAbandoned) {
      log.info(`${err.message}: stopped before the agent was running`, { exitCode: err.exitCode });
      exit(err.exitCode);
    }
    const code = exitCodeFor(err);
    log.error(`cannot start: ${(err as Error).message}`, { exitCode: code });
    service.failed(`cannot start: ${(err as Error).message}`);
    exit(code);
  }
  if (running) service.attach(running.agent);
  log.info(`ovs-agent running; status: ovs-agent status --status-socket ${config.ovs_agent.status_socket}`);
}
