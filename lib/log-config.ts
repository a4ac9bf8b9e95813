/**
 * The logging options of `[DEFAULT]` (oslo.log's, lib/config/options.ts)
 * as createLogger's options: what oslo.log would refuse at start is a
 * ConfigError naming the option; what it would do and this agent does not
 * is a warning (docs/logging.md, "Options").
 */
import { ConfigError, type AgentConfig } from './config/index.js';
import { logFilePath } from './log-file.js';
import type { LoggerOptions } from './log.js';
import { compileDateFormat } from './logging/date-format.js';
import { parseLevel } from './logging/levels.js';
import { parseDefaultLogLevels } from './logging/names.js';
import { parseFacility } from './logging/syslog.js';
import { compileFormat } from './logging/text-format.js';

/** The `[DEFAULT]` options read here, as the loader typed them (options.ts). */
interface LogOptions {
  debug: boolean;
  log_file: string | undefined;
  log_dir: string | undefined;
  use_stderr: boolean;
  use_syslog: boolean;
  syslog_log_facility: string;
  use_journal: boolean;
  use_json: boolean;
  default_log_levels: string[];
  log_date_format: string;
  logging_default_format_string: string;
  logging_debug_format_suffix: string;
  log_config_append: string | undefined;
  log_rotation_type: string;
  rate_limit_interval: number;
  rate_limit_burst: number;
  rate_limit_except_level: string;
  publish_errors: boolean;
  use_eventlog: boolean;
}

const DEBUG_SUFFIX = '%(funcName)s %(pathname)s:%(lineno)d';

export interface LoggingSetup {
  options: LoggerOptions;
  /** What is set and has no effect here: to log once the logger exists. */
  warnings: string[];
}

/** `binary`: the log's name under log_dir alone (`<log_dir>/<binary>.log`, as oslo.log names it after the program). */
export function loggingFromConfig(config: AgentConfig, binary = 'ovs-agent'): LoggingSetup {
  const o = config.DEFAULT as unknown as LogOptions;
  const warnings: string[] = [];
  const check = <T>(option: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError((err as Error).message.startsWith('[DEFAULT]') ? (err as Error).message : `[DEFAULT] ${option}: ${(err as Error).message}`,
        'CONFIG_INVALID');
    }
  };

  if (o.use_eventlog) throw new ConfigError('[DEFAULT] use_eventlog: Windows Event Log is not available on this platform', 'CONFIG_INVALID');
  const rotation = o.log_rotation_type.toLowerCase();
  if (!['none', 'interval', 'size'].includes(rotation)) {
    throw new ConfigError(`[DEFAULT] log_rotation_type ${JSON.stringify(o.log_rotation_type)} is not one of none, interval, size`, 'CONFIG_INVALID');
  }
  if (rotation !== 'none') {
    warnings.push(`[DEFAULT] log_rotation_type = ${o.log_rotation_type} is not supported: the agent does not rotate its log itself; `
      + 'rotate it with logrotate (docs/logging.md, "Rotation")');
  }
  if (o.log_config_append) {
    warnings.push(`[DEFAULT] log_config_append = ${o.log_config_append} is not supported (a Python logging configuration): `
      + 'the [DEFAULT] logging options apply instead');
  }
  if (o.publish_errors) warnings.push('[DEFAULT] publish_errors is not supported: errors are logged, not published as notifications');
  if (o.logging_debug_format_suffix && o.logging_debug_format_suffix !== DEBUG_SUFFIX) {
    warnings.push('[DEFAULT] logging_debug_format_suffix is not applied: the agent\'s debug lines have no function and line number');
  }

  const { levels, unknown } = check('default_log_levels', () => parseDefaultLogLevels(o.default_log_levels));
  for (const u of unknown) {
    warnings.push(`[DEFAULT] default_log_levels: ${u} names no logger of the agent (docs/logging.md, "Logger names"); ignored`);
  }
  check('log_date_format', () => compileDateFormat(o.log_date_format));
  check('logging_default_format_string', () => compileFormat(o.logging_default_format_string, '[DEFAULT] logging_default_format_string',
    { pid: 0, hostname: '', project: '', version: '', startedAt: 0 }, () => ''));

  let exceptLevel: number | undefined;
  if (o.rate_limit_except_level !== '') {
    exceptLevel = ['CRITICAL', 'ERROR', 'INFO', 'WARNING', 'DEBUG'].includes(o.rate_limit_except_level) ? parseLevel(o.rate_limit_except_level) : undefined;
    if (exceptLevel === undefined) {
      throw new ConfigError(`[DEFAULT] rate_limit_except_level: invalid log level name: ${JSON.stringify(o.rate_limit_except_level)}`, 'CONFIG_INVALID');
    }
  }

  const facility = o.use_syslog || o.use_journal ? check('syslog_log_facility', () => parseFacility(o.syslog_log_facility)) : 0;
  return {
    options: {
      debug: o.debug,
      json: o.use_json,
      file: logFilePath(o, binary),
      stderr: o.use_stderr,
      syslog: o.use_syslog ? { facility, socket: testSocket('OVS_AGENT_TEST_SYSLOG_SOCKET') } : undefined,
      journal: o.use_journal ? { facility, socket: testSocket('OVS_AGENT_TEST_JOURNAL_SOCKET') } : undefined,
      levels,
      dateFormat: o.log_date_format,
      format: o.logging_default_format_string,
      rateLimit: { burst: o.rate_limit_burst, intervalS: o.rate_limit_interval, exceptLevel },
    },
    warnings,
  };
}

/**
 * For tests only: a socket in place of /dev/log or journald's, so a test
 * can run the real command against its own receiver. Not an option: an
 * operator has no reason to log elsewhere than the host's syslog and journal.
 */
function testSocket(variable: string): string | undefined {
  return process.env[variable] || undefined;
}
