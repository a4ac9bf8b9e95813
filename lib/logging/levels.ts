/**
 * Log levels as Python's logging module numbers and names them (oslo.log
 * adds TRACE), and their syslog priorities as oslo.log's handlers map them
 * (docs/logging.md, "Levels").
 */

export const TRACE = 5;
export const DEBUG = 10;
export const INFO = 20;
export const WARNING = 30;
export const ERROR = 40;
export const CRITICAL = 50;
/** A logger without a level of its own takes its parent's. */
export const NOTSET = 0;

/** The names Python's Logger.setLevel takes (case-sensitive), with oslo's TRACE. */
const BY_NAME: ReadonlyMap<string, number> = new Map([
  ['CRITICAL', CRITICAL], ['FATAL', CRITICAL], ['ERROR', ERROR], ['WARN', WARNING], ['WARNING', WARNING],
  ['INFO', INFO], ['DEBUG', DEBUG], ['TRACE', TRACE], ['NOTSET', NOTSET],
]);

const NAMES: ReadonlyMap<number, string> = new Map([
  [CRITICAL, 'CRITICAL'], [ERROR, 'ERROR'], [WARNING, 'WARNING'], [INFO, 'INFO'], [DEBUG, 'DEBUG'], [TRACE, 'TRACE'], [NOTSET, 'NOTSET'],
]);

/** A level's name as Python prints it (`%(levelname)s`): "Level 25" for an unnamed one. */
export function levelName(levelno: number): string {
  return NAMES.get(levelno) ?? `Level ${levelno}`;
}

/** A level as `default_log_levels` gives it: a name Python knows, or an integer; undefined otherwise. */
export function parseLevel(text: string): number | undefined {
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  return BY_NAME.get(text);
}

/** syslog(3) priorities of oslo.log's SYSLOG_MAP, by level name; anything else is LOG_DEBUG. */
export function syslogPriority(levelno: number): number {
  switch (levelno) {
    case CRITICAL: return 2;
    case ERROR: return 3;
    case WARNING: return 4;
    case INFO: return 6;
    default: return 7;
  }
}
