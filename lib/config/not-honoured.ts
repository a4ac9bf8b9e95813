/**
 * The options neutron-openvswitch-agent 21 reads that this agent does not
 * honour, each with what that means for the operator. None is silently
 * accepted: set to anything but its default, an `ignored` option is warned
 * about once at start, and a `refused` one stops the start (exit status 2,
 * naming the option and where it was set) unless its value is one of the
 * `harmless` ones, which are warned about like an ignored option. Ignoring
 * a refused option would change what the host does or what neutron-server
 * believes it does.
 *
 * The options the agent honours are in options.ts; docs/configuration.md
 * is generated from both, and spec/config/option-table.spec.ts checks them
 * against Neutron's own option list.
 */
import type { OptionSpec, OptionType } from './options.js';

export interface NotHonouredSpec extends OptionSpec {
  status: 'ignored' | 'refused';
  /** What it means for the operator that the agent does not honour it (one sentence, shown at start and in the table). */
  meaning: string;
  /** A refused option's values that are warned about instead of refused (its default always passes). */
  harmless?: readonly unknown[];
}

const spec = (type: OptionType, def: unknown, help: string) => ({ type, default: def, help });
const STR = { kind: 'string' } as const;
const INT = { kind: 'int' } as const;
const FLOAT = { kind: 'float' } as const;
const BOOL = { kind: 'bool' } as const;
const LIST = { kind: 'list' } as const;

function ignored(type: OptionType, def: unknown, help: string, meaning: string, more: Partial<NotHonouredSpec> = {}): NotHonouredSpec {
  return { ...spec(type, def, help), status: 'ignored', meaning, ...more };
}
function refused(type: OptionType, def: unknown, help: string, meaning: string, more: Partial<NotHonouredSpec> = {}): NotHonouredSpec {
  return { ...spec(type, def, help), status: 'refused', meaning, ...more };
}

const NO_COMMANDS = 'ovs-agent uses no root helper: it speaks OVSDB and OpenFlow itself (and runs iptables_hybrid\'s netfilter tools itself, as root)';
const SNAT_ONLY = 'only for SNAT rules, which the OVS agent never writes';
const NO_CHILDREN = 'ovs-agent starts no child process to monitor';
const OSLO_POOL = 'connections to RabbitMQ are the agent\'s own: one for sending, one for consuming';
const NO_NOTIFICATIONS = 'the agent sends no notifications (neither does Neutron\'s OVS agent)';
const NO_DHCP = 'the dhcp extension does not run here ([agent] extensions accepts only qos and trunk)';
const NO_LOG_EXT = 'the log extension (security group logging) does not run here ([agent] extensions accepts only qos and trunk)';
const PLACEMENT_ONLY = 'used only with resource_provider_bandwidths or resource_provider_packet_processing_*, which are refused here';

/**
 * The [DEFAULT] options of neutron-server and of Neutron's other agents that
 * Neutron's OVS agent registers (its common configuration) or that the
 * generated files list, without using them: each is reported at start when set.
 */
export const SERVER_OPTIONS = [
  'config_source', 'bind_host', 'bind_port', 'api_extensions_path', 'auth_strategy', 'core_plugin', 'service_plugins', 'base_mac',
  'allow_bulk', 'pagination_max_limit', 'default_availability_zones', 'max_dns_nameservers', 'max_subnet_host_routes', 'ipv6_pd_enabled',
  'dhcp_lease_duration', 'dns_domain', 'external_dns_driver', 'dhcp_agent_notification', 'network_link_prefix',
  'notify_nova_on_port_status_changes', 'notify_nova_on_port_data_changes', 'send_events_interval', 'setproctitle', 'ipam_driver',
  'vlan_transparent', 'filter_validation', 'global_physnet_mtu', 'http_retries', 'enable_traditional_dhcp', 'api_paste_config',
  'wsgi_log_format', 'tcp_keepidle', 'wsgi_default_pool_size', 'max_header_line', 'wsgi_keep_alive', 'client_socket_timeout',
  'wsgi_server_debug', 'backlog', 'retry_until_window', 'use_ssl', 'agent_down_time', 'dhcp_load_type', 'enable_new_agents',
  'interface_driver', 'metadata_proxy_socket', 'metadata_proxy_user', 'metadata_proxy_group', 'ovs_use_veth', 'ovs_integration_bridge', 'external_pids',
] as const;

const RABBIT_HARMLESS = 'the broker connection behaves the same without it';

export const NOT_HONOURED = {
  DEFAULT: {
    state_path: ignored(STR, '/var/lib/neutron', 'Where Neutron keeps state files.', 'ovs-agent keeps no state files; it adopts what the switch holds'),
    executor_thread_pool_size: ignored(INT, 64, 'oslo.messaging executor threads.', 'the agent handles messages on one event loop, without threads',
      { deprecated: [{ name: 'rpc_thread_pool_size' }] }),
    rpc_conn_pool_size: ignored(INT, 30, 'oslo.messaging connection pool size.', OSLO_POOL),
    conn_pool_min_size: ignored(INT, 2, 'oslo.messaging connection pool low-water mark.', OSLO_POOL),
    conn_pool_ttl: ignored(INT, 1200, 'Idle time of pooled oslo.messaging connections.', OSLO_POOL),
    rpc_ping_enabled: refused(BOOL, false, 'Answer oslo.messaging\'s ping (oslo_rpc_server_ping) on the agent\'s RPC servers.',
      'the agent does not answer oslo_rpc_server_ping: a health check that relies on it would take the agent for dead'),
  },
  agent: {
    root_helper: ignored(STR, 'sudo', 'Command prefix for commands run as root.', NO_COMMANDS),
    use_helper_for_ns_read: ignored(BOOL, true, 'Use the root helper to list network namespaces.', NO_COMMANDS),
    root_helper_daemon: ignored(STR, undefined, 'Root helper daemon command.', NO_COMMANDS),
    comment_iptables_rules: ignored(BOOL, true, 'Comment iptables rules.', 'iptables_hybrid always comments its rules as Neutron does by default: the comments are part of each rule it compares with the kernel\'s'),
    debug_iptables_rules: ignored(BOOL, false, 'Log iptables rule changes.', 'iptables_hybrid does not apply twice to check; its rules are checked against Neutron\'s driver in its specs'),
    use_random_fully: ignored(BOOL, true, 'iptables --random-fully on SNAT rules.', SNAT_ONLY),
    check_child_processes_action: ignored(STR, 'respawn', 'What to do when a monitored child process dies.', NO_CHILDREN),
    check_child_processes_interval: ignored(INT, 60, 'Seconds between child process checks.', NO_CHILDREN),
    kill_scripts_path: ignored(STR, '/etc/neutron/kill_scripts/', 'Scripts that stop child processes.', NO_CHILDREN),
    availability_zone: ignored(STR, 'nova', 'Availability zone of L3 and DHCP agents.',
      'an availability zone is reported by L3 and DHCP agents; Neutron\'s OVS agent does not report one either'),
    minimize_polling: ignored(BOOL, true, 'Watch OVSDB instead of polling it.', 'the agent always follows OVSDB\'s updates (a monitor), never polls for ports'),
    ovsdb_monitor_respawn_interval: ignored(INT, 30, 'Seconds before a dead ovsdb-client monitor is restarted.',
      'the OVSDB monitor is the agent\'s own connection, reconnected at once when lost'),
    veth_mtu: ignored(INT, 9000, 'MTU of veth interfaces (deprecated, no effect in Neutron 21).', 'no effect here either'),
    quitting_rpc_timeout: ignored(INT, 10, 'RPC timeout while the agent stops.', 'the agent sends no RPC while it stops'),
    enable_distributed_routing: refused(BOOL, false, 'Distributed virtual routing (DVR).',
      'DVR is not implemented: its flows would be missing while neutron-server schedules distributed routers here'),
    baremetal_smartnic: refused(BOOL, false, 'Wire Ironic Smart NIC ports.', 'Smart NIC ports are not handled: they would never be wired'),
    explicitly_egress_direct: refused(BOOL, false, 'Output accepted egress unicast directly instead of NORMAL.',
      'the direct-output egress flows are not implemented: accepted traffic keeps going through NORMAL'),
  },
  ovs: {
    of_request_timeout: ignored(INT, 300, 'Seconds to wait for an OpenFlow reply.',
      'an OpenFlow request gives up after 60 s (fixed), or when its session is lost'),
    openflow_processed_per_port: ignored(BOOL, false, 'Send each port\'s flows in one batch.',
      'each pass already sends all its flows as one atomic bundle per bridge'),
    ovsdb_debug: ignored(BOOL, false, 'Log OVSDB traffic.', 'OVSDB traffic is not logged; ovsdb-server\'s own logging (ovs-appctl vlog/set jsonrpc:dbg) shows it'),
    resource_provider_hypervisors: ignored({ kind: 'dict' }, {}, 'bridge:hypervisor pairs for placement.', PLACEMENT_ONLY),
    resource_provider_default_hypervisor: ignored(STR, undefined, 'Hypervisor name of the bridges resource_provider_hypervisors does not list.', PLACEMENT_ONLY),
    resource_provider_inventory_defaults: ignored({ kind: 'dict' }, {}, 'Placement inventory defaults (allocation_ratio, min_unit, step_size, reserved).',
      PLACEMENT_ONLY),
    resource_provider_packet_processing_inventory_defaults: ignored({ kind: 'dict' }, {}, 'Packet-processing inventory defaults.', PLACEMENT_ONLY),
    resource_provider_bandwidths: refused(LIST, [], 'bridge:egress:ingress bandwidths (kbps) reported to placement.',
      'placement would promise guaranteed minimum bandwidth, which this agent does not enforce (minimum_bandwidth rules are warned about, not applied: docs/qos.md)'),
    resource_provider_packet_processing_without_direction: refused(LIST, [], 'Packet rate (kpps) reported to placement.',
      'placement would promise a minimum packet rate, which no OVS agent enforces (Neutron 21 does not either)'),
    resource_provider_packet_processing_with_direction: refused(LIST, [], 'Egress and ingress packet rates (kpps) reported to placement.',
      'placement would promise a minimum packet rate, which no OVS agent enforces (Neutron 21 does not either)'),
  },
  securitygroup: {
    enable_ipset: ignored(BOOL, true, 'Use ipsets in iptables rules.', 'iptables_hybrid always matches remote groups with ipsets (Neutron\'s default); false, a rule per member, is not done'),
  },
  dhcp: {
    enable_ipv6: ignored(BOOL, true, 'DHCPv6 flows of the dhcp extension.', NO_DHCP),
    dhcp_renewal_time: ignored(INT, 0, 'DHCP renewal time of the dhcp extension.', NO_DHCP),
    dhcp_rebinding_time: ignored(INT, 0, 'DHCP rebinding time of the dhcp extension.', NO_DHCP),
  },
  network_log: {
    rate_limit: ignored(INT, 100, 'Packets logged per second.', NO_LOG_EXT),
    burst_limit: ignored(INT, 25, 'Logged packets in a burst.', NO_LOG_EXT),
    local_output_log_base: ignored(STR, undefined, 'Log file of security group logging.', NO_LOG_EXT),
  },
  local_ip: {
    static_nat: ignored(BOOL, false, 'Static NAT for the local_ip extension.', 'the local_ip extension does not run here ([agent] extensions accepts only qos and trunk)'),
  },
  oslo_messaging_rabbit: {
    heartbeat_in_pthread: ignored(BOOL, false, 'Send heartbeats from a native thread.', 'heartbeats are sent by the agent\'s event loop; it has no green threads to starve them'),
    heartbeat_rate: ignored(INT, 2, 'Heartbeat checks per heartbeat_timeout_threshold.', 'heartbeats follow the interval negotiated with the broker'),
    kombu_reconnect_delay: ignored(FLOAT, 1.0, 'Seconds before reconnecting after a consumer cancel.', RABBIT_HARMLESS,
      { deprecated: [{ group: 'DEFAULT', name: 'kombu_reconnect_delay' }] }),
    kombu_compression: ignored(STR, undefined, 'Compress sent messages (gzip, bz2...).', 'messages are sent uncompressed, which every receiver reads'),
    kombu_missing_consumer_retry_timeout: ignored(INT, 60, 'Seconds to retry a reply whose consumer is gone.', 'a reply is sent once',
      { deprecated: [{ name: 'kombu_reconnect_timeout' }] }),
    kombu_failover_strategy: ignored(STR, 'round-robin', 'Which of several transport_url hosts to try next.', 'the hosts of transport_url are tried in turn (round-robin)'),
    rabbit_login_method: refused(STR, 'AMQPLAIN', 'AMQP login method: PLAIN, AMQPLAIN, EXTERNAL, RABBIT-CR-DEMO.',
      'the agent logs in with PLAIN (user and password of transport_url, which AMQPLAIN also carries); EXTERNAL and RABBIT-CR-DEMO are not implemented',
      { harmless: ['PLAIN'], deprecated: [{ group: 'DEFAULT', name: 'rabbit_login_method' }] }),
    rabbit_qos_prefetch_count: ignored(INT, 0, 'Unacknowledged messages the broker may send (basic.qos).', 'messages are taken as they come (no prefetch limit)'),
    direct_mandatory_flag: ignored(BOOL, true, 'Mandatory flag on direct sends (deprecated).', 'replies are sent without it'),
    enable_cancel_on_failover: ignored(BOOL, false, 'x-cancel-on-ha-failover on consumers of mirrored queues.', 'consumers are declared without it'),
  },
  oslo_messaging_notifications: {
    driver: ignored({ kind: 'multi' }, [], 'Notification drivers (messaging, log...).', NO_NOTIFICATIONS,
      { deprecated: [{ group: 'DEFAULT', name: 'notification_driver' }] }),
    transport_url: ignored(STR, undefined, 'Transport of notifications.', NO_NOTIFICATIONS,
      { secret: true, deprecated: [{ group: 'DEFAULT', name: 'notification_transport_url' }] }),
    topics: ignored(LIST, ['notifications'], 'Notification topics.', NO_NOTIFICATIONS,
      { deprecated: [{ group: 'rpc_notifier2', name: 'topics' }, { group: 'DEFAULT', name: 'notification_topics' }] }),
    retry: ignored(INT, -1, 'Notification send retries.', NO_NOTIFICATIONS),
  },
} as const satisfies Record<string, Record<string, NotHonouredSpec>>;
