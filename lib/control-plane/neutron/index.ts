/**
 * The Neutron control plane: ControlPlane over oslo.messaging/RabbitMQ.
 *
 *   const cp = createNeutronControlPlane({ transportUrl: 'rabbit://u:p@h:5672/', reportInterval: 30 });
 *   cp.onEvent((e) => …);
 *   await cp.start({ host, agentId: `ovs-agent-${host}`, binary: 'neutron-openvswitch-agent' });
 */
import { NeutronControlPlane, type NeutronControlPlaneOptions } from './neutron-control-plane.js';

export { NeutronControlPlane } from './neutron-control-plane.js';
export { fdbChanges, fdbEntries } from './fdb-entries.js';
export type { NeutronControlPlaneOptions, RabbitOptions } from './neutron-control-plane.js';
export { NeutronErrorCode, RemoteError } from './errors.js';
export type { RemoteFailure } from './errors.js';
export type { Logger } from './logger.js';
export { parseTransportUrl, redact } from './transport-url.js';
export type { TlsOptions, TlsVersion } from './broker-connection.js';
export type { BrokerHost, TransportUrl } from './transport-url.js';
export { AGENT_BINARY_OVS, AGENT_TYPE_OVS, ovsAgentConfigurations } from './state-report.js';
export type { OvsAgentFacts } from './state-report.js';
export { neutronOptionsFromConfig } from './options.js';

export function createNeutronControlPlane(options: NeutronControlPlaneOptions): NeutronControlPlane {
  return new NeutronControlPlane(options);
}
