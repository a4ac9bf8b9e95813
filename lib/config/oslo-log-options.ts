/**
 * oslo.log's options that neutron-openvswitch-agent reads, owned by the
 * logging work (lib/log.ts, docs/logging.md). One that options.ts defines is
 * honoured (the inventory takes options.ts's definition first, so an entry
 * here is then unused); the others are warned about at start when set to
 * anything but their default.
 */
import type { NotHonouredSpec } from './not-honoured.js';
import type { DeprecatedName, OptionType } from './options.js';

const STR = { kind: 'string' } as const;
const INT = { kind: 'int' } as const;
const BOOL = { kind: 'bool' } as const;
const LIST = { kind: 'list' } as const;

const NOT_YET = 'an oslo.log setting the logging work owns (docs/logging.md); until this build applies it, logs go to stderr or to log_file / log_dir, unchanged by it';

function logging(type: OptionType, def: unknown, help: string, more: Partial<NotHonouredSpec> = {}): NotHonouredSpec {
  return { type, default: def, help, status: 'ignored', meaning: NOT_YET, ...more };
}

/** oslo.log's older names of its options (DeprecatedOpt), read as the option with a warning. */
export const OSLO_LOG_DEPRECATED: ReadonlyMap<string, readonly DeprecatedName[]> = new Map([
  ['log_file', [{ name: 'logfile' }]],
  ['log_dir', [{ name: 'logdir' }]],
  ['log_config_append', [{ name: 'log-config' }, { name: 'log_config' }]],
]);

export const OSLO_LOG_NOT_HONOURED = {
  DEFAULT: {
    log_config_append: logging(STR, undefined, 'A Python logging configuration file, replacing every other logging option.',
      { deprecated: [{ name: 'log-config' }, { name: 'log_config' }] }),
    log_date_format: logging(STR, '%Y-%m-%d %H:%M:%S', 'strftime format of %(asctime)s.'),
    watch_log_file: logging(BOOL, false, 'Reopen the log file when it is moved or removed.'),
    use_syslog: logging(BOOL, false, 'Log to syslog.'),
    use_journal: logging(BOOL, false, 'Log to the systemd journal (native protocol).'),
    syslog_log_facility: logging(STR, 'LOG_USER', 'Syslog facility.'),
    use_json: logging(BOOL, false, 'Log as JSON.'),
    use_stderr: logging(BOOL, false, 'Log to standard error.'),
    use_eventlog: logging(BOOL, false, 'Log to the Windows event log.'),
    log_rotate_interval: logging(INT, 1, 'Rotation interval (log_rotation_type = interval).'),
    log_rotate_interval_type: logging(STR, 'days', 'Unit of log_rotate_interval.'),
    max_logfile_count: logging(INT, 30, 'Rotated log files kept.'),
    max_logfile_size_mb: logging(INT, 200, 'Size at which the log file is rotated (log_rotation_type = size).'),
    log_rotation_type: logging(STR, 'none', 'Log rotation by oslo.log: interval, size or none.'),
    logging_context_format_string: logging(STR,
      '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s',
      'Format of a log line with a request context.'),
    logging_default_format_string: logging(STR, '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s',
      'Format of a log line without a request context.'),
    logging_debug_format_suffix: logging(STR, '%(funcName)s %(pathname)s:%(lineno)d', 'Appended to debug lines.'),
    logging_exception_prefix: logging(STR, '%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s', 'Prefix of traceback lines.'),
    logging_user_identity_format: logging(STR, '%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s',
      'Format of %(user_identity)s.'),
    default_log_levels: logging(LIST, ['amqp=WARN', 'amqplib=WARN', 'boto=WARN', 'qpid=WARN', 'sqlalchemy=WARN', 'suds=INFO', 'oslo.messaging=INFO',
      'oslo_messaging=INFO', 'iso8601=WARN', 'requests.packages.urllib3.connectionpool=WARN', 'urllib3.connectionpool=WARN', 'websocket=WARN',
      'requests.packages.urllib3.util.retry=WARN', 'urllib3.util.retry=WARN', 'keystonemiddleware=WARN', 'routes.middleware=WARN',
      'stevedore=WARN', 'taskflow=WARN', 'keystoneauth=WARN', 'oslo.cache=INFO', 'oslo_policy=INFO', 'dogpile.core.dogpile=INFO'],
    'logger=LEVEL pairs.'),
    publish_errors: logging(BOOL, false, 'Send errors as notifications.'),
    instance_format: logging(STR, '[instance: %(uuid)s] ', 'Format of an instance in a log line.'),
    instance_uuid_format: logging(STR, '[instance: %(uuid)s] ', 'Format of an instance UUID in a log line.'),
    rate_limit_interval: logging(INT, 0, 'Seconds of log rate limiting (0: none).'),
    rate_limit_burst: logging(INT, 0, 'Lines per rate_limit_interval.'),
    rate_limit_except_level: logging(STR, 'CRITICAL', 'Level from which lines are never rate limited.'),
    fatal_deprecations: logging(BOOL, false, 'Make the use of a deprecated option fatal.'),
  },
} as const satisfies Record<string, Record<string, NotHonouredSpec>>;
