#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=1 --v8-pool-size=1
/**
 * ovs-agent: the Open vSwitch L2 agent for OpenStack Neutron.
 *
 *   ovs-agent [run]    wire ports (the default)
 *   ovs-agent cleanup  what neutron-ovs-cleanup does
 *   ovs-agent status   what the running agent has wired
 *   ovs-agent flows    the flows it owns, against the switch (drift, --repair)
 *   ovs-agent trace    a packet from a port through the switch, each flow said what it is for
 *
 * The interpreter line sets how the installed command runs (npm links it; the
 * systemd unit runs it by name), so everything that runs `ovs-agent` gets it:
 * one malloc arena (glibc gives each thread that allocates an arena of its own,
 * whose freed pages stay resident), malloc's trim threshold fixed at its default
 * (glibc otherwise raises it each time a large block is freed, and then keeps
 * freed memory), one V8 worker thread instead of four, and a
 * young generation of 1 MB per semi-space instead of 16 (a pass's garbage is
 * short-lived and small). Together ~11 MiB less resident at 100 ports
 * (docs/service.md, "Memory").
 */
// First: refuses an older Node.js before any other module can fail on it.
import '../lib/node-version.js';
import { existsSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { OvsdbErrorCode } from '@ovs-agent/ovsdb';
import { cleanupPorts } from '../lib/agent/cleanup.js';
import { removeHybridDevices } from '../lib/agent/hybrid-cleanup.js';
import { ReplicaDatabase } from '../lib/agent/ovs/replica-database.js';
import { runDaemon } from '../lib/agent/daemon.js';
import { ExitCode } from '../lib/agent/exit-codes.js';
import { ovsdbSslOptions } from '../lib/agent/ovs/ovsdb-ssl.js';
import { askAgent, formatStatus, readStatus } from '../lib/agent/status-socket.js';
import { traceText, type TraceAnswer } from '../lib/agent/trace-command.js';
import { formatFlowReport, type FlowReport } from '../lib/observe/flow-report.js';
import { ConfigError, configSources, loadConfig, type AgentConfig } from '../lib/config/index.js';
import { createLogger } from '../lib/log.js';
import { loggingFromConfig } from '../lib/log-config.js';
import { agentVersion } from '../lib/version.js';
import { Waits } from '../lib/waits.js';

const DEFAULT_CONFIG = '/etc/neutron/plugins/ml2/openvswitch_agent.ini';
const NEUTRON_CONF = '/etc/neutron/neutron.conf';
const AGENT_CONF_D = '/etc/neutron/agent.conf.d';
const CLEANUP_OVSDB_TIMEOUT_MS = 600_000;

const DESCRIPTION = `NAME
  ovs-agent - Open vSwitch L2 agent for OpenStack Neutron

SYNOPSIS
  ovs-agent [run] [--config-file FILE]... [OPTIONS]
  ovs-agent cleanup [--config-file FILE]... [--ovs-all-ports]
  ovs-agent status [--status-socket PATH] [--json]
  ovs-agent flows [PORT] [--repair] [--status-socket PATH] [--json]
  ovs-agent trace PORT [FLOW] [--status-socket PATH] [--json]

DESCRIPTION
  Wires the ports of virtual machines on br-int, br-tun and the physical
  bridges the way neutron-openvswitch-agent does (same OpenFlow pipeline,
  same OVSDB columns, same configuration file), speaking OVSDB and OpenFlow
  itself. Ports are driven by OVSDB events; each pass sends its flow changes
  as one atomic bundle per bridge, so a port is wired in milliseconds.

  The control plane is Neutron (neutron-server over RabbitMQ, the default) or,
  when one is named ([ovs_agent] state_file, --state-file), a local
  desired-state JSON file, watched for changes.

  Configuration comes from Neutron's own files (neutron.conf,
  openvswitch_agent.ini), read as oslo.config reads them: --config-file and
  --config-dir in order, later files winning, sections in any case, $name
  interpolation, deprecated names. An option Neutron's agent reads that this
  one does not honour is warned about or refused at start (docs/configuration.md). Environment variables OVS_AGENT_<SECTION>_<OPTION>
  (e.g. OVS_AGENT_OVS_LOCAL_IP) and command-line flags override the files.`;

const EPILOGUE = `SIGNALS
  SIGTERM, SIGINT  stop cleanly, also during start-up; flows stay, traffic keeps flowing.
  SIGHUP           re-read the configuration files and apply [DEFAULT] debug (the log level), reopen
                   the log file (logrotate); other options take effect at the next start.

ENVIRONMENT
  NOTIFY_SOCKET    set by systemd (Type=notify): STATUS= while starting, READY=1 after the first full
                   sync, STOPPING=1 on SIGTERM; WATCHDOG_USEC (and WATCHDOG_PID): WATCHDOG=1 every half.
  OVS_AGENT_<SECTION>_<OPTION>  any configuration option, e.g. OVS_AGENT_OVS_LOCAL_IP.

EXIT STATUS
  0  stopped by SIGTERM or SIGINT.
  1  a start-up step failed, or an internal error.
  2  the configuration cannot work (invalid value, unsupported firewall_driver, bad transport_url or
     ovsdb_connection): found before connecting to anything.
  3  a dependency is unusable: OVSDB lacks a table or column the agent reads (also after start), a
     bridge's OpenFlow session did not come within of_connect_timeout, the control plane gave up.
  4  the status socket's path is taken: another agent answers there, or it is not a socket.
  Restarting does not cure 2 or 4 (systemd: RestartPreventExitStatus=2 4).
  \`ovs-agent flows\` exits 1 while the switch's flows differ from the agent's (none after --repair).

WAITS
  Every wait on a dependency (OVSDB, each bridge's OpenFlow session, RabbitMQ, neutron-server) is
  logged within 2 s with what and where, then again at doubling intervals, and shown by
  \`ovs-agent status\`, which answers from the start. OVSDB, RabbitMQ and neutron-server are waited
  for as long as it takes; a bridge's OpenFlow session for [ovs] of_connect_timeout.

STATUS SOCKET
  Created mode 0600 (owner only) with no window; a live agent already answering on the path makes a
  second one refuse to start; a stale socket is replaced; anything else at the path is left alone.
  \`ovs-agent status\` and \`ovs-agent flows\` ask over it.

HEALTH AND METRICS
  [ovs_agent] metrics_address (off unless set; PORT alone is loopback) serves /healthz, /readyz
  (ready: first full sync done, OVSDB, every bridge's OpenFlow session and the control plane
  connected) and /metrics (Prometheus); \`ovs-agent status\` shows the same readiness
  (docs/operations.md).

FILES
  With no --config-file nor --config-dir, what Debian's neutron-openvswitch-agent init script passes, in
  its order, each if it exists: --config-file ${DEFAULT_CONFIG}
  --config-dir ${AGENT_CONF_D} --config-file ${NEUTRON_CONF}.

EXAMPLES
  ovs-agent --config-file /etc/neutron/neutron.conf --config-file ${DEFAULT_CONFIG}
  ovs-agent --state-file samples/desired-state.json --ovsdb-connection unix:/run/openvswitch/db.sock
  ovs-agent status
  ovs-agent flows tap0d4c1a2b-3e --repair
  ovs-agent trace tap0d4c1a2b-3e tcp,dl_dst=fa:16:3e:00:00:02,nw_dst=10.0.0.2,tp_dst=22
  ovs-agent cleanup --ovs-all-ports

SEE ALSO
  docs/agent.md, docs/operations.md, neutron-openvswitch-agent(1), neutron-ovs-cleanup(1)`;

interface CommonArgs {
  'config-file'?: string[];
  'config-dir'?: string[];
  debug?: boolean;
  nodebug?: boolean;
  'use-syslog'?: boolean;
  'nouse-syslog'?: boolean;
  'log-json'?: boolean;
  'log-file'?: string;
  'log-dir'?: string;
  'syslog-log-facility'?: string;
  'log-date-format'?: string;
  'log-config-append'?: string;
  set?: string[];
  'state-file'?: string;
  'ovsdb-connection'?: string;
  'integration-bridge'?: string;
  'bridge-mappings'?: string;
  'tunnel-types'?: string;
  'local-ip'?: string;
  'datapath-type'?: string;
  'ovs-rundir'?: string;
  'status-socket'?: string;
  host?: string;
}

function commonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('config-file', { type: 'string', array: true, describe: 'openvswitch_agent.ini (repeatable, merged in order)', group: 'Configuration:' })
    .option('config-dir', { type: 'string', array: true, describe: 'a directory whose *.conf files are read in name order, where the flag stands among the --config-files (oslo.config\'s)', group: 'Configuration:' })
    .option('set', { type: 'string', array: true, describe: 'any option: --set section.option=value (repeatable)', group: 'Configuration:' })
    .option('state-file', { type: 'string', describe: '[ovs_agent] state_file: the local desired-state JSON', group: 'Configuration:' })
    .option('ovsdb-connection', { type: 'string', describe: '[ovs] ovsdb_connection: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT ([ovs] ssl_key_file, ssl_cert_file, ssl_ca_cert_file)', group: 'Configuration:' })
    .option('integration-bridge', { type: 'string', describe: '[ovs] integration_bridge', group: 'Configuration:' })
    .option('bridge-mappings', { type: 'string', describe: '[ovs] bridge_mappings, e.g. physnet1:br-eth1', group: 'Configuration:' })
    .option('tunnel-types', { type: 'string', describe: '[agent] tunnel_types, e.g. vxlan,gre', group: 'Configuration:' })
    .option('local-ip', { type: 'string', describe: '[ovs] local_ip (tunnel endpoint)', group: 'Configuration:' })
    .option('datapath-type', { type: 'string', describe: '[ovs] datapath_type: system or netdev', group: 'Configuration:' })
    .option('ovs-rundir', { type: 'string', describe: "[ovs_agent] ovs_rundir: where the bridges' .mgmt sockets are", group: 'Configuration:' })
    .option('status-socket', { type: 'string', describe: '[ovs_agent] status_socket', group: 'Configuration:' })
    .option('host', { type: 'string', describe: '[DEFAULT] host', group: 'Configuration:' })
    .option('debug', { type: 'boolean', alias: 'd', describe: '[DEFAULT] debug: log at debug level', group: 'Logging:' })
    .option('nodebug', { type: 'boolean', describe: '[DEFAULT] debug = false', group: 'Logging:' })
    .option('log-file', { type: 'string', alias: 'logfile', describe: '[DEFAULT] log_file: log to this file (reopened when logrotate moves it, and on SIGHUP)', group: 'Logging:' })
    .option('log-dir', { type: 'string', alias: 'logdir', describe: '[DEFAULT] log_dir: directory of the log file', group: 'Logging:' })
    .option('use-syslog', { type: 'boolean', describe: '[DEFAULT] use_syslog: also log to syslog (/dev/log)', group: 'Logging:' })
    .option('nouse-syslog', { type: 'boolean', describe: '[DEFAULT] use_syslog = false', group: 'Logging:' })
    .option('syslog-log-facility', { type: 'string', describe: '[DEFAULT] syslog_log_facility, e.g. LOG_LOCAL0', group: 'Logging:' })
    .option('use-journal', { type: 'boolean', describe: '[DEFAULT] use_journal: log to journald (native protocol, structured fields)', group: 'Logging:' })
    .option('nouse-journal', { type: 'boolean', describe: '[DEFAULT] use_journal = false', group: 'Logging:' })
    .option('use-json', { type: 'boolean', describe: '[DEFAULT] use_json: one JSON object per line', group: 'Logging:' })
    .option('nouse-json', { type: 'boolean', describe: '[DEFAULT] use_json = false', group: 'Logging:' })
    .option('log-json', { type: 'boolean', describe: 'the same as --use-json (deprecated)', group: 'Logging:' })
    .option('log-date-format', { type: 'string', describe: '[DEFAULT] log_date_format (strftime)', group: 'Logging:' })
    .option('watch-log-file', { type: 'boolean', describe: '[DEFAULT] watch_log_file (the log file is always watched)', group: 'Logging:' })
    .option('nowatch-log-file', { type: 'boolean', describe: '[DEFAULT] watch_log_file = false', group: 'Logging:' })
    .option('log-config-append', { type: 'string', alias: 'log-config', describe: '[DEFAULT] log_config_append (not supported: warned)', group: 'Logging:' }) as Argv<T & CommonArgs>;
}

function configFrom(args: CommonArgs): { config: AgentConfig; warnings: string[] } {
  const overrides: Record<string, string | boolean> = {};
  for (const item of args.set ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${item}: expected section.option=value`, 'CONFIG_INVALID', { file: 'command line' });
    overrides[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const flags: Array<[keyof CommonArgs, string]> = [
    ['state-file', 'ovs_agent.state_file'], ['ovsdb-connection', 'ovs.ovsdb_connection'],
    ['integration-bridge', 'ovs.integration_bridge'], ['bridge-mappings', 'ovs.bridge_mappings'],
    ['tunnel-types', 'agent.tunnel_types'], ['local-ip', 'ovs.local_ip'], ['datapath-type', 'ovs.datapath_type'],
    ['ovs-rundir', 'ovs_agent.ovs_rundir'], ['status-socket', 'ovs_agent.status_socket'], ['host', 'DEFAULT.host'],
    ['log-file', 'DEFAULT.log_file'], ['log-dir', 'DEFAULT.log_dir'], ['syslog-log-facility', 'DEFAULT.syslog_log_facility'],
    ['log-date-format', 'DEFAULT.log_date_format'], ['log-config-append', 'DEFAULT.log_config_append'],
  ];
  for (const [flag, option] of flags) {
    const v = args[flag];
    if (typeof v === 'string') overrides[option] = v;
  }
  // oslo.config's boolean flags: --X sets it, --noX clears it, the last one given wins.
  for (const [flag, option] of [['debug', 'DEFAULT.debug'], ['use-syslog', 'DEFAULT.use_syslog'], ['use-journal', 'DEFAULT.use_journal'],
    ['use-json', 'DEFAULT.use_json'], ['watch-log-file', 'DEFAULT.watch_log_file']] as const) {
    const v = lastBooleanFlag(flag === 'debug' ? ['--debug', '-d'] : flag === 'use-json' ? ['--use-json', '--log-json'] : [`--${flag}`], `--no${flag}`);
    if (v !== undefined) overrides[option] = v;
  }
  return loadConfig({ files: configFiles(args), overrides });
}

/** Whether the last of `on` (also `--on=BOOL`, yargs' `--no-on`) and `off` on the command line sets the option; undefined when none is there. */
function lastBooleanFlag(on: readonly string[], off: string): boolean | undefined {
  let value: boolean | undefined;
  for (const arg of hideBin(process.argv)) {
    if (arg === '--') break;
    const [name, given] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (on.includes(name)) value = given === undefined ? true : !['false', '0', 'no', 'off'].includes(given.toLowerCase());
    else if (name === off || on.some((o) => name === `--no-${o.replace(/^--?/, '')}`)) value = false;
  }
  return value;
}

/** The --config-file and --config-dir flags in the order given (oslo.config's), or the default file. */
function configFiles(args: CommonArgs): ReturnType<typeof configSources> {
  return args['config-file'] || args['config-dir'] ? configSources(hideBin(process.argv)) : defaultFiles();
}

function defaultFiles(): ReturnType<typeof configSources> {
  return [DEFAULT_CONFIG, { dir: AGENT_CONF_D }, NEUTRON_CONF].filter((f) => existsSync(typeof f === 'string' ? f : f.dir));
}

function fail(message: string, code: number = ExitCode.FAILED): never {
  process.stderr.write(`ovs-agent: ${message}\n`);
  process.exit(code);
}

async function runCommand(args: CommonArgs): Promise<void> {
  let loaded;
  try {
    loaded = configFrom(args);
  } catch (err) {
    fail((err as Error).message, ExitCode.CONFIG);
  }
  const { config, warnings } = loaded;
  let log: ReturnType<typeof createLogger>;
  let logWarnings: string[];
  try {
    const setup = loggingFromConfig(config);
    logWarnings = setup.warnings;
    log = createLogger(setup.options);
  } catch (err) {
    fail((err as Error).message, ExitCode.CONFIG);
  }
  log.info(`ovs-agent ${agentVersion()} starting`, { pid: process.pid, configFiles: configFiles(args) });
  for (const w of [...warnings, ...logWarnings]) log.warn(w);
  await runDaemon({ config, logger: log, reloadConfig: () => configFrom(args).config });
}

async function cleanupCommand(args: CommonArgs & { 'ovs-all-ports'?: boolean }): Promise<void> {
  let config: AgentConfig;
  try {
    config = configFrom(args).config;
  } catch (err) {
    fail((err as Error).message, ExitCode.CONFIG);
  }
  let log: ReturnType<typeof createLogger>;
  try {
    const setup = loggingFromConfig(config, 'ovs-agent-cleanup');
    log = createLogger(setup.options);
    for (const w of setup.warnings) log.warn(w);
  } catch (err) {
    fail((err as Error).message, ExitCode.CONFIG);
  }
  let ssl;
  try {
    ssl = ovsdbSslOptions(config);
  } catch (err) {
    fail((err as Error).message, ExitCode.CONFIG);
  }
  // neutron-ovs-cleanup raises ovsdb_timeout to 600 s; it waits that long for OVSDB too.
  const db = await ReplicaDatabase.connect(config.ovs.ovsdb_connection, {
    timeoutMs: CLEANUP_OVSDB_TIMEOUT_MS, waits: new Waits(log), signal: AbortSignal.timeout(CLEANUP_OVSDB_TIMEOUT_MS), ssl,
  }).catch((err: Error): never => {
    const remote = config.ovs.ovsdb_connection;
    if (err.name === 'TimeoutError') fail(`gave up waiting for OVSDB at ${remote} after ${CLEANUP_OVSDB_TIMEOUT_MS / 1000} s`, ExitCode.DEPENDENCY);
    fail(`cannot use OVSDB at ${remote}: ${err.message}`,
      (err as { code?: string }).code === OvsdbErrorCode.BAD_REMOTE ? ExitCode.CONFIG : ExitCode.DEPENDENCY);
  });
  try {
    const results = await cleanupPorts(db, { integrationBridge: config.ovs.integration_bridge, allPorts: args['ovs-all-ports'] });
    for (const r of results) log.info(`${r.bridge}: deleted ${r.deleted.length} port(s)`, { ports: r.deleted });
    const hybrid = await removeHybridDevices(results.flatMap((r) => r.deleted));
    if (hybrid.length) log.info(`deleted ${hybrid.length} hybrid plug device(s) of those ports`, { devices: hybrid });
  } finally {
    await db.close();
  }
}

/** The running agent's flows (one port's or all) against the switch; exit 1 on drift left (none after --repair). */
async function flowsCommand(args: CommonArgs & { json?: boolean; port?: string; repair?: boolean }): Promise<void> {
  const path = statusSocketOf(args);
  try {
    const report = await askAgent<FlowReport>(path, { command: 'flows', port: args.port, repair: args.repair }, FLOWS_TIMEOUT_MS);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatFlowReport(report)}\n`);
    const d = report.drift;
    if (d.missing + d.changed + d.unexpected > 0) process.exitCode = 1;
  } catch (err) {
    fail((err as Error).message);
  }
}

const FLOWS_TIMEOUT_MS = 60_000;

/** ovs-vswitchd's trace of a packet from a port, annotated by the running agent. */
async function traceCommand(args: CommonArgs & { json?: boolean; port?: string; flow?: string }): Promise<void> {
  const path = statusSocketOf(args);
  try {
    const t = await askAgent<TraceAnswer>(path, { command: 'trace', port: args.port!, flow: args.flow }, FLOWS_TIMEOUT_MS);
    process.stdout.write(args.json ? `${JSON.stringify(t, null, 2)}\n` : traceText(t));
  } catch (err) {
    fail((err as Error).message);
  }
}

function statusSocketOf(args: CommonArgs): string {
  let path = args['status-socket'];
  if (!path) {
    try {
      path = configFrom(args).config.ovs_agent.status_socket;
    } catch (err) {
      fail((err as Error).message, ExitCode.CONFIG);
    }
  }
  return path;
}

async function statusCommand(args: CommonArgs & { json?: boolean }): Promise<void> {
  const path = statusSocketOf(args);
  try {
    const status = await readStatus(path);
    process.stdout.write(args.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
  } catch (err) {
    fail((err as Error).message);
  }
}

await yargs(hideBin(process.argv))
  .scriptName('ovs-agent')
  .usage(DESCRIPTION)
  .command(['run', '$0'], 'wire ports (the default command)', (y) => commonOptions(y), (a) => runCommand(a))
  .command('cleanup', 'delete the VM ports Neutron plugged (neutron-ovs-cleanup)', (y) => commonOptions(y)
    .option('ovs-all-ports', { type: 'boolean', describe: 'delete every port of every bridge, not just VM ports on br-int' }),
  (a) => cleanupCommand(a))
  .command('status', 'show what the running agent has wired', (y) => commonOptions(y)
    .option('json', { type: 'boolean', describe: 'print the status as JSON' }), (a) => statusCommand(a))
  .command('flows [port]', 'the flows the running agent owns (one port\'s, or all), grouped by what they are for, checked against the switch', (y) =>
    commonOptions(y)
      .positional('port', { type: 'string', describe: 'a Neutron port id or its interface name (default: every flow)' })
      .option('repair', { type: 'boolean', describe: 'put missing and changed flows back, remove unexpected ones' })
      .option('json', { type: 'boolean', describe: 'print the report as JSON' }), (a) => flowsCommand(a))
  .command('trace <port> [flow]', 'ovs-vswitchd\'s trace of a packet from a port, each flow said what it is for', (y) =>
    commonOptions(y)
      .positional('port', { type: 'string', describe: 'the source: a Neutron port id or its interface name' })
      .positional('flow', { type: 'string', describe: 'the packet in ovs-ofctl flow syntax, e.g. tcp,dl_dst=MAC,nw_dst=IP,tp_dst=22 (in_port and dl_src are the port\'s)' })
      .option('json', { type: 'boolean', describe: 'print the trace as JSON' }), (a) => traceCommand(a))
  .epilogue(EPILOGUE)
  .strict()
  .help()
  .alias('h', 'help')
  .version(agentVersion())
  .wrap(Math.min(110, process.stdout.columns || 100))
  .parseAsync();
