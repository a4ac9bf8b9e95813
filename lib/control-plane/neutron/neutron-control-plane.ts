/**
 * The ControlPlane on a real Neutron: oslo.messaging RPC over RabbitMQ, as
 * neutron-openvswitch-agent 21.0.0 speaks it (docs/neutron.md, "The
 * contract with neutron-server").
 *
 * - Device details and security group info come from the resource cache
 *   (pushes on `neutron-vo-*`, `bulk_pull` on a miss), never from the old
 *   per-device RPCs, which would also flip ports to BUILD.
 * - Consumed notifications: tunnel_update/delete, l2population fdb
 *   add/remove/update (fanout and the `.<host>` queue the full table comes
 *   on), and the pushes, turned into the agent's events.
 * - A lost connection is recovered on any host of transport_url; the cache
 *   is then marked stale (served as it is, asked again in the background when
 *   used) and the agent told to `resync` (docs/neutron.md, "Reconnecting").
 * - A device lookup never waits for the server, and what a port will need
 *   is pulled as soon as the server pushes it (device-lookups.ts).
 * - A port is reported only when its status changes or the server asks
 *   (device-status.ts).
 *
 * Longer than 400 lines: it composes the parts (each in its own module, the
 * trunk RPCs in trunk-rpc.ts) and every one adds its few lines of wiring here.
 */
import { BrokerConnection, type TlsOptions } from './broker-connection.js';
import { configError, NeutronErrorCode } from './errors.js';
import { stderrLogger, sub, type Logger } from './logger.js';
import type { WaitReporter } from '../../waits.js';
import { CACHED_TYPES, RESOURCE_VERSIONS, type CachedType } from './ovo.js';
import { DeviceLookups } from './device-lookups.js';
import { ResourceCache, type Change } from './resource-cache.js';
import { DeviceStatusReports } from './device-status.js';
import { eventsOfChanges } from './cache-events.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer, type Endpoint } from './rpc-server.js';
import { securityGroupInfo } from './security-groups.js';
import { reportStateArgs } from './state-report.js';
import { topicDeclaration, type TopicDeclaration, type TopicOptions } from './topic-declaration.js';
import { parseTransportUrl, redact } from './transport-url.js';
import { isObject } from './envelope.js';
import { fdbChanges, fdbEntries } from './fdb-entries.js';
import { NeutronTrunkRpc } from './trunk-rpc.js';
import {
  ControlPlaneError,
  type AgentIdentity,
  type AgentStateReport, type ResourceCacheStats,
  type ControlPlane,
  type ControlPlaneObserver,
  type ControlPlaneEvent,
  type ControlPlaneListener,
  type DevicesDetailsReply,
  type ReportStateReply,
  type SecurityGroupInfo,
  type TunnelEndpoint,
  type TunnelType,
  type UpdateDeviceListReply,
} from '../types.js';

/** `[oslo_messaging_rabbit]`, with oslo's defaults (options.ts maps the agent's configuration here). */
export interface RabbitOptions {
  /** `ssl` on: how (options.ts); undefined: no TLS. */
  tls?: TlsOptions;
  /** Seconds (60). */
  heartbeatTimeoutThreshold?: number;
  /** Seconds: first reconnect delay (1), its growth per attempt (2), its cap (30). */
  retryInterval?: number;
  retryBackoff?: number;
  intervalMax?: number;
  /** Seconds unused reply and fanout queues live (1800). */
  transientQueuesTtl?: number;
  /**
   * How the control exchange and topic queues are declared: amqp_durable_queues,
   * amqp_auto_delete, rabbit_ha_queues, rabbit_quorum_queue and its limits
   * (topic-declaration.ts). They must be what the servers use.
   */
  topics?: TopicOptions;
}

export interface NeutronControlPlaneOptions {
  /** `[DEFAULT] transport_url`, e.g. `rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost`. */
  transportUrl: string;
  /** `[DEFAULT] control_exchange` (neutron). */
  controlExchange?: string;
  /** `[DEFAULT] rpc_response_timeout`, seconds (60). */
  rpcResponseTimeout?: number;
  /** `[DEFAULT] rpc_response_max_timeout`, seconds (600). */
  rpcResponseMaxTimeout?: number;
  /** `[DEFAULT] rpc_resources_processing_step`: devices per update_device_list call (20). */
  rpcResourcesProcessingStep?: number;
  /** `[agent] report_interval`, seconds (30): the report_state call's timeout. */
  reportInterval?: number;
  /** `[agent] l2_population`: consume the l2population fdb notifications. */
  l2Population?: boolean;
  /** `[agent] extensions = qos`: consume QosPolicy pushes, and give ports their policy (docs/qos.md). */
  qos?: boolean;
  /** `[agent] extensions = trunk`: the trunk RPCs and the Trunk/SubPort pushes (docs/trunk.md). */
  trunk?: boolean;
  rabbit?: RabbitOptions;
  /** Extra attempts of an idempotent call after an RPC timeout, each with a doubled timeout (2). */
  callRetries?: number;
  logger?: Logger;
  /** Told of the start-up waits (RabbitMQ, then neutron-server), so they are logged and shown in status. */
  waits?: WaitReporter;
}

const TOPIC_PLUGIN = 'q-plugin';
const TOPIC_REPORTS = 'q-reports-plugin';
const AGENT_NOTIFIER = 'q-agent-notifier';

export class NeutronControlPlane implements ControlPlane {
  private readonly listeners = new Set<ControlPlaneListener>();
  private readonly logger: Logger;
  private readonly conn: BrokerConnection;
  private readonly rpc: RpcClient;
  private readonly cache: ResourceCache;
  private readonly servers: RpcServer[] = [];
  private identity: AgentIdentity | undefined;
  private reportedOnce = false;
  private readonly lookups: DeviceLookups;
  private running = false;
  private readonly deviceStatus: DeviceStatusReports;
  private readonly opts: Required<Omit<NeutronControlPlaneOptions, 'rabbit' | 'logger' | 'waits'>>;
  private readonly waits: WaitReporter | undefined;
  private readonly declaration: TopicDeclaration;
  /** rabbit_transient_queues_ttl (s): the reply and fanout queues' x-expires. */
  private readonly transientTtl: number;
  /** With `trunk`: what the trunk extension asks of the server and hears from it (docs/trunk.md). */
  readonly trunk: NeutronTrunkRpc | undefined;

  constructor(options: NeutronControlPlaneOptions) {
    this.logger = options.logger ?? stderrLogger;
    this.waits = options.waits;
    this.opts = {
      transportUrl: options.transportUrl,
      controlExchange: options.controlExchange ?? 'neutron',
      rpcResponseTimeout: positive(options.rpcResponseTimeout ?? 60, 'rpc_response_timeout'),
      rpcResponseMaxTimeout: positive(options.rpcResponseMaxTimeout ?? 600, 'rpc_response_max_timeout'),
      rpcResourcesProcessingStep: positive(options.rpcResourcesProcessingStep ?? 20, 'rpc_resources_processing_step'),
      reportInterval: options.reportInterval ?? 30,
      l2Population: options.l2Population ?? false,
      qos: options.qos ?? false,
      trunk: options.trunk ?? false,
      callRetries: options.callRetries ?? 2,
    };
    const rabbit = options.rabbit ?? {};
    this.declaration = topicDeclaration(rabbit.topics);
    this.transientTtl = rabbit.transientQueuesTtl ?? 1800;
    const url = parseTransportUrl(options.transportUrl);
    if (url.hasQuery) this.logger.warn('[DEFAULT] transport_url: its query parameters are ignored (as by oslo.messaging\'s rabbit driver)');
    this.conn = new BrokerConnection({
      url,
      tls: rabbit.tls,
      heartbeat: rabbit.heartbeatTimeoutThreshold ?? 60,
      retryInterval: rabbit.retryInterval ?? 1,
      retryBackoff: rabbit.retryBackoff ?? 2,
      intervalMax: rabbit.intervalMax ?? 30,
      logger: sub(this.logger, 'ovs_agent.control_plane.neutron.broker'),
    });
    this.rpc = new RpcClient(this.conn, {
      exchange: this.opts.controlExchange,
      responseTimeout: this.opts.rpcResponseTimeout,
      responseMaxTimeout: this.opts.rpcResponseMaxTimeout,
      transientQueueTtl: this.transientTtl,
      exchangeDeclaration: this.declaration.exchange,
      logger: sub(this.logger, 'ovs_agent.control_plane.neutron.rpc_client'),
    });
    this.trunk = this.opts.trunk ? new NeutronTrunkRpc((t, m, a, o) => this.rpc.call(t, m, a, o), TOPIC_PLUGIN) : undefined;
    this.cache = new ResourceCache((type, filter) => this.bulkPull(type, filter), sub(this.logger, 'ovs_agent.control_plane.neutron.resource_cache'), (changes) => this.emitChanges(changes));
    this.lookups = new DeviceLookups({ cache: this.cache, logger: this.logger, qos: this.opts.qos, running: () => this.running,
      announce: (portIds) => this.emit({ type: 'ports_updated', portIds }) });
    this.deviceStatus = new DeviceStatusReports({
      cache: this.cache,
      step: this.opts.rpcResourcesProcessingStep,
      l2Population: this.opts.l2Population,
      responseTimeout: this.opts.rpcResponseTimeout,
      logger: this.logger,
      call: (args) => this.callWithRetries<Record<string, unknown>>(TOPIC_PLUGIN, 'update_device_list', args, '1.9'),
    });
    this.conn.onUp((reconnected) => {
      if (!reconnected) return;
      // Pushes may have been lost while we were away: what is cached is asked again when used (in the
      // background, it is still served), and the agent's resync uses all of it.
      this.cache.markStale();
      this.deviceStatus.reconnected();
      this.emit({ type: 'resync', reason: `reconnected to RabbitMQ ${this.conn.broker ?? ''}`.trim() });
    });
  }

  /** The RabbitMQ connection's ups and downs and every RPC's outcome, to `o` (lib/observe). */
  observe(o: ControlPlaneObserver): void {
    this.conn.onUp(() => o.session(true));
    this.conn.onDown((why) => o.session(false, new Error(`lost RabbitMQ ${why}`)));
    this.rpc.observeCalls((method, seconds, outcome) => o.rpc(method, seconds, outcome));
  }

  /** The broker in use (`host:port`), if connected. */
  get broker(): string | undefined {
    return this.conn.broker;
  }

  /** Whether the resource cache holds this object now (status and tests). */
  isCached(type: CachedType, id: string): boolean {
    return this.cache.peek(type, id) !== undefined;
  }

  /** The resource cache: objects and bulk_pulls asked, per type (metrics, tests). */
  resourceCacheStats(): ResourceCacheStats {
    return this.cache.stats(CACHED_TYPES);
  }

  async start(identity: AgentIdentity): Promise<void> {
    if (this.running) throw new ControlPlaneError('the Neutron control plane is already started', NeutronErrorCode.BAD_CONFIG, false);
    if (!identity.host) throw configError('the agent has no host name');
    this.identity = identity;
    this.running = true;
    this.createServers(identity.host);
    this.logger.info(`connecting to ${redact(this.opts.transportUrl)}`);
    const rabbit = this.waits?.begin('RabbitMQ', redact(this.opts.transportUrl), '[DEFAULT] transport_url');
    await this.conn.start().then(() => rabbit?.done(), (err: unknown) => {
      rabbit?.cancel();
      throw err;
    });
    const server = this.waits?.begin('neutron-server', `RabbitMQ ${this.conn.broker ?? ''}`.trim(), `has_alive_neutron_server on ${TOPIC_REPORTS}`);
    await this.waitForServer((err) => server?.note(err)).then(() => (this.running ? server?.done() : server?.cancel()), (err: unknown) => {
      server?.cancel();
      throw err;
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.rpc.stop();
    await this.conn.stop();
  }

  /** Drops the broker connection as a network failure would (tests). */
  async dropConnection(): Promise<void> {
    await this.conn.kill();
  }

  onEvent(listener: ControlPlaneListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async getDevicesDetails(devices: string[]): Promise<DevicesDetailsReply> {
    return this.lookups.lookup(devices, this.requireIdentity().host);
  }

  /** Reports ports up and down (device-status.ts says which are sent and how). */
  updateDeviceList(up: string[], down: string[], options: { refreshTunnels?: boolean } = {}): Promise<UpdateDeviceListReply> {
    return this.deviceStatus.report(this.requireIdentity(), up, down, options);
  }

  async tunnelSync(localIp: string, tunnelType: TunnelType): Promise<TunnelEndpoint[]> {
    const { host } = this.requireIdentity();
    const r = await this.callWithRetries<Record<string, unknown>>(TOPIC_PLUGIN, 'tunnel_sync', { tunnel_ip: localIp, tunnel_type: tunnelType, host }, '1.4');
    const tunnels = Array.isArray(r?.tunnels) ? r.tunnels : [];
    const out: TunnelEndpoint[] = [];
    for (const t of tunnels) {
      if (!isObject(t) || typeof t.ip_address !== 'string') continue;
      const ep: TunnelEndpoint = { ipAddress: t.ip_address };
      if (typeof t.host === 'string') ep.host = t.host;
      if (typeof t.udp_port === 'number') ep.udpPort = t.udp_port;
      out.push(ep);
    }
    return out;
  }

  securityGroupInfo(devices: string[]): Promise<SecurityGroupInfo> {
    this.requireIdentity();
    return securityGroupInfo(this.cache, devices);
  }

  async reportState(report: AgentStateReport): Promise<ReportStateReply> {
    const identity = this.requireIdentity();
    const timeout = this.opts.reportInterval > 0 ? this.opts.reportInterval : this.opts.rpcResponseTimeout;
    const reply = await this.rpc.call(TOPIC_REPORTS, 'report_state', reportStateArgs(identity, report, !this.reportedOnce), { version: '1.2', timeout });
    this.reportedOnce = true;
    return reply === 'new' || reply === 'alive' || reply === 'revived' ? reply : null;
  }

  private requireIdentity(): AgentIdentity {
    if (!this.identity || !this.running) throw new ControlPlaneError('the Neutron control plane is not started', NeutronErrorCode.STOPPED, false);
    return this.identity;
  }

  private emit(event: ControlPlaneEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(`event listener failed on ${event.type}: ${(err as Error).message}`);
      }
    }
  }

  /** Neutron's start: has_alive_neutron_server until it answers (docs/neutron.md, "Calls the agent makes"). */
  private async waitForServer(onRetry?: (err: Error) => void): Promise<void> {
    while (this.running) {
      try {
        await this.rpc.call(TOPIC_REPORTS, 'has_alive_neutron_server', {}, { version: '1.2', timeout: this.opts.rpcResponseTimeout });
        return;
      } catch (err) {
        if (!(err instanceof ControlPlaneError) || !err.retriable) throw err;
        onRetry?.(err);
        this.logger.warn(`waiting for neutron-server: ${err.message}`);
      }
    }
  }

  private async callWithRetries<T>(topic: string, method: string, args: Record<string, unknown>, version: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.rpc.call<T>(topic, method, args, { version });
      } catch (err) {
        // The RPC client already paused and doubled the method's timeout.
        if (!(err instanceof ControlPlaneError) || !err.retriable || attempt >= this.opts.callRetries || !this.running) throw err;
        this.logger.warn(`${method}: ${err.message}; retrying (${attempt + 1}/${this.opts.callRetries})`);
      }
    }
  }

  private bulkPull(type: string, filter: Record<string, string[]>): Promise<unknown[]> {
    const version = RESOURCE_VERSIONS[type as keyof typeof RESOURCE_VERSIONS];
    return this.callWithRetries<unknown>(TOPIC_PLUGIN, 'bulk_pull', { resource_type: type, version, filter_kwargs: filter }, '1.1').then((r) =>
      Array.isArray(r) ? r : [],
    );
  }

  private createServers(host: string): void {
    const server = (topic: string, endpoints: Endpoint[]) =>
      this.servers.push(
        new RpcServer(this.conn, {
          exchange: this.opts.controlExchange,
          topic,
          host,
          endpoints,
          transientQueueTtl: this.transientTtl,
          declaration: this.declaration,
          logger: sub(this.logger, 'ovs_agent.control_plane.neutron.rpc_server'),
        }),
      );
    const push: Endpoint = {
      version: '1.1',
      methods: {
        push: (args) => this.onPush(args),
      },
    };
    for (const type of CACHED_TYPES) if (type !== 'QosPolicy' || this.opts.qos) server(`neutron-vo-${type}-${RESOURCE_VERSIONS[type]}`, [push]);
    for (const c of this.trunk?.consumers() ?? []) server(c.topic, [c.endpoint]);
    const agent: Endpoint = { version: '1.7', methods: this.agentMethods(host) };
    const topics = [`${AGENT_NOTIFIER}-tunnel-update`, `${AGENT_NOTIFIER}-tunnel-delete`];
    if (this.opts.l2Population) topics.push(`${AGENT_NOTIFIER}-l2population-update`);
    for (const topic of topics) server(topic, [agent]);
  }

  private agentMethods(host: string): Endpoint['methods'] {
    const forUs = (args: Record<string, unknown>) => typeof args.host !== 'string' || args.host === host;
    return {
      tunnel_update: (args) => {
        const tunnelIp = requireString(args.tunnel_ip, 'tunnel_update tunnel_ip');
        const tunnelType = requireString(args.tunnel_type, 'tunnel_update tunnel_type') as TunnelType;
        this.emit({ type: 'tunnel_update', tunnelIp, tunnelType, ...(typeof args.host === 'string' ? { host: args.host } : {}) });
      },
      tunnel_delete: (args) => {
        const tunnelIp = requireString(args.tunnel_ip, 'tunnel_delete tunnel_ip');
        const tunnelType = requireString(args.tunnel_type, 'tunnel_delete tunnel_type') as TunnelType;
        this.emit({ type: 'tunnel_delete', tunnelIp, tunnelType });
      },
      add_fdb_entries: (args) => {
        if (forUs(args)) this.emit({ type: 'fdb_add', entries: fdbEntries(args.fdb_entries) });
      },
      remove_fdb_entries: (args) => {
        if (forUs(args)) this.emit({ type: 'fdb_remove', entries: fdbEntries(args.fdb_entries) });
      },
      update_fdb_entries: (args) => {
        if (forUs(args)) this.emit({ type: 'fdb_update', changes: fdbChanges(args.fdb_entries) });
      },
      // DVR is not supported; accepted so the server's fanouts are not errors.
      dvr_mac_address_update: () => undefined,
    };
  }

  private onPush(args: Record<string, unknown>): void {
    const list = args.resource_list;
    const eventType = args.event_type;
    if (!Array.isArray(list) || typeof eventType !== 'string') {
      throw new ControlPlaneError('push without resource_list or event_type', NeutronErrorCode.DECODE, false);
    }
    const changes = this.cache.applyPush(list, eventType);
    if (changes.length > 0) this.emitChanges(changes);
  }

  /** Turns cache changes into the agent's events (cache-events.ts). */
  private emitChanges(changes: Change[]): void {
    const { events, toWarm } = eventsOfChanges(changes, this.cache, this.deviceStatus, this.lookups);
    if (toWarm.length > 0 && this.identity) this.lookups.warm(toWarm, this.identity.host);
    for (const e of events) this.emit(e);
  }
}

function positive(v: number, name: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw configError(`${name} must be a positive number, got ${v}`);
  return v;
}

function requireString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new ControlPlaneError(`${where}: expected a string, got ${JSON.stringify(v)}`, NeutronErrorCode.DECODE, false);
  return v;
}

