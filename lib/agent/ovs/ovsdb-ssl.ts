/**
 * `[ovs] ssl_key_file`, `ssl_cert_file` and `ssl_ca_cert_file` for an
 * `ssl:` ovsdb_connection, checked at start as Neutron's agent checks them
 * (neutron/agent/ovsdb/native/connection.py): each must be set and name a
 * file that exists, else the agent does not start, with a config error
 * naming the option. They are then handed to protocol/ovsdb as paths, which
 * reads them at every connection (a renewed certificate is used at the next
 * reconnect, as OVS does). For other remotes they are ignored, as Neutron
 * ignores them.
 */
import { readFileSync } from 'node:fs';
import type { SslOptions } from '@ovs-agent/ovsdb';
import { ConfigError, type AgentConfig } from '../../config/index.js';

const FILES = [['ssl_key_file', 'privateKey'], ['ssl_cert_file', 'certificate'], ['ssl_ca_cert_file', 'caCert']] as const;

/** The TLS files of `config.ovs.ovsdb_connection`, or undefined when it is not an `ssl:` remote. */
export function ovsdbSslOptions(config: AgentConfig): SslOptions | undefined {
  const remote = config.ovs.ovsdb_connection;
  if (!remote.startsWith('ssl:')) return undefined;
  const out: Partial<Record<keyof SslOptions, string>> = {};
  for (const [option, key] of FILES) {
    const path = config.ovs[option];
    if (typeof path !== 'string' || path === '') {
      throw new ConfigError(`[ovs] ${option} is not set: ovsdb_connection ${remote} needs ssl_key_file, ssl_cert_file and ssl_ca_cert_file`,
        'CONFIG_INVALID', { file: `[ovs] ${option}` });
    }
    try {
      readFileSync(path);
    } catch (err) {
      throw new ConfigError(`[ovs] ${option} ${path} cannot be read (${(err as Error).message}); ovsdb_connection ${remote} needs it`,
        'CONFIG_INVALID', { file: path });
    }
    out[key] = path;
  }
  return out as SslOptions;
}
