/**
 * The agent's loggers: one name per part, dotted as Python's module loggers
 * are, so `[DEFAULT] default_log_levels` sets them the way oslo.log sets
 * neutron-openvswitch-agent's (docs/logging.md, "Logger names"). The names
 * of Python libraries Neutron's agent logs through that have a counterpart
 * here are mapped onto it; the others have nothing to set.
 */
import { NOTSET, parseLevel } from './levels.js';

/** Each logger and the source file its lines come from (journald's CODE_FILE, use_json's pathname). */
export const LOGGER_FILES = {
  ovs_agent: 'bin/ovs-agent.ts',
  'ovs_agent.agent': 'lib/agent/agent.ts',
  'ovs_agent.agent.bridge_setup': 'lib/agent/bridge-setup.ts',
  'ovs_agent.agent.ports': 'lib/agent/ports.ts',
  'ovs_agent.agent.duplicates': 'lib/agent/duplicates.ts',
  'ovs_agent.agent.networks': 'lib/agent/networks.ts',
  'ovs_agent.agent.tunnels': 'lib/agent/tunnels.ts',
  'ovs_agent.agent.flow_sync': 'lib/agent/flow-sync.ts',
  'ovs_agent.agent.events': 'lib/agent/events.ts',
  'ovs_agent.agent.pass': 'lib/agent/pass.ts',
  'ovs_agent.agent.passes': 'lib/agent/passes.ts',
  'ovs_agent.agent.report': 'lib/agent/report.ts',
  'ovs_agent.agent.qos': 'lib/agent/qos.ts',
  'ovs_agent.trunk': 'lib/trunk/trunk-driver.ts',
  'ovs_agent.agent.run': 'lib/agent/run.ts',
  'ovs_agent.agent.daemon': 'lib/agent/daemon.ts',
  'ovs_agent.agent.controller_trust': 'lib/agent/ovs/controller-trust.ts',
  'ovs_agent.cleanup': 'lib/agent/cleanup.ts',
  'ovs_agent.firewall': 'lib/firewall/firewall.ts',
  'ovs_agent.l2pop': 'lib/l2pop/l2pop.ts',
  'ovs_agent.control_plane.local': 'lib/control-plane/local/local-control-plane.ts',
  'ovs_agent.control_plane.neutron': 'lib/control-plane/neutron/neutron-control-plane.ts',
  'ovs_agent.control_plane.neutron.resource_cache': 'lib/control-plane/neutron/resource-cache.ts',
  'ovs_agent.control_plane.neutron.rpc_client': 'lib/control-plane/neutron/rpc-client.ts',
  'ovs_agent.control_plane.neutron.rpc_server': 'lib/control-plane/neutron/rpc-server.ts',
  'ovs_agent.control_plane.neutron.broker': 'lib/control-plane/neutron/broker-connection.ts',
  'ovs_agent.control_plane.neutron.options': 'lib/control-plane/neutron/options.ts',
  'ovs_agent.waits': 'lib/waits.ts',
  'ovs_agent.service': 'lib/service/notifier.ts',
  'ovs_agent.logging': 'lib/log.ts',
} as const;

export type LoggerName = keyof typeof LOGGER_FILES;

/**
 * Python logger names (Neutron's agent and the libraries it logs through)
 * and the loggers here that do their job: oslo.messaging's RPC and its rabbit
 * driver are the Neutron control plane's RPC client and server, broker
 * connection and TLS options.
 */
export const PYTHON_NAMES: ReadonlyMap<string, readonly LoggerName[]> = new Map<string, readonly LoggerName[]>([
  ['neutron', ['ovs_agent']],
  ['neutron.plugins.ml2.drivers.openvswitch.agent', ['ovs_agent.agent']],
  ['neutron.plugins.ml2.drivers.openvswitch.agent.ovs_neutron_agent', ['ovs_agent.agent']],
  ['neutron.agent.linux.openvswitch_firewall', ['ovs_agent.firewall']],
  ['neutron.agent.securitygroups_rpc', ['ovs_agent.firewall']],
  ['neutron.agent.l2.extensions.qos', ['ovs_agent.agent.qos']],
  ['neutron.services.trunk.drivers.openvswitch.agent', ['ovs_agent.trunk']],
  ['neutron.plugins.ml2.drivers.l2pop', ['ovs_agent.l2pop']],
  ['neutron.agent.resource_cache', ['ovs_agent.control_plane.neutron.resource_cache']],
  ['neutron.agent.rpc', ['ovs_agent.control_plane.neutron']],
  ...['oslo.messaging', 'oslo_messaging'].map((n): [string, readonly LoggerName[]] => [n, [
    'ovs_agent.control_plane.neutron.rpc_client', 'ovs_agent.control_plane.neutron.rpc_server',
    'ovs_agent.control_plane.neutron.broker', 'ovs_agent.control_plane.neutron.options',
  ]]),
]);

/**
 * Python loggers oslo.log's and Neutron's default_log_levels name that have
 * no counterpart here (libraries the agent does not use, os-ken's OpenFlow
 * app manager, amqp's frame-level debugging): set without effect, as
 * silently as oslo.log sets a logger nothing logs through.
 */
const PYTHON_ONLY = new Set([
  'amqp', 'amqplib', 'boto', 'qpid', 'sqlalchemy', 'suds', 'iso8601', 'requests.packages.urllib3.connectionpool',
  'urllib3.connectionpool', 'websocket', 'requests.packages.urllib3.util.retry', 'urllib3.util.retry', 'keystonemiddleware',
  'routes.middleware', 'stevedore', 'taskflow', 'keystoneauth', 'oslo.cache', 'oslo_policy', 'dogpile.core.dogpile',
  'OFPHandler', 'OfctlService', 'os_ken.base.app_manager', 'os_ken.controller.controller', 'kombu', 'ovsdbapp',
]);

export class LogLevelsError extends Error {
  override readonly name = 'LogLevelsError';
  readonly code = 'LOG_LEVELS_INVALID';
}

export interface ParsedLevels {
  /** Logger name ('' for the root) → level, for the loggers here. */
  levels: Map<string, number>;
  /** Entries that name no logger here nor a Python library the agent stands in for: ignored, and said so. */
  unknown: string[];
}

/**
 * `default_log_levels` as oslo.log applies it (`logger=LEVEL`, a level name
 * Python knows, case-sensitive, or an integer; a bad level stops the agent
 * there and here), onto the loggers here. Later entries win, as each
 * setLevel replaces the one before.
 */
export function parseDefaultLogLevels(pairs: readonly string[]): ParsedLevels {
  const levels = new Map<string, number>();
  const unknown: string[] = [];
  const known = Object.keys(LOGGER_FILES);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const text = eq < 0 ? '' : pair.slice(eq + 1);
    const level = parseLevel(text);
    if (level === undefined) {
      throw new LogLevelsError(`[DEFAULT] default_log_levels: ${JSON.stringify(pair)} has no valid level `
        + '(logger=LEVEL; LEVEL one of CRITICAL, FATAL, ERROR, WARNING, WARN, INFO, DEBUG, TRACE, NOTSET, or an integer; upper case)');
    }
    if (name === '' || name === 'root') {
      levels.set('', level);
    } else if (name === 'ovs_agent' || name.startsWith('ovs_agent.')) {
      if (!known.some((k) => k === name || k.startsWith(`${name}.`))) unknown.push(pair);
      else levels.set(name, level);
    } else if (PYTHON_NAMES.has(name)) {
      for (const ours of PYTHON_NAMES.get(name)!) levels.set(ours, level);
    } else if (!PYTHON_ONLY.has(name)) {
      unknown.push(pair);
    }
  }
  return { levels, unknown };
}

/**
 * The level a logger goes by, as Python's getEffectiveLevel: its own, else
 * its nearest ancestor's (`a.b.c` → `a.b` → `a`), else the root's. NOTSET
 * on a named logger means "not set".
 */
export function effectiveLevel(name: string, levels: ReadonlyMap<string, number>, root: number): number {
  let n = name;
  for (;;) {
    const l = levels.get(n);
    if (l !== undefined && l !== NOTSET) return l;
    const dot = n.lastIndexOf('.');
    if (dot < 0) return root;
    n = n.slice(0, dot);
  }
}
