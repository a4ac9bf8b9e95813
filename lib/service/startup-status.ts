/**
 * What `ovs-agent run` says it is doing while it starts (systemd's STATUS=):
 * the oldest wait on a dependency in progress (lib/waits.ts), else where it
 * connects, in the order start-up does it.
 */
import type { AgentConfig } from '../config/index.js';
import type { WaitInfo } from '../waits.js';

/** The control plane, named by where it is (no password: the transport URL's credentials are dropped). */
function controlPlaneText(config: AgentConfig): string {
  if (config.ovs_agent.control_plane !== 'neutron') return `the desired-state file ${config.ovs_agent.state_file}`;
  const hosts = config.DEFAULT.transport_url.replace(/^[a-z0-9+]+:\/\//i, '').split(',')
    .map((h) => h.replace(/^[^@/]*@/, '').replace(/\/.*$/, '')).filter(Boolean);
  return `neutron-server over RabbitMQ at ${hosts.join(',') || 'localhost'}`;
}

export function startupText(config: AgentConfig): string {
  const openflow = config.ovs_agent.openflow_channel === 'controller'
    ? `the bridges' OpenFlow connections to ${config.ovs.of_listen_address}:${config.ovs.of_listen_port}`
    : `the bridges' OpenFlow sockets in ${config.ovs_agent.ovs_rundir}`;
  return `starting: connecting to OVSDB at ${config.ovs.ovsdb_connection}, then ${openflow} and ${controlPlaneText(config)}`;
}

/**
 * "starting: waiting for OVSDB at unix:/run/openvswitch/db.sock ([ovs] ovsdb_connection): connect ENOENT".
 * No duration: the text changes only when what is awaited does (systemd is told each change).
 */
export function startupStatus(config: AgentConfig, waits: () => readonly WaitInfo[]): string {
  const w = waits()[0];
  if (!w) return startupText(config);
  return `starting: waiting for ${w.what} at ${w.where}${w.hint ? ` (${w.hint})` : ''}${w.lastError ? `: ${w.lastError}` : ''}`;
}
