/**
 * oslo.log's options, as Neutron's agent reads them from `[DEFAULT]` of
 * neutron.conf: oslo.log 5's names, defaults and deprecated names
 * (docs/logging.md says what each does here; lib/log-config.ts turns
 * them into the logger's settings). `debug` stays in options.ts beside
 * the agent's own options. Spread into OPTIONS.DEFAULT by options.ts; the
 * specs are written out here rather than with options.ts's helpers so this
 * file imports nothing (options.ts imports it).
 */

export interface Spec {
  type: { kind: 'string' } | { kind: 'int'; min?: number } | { kind: 'bool' } | { kind: 'list' };
  default: unknown;
  help: string;
  deprecated?: ReadonlyArray<{ name: string }>;
  /** Some of its values are not supported (warned about by lib/log-config.ts). */
  partly?: boolean;
}

const str = (def: string | undefined, help: string): Spec => ({ type: { kind: 'string' }, default: def, help });
const int = (def: number, help: string): Spec => ({ type: { kind: 'int' }, default: def, help });
const bool = (def: boolean, help: string): Spec => ({ type: { kind: 'bool' }, default: def, help });
const list = (def: string[], help: string): Spec => ({ type: { kind: 'list' }, default: def, help });
/** Honoured but for some values, warned about at start. */
const partly = (spec: Spec): Spec => ({ ...spec, partly: true });
/** Also read under its deprecated name (oslo.config's DeprecatedOpt). */
const was = (spec: Spec, ...deprecated: Array<{ name: string }>): Spec => ({ ...spec, deprecated });

export const LOGGING_OPTIONS = {
  log_file: was(str(undefined, 'Log to this file instead of standard output (relative to log_dir when that is set); '
    + 'reopened when moved or deleted (logrotate) and on SIGHUP.'), { name: 'logfile' }),
  log_dir: was(str(undefined, 'Directory of log_file; alone, logs go to <log_dir>/ovs-agent.log.'), { name: 'logdir' }),
  use_stderr: bool(false, 'Log to standard error (besides log_file; without log_file, instead of standard output).'),
  use_syslog: bool(false, 'Also log to syslog (/dev/log), with syslog_log_facility.'),
  syslog_log_facility: str('LOG_USER', 'Syslog facility of use_syslog and use_journal: LOG_USER, LOG_DAEMON, LOG_LOCAL0 ... LOG_LOCAL7, ... (LOG_ optional, any case).'),
  use_journal: bool(false, 'Log to journald with its native protocol (structured fields: PORT_ID, LOGGER_NAME, ...) instead of standard output.'),
  use_json: bool(false, 'Log one JSON object per line (oslo.log\'s JSONFormatter keys) instead of text lines.'),
  default_log_levels: list([
    'amqp=WARN', 'amqplib=WARN', 'boto=WARN', 'qpid=WARN', 'sqlalchemy=WARN', 'suds=INFO', 'oslo.messaging=INFO', 'oslo_messaging=INFO',
    'iso8601=WARN', 'requests.packages.urllib3.connectionpool=WARN', 'urllib3.connectionpool=WARN', 'websocket=WARN',
    'requests.packages.urllib3.util.retry=WARN', 'urllib3.util.retry=WARN', 'keystonemiddleware=WARN', 'routes.middleware=WARN',
    'stevedore=WARN', 'taskflow=WARN', 'keystoneauth=WARN', 'oslo.cache=INFO', 'oslo_policy=INFO', 'dogpile.core.dogpile=INFO',
    'OFPHandler=INFO', 'OfctlService=INFO', 'os_ken.base.app_manager=INFO', 'os_ken.controller.controller=INFO',
  ], 'logger=LEVEL pairs: the agent\'s loggers (ovs_agent.agent.pass, ...) or the Python names mapped onto them (oslo.messaging, neutron, ...).'),
  log_date_format: str('%Y-%m-%d %H:%M:%S', 'strftime format of the date and time of a line.'),
  logging_default_format_string: str('%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s',
    'Python %-format of a text line.'),
  logging_context_format_string: str('%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s '
    + '%(user_identity)s] %(instance)s%(message)s', 'Format of a line with a request context: never used (no line of the agent has one).'),
  logging_debug_format_suffix: partly(str('%(funcName)s %(pathname)s:%(lineno)d', 'Not appended: the agent\'s lines have no function and line number (warned if changed).')),
  logging_exception_prefix: str('%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s', 'Prefix of traceback lines: unused (no tracebacks).'),
  logging_user_identity_format: str('%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s', 'Unused (no request context).'),
  instance_format: str('[instance: %(uuid)s] ', 'Unused (no instance in the agent\'s lines).'),
  instance_uuid_format: str('[instance: %(uuid)s] ', 'Unused (no instance in the agent\'s lines).'),
  watch_log_file: bool(false, 'Accepted: the log file is always watched (reopened when moved or deleted).'),
  log_config_append: partly(was(str(undefined, 'A Python logging configuration file: not supported (warned; the options here apply).'), { name: 'log_config' }, { name: 'log-config' })),
  log_rotation_type: partly(str('none', 'none, interval or size (any case); only none is supported (warned otherwise): rotate with logrotate.')),
  log_rotate_interval: int(1, 'Unused (log_rotation_type = none).'),
  log_rotate_interval_type: str('days', 'Unused (log_rotation_type = none).'),
  max_logfile_count: int(30, 'Unused (log_rotation_type = none).'),
  max_logfile_size_mb: int(200, 'Unused (log_rotation_type = none).'),
  rate_limit_interval: int(0, 'Seconds of a log rate limit window (with rate_limit_burst).'),
  rate_limit_burst: int(0, 'Lines per rate_limit_interval above which lines are dropped (0: no limit).'),
  rate_limit_except_level: str('CRITICAL', 'Lines at this level or above are never rate limited: CRITICAL, ERROR, WARNING, INFO, DEBUG, or empty (all are).'),
  publish_errors: partly(bool(false, 'Not supported (warned if true): errors are not published as notifications.')),
  use_eventlog: bool(false, 'Windows only (refused as oslo.log refuses it elsewhere).'),
  fatal_deprecations: bool(false, 'Accepted: deprecated options are warnings here.'),
} as const satisfies Record<string, Spec>;
