/**
 * The options the agent honours: those of Neutron 21's agent it reads and
 * acts on, with Neutron 21.0.0's defaults, plus the `[ovs_agent]` section for
 * what only this agent has (the control plane and its status socket). The
 * options Neutron's agent reads that this one does not honour are in
 * not-honoured.ts, each refused or warned about at start; docs/configuration.md
 * is generated from both (scripts/option-table.ts).
 */
import { TUNNEL_TYPES } from '../model/index.js';
import { LOGGING_OPTIONS } from './logging-options.js';

export type OptionType =
  | { kind: 'string'; choices?: readonly string[] }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'float'; min?: number }
  | { kind: 'bool' }
  | { kind: 'list'; choices?: readonly string[] }
  | { kind: 'dict' }
  | { kind: 'ip' }
  /** oslo.config's MultiStrOpt: every value written, across files and sections, in order. */
  | { kind: 'multi' };

/** An older name or section the option is also read under (oslo.config's DeprecatedOpt): same option, a warning. */
export interface DeprecatedName {
  /** The section it was in (default: the option's own). */
  group?: string;
  /** Its name there (default: the option's own). */
  name?: string;
  /** What the warning says instead of "deprecated: use …" (for a spelling that is not deprecated but another release's). */
  note?: string;
}

export interface OptionSpec {
  type: OptionType;
  default: unknown;
  help: string;
  deprecated?: readonly DeprecatedName[];
  /** Its value is never shown (oslo.config's secret=True: a password may be in it). */
  secret?: boolean;
  /** Some of its values are not supported: warned about at start (its help says which). */
  partly?: boolean;
}

const str = (def: string | undefined, help: string, choices?: readonly string[]): OptionSpec =>
  ({ type: { kind: 'string', choices }, default: def, help });
const int = (def: number | undefined, help: string, min?: number, max?: number): OptionSpec =>
  ({ type: { kind: 'int', min, max }, default: def, help });
const float = (def: number, help: string, min?: number): OptionSpec => ({ type: { kind: 'float', min }, default: def, help });
const bool = (def: boolean, help: string): OptionSpec => ({ type: { kind: 'bool' }, default: def, help });
const list = (def: string[], help: string, choices?: readonly string[]): OptionSpec =>
  ({ type: { kind: 'list', choices }, default: def, help });
const dict = (help: string): OptionSpec => ({ type: { kind: 'dict' }, default: {}, help });
/** The option, also read under its deprecated names or sections. */
const was = (spec: OptionSpec, ...deprecated: DeprecatedName[]): OptionSpec => ({ ...spec, deprecated });
/** The option, its value never shown. */
const secret = (spec: OptionSpec): OptionSpec => ({ ...spec, secret: true });

const LATER_SPELLING = 'the spelling of later oslo.messaging releases; Neutron 21\'s oslo.messaging 14 reads only "quroum"';

export const OPTIONS = {
  DEFAULT: {
    host: str(undefined, 'Host name the agent reports (default: the machine hostname).'),
    debug: bool(false, 'Log at debug level (SIGHUP re-reads it).'),
    ...LOGGING_OPTIONS,
    transport_url: secret(str('rabbit://', 'Messaging URL of the Neutron control plane.')),
    control_exchange: str('neutron', 'AMQP exchange Neutron uses.'),
    rpc_response_timeout: int(60, 'Seconds to wait for an RPC reply.', 1),
    rpc_response_max_timeout: int(600, 'Upper bound of the backed-off RPC timeout.', 1),
    rpc_resources_processing_step: int(20, 'Ports per bulk RPC request.', 1),
  },
  ovs: {
    integration_bridge: was(str('br-int', 'Integration bridge every VM port is plugged into.'), { name: 'ovs_integration_bridge' }),
    tunnel_bridge: str('br-tun', 'Tunnel bridge (when tunnel_types is set).'),
    int_peer_patch_port: str('patch-tun', 'Patch port on br-int towards br-tun.'),
    tun_peer_patch_port: str('patch-int', 'Patch port on br-tun towards br-int.'),
    local_ip: { type: { kind: 'ip' }, default: undefined, help: 'Local tunnel endpoint address.' } as OptionSpec,
    bridge_mappings: dict('physnet:bridge pairs, e.g. physnet1:br-eth1,physnet2:br-eth2.'),
    datapath_type: str('system', 'Datapath of the bridges the agent creates.', ['system', 'netdev']),
    vhostuser_socket_dir: str('/var/run/openvswitch', 'Directory of vhost-user sockets.'),
    of_listen_address: { type: { kind: 'ip' }, default: '127.0.0.1', help: 'Address the OpenFlow controller listens on (openflow_channel = controller); anything but loopback is warned about at start: no authentication, no TLS.' } as OptionSpec,
    of_listen_port: int(6633, 'Port the OpenFlow controller listens on.', 0, 65535),
    of_connect_timeout: int(300, 'Seconds to wait for a bridge to connect.', 1),
    of_inactivity_probe: int(10, 'Controller inactivity probe, seconds.', 0),
    ovsdb_connection: str('tcp:127.0.0.1:6640', 'OVSDB server: tcp:HOST:PORT, ssl:HOST:PORT (with the ssl_* files) or unix:PATH.'),
    ovsdb_timeout: int(10, 'Seconds to wait for an OVSDB transaction.', 1),
    bridge_mac_table_size: int(50000, 'Bridge other_config:mac-table-size.', 1),
    igmp_snooping_enable: bool(false, 'IGMP snooping on br-int (Bridge mcast_snooping_enable). As Neutron does, '
      + 'other_config:mcast-snooping-disable-flood-unregistered stays "false" (unregistered multicast still floods), and '
      + 'br-int\'s patch ports to br-tun and the physical bridges get other_config:mcast-snooping-flood and '
      + 'mcast-snooping-flood-reports set to match.'),
    ssl_key_file: str(undefined, 'Private key (PEM file) for an ssl: ovsdb_connection; required by one.'),
    ssl_cert_file: str(undefined, 'Certificate (PEM file) for an ssl: ovsdb_connection; required by one.'),
    ssl_ca_cert_file: str(undefined, 'CA certificate (PEM file) the OVSDB server\'s certificate must be signed by; required by an ssl: ovsdb_connection.'),
  },
  agent: {
    polling_interval: int(2, 'Seconds between full checks (canary); ports are event driven.', 1),
    tunnel_types: list([], 'Tunnel types: vxlan, gre, geneve.', TUNNEL_TYPES),
    vxlan_udp_port: int(4789, 'UDP port of VXLAN tunnels.', 1, 65535),
    l2_population: bool(false, 'Use l2population fdb entries instead of flooding to every tunnel.'),
    arp_responder: bool(false, 'Answer ARP on br-tun (with l2_population).'),
    dont_fragment: bool(true, 'Tunnel df_default.'),
    tunnel_csum: bool(false, 'Tunnel checksums.'),
    dscp: int(undefined, 'Tunnel DSCP (0-63).', 0, 63),
    dscp_inherit: bool(false, 'Tunnel tos=inherit.'),
    drop_flows_on_start: bool(false, 'Delete every flow on br-int at start.'),
    report_interval: float(30, 'Seconds between state reports; 0 disables.', 0),
    log_agent_heartbeats: bool(false, 'Log every state report.'),
    // Only qos and trunk run here; any other extension is refused at start: the state report would claim it enforced (docs/qos.md, docs/trunk.md).
    extensions: list([], 'Agent extensions to load: qos (docs/qos.md), trunk (docs/trunk.md); fdb, log, dhcp, local_ip and the others are refused.', ['qos', 'trunk']),
  },
  securitygroup: {
    firewall_driver: str('noop', 'Firewall driver: openvswitch, iptables_hybrid or noop, or their class paths (the plain iptables driver is refused).'),
    enable_security_group: bool(true, 'Filter traffic with security groups.'),
    permitted_ethertypes: list([], 'Extra ethertypes allowed, e.g. 0x4008.'),
  },
  // oslo.messaging 14.0.3's rabbit driver options the agent honours (docs/neutron.md, "TLS"), under their deprecated names too.
  oslo_messaging_rabbit: {
    ssl: was(bool(false, 'Connect to RabbitMQ over TLS.'), { name: 'rabbit_use_ssl' }),
    ssl_version: was(str('', 'Pin the TLS version: TLSv1, TLSv1_1, TLSv1_2, or SSLv23 (any); empty: negotiate.'), { name: 'kombu_ssl_version' }),
    ssl_ca_file: was(str(undefined, 'CA bundle the broker certificate must chain to (then verified).'), { name: 'kombu_ssl_ca_certs' }),
    ssl_cert_file: was(str(undefined, 'Client certificate for RabbitMQ TLS.'), { name: 'kombu_ssl_certfile' }),
    ssl_key_file: was(str(undefined, 'Client key for RabbitMQ TLS.'), { name: 'kombu_ssl_keyfile' }),
    ssl_enforce_hostname_verification: bool(false, 'With ssl_ca_file, also check the broker host name against its certificate.'),
    ssl_enforce_fips_mode: bool(false, 'OpenSSL FIPS mode (not supported: refused with ssl on, as oslo.messaging 14 on Python 3.11).'),
    heartbeat_timeout_threshold: int(60, 'Seconds without heartbeat before the connection counts as dead.', 0),
    rabbit_retry_interval: int(1, 'Seconds before the first reconnect.', 0),
    rabbit_retry_backoff: was(int(2, 'Seconds added per failed reconnect.', 0), { group: 'DEFAULT' }),
    rabbit_interval_max: int(30, 'Longest wait between reconnects, seconds.', 1),
    rabbit_transient_queues_ttl: int(1800, 'Seconds an unused reply or fanout queue lives (x-expires).', 1),
    amqp_durable_queues: bool(false, 'Durable control exchange and topic queues (as the servers declare them).'),
    amqp_auto_delete: was(bool(false, 'Auto-delete control exchange and topic queues (as the servers declare them).'), { group: 'DEFAULT' }),
    rabbit_ha_queues: was(bool(false, 'Topic queues with x-ha-policy: all (as the servers declare them).'), { group: 'DEFAULT' }),
    rabbit_quorum_queue: bool(false, 'Quorum topic queues, durable (as the servers declare them).'),
    rabbit_quorum_delivery_limit: int(0, 'x-delivery-limit of quorum queues (0: none).', 0),
    // oslo.messaging 14 (Neutron 21's) spells these two "quroum"; later releases fixed the name and read this one as deprecated.
    // Both are read here, under Neutron 21's name.
    rabbit_quroum_max_memory_length: was(int(0, 'x-max-in-memory-length of quorum queues (0: none).', 0),
      { name: 'rabbit_quorum_max_memory_length', note: LATER_SPELLING }),
    rabbit_quroum_max_memory_bytes: was(int(0, 'x-max-in-memory-bytes of quorum queues (0: none).', 0),
      { name: 'rabbit_quorum_max_memory_bytes', note: LATER_SPELLING }),
  },
  ovs_agent: {
    control_plane: str('neutron', 'Where ports come from: neutron (neutron-server over RabbitMQ, as Neutron\'s agent) or local '
      + '(a desired-state file). Unset, it is local when state_file is set, neutron otherwise (docs/configuration.md).', ['local', 'neutron']),
    state_file: str('/etc/ovs-agent/desired-state.json', 'Desired-state file of the local control plane; setting it chooses that plane '
      + '(with control_plane = neutron it is unused, and warned about).'),
    status_socket: str('/run/ovs-agent/status.sock', 'Unix socket `ovs-agent status` reads from.'),
    ovs_rundir: str('/var/run/openvswitch', 'Where the bridges\' <bridge>.mgmt sockets are (default: $OVS_RUNDIR if set, as ovs-ofctl).'),
    openflow_channel: str('controller', 'How flows reach a bridge: controller (each bridge\'s Controller row points at of_listen_address:'
      + 'of_listen_port, as Neutron\'s agent) or mgmt (the bridge\'s <bridge>.mgmt unix socket in ovs_rundir). Unset, it is controller '
      + 'with control_plane = neutron and mgmt with the local plane.', ['mgmt', 'controller']),
    metrics_address: str(undefined, 'Where the health (/healthz, /readyz) and Prometheus metrics (/metrics) HTTP endpoint listens: '
      + 'PORT (on loopback), HOST:PORT or [IPV6]:PORT; unset: no endpoint (docs/operations.md).'),
    hybrid_backend: str('iptables', 'How firewall_driver = iptables_hybrid writes its rules: iptables (Neutron\'s chains, taken over from '
      + 'and by Neutron\'s agent) or nftables (the agent\'s own nft tables, faster with many ports; docs/firewall.md, "nftables backend").',
    ['iptables', 'nftables']),
  },
} as const satisfies Record<string, Record<string, OptionSpec>>;

export type Sections = typeof OPTIONS;
