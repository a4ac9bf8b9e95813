/**
 * How `ovs-agent run` ends, as systemd sees it (docs/agent.md, "Exit
 * codes"). Anything that keeps the agent from working ends the process with
 * a non-zero code at once, after a message naming what and where, so that
 * `Restart=on-failure` acts; codes 2 and 4 are ones a restart does not cure
 * (`RestartPreventExitStatus=2 4`).
 */
import { OvsdbSchemaError } from '@ovs-agent/ovsdb';
import { ConfigError } from '../config/index.js';
import { WaitTimeoutError } from '../waits.js';
import { StatusSocketError } from './status-socket.js';

export const ExitCode = {
  /** Stopped by SIGTERM or SIGINT, also during start-up. */
  OK: 0,
  /** A start-up step failed, or an internal error. */
  FAILED: 1,
  /** The configuration cannot work; found before connecting to anything. */
  CONFIG: 2,
  /** A dependency is unusable: OVSDB lacks a table or column the agent needs, a bounded wait ran out, the control plane gave up. */
  DEPENDENCY: 3,
  /** The status socket's path is taken: a live agent answers there, or it is not a socket. */
  STATUS_SOCKET: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error after start that leaves the agent unable to work: the process exits with `exitCode`. */
export class FatalError extends Error {
  override readonly name = 'FatalError';
  constructor(message: string, readonly exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof FatalError) return err.exitCode;
  if (err instanceof ConfigError) return ExitCode.CONFIG;
  if (err instanceof StatusSocketError) return ExitCode.STATUS_SOCKET;
  if (err instanceof OvsdbSchemaError || err instanceof WaitTimeoutError) return ExitCode.DEPENDENCY;
  return ExitCode.FAILED;
}
