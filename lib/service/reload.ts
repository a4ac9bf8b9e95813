/**
 * SIGHUP, as neutron-openvswitch-agent handles it through oslo.config and
 * oslo.log: the configuration files are read again and what oslo marks
 * mutable for the agent is applied — the log level ([DEFAULT] debug) — and
 * logging is set up again, which reopens the log file (so logrotate may move
 * it away). Everything else applies at the next start.
 */
import type { AgentConfig } from '../config/index.js';
import { reopenLogFiles } from '../log.js';

export interface ReloadResult {
  /** One line saying what was applied, for the log and systemd's STATUS. */
  summary: string;
  /** What could not be done (the configuration did not parse, a log file did not reopen); the rest was done. */
  errors: string[];
}

/** `log`: the process logger (lib/log.ts's LogRoot: its `level` is the root level; its files are those createLogger opened). */
export function reloadLogging(log: { level: string }, reread: () => AgentConfig): ReloadResult {
  const errors: string[] = [];
  let level = log.level;
  try {
    level = reread().DEFAULT.debug ? 'debug' : 'info';
    log.level = level;
  } catch (err) {
    errors.push(`configuration not re-read, log level stays ${log.level}: ${(err as Error).message}`);
  }
  let reopened: string[] = [];
  try {
    reopened = reopenLogFiles(log);
  } catch (err) {
    errors.push((err as Error).message);
  }
  const files = reopened.length ? `; log file ${reopened.join(', ')} reopened` : '';
  return { summary: `log level ${level}${files}`, errors };
}
