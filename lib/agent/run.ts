/**
 * Assembles a running agent from its configuration: the OVSDB replica, one
 * OpenFlow channel per bridge, the control plane, the firewall, the status
 * socket. `bin/ovs-agent run` is this plus signal handling and exit codes
 * (exit-codes.ts).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseRemote } from '@ovs-agent/ovsdb';
import type { SslOptions } from '@ovs-agent/ovsdb';
import { ConfigError, type AgentConfig } from '../config/index.js';
import { parseMetricsAddress, type ListenAddress } from '../observe/address.js';
import { LocalControlPlane } from '../control-plane/local/index.js';
import { ControlPlaneError, type ControlPlane } from '../control-plane/types.js';
import type { Firewall } from '../firewall/index.js';
import { createFirewallFromConfig } from './firewall-config.js';
import { named, type Logger } from '../log.js';
import { WaitTimeoutError, Waits, type Wait, type WaitReporter } from '../waits.js';
import { OvsAgent, type PassSummary } from './agent.js';
import { OpenFlowController } from '@ovs-agent/openflow';
import { OpenFlowBridgeChannel } from './ovs/openflow-channel.js';
import { bridgeClaimChecker, listenAddressWarning, newSwitchDescription, refusalLog } from './ovs/controller-trust.js';
import { ReplicaDatabase } from './ovs/replica-database.js';
import { ExitCode, FatalError } from './exit-codes.js';
import { StatusServer, startingReport } from './status-socket.js';
import { ovsdbSslOptions } from './ovs/ovsdb-ssl.js';
import type { Observing } from '../observe/start.js';

export interface RunningAgent {
  agent: OvsAgent;
  db: ReplicaDatabase;
  controlPlane: ControlPlane;
  status: StatusServer | undefined;
  /** The waits on dependencies in progress (reconnections after start). */
  waits: Waits;
  /** The OpenFlow listener the bridges connect to (`openflow_channel = controller` only). */
  controller: OpenFlowController | undefined;
  /** The health and metrics listener (`[ovs_agent] metrics_address`), when set. */
  observe: Observing | undefined;
  stop(): Promise<void>;
}

export interface RunOptions {
  config: AgentConfig;
  logger: Logger;
  /** Another control plane (e.g. Neutron's); default: the local desired-state file. */
  controlPlane?: ControlPlane;
  onPass?: (s: PassSummary) => void;
  /** Default true. */
  statusSocket?: boolean;
  /** Aborting stops start-up wherever it is: runAgent rejects with the signal's reason, having closed what it opened. */
  signal?: AbortSignal;
  /**
   * Told of an error after start that leaves the agent unable to work (OVSDB lost a table or
   * column the agent reads; the control plane gave up for good): stop, and exit with its code.
   */
  onFatal?: (err: FatalError) => void;
  /** Where waits on dependencies are reported (default: a new Waits logging to `logger`). */
  waits?: Waits;
  /** @internal How OVS restarts are noticed (AgentOptions.restartDetection; benchmarks compare the two). */
  restartDetection?: 'events' | 'poll';
  /** @internal A prefix for the iptables_hybrid driver's commands (tests: `ip netns exec NS`). */
  netfilterPrefix?: readonly string[];
}

/** The control plane the configuration names: the local desired-state file, or Neutron over RabbitMQ. */
export async function createControlPlane(config: AgentConfig, log: Logger, waits?: WaitReporter): Promise<ControlPlane> {
  if (config.ovs_agent.control_plane === 'neutron') {
    const { createNeutronControlPlane, neutronOptionsFromConfig } = await import('../control-plane/neutron/index.js');
    const logger = named(log, 'ovs_agent.control_plane.neutron');
    return createNeutronControlPlane({ ...neutronOptionsFromConfig(config, logger), waits });
  }
  return new LocalControlPlane({
    file: config.ovs_agent.state_file,
    onError: (err) => log.error(`desired-state file rejected, keeping the current wiring: ${err.message}`),
    onLoad: (s) => log.info(`desired state loaded: ${s.networks.size} networks, ${s.ports.size} ports`),
  });
}

/** The bridge's datapath id once ovs-vswitchd has written it. */
async function waitForDatapathId(db: ReplicaDatabase, bridge: string, timeoutMs: number): Promise<bigint> {
  const id = await db.replica.waitFor(() => db.bridge(bridge)?.datapathId, { timeoutMs, what: `the datapath id of ${bridge}` });
  return BigInt(`0x${id}`);
}

/** Where ovs-vswitchd listens for OpenFlow on a bridge. */
export function openflowAddress(config: AgentConfig, bridge: string): string {
  return `unix:${join(config.ovs_agent.ovs_rundir, `${bridge}.mgmt`)}`;
}

/**
 * The parts of the configuration that cannot work, found before anything is opened: the
 * firewall driver, the OVSDB remote's syntax, the control plane's options (transport_url).
 * Each is a ConfigError naming the option.
 */
async function buildFromConfig(opts: RunOptions, waits: Waits): Promise<{
  firewall: Firewall; controlPlane: ControlPlane; ssl: SslOptions | undefined; metricsAt: ListenAddress | undefined;
}> {
  const { config, logger: log } = opts;
  const asConfigError = (option: string) => (err: unknown): never => {
    throw new ConfigError(`${option}: ${(err as Error).message}`, 'CONFIG_INVALID');
  };
  let firewall: Firewall;
  try {
    firewall = createFirewallFromConfig(config, log, opts.netfilterPrefix);
  } catch (err) {
    throw new ConfigError((err as Error).message, 'CONFIG_INVALID');
  }
  try {
    parseRemote(config.ovs.ovsdb_connection);
  } catch (err) {
    asConfigError('[ovs] ovsdb_connection')(err);
  }
  let metricsAt: ListenAddress | undefined;
  try {
    if (config.ovs_agent.metrics_address !== undefined) metricsAt = parseMetricsAddress(config.ovs_agent.metrics_address);
  } catch (err) {
    asConfigError('[ovs_agent] metrics_address')(err);
  }
  // The TLS files of an ssl: remote must be set and readable (ovsdb-ssl.ts), as Neutron's agent checks them.
  const ssl = ovsdbSslOptions(config);
  // The Neutron control plane checks its options (transport_url...) when made, connecting nothing.
  const controlPlane = opts.controlPlane ?? await createControlPlane(config, log, waits).catch((err: unknown) => {
    if (err instanceof ControlPlaneError && !err.retriable) asConfigError('the Neutron control plane')(err);
    throw err;
  });
  return { firewall: firewall!, controlPlane, ssl, metricsAt };
}

/** What start-up opened, closed in reverse order when it fails or is stopped (each close bounded). */
class Opened {
  private readonly closers: Array<() => Promise<unknown>> = [];

  add(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  async closeAll(log: Logger): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), CLOSE_TIMEOUT_MS).unref());
      const r = await Promise.race([close().catch((err: Error) => log.debug(`closing after a failed start: ${err.message}`)), timeout]);
      if (r === 'timeout') log.warn(`closing after a failed start took over ${CLOSE_TIMEOUT_MS} ms; going on`);
    }
  }
}

const CLOSE_TIMEOUT_MS = 2000;

/** `p`, or the signal's reason as soon as it aborts (p's own outcome is then ignored). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(signal.reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}

/**
 * Start-up, in this order: the configuration checked (nothing opened yet), the status socket
 * (so `ovs-agent status` answers from here on, with what start-up waits for), OVSDB, the
 * OpenFlow channels and the control plane (agent.start()). Every wait is reported to `waits`.
 * If any step fails, or `signal` aborts, everything opened so far is closed before this rejects.
 */
export async function runAgent(opts: RunOptions): Promise<RunningAgent> {
  const { config, logger: log, signal } = opts;
  const waits = opts.waits ?? new Waits(log);
  const { firewall, controlPlane, ssl, metricsAt } = await buildFromConfig(opts, waits);
  const opened = new Opened();
  const startedAt = new Date();
  let agent: OvsAgent | undefined;
  let started = false;
  try {
    const status = opts.statusSocket === false ? undefined : await StatusServer.listen(config.ovs_agent.status_socket, () =>
      started && agent ? { ...agent.status(), waits: waits.list() } : startingReport(config.DEFAULT.host || hostname(), startedAt, waits.list()),
    { request: async (req) => {
      if (!started || !agent) throw new Error('the agent is still starting');
      if (req.command === 'flows') return agent.insight.flowReport(req);
      if (req.command === 'trace') return agent.insight.trace(req);
      throw new Error(`unknown request ${JSON.stringify((req as { command: unknown }).command)}`);
    } });
    if (status) opened.add(() => status.close());
    // Probes answer from here on (not ready until the first full sync).
    // Loaded only when asked for: prom-client and node:http cost ~3 MiB resident (docs/service.md, "Memory").
    const observe = metricsAt && await (await import('../observe/start.js')).startObserving(metricsAt, log);
    if (observe) opened.add(() => observe.close());

    const db = await ReplicaDatabase.connect(config.ovs.ovsdb_connection, { timeoutMs: config.ovs.ovsdb_timeout * 1000, waits, signal, ssl });
    opened.add(() => db.close());
    log.info(`connected to OVSDB at ${config.ovs.ovsdb_connection}`);
    db.onFatal((err) => opts.onFatal?.(new FatalError(`OVSDB at ${config.ovs.ovsdb_connection} can no longer serve the agent: ${err.message}`,
      ExitCode.DEPENDENCY, { cause: err })));
    controlPlane.onFatal?.((err) => opts.onFatal?.(new FatalError(`the control plane gave up: ${err.message}`, ExitCode.DEPENDENCY, { cause: err })));

    let controller: OpenFlowController | undefined;
    let openFlowChannel: (bridge: string) => Promise<OpenFlowBridgeChannel>;
    let switchDescription: string | undefined;
    const timeoutMs = config.ovs.of_connect_timeout * 1000;
    if (config.ovs_agent.openflow_channel === 'controller') {
      // Neutron's way: we listen, each bridge's Controller row points at us, bridges are told apart by datapath id,
      // and a peer's claim to a datapath is checked against OVSDB first (lib/agent/ovs/controller-trust.ts).
      const description = newSwitchDescription();
      switchDescription = description;
      const listening = new OpenFlowController({
        address: `ptcp:${config.ovs.of_listen_port}:${config.ovs.of_listen_address}`,
        verifyClaim: bridgeClaimChecker(db, description),
      });
      const refusals = refusalLog(log);
      listening.on('refused', (err: Error) => refusals.refused(err));
      listening.on('handshakeError', (err: Error) => refusals.refused(err));
      const bound = await listening.listen();
      controller = listening;
      opened.add(() => listening.close());
      config.ovs.of_listen_port = bound.port;
      log.info(`OpenFlow controller listening on ${bound.host}:${bound.port}`);
      const exposed = listenAddressWarning(config.ovs.of_listen_address, bound.port);
      if (exposed) log.warn(exposed);
      const where = `${bound.host}:${bound.port}`;
      openFlowChannel = async (bridge) => {
        const dpid = await untilAborted(bounded(waits.around(`the datapath id of ${bridge}`, 'OVSDB', 'written by ovs-vswitchd',
          waitForDatapathId(db, bridge, timeoutMs))), signal);
        const sw = await untilAborted(bounded(waits.around(`${bridge} to connect to our OpenFlow controller`, where,
          '[ovs] of_listen_address, of_listen_port', listening.waitForSwitch(dpid, timeoutMs))), signal);
        return watchChannel(OpenFlowBridgeChannel.fromSwitch(bridge, sw), where, waits);
      };
    } else {
      openFlowChannel = async (bridge) => {
        const address = openflowAddress(config, bridge);
        const ch = await OpenFlowBridgeChannel.connect(bridge, address,
          { timeoutMs, waits, signal, hint: '[ovs_agent] ovs_rundir, default $OVS_RUNDIR' });
        return watchChannel(ch, address, waits);
      };
    }

    const a = new OvsAgent({
      config, controlPlane, db, firewall, logger: log, onPass: opts.onPass, openFlowChannel, switchDescription,
      restartDetection: opts.restartDetection, observer: observe?.metrics,
    });
    agent = a;
    observe?.bind(a.insight);
    opened.add(() => a.stop());
    await untilAborted(a.start(), signal);
    started = true;
    return {
      agent: a, db, controlPlane, status, waits, controller, observe,
      async stop() {
        await status?.close();
        await observe?.close();
        await a.stop();
        await controller?.close();
        await db.close();
      },
    };
  } catch (err) {
    await opened.closeAll(log);
    throw signal?.aborted ? signal.reason : err;
  }
}

/** A wait that ran out ([ovs] of_connect_timeout) is a dependency that did not come: WaitTimeoutError. */
function bounded<T>(p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.endsWith('TIMEOUT')) throw new WaitTimeoutError(`gave up waiting: ${(err as Error).message}`, { cause: err });
    throw err;
  });
}

/** A channel's lost session is a wait until it is back (the channel reconnects by itself). */
function watchChannel(ch: OpenFlowBridgeChannel, address: string, waits: WaitReporter): OpenFlowBridgeChannel {
  let wait: Wait | undefined;
  ch.onEvent((e) => {
    if (e.kind === 'disconnected') {
      wait ??= waits.begin(`the OpenFlow session of ${ch.bridge}`, address, 'reconnecting');
      if (e.error) wait.note(e.error);
    } else {
      wait?.done();
      wait = undefined;
    }
  });
  return ch;
}
