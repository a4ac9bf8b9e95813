/**
 * The agent's logger: winston, readable lines on a terminal, one JSON object
 * per line otherwise (journald, log shippers, the log file).
 */
import winston from 'winston';
import { ReopenableFile } from './log-file.js';

export type Logger = Pick<winston.Logger, 'error' | 'warn' | 'info' | 'debug'>;

export interface LoggerOptions {
  debug?: boolean;
  /** Defaults to whether stderr is a terminal (JSON when logging to a file). */
  json?: boolean;
  /** Defaults to stderr. */
  stream?: NodeJS.WritableStream;
  /** Log to this file instead (appended to; reopenLogFiles() reopens it). Throws LogFileError if it cannot be opened. */
  file?: string;
  silent?: boolean;
}

/** The files each logger writes, for reopenLogFiles(). */
const files = new WeakMap<object, ReopenableFile[]>();

export function createLogger(opts: LoggerOptions = {}): winston.Logger {
  const file = opts.file ? new ReopenableFile(opts.file) : undefined;
  const stream = file ?? opts.stream ?? process.stderr;
  const json = opts.json ?? !(stream as NodeJS.WriteStream).isTTY;
  const format = json
    ? winston.format.combine(winston.format.timestamp(), winston.format.json())
    : winston.format.combine(
      winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
      winston.format.colorize(),
      winston.format.printf(({ timestamp, level, message, ...meta }) => {
        const extra = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
        return `${String(timestamp)} ${level} ${String(message)}${extra}`;
      }),
    );
  const logger = winston.createLogger({
    level: opts.debug ? 'debug' : 'info',
    silent: opts.silent,
    format,
    transports: [new winston.transports.Stream({ stream })],
  });
  if (file) files.set(logger, [file]);
  return logger;
}

/**
 * Reopens the logger's log files (SIGHUP, after logrotate moved them): the
 * paths reopened. A file that cannot be reopened keeps its old descriptor,
 * and the error is thrown after the others were reopened.
 */
export function reopenLogFiles(logger: object): string[] {
  const done: string[] = [];
  let failure: Error | undefined;
  for (const f of files.get(logger) ?? []) {
    try {
      f.reopen();
      done.push(f.path);
    } catch (err) {
      failure ??= err as Error;
    }
  }
  if (failure) throw failure;
  return done;
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = {
  error: () => silentLogger as never,
  warn: () => silentLogger as never,
  info: () => silentLogger as never,
  debug: () => silentLogger as never,
};
