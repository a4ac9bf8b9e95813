/**
 * The one mapping from the agent's parsed configuration to the Neutron
 * control plane's options: `[DEFAULT]` transport_url, control_exchange,
 * rpc_*, `[agent]` report_interval and l2_population, and
 * `[oslo_messaging_rabbit]` (lib/config/options.ts declares them, with their
 * deprecated names). lib/agent/run.ts calls it.
 *
 * TLS follows what oslo.messaging 14.0.3's rabbit driver does with Debian
 * 12's py-amqp and Python 3.11 (docs/neutron.md, "TLS"):
 * - `ssl_ca_file`: the broker's chain must lead to that CA, and the broker's
 *   host name is checked only with `ssl_enforce_hostname_verification`;
 * - no CA file and no `ssl_version`: the chain is checked against the
 *   system's CA store (OpenSSL's default file, or $SSL_CERT_FILE), the host
 *   name is not (py-amqp's default client context);
 * - no CA file but an `ssl_version`: nothing is checked (Python's context
 *   for a pinned protocol verifies nothing unless given a CA);
 * - `ssl_version` pins TLSv1, TLSv1_1 or TLSv1_2; SSLv23 negotiates; any
 *   other value is refused, as oslo refuses it;
 * - `ssl_enforce_fips_mode` with ssl on is refused (oslo raises: Python 3.11
 *   has no FIPS switch);
 * - the TLS options without `ssl` are ignored by oslo: here with a warning.
 * Files that cannot be read are refused at start, naming the option.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import type { AgentConfig } from '../../config/index.js';
import { configError } from './errors.js';
import type { Logger } from './logger.js';
import type { NeutronControlPlaneOptions } from './neutron-control-plane.js';
import type { TlsOptions, TlsVersion } from './broker-connection.js';

const R = '[oslo_messaging_rabbit]';

/** oslo's `ssl_version` values (matched case-insensitively) and the protocol each pins. */
const SSL_VERSIONS: Record<string, TlsVersion | undefined> = {
  tlsv1: 'TLSv1',
  tlsv1_1: 'TLSv1.1',
  tlsv1_2: 'TLSv1.2',
  // PROTOCOL_SSLv23 is "any version" in Python.
  sslv23: undefined,
};

/** OpenSSL's default CA file on Debian (OPENSSLDIR/cert.pem, a link to the ca-certificates bundle). */
const OPENSSL_DEFAULT_CA_FILE = '/usr/lib/ssl/cert.pem';

export function neutronOptionsFromConfig(config: AgentConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): NeutronControlPlaneOptions {
  const r = config.oslo_messaging_rabbit;
  return {
    transportUrl: config.DEFAULT.transport_url,
    controlExchange: config.DEFAULT.control_exchange,
    rpcResponseTimeout: config.DEFAULT.rpc_response_timeout,
    rpcResponseMaxTimeout: config.DEFAULT.rpc_response_max_timeout,
    rpcResourcesProcessingStep: config.DEFAULT.rpc_resources_processing_step,
    reportInterval: config.agent.report_interval,
    l2Population: config.agent.l2_population,
    qos: config.agent.extensions.includes('qos'),
    trunk: config.agent.extensions.includes('trunk'),
    rabbit: {
      tls: tlsOptions(r, logger, env),
      heartbeatTimeoutThreshold: r.heartbeat_timeout_threshold,
      retryInterval: r.rabbit_retry_interval,
      retryBackoff: r.rabbit_retry_backoff,
      intervalMax: r.rabbit_interval_max,
      transientQueuesTtl: r.rabbit_transient_queues_ttl,
      topics: {
        durableQueues: r.amqp_durable_queues,
        autoDelete: r.amqp_auto_delete,
        haQueues: r.rabbit_ha_queues,
        quorumQueue: r.rabbit_quorum_queue,
        quorumDeliveryLimit: r.rabbit_quorum_delivery_limit,
        quorumMaxMemoryLength: r.rabbit_quroum_max_memory_length,
        quorumMaxMemoryBytes: r.rabbit_quroum_max_memory_bytes,
      },
    },
    logger,
  };
}

function tlsOptions(r: AgentConfig['oslo_messaging_rabbit'], logger: Logger, env: NodeJS.ProcessEnv): TlsOptions | undefined {
  const caFile = r.ssl_ca_file || undefined;
  const certFile = r.ssl_cert_file || undefined;
  const keyFile = r.ssl_key_file || undefined;
  if (!r.ssl) {
    const set = [
      caFile && 'ssl_ca_file', certFile && 'ssl_cert_file', keyFile && 'ssl_key_file', r.ssl_version && 'ssl_version',
      r.ssl_enforce_hostname_verification && 'ssl_enforce_hostname_verification', r.ssl_enforce_fips_mode && 'ssl_enforce_fips_mode',
    ].filter(Boolean);
    if (set.length) logger.warn(`${R} ${set.join(', ')} ignored: ssl is false, the connection to RabbitMQ is not encrypted`);
    return undefined;
  }
  if (r.ssl_enforce_fips_mode) {
    throw configError(`${R} ssl_enforce_fips_mode = true is not supported (oslo.messaging 14 refuses it too on Python 3.11, which has no FIPS switch)`);
  }
  const versionKey = r.ssl_version.trim().toLowerCase();
  if (versionKey !== '' && !(versionKey in SSL_VERSIONS)) {
    throw configError(`${R} ssl_version = ${JSON.stringify(r.ssl_version)} is not a TLS version this agent (or oslo.messaging 14) can use: TLSv1, TLSv1_1, TLSv1_2 or SSLv23`);
  }
  for (const [option, file] of [['ssl_ca_file', caFile], ['ssl_cert_file', certFile], ['ssl_key_file', keyFile]] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw configError(`${R} ${option} = ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (keyFile && !certFile) logger.warn(`${R} ssl_key_file ignored: no ssl_cert_file (as oslo.messaging, which loads the key with the certificate)`);
  if (r.ssl_enforce_hostname_verification && !caFile) {
    logger.warn(`${R} ssl_enforce_hostname_verification has no effect without ssl_ca_file (as in oslo.messaging): the broker's host name is not checked`);
  }
  const version = versionKey === '' ? undefined : SSL_VERSIONS[versionKey];
  let ca: TlsOptions['ca'];
  if (caFile) ca = { file: caFile };
  else if (versionKey === '') ca = systemCa(env, logger);
  else logger.warn(`${R} ssl_version without ssl_ca_file: the broker's certificate is not verified (as in oslo.messaging)`);
  return {
    ca,
    verifyHostname: caFile !== undefined && r.ssl_enforce_hostname_verification,
    certFile,
    keyFile: certFile ? keyFile : undefined,
    version,
  };
}

/** Where OpenSSL (hence Python's default context) finds the system's CAs. */
function systemCa(env: NodeJS.ProcessEnv, logger: Logger): TlsOptions['ca'] {
  const file = env.SSL_CERT_FILE || OPENSSL_DEFAULT_CA_FILE;
  if (existsSync(file)) return { file };
  logger.warn(`${R} ssl without ssl_ca_file: no system CA file at ${file}; the broker's certificate is checked against node's bundled CAs`);
  return 'bundled';
}
