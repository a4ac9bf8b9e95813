/**
 * The Neutron control plane's options from the agent's parsed ini files:
 * `[DEFAULT]` transport_url, control_exchange, rpc_*, `[agent]`
 * report_interval and l2_population, and `[oslo_messaging_rabbit]` (read
 * here because only this control plane uses it).
 */
import type { IniDocument, IniValue } from '../../config/ini.js';
import { configError } from './errors.js';
import type { NeutronControlPlaneOptions } from './neutron-control-plane.js';

export function neutronOptionsFromIni(doc: IniDocument): NeutronControlPlaneOptions {
  const get = (section: string, name: string): IniValue | undefined => doc.get(section)?.get(name);
  const str = (section: string, name: string): string | undefined => get(section, name)?.value;
  const num = (section: string, name: string): number | undefined => {
    const v = get(section, name);
    if (v === undefined) return undefined;
    const n = Number(v.value);
    if (v.value.trim() === '' || !Number.isFinite(n)) throw configError(`${v.file}:${v.line}: [${section}] ${name} = ${JSON.stringify(v.value)} is not a number`);
    return n;
  };
  const bool = (section: string, name: string): boolean | undefined => {
    const v = get(section, name);
    if (v === undefined) return undefined;
    const t = v.value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    throw configError(`${v.file}:${v.line}: [${section}] ${name} = ${JSON.stringify(v.value)} is not a boolean`);
  };
  const R = 'oslo_messaging_rabbit';
  return {
    transportUrl: str('DEFAULT', 'transport_url') ?? 'rabbit://',
    controlExchange: str('DEFAULT', 'control_exchange'),
    rpcResponseTimeout: num('DEFAULT', 'rpc_response_timeout'),
    rpcResponseMaxTimeout: num('DEFAULT', 'rpc_response_max_timeout'),
    rpcResourcesProcessingStep: num('DEFAULT', 'rpc_resources_processing_step'),
    reportInterval: num('agent', 'report_interval'),
    l2Population: bool('agent', 'l2_population'),
    rabbit: {
      ssl: bool(R, 'ssl') ?? bool(R, 'rabbit_use_ssl'),
      sslCaFile: str(R, 'ssl_ca_file') ?? str(R, 'kombu_ssl_ca_certs'),
      sslCertFile: str(R, 'ssl_cert_file') ?? str(R, 'kombu_ssl_certfile'),
      sslKeyFile: str(R, 'ssl_key_file') ?? str(R, 'kombu_ssl_keyfile'),
      sslEnforceHostnameVerification: bool(R, 'ssl_enforce_hostname_verification'),
      heartbeatTimeoutThreshold: num(R, 'heartbeat_timeout_threshold'),
      retryInterval: num(R, 'rabbit_retry_interval'),
      retryBackoff: num(R, 'rabbit_retry_backoff'),
      intervalMax: num(R, 'rabbit_interval_max'),
      transientQueuesTtl: num(R, 'rabbit_transient_queues_ttl'),
      topics: {
        durableQueues: bool(R, 'amqp_durable_queues'),
        autoDelete: bool(R, 'amqp_auto_delete'),
        haQueues: bool(R, 'rabbit_ha_queues'),
        quorumQueue: bool(R, 'rabbit_quorum_queue'),
        quorumDeliveryLimit: num(R, 'rabbit_quorum_delivery_limit'),
        quorumMaxMemoryLength: num(R, 'rabbit_quorum_max_memory_length'),
        quorumMaxMemoryBytes: num(R, 'rabbit_quorum_max_memory_bytes'),
      },
    },
  };
}
