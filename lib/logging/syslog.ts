/**
 * `[DEFAULT] use_syslog`: what glibc's syslog(3) sends to /dev/log for
 * oslo.log's handler (openlog(ident, 0, facility), then
 * syslog(priority, line)): `<PRI>Mmm dd hh:mm:ss ident: line`, one datagram
 * per line, PRI = facility * 8 + the level's priority (levels.ts), the time
 * in local time, no pid in the tag (the line has it).
 */
import { compileDateFormat } from './date-format.js';

/** syslog.h's facility codes (the unshifted number; PRI = code * 8 + priority), by oslo.log's names. */
const FACILITIES: ReadonlyMap<string, number> = new Map([
  ['LOG_KERN', 0], ['LOG_USER', 1], ['LOG_MAIL', 2], ['LOG_DAEMON', 3], ['LOG_AUTH', 4], ['LOG_SYSLOG', 5], ['LOG_LPR', 6],
  ['LOG_NEWS', 7], ['LOG_UUCP', 8], ['LOG_CRON', 9], ['LOG_AUTHPRIV', 10], ['LOG_FTP', 11],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n): [string, number] => [`LOG_LOCAL${n}`, 16 + n]),
]);

export class SyslogFacilityError extends Error {
  override readonly name = 'SyslogFacilityError';
  readonly code = 'SYSLOG_FACILITY_INVALID';
}

/**
 * `[DEFAULT] syslog_log_facility` as oslo.log reads it: any case, with or
 * without the LOG_ prefix ("local0", "LOG_LOCAL0"). Throws naming the valid ones.
 */
export function parseFacility(text: string): number {
  let name = text.trim().toUpperCase();
  if (!name.startsWith('LOG_')) name = `LOG_${name}`;
  const code = FACILITIES.get(name);
  if (code === undefined) {
    throw new SyslogFacilityError(`[DEFAULT] syslog_log_facility ${JSON.stringify(text)}: syslog facility must be one of: `
      + [...FACILITIES.keys()].map((f) => `'${f}'`).join(', '));
  }
  return code;
}

/** Builds syslog datagrams for one identifier and facility. */
export class SyslogEncoder {
  /** glibc's "%h %e %T " in the C locale. */
  private readonly stamp = compileDateFormat('%h %e %T');

  constructor(private readonly ident: string, private readonly facility: number) {}

  datagram(priority: number, line: string, ms = Date.now()): Buffer {
    return Buffer.from(`<${this.facility * 8 + priority}>${this.stamp(ms)} ${this.ident}: ${line}`);
  }
}
