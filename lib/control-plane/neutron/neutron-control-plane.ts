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
 * - A device lookup never waits for the server: devices whose details (port,
 *   network, security group data) are cached are answered at once, the
 *   others are returned `deferred`, pulled in the background, and announced
 *   with `ports_updated` once they can be answered. So one slow or lost
 *   bulk_pull holds only the ports that need it.
 * - A port is reported only when its status changes or the server asks: a
 *   device is left out of update_device_list when this process last
 *   reported it with the same status and the server has not changed it
 *   since, or, never reported by this process (the agent's first pass after
 *   a restart), when the server's port, as the cache has it, is bound here
 *   with that status. Re-wiring a port (a security group change, an l2pop
 *   event) is not a status change. The Python agent reports every port it
 *   processes again, costing the server a provisioning round per port.
 * - What a port bound here will need (its network, its groups' rules and
 *   members) is pulled as soon as the server pushes the port, before it is
 *   plugged, and the device details' pulls run alongside: the agent's pass
 *   then finds it cached instead of waiting for bulk_pull round trips.
 */
import { BrokerConnection, type TlsOptions } from './broker-connection.js';
import { configError, NeutronErrorCode } from './errors.js';
import { stderrLogger, type Logger } from './logger.js';
import type { WaitReporter } from '../../waits.js';
import { CACHED_TYPES, RESOURCE_VERSIONS, type CachedType, type PortObject } from './ovo.js';
import { deviceLookup } from './port-details.js';
import { ResourceCache, type Change } from './resource-cache.js';
import { ReportWindow } from './report-window.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer, type Endpoint } from './rpc-server.js';
import { securityGroupInfo, unansweredGroups, warmSecurityGroups } from './security-groups.js';
import { reportStateArgs } from './state-report.js';
import { topicDeclaration, type TopicDeclaration, type TopicOptions } from './topic-declaration.js';
import { parseTransportUrl, redact } from './transport-url.js';
import { isObject } from './envelope.js';
import {
  ControlPlaneError,
  type AgentIdentity,
  type AgentStateReport,
  type ControlPlane,
  type ControlPlaneObserver,
  type ControlPlaneEvent,
  type ControlPlaneListener,
  type DeviceLookup,
  type DevicesDetailsReply,
  type FdbEntries,
  type FdbIpChanges,
  type NetworkType,
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
  rabbit?: RabbitOptions;
  /** Extra attempts of an idempotent call after an RPC timeout, each with a doubled timeout (2). */
  callRetries?: number;
  logger?: Logger;
  /** Told of the start-up waits (RabbitMQ, then neutron-server), so they are logged and shown in status. */
  waits?: WaitReporter;
}

const TOPIC_PLUGIN = 'q-plugin';
/** A deferred lookup still waiting this long is logged (with what it waits for). */
const WAIT_LOG_MS = 5000;
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
  /**
   * The status this process last reported for a device and the server took
   * (set when sent, dropped when refused or failed, or when the server
   * changes the port's status away from it): the agent's devices, bounded by
   * its ports (dropped on the port's delete).
   */
  private readonly sent = new Map<string, 'up' | 'down'>();
  /** Devices whose details are being pulled for a deferred lookup. */
  private readonly preparing = new Set<string>();
  /** Devices whose background lookup failed: the agent's next lookup gets them as failed (once). */
  private readonly lookupFailed = new Set<string>();
  /** Devices whose deferred lookup can be answered now, announced together on the next turn. */
  private readonly readyToAnnounce = new Set<string>();
  /** Networks whose full l2pop fdb table was asked for since start or the last reconnect (Neutron: iter_num == 0). */
  private readonly refreshedNetworks = new Set<string>();
  private running = false;
  /** update_device_list chunks out at the server (see report-window.ts). */
  private readonly reportWindow: ReportWindow;
  private readonly opts: Required<Omit<NeutronControlPlaneOptions, 'rabbit' | 'logger' | 'waits'>>;
  private readonly waits: WaitReporter | undefined;
  private readonly declaration: TopicDeclaration;
  /** rabbit_transient_queues_ttl (s): the reply and fanout queues' x-expires. */
  private readonly transientTtl: number;

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
      callRetries: options.callRetries ?? 2,
    };
    this.reportWindow = new ReportWindow(this.opts.rpcResponseTimeout);
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
      logger: this.logger,
    });
    this.rpc = new RpcClient(this.conn, {
      exchange: this.opts.controlExchange,
      responseTimeout: this.opts.rpcResponseTimeout,
      responseMaxTimeout: this.opts.rpcResponseMaxTimeout,
      transientQueueTtl: this.transientTtl,
      exchangeDeclaration: this.declaration.exchange,
      logger: this.logger,
    });
    this.cache = new ResourceCache((type, filter) => this.bulkPull(type, filter), this.logger, (changes) => this.emitChanges(changes));
    this.conn.onUp((reconnected) => {
      if (!reconnected) return;
      // Pushes may have been lost while we were away: what is cached is asked again when used (in the
      // background, it is still served), and the agent's resync uses all of it.
      this.cache.markStale();
      this.refreshedNetworks.clear();
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

  /** Objects in the resource cache, per type (status and tests). */
  cacheSizes(): Record<string, number> {
    return Object.fromEntries(CACHED_TYPES.map((t) => [t, this.cache.size(t)]));
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

  /**
   * Answers from the cache at once. A device whose port, network or security
   * group data was never pulled is returned in `deferred`: it is pulled in
   * the background and announced with `ports_updated` when it can be
   * answered (or when its pull failed: it is then `failed` once).
   */
  async getDevicesDetails(devices: string[]): Promise<DevicesDetailsReply> {
    const host = this.requireIdentity().host;
    const reply: DevicesDetailsReply = { devices: [], failed: [], deferred: [] };
    const answers = new Map<string, DeviceLookup>();
    const bound: Array<{ device: string; port: PortObject }> = [];
    const waiting: string[] = [];
    for (const device of devices) {
      if (this.lookupFailed.delete(device)) reply.failed.push(device);
      else if (this.preparing.has(device) || !this.cache.answered('Port', 'id', device)) waiting.push(device);
      else {
        const port = this.cache.peek('Port', device);
        const lookup = deviceLookup(device, port, undefined, host);
        if (lookup.kind === 'bound') bound.push({ device, port: port! });
        else answers.set(device, lookup);
      }
    }
    const ports = bound.map((b) => b.port);
    const unanswered = unansweredGroups(this.cache, [...new Set(ports.flatMap((p) => p.securityGroupIds))]);
    for (const { device, port } of bound) {
      if (!this.cache.answered('Network', 'id', port.networkId) || port.securityGroupIds.some((g) => unanswered.has(g))) waiting.push(device);
      else answers.set(device, deviceLookup(device, port, this.cache.peek('Network', port.networkId), host));
    }
    for (const device of devices) {
      const lookup = answers.get(device);
      if (lookup) reply.devices.push(lookup);
    }
    // What a reconnect left stale is asked again (not waited for); what is missing is pulled for the deferred ones.
    const quiet = (err: Error) => this.logger.debug(`refresh: ${err.message}`);
    if (ports.length > 0) this.cache.getMany('Port', ports.map((p) => p.id)).catch(quiet);
    this.warm(ports, host);
    if (waiting.length > 0) {
      reply.deferred!.push(...waiting);
      this.prepare(waiting, host);
    }
    return reply;
  }

  /** Pulls what deferred devices need, each announced as soon as its own data is in. */
  private prepare(devices: string[], host: string): void {
    const todo = devices.filter((d) => !this.preparing.has(d));
    if (todo.length === 0) return;
    for (const d of todo) this.preparing.add(d);
    const waitLog = setTimeout(() => {
      const left = todo.filter((d) => this.preparing.has(d)).length;
      if (left > 0) this.logger.warn(`waiting for neutron-server: ${left} port(s) wait for their details (bulk_pull on ${TOPIC_PLUGIN}); the other ports are wired meanwhile`);
    }, WAIT_LOG_MS);
    waitLog.unref();
    const failures: Error[] = [];
    void Promise.all(todo.map(async (device) => {
      try {
        const port = (await this.cache.getMany('Port', [device])).get(device);
        if (port && deviceLookup(device, port, undefined, host).kind === 'bound') {
          await Promise.all([this.cache.getMany('Network', [port.networkId]), warmSecurityGroups(this.cache, port.securityGroupIds)]);
        }
      } catch (err) {
        failures.push(err as Error);
        this.lookupFailed.add(device);
      } finally {
        this.preparing.delete(device);
        this.announceReady(device);
      }
    })).then(() => {
      clearTimeout(waitLog);
      if (failures.length > 0 && this.running) this.logger.warn(`device details: ${failures.length} device(s) failed: ${failures[0].message}`);
    });
  }

  private announceReady(device: string): void {
    if (this.readyToAnnounce.size === 0) {
      // Devices answered by one pull are announced together: the agent wires them in one pass.
      setImmediate(() => {
        const portIds = [...this.readyToAnnounce];
        this.readyToAnnounce.clear();
        if (this.running) this.emit({ type: 'ports_updated', portIds });
      });
    }
    this.readyToAnnounce.add(device);
  }

  /**
   * Reports ports up and down in chunks of rpc_resources_processing_step, a
   * few chunks in flight; a chunk that fails even after retries counts all
   * its devices as failed. Devices whose status would not change are left
   * out (see the module comment). `refreshTunnels` asks the server (l2pop) for the full fdb
   * tables; by default (with l2_population) one port per network is sent
   * with it after start or a reconnect, as Neutron's iteration 0 does with
   * every port (the server sends the network's whole table per port asking).
   */
  async updateDeviceList(up: string[], down: string[], options: { refreshTunnels?: boolean } = {}): Promise<UpdateDeviceListReply> {
    const { host, agentId } = this.requireIdentity();
    const step = this.opts.rpcResourcesProcessingStep;
    const sendUp = up.filter((id) => !this.unchanged(id, 'up', host));
    const sendDown = down.filter((id) => !this.unchanged(id, 'down', host));
    const chunks: Array<{ up: string[]; down: string[]; refresh: boolean }> = [];
    if (options.refreshTunnels === undefined && this.opts.l2Population) {
      // The first port reported up per network since start (or a reconnect), skipped or not, goes in a first
      // chunk that asks for the full fdb tables: l2pop sends a network's table per port asking, so one is enough.
      const reps = new Map<string, string>();
      for (const id of up) {
        const net = this.cache.peek('Port', id)?.networkId;
        if (net !== undefined && !this.refreshedNetworks.has(net) && !reps.has(net)) reps.set(net, id);
      }
      const repIds = [...reps.values()];
      for (let i = 0; i < repIds.length; i += step) chunks.push({ up: repIds.slice(i, i + step), down: [], refresh: true });
      const rest = sendUp.filter((id) => !repIds.includes(id));
      sendUp.length = 0;
      sendUp.push(...rest);
    }
    const refresh = options.refreshTunnels ?? false;
    for (let i = 0; i < Math.max(sendUp.length, sendDown.length); i += step) {
      chunks.push({ up: sendUp.slice(i, i + step), down: sendDown.slice(i, i + step), refresh });
    }
    const reply: UpdateDeviceListReply = { failedUp: [], failedDown: [] };
    // Every chunk asks the window at once, so they go out in order as soon as the server can take them.
    // Skipped devices count as reported: the server has them right.
    for (const id of up) if (!sendUp.includes(id)) this.sent.set(id, 'up');
    for (const id of down) if (!sendDown.includes(id)) this.sent.set(id, 'down');
    await Promise.all(chunks.map(async (chunk) => {
      const ticket = await this.reportWindow.acquire(Math.max(chunk.up.length + chunk.down.length, 1));
      // Set when sent: a push of the status it sets, arriving before the answer, is then recognised as ours.
      for (const id of chunk.up) this.sent.set(id, 'up');
      for (const id of chunk.down) this.sent.set(id, 'down');
      let answered = false;
      try {
        const r = await this.callWithRetries<Record<string, unknown>>(TOPIC_PLUGIN, 'update_device_list', {
          devices_up: chunk.up,
          devices_down: chunk.down,
          agent_id: agentId,
          host,
          refresh_tunnels: chunk.refresh,
        }, '1.9');
        answered = true;
        const failedUp = stringList(r?.failed_devices_up);
        const failedDown = stringList(r?.failed_devices_down);
        reply.failedUp.push(...failedUp);
        reply.failedDown.push(...failedDown);
        for (const id of [...chunk.up, ...chunk.down]) {
          if (failedUp.includes(id) || failedDown.includes(id)) {
            this.sent.delete(id);
            continue;
          }
          const net = chunk.refresh ? this.cache.peek('Port', id)?.networkId : undefined;
          if (net !== undefined) this.refreshedNetworks.add(net);
        }
      } catch (err) {
        if (!(err instanceof ControlPlaneError) || !err.retriable) this.logger.error(`update_device_list: ${(err as Error).message}`);
        for (const id of [...chunk.up, ...chunk.down]) this.sent.delete(id);
        reply.failedUp.push(...chunk.up);
        reply.failedDown.push(...chunk.down);
      } finally {
        this.reportWindow.release(ticket, answered);
      }
    }));
    return reply;
  }

  /**
   * True when reporting `status` would tell the server nothing: this process
   * last reported it so (and the server has not changed it since), or never
   * reported it and the server's port, as cached, is bound here with it.
   */
  private unchanged(device: string, status: 'up' | 'down', host: string): boolean {
    const last = this.sent.get(device);
    if (last !== undefined) return last === status;
    const port = this.cache.peek('Port', device);
    return port !== undefined && port.status === serverStatus(status) && port.bindings.some((b) => b.status === 'ACTIVE' && b.host === host);
  }

  /** A status-only change of a port we last reported up, away from ACTIVE (e.g. DOWN or BUILD). */
  private serverChangedStatus(id: string, oldPort: PortObject, newPort: PortObject): boolean {
    return this.sent.get(id) === 'up' && oldPort.status === 'ACTIVE' && newPort.status !== 'ACTIVE';
  }

  /** Starts pulling (not awaited) the networks and security group data these ports will need. */
  private warm(ports: PortObject[], host: string): void {
    const mine = ports.filter((p) => p.bindings.some((b) => b.status === 'ACTIVE' && b.host === host));
    if (mine.length === 0) return;
    const networks = [...new Set(mine.filter((p) => p.segment).map((p) => p.networkId))];
    const groups = [...new Set(mine.flatMap((p) => p.securityGroupIds))];
    const quiet = (err: Error) => this.logger.debug(`prefetch: ${err.message}`);
    if (networks.length) this.cache.getMany('Network', networks).catch(quiet);
    if (groups.length) warmSecurityGroups(this.cache, groups).catch(quiet);
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
          logger: this.logger,
        }),
      );
    const push: Endpoint = {
      version: '1.1',
      methods: {
        push: (args) => this.onPush(args),
      },
    };
    for (const type of CACHED_TYPES) server(`neutron-vo-${type}-${RESOURCE_VERSIONS[type]}`, [push]);
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

  /** Turns cache changes into the events Neutron's agent derives from them (docs/neutron.md, "What the agent consumes", "Events"). */
  private emitChanges(changes: Change[]): void {
    const updatedPorts: string[] = [];
    const toWarm: PortObject[] = [];
    const sgs = new Set<string>();
    for (const c of changes) {
      switch (c.type) {
        case 'Port': {
          const oldPort = c.old as PortObject | undefined;
          const newPort = c.new as PortObject | undefined;
          if (!newPort) {
            this.sent.delete(c.id);
            this.lookupFailed.delete(c.id);
            this.emit({ type: 'port_deleted', portId: c.id });
          } else if (!oldPort || !sameButStatus(oldPort, newPort)) {
            updatedPorts.push(c.id);
          } else if (this.serverChangedStatus(c.id, oldPort, newPort)) {
            // The server moved the port away from what we reported (not our own report echoed back):
            // it asks for the status again.
            this.sent.delete(c.id);
            updatedPorts.push(c.id);
          }
          // Otherwise a status flip is the server acknowledging our own update_device_list: nothing to re-wire.
          if (!oldPort || !newPort || membershipChanged(oldPort, newPort)) {
            for (const sg of oldPort?.securityGroupIds ?? []) sgs.add(sg);
            for (const sg of newPort?.securityGroupIds ?? []) sgs.add(sg);
          }
          if (newPort && (!oldPort || !sameButStatus(oldPort, newPort))) toWarm.push(newPort);
          break;
        }
        case 'Network':
          if (c.new) this.emit({ type: 'network_updated', networkId: c.id });
          break;
        case 'SecurityGroupRule': {
          const rule = (c.new ?? c.old) as { securityGroupId: string } | undefined;
          if (rule) sgs.add(rule.securityGroupId);
          break;
        }
        case 'SecurityGroup':
          if (c.old && c.new && (c.old as { stateful: boolean }).stateful !== (c.new as { stateful: boolean }).stateful) sgs.add(c.id);
          break;
        case 'AddressGroup':
          for (const rule of this.cache.values('SecurityGroupRule')) if (rule.remoteAddressGroupId === c.id) sgs.add(rule.securityGroupId);
          break;
      }
    }
    if (toWarm.length > 0 && this.identity) this.warm(toWarm, this.identity.host);
    if (updatedPorts.length > 0) this.emit({ type: 'ports_updated', portIds: updatedPorts });
    if (sgs.size > 0) this.emit({ type: 'security_groups_updated', securityGroupIds: [...sgs] });
  }
}

function serverStatus(status: 'up' | 'down'): 'ACTIVE' | 'DOWN' {
  return status === 'up' ? 'ACTIVE' : 'DOWN';
}

function sameButStatus(a: PortObject, b: PortObject): boolean {
  return JSON.stringify({ ...a, revision: 0, status: '' }) === JSON.stringify({ ...b, revision: 0, status: '' });
}

function membershipChanged(a: PortObject, b: PortObject): boolean {
  return (
    JSON.stringify(a.securityGroupIds) !== JSON.stringify(b.securityGroupIds) ||
    JSON.stringify(a.fixedIps) !== JSON.stringify(b.fixedIps) ||
    JSON.stringify(a.allowedAddressPairs) !== JSON.stringify(b.allowedAddressPairs)
  );
}

function positive(v: number, name: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw configError(`${name} must be a positive number, got ${v}`);
  return v;
}

function requireString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new ControlPlaneError(`${where}: expected a string, got ${JSON.stringify(v)}`, NeutronErrorCode.DECODE, false);
  return v;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function pairList(v: unknown, where: string): Array<[string, string]> {
  if (!Array.isArray(v)) throw new ControlPlaneError(`${where}: expected a list of [mac, ip]`, NeutronErrorCode.DECODE, false);
  return v.map((p) => {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') {
      throw new ControlPlaneError(`${where}: bad [mac, ip] entry ${JSON.stringify(p)}`, NeutronErrorCode.DECODE, false);
    }
    return [p[0], p[1]];
  });
}

/** l2pop `fdb_entries` (docs/neutron.md, "l2population's fdb entries"). */
export function fdbEntries(v: unknown): FdbEntries {
  if (!isObject(v)) throw new ControlPlaneError('fdb_entries is not an object', NeutronErrorCode.DECODE, false);
  const out: FdbEntries = {};
  for (const [networkId, entry] of Object.entries(v)) {
    if (networkId === 'chg_ip') continue;
    if (!isObject(entry) || !isObject(entry.ports)) throw new ControlPlaneError(`fdb_entries ${networkId}: no ports`, NeutronErrorCode.DECODE, false);
    const ports: Record<string, Array<[string, string]>> = {};
    for (const [ip, pairs] of Object.entries(entry.ports)) ports[ip] = pairList(pairs, `fdb_entries ${networkId} ${ip}`);
    out[networkId] = {
      segmentId: Number(entry.segment_id),
      networkType: String(entry.network_type) as NetworkType,
      ports,
    };
  }
  return out;
}

/** l2pop update `{chg_ip: {net: {agent_ip: {before, after}}}}`. */
export function fdbChanges(v: unknown): FdbIpChanges {
  if (!isObject(v) || !isObject(v.chg_ip)) throw new ControlPlaneError('update_fdb_entries without chg_ip', NeutronErrorCode.DECODE, false);
  const out: FdbIpChanges = {};
  for (const [networkId, agents] of Object.entries(v.chg_ip)) {
    if (!isObject(agents)) continue;
    out[networkId] = {};
    for (const [ip, change] of Object.entries(agents)) {
      if (!isObject(change)) continue;
      out[networkId][ip] = {
        before: change.before === undefined ? [] : pairList(change.before, `chg_ip ${networkId} ${ip} before`),
        after: change.after === undefined ? [] : pairList(change.after, `chg_ip ${networkId} ${ip} after`),
      };
    }
  }
  return out;
}
