/**
 * The `report_state` payload (docs/neutron.md, "The state report"): what
 * makes the server list the agent in `GET /v2.0/agents` and bind ports to
 * its host.
 */
import { randomUUID } from 'node:crypto';
import type { AgentIdentity, AgentStateReport } from '../types.js';
import { RESOURCE_VERSIONS } from './ovo.js';

export const AGENT_TYPE_OVS = 'Open vSwitch agent';
export const AGENT_BINARY_OVS = 'neutron-openvswitch-agent';
/** `n_const.L2_AGENT_TOPIC`. */
export const L2_AGENT_TOPIC = 'N/A';

/** What the agent knows about itself that the state report's `configurations` carry. */
export interface OvsAgentFacts {
  bridgeMappings: Record<string, string>;
  integrationBridge: string;
  tunnelTypes: string[];
  localIp?: string;
  l2Population: boolean;
  arpResponder: boolean;
  datapathType: string;
  /** From the Open_vSwitch row. */
  datapathTypes: string[];
  ifaceTypes: string[];
  vhostuserSocketDir: string;
  /** firewall_driver === 'iptables_hybrid'. */
  ovsHybridPlug: boolean;
  extensions?: string[];
  logAgentHeartbeats?: boolean;
  baremetalSmartnic?: boolean;
  /** resource_provider_hypervisors ({bridge: hypervisor}); default: every mapped bridge → the FQDN. */
  resourceProviderHypervisors?: Record<string, string>;
}

/** The `configurations` dict the 21.0.0 agent sends, key for key. */
export function ovsAgentConfigurations(f: OvsAgentFacts): Record<string, unknown> {
  const inventoryDefaults = { allocation_ratio: 1.0, min_unit: 1, step_size: 1, reserved: 0 };
  return {
    bridge_mappings: f.bridgeMappings,
    resource_provider_bandwidths: {},
    resource_provider_inventory_defaults: inventoryDefaults,
    resource_provider_packet_processing_without_direction: {},
    resource_provider_packet_processing_with_direction: {},
    resource_provider_packet_processing_inventory_defaults: inventoryDefaults,
    resource_provider_hypervisors: f.resourceProviderHypervisors ?? {},
    integration_bridge: f.integrationBridge,
    tunnel_types: f.tunnelTypes,
    tunneling_ip: f.localIp ?? null,
    l2_population: f.l2Population,
    arp_responder_enabled: f.arpResponder && f.l2Population,
    enable_distributed_routing: false,
    log_agent_heartbeats: f.logAgentHeartbeats ?? false,
    extensions: f.extensions ?? [],
    datapath_type: f.datapathType,
    ovs_capabilities: { datapath_types: f.datapathTypes, iface_types: f.ifaceTypes },
    vhostuser_socket_dir: f.vhostuserSocketDir,
    ovs_hybrid_plug: f.ovsHybridPlug,
    baremetal_smartnic: f.baremetalSmartnic ?? false,
  };
}

/** `%Y-%m-%dT%H:%M:%S.%f` in UTC (neutron_lib ISO8601_TIME_FORMAT). */
export function reportTime(now = new Date()): string {
  return `${now.toISOString().slice(0, 19)}.${String(now.getUTCMilliseconds()).padStart(3, '0')}000`;
}

/** The kwargs of the `report_state` call: `{agent_state: {agent_state: {...}}, time}`. */
export function reportStateArgs(
  identity: AgentIdentity,
  report: AgentStateReport,
  withResourceVersions: boolean,
  now = new Date(),
): Record<string, unknown> {
  const state: Record<string, unknown> = {
    binary: identity.binary || AGENT_BINARY_OVS,
    host: identity.host,
    topic: L2_AGENT_TOPIC,
    configurations: { ...report.configurations, devices: report.devices, in_distributed_mode: false },
    agent_type: AGENT_TYPE_OVS,
  };
  if (withResourceVersions) state.resource_versions = { ...RESOURCE_VERSIONS };
  if (report.startFlag) state.start_flag = true;
  state.uuid = randomUUID();
  return { agent_state: { agent_state: state }, time: reportTime(now) };
}
