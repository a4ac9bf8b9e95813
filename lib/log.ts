/**
 * The agent's logger: winston, readable lines on a terminal, one JSON object
 * per line otherwise (journald, log shippers).
 */
import winston from 'winston';

export type Logger = Pick<winston.Logger, 'error' | 'warn' | 'info' | 'debug'>;

export interface LoggerOptions {
  debug?: boolean;
  /** Defaults to whether stderr is a terminal. */
  json?: boolean;
  /** Defaults to stderr. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): winston.Logger {
  const stream = opts.stream ?? process.stderr;
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
  return winston.createLogger({
    level: opts.debug ? 'debug' : 'info',
    silent: opts.silent,
    format,
    transports: [new winston.transports.Stream({ stream })],
  });
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = {
  error: () => silentLogger as never,
  warn: () => silentLogger as never,
  info: () => silentLogger as never,
  debug: () => silentLogger as never,
};
