/**
 * Assembles a running agent from its configuration: the OVSDB replica, one
 * OpenFlow channel per bridge, the control plane, the firewall, the status
 * socket. `bin/ovs-agent run` is this plus signal handling.
 */
import { join } from 'node:path';
import type { AgentConfig } from '../config/index.js';
import { LocalControlPlane } from '../control-plane/local/index.js';
import type { ControlPlane } from '../control-plane/types.js';
import { createFirewall } from '../firewall/index.js';
import type { Logger } from '../log.js';
import { OvsAgent, type PassSummary } from './agent.js';
import { OpenFlowController } from '../../protocol/openflow/connection/index.js';
import { OpenFlowBridgeChannel } from './ovs/openflow-channel.js';
import { ReplicaDatabase } from './ovs/replica-database.js';
import { StatusServer } from './status-socket.js';

export interface RunningAgent {
  agent: OvsAgent;
  db: ReplicaDatabase;
  controlPlane: ControlPlane;
  status: StatusServer | undefined;
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
}

/** The control plane the configuration names: the local desired-state file, or Neutron over RabbitMQ. */
export async function createControlPlane(config: AgentConfig, log: Logger): Promise<ControlPlane> {
  if (config.ovs_agent.control_plane === 'neutron') {
    const { createNeutronControlPlane, neutronOptionsFromConfig } = await import('../control-plane/neutron/index.js');
    const logger = { debug: (m: string) => log.debug(m), info: (m: string) => log.info(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
    return createNeutronControlPlane(neutronOptionsFromConfig(config, logger));
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

export async function runAgent(opts: RunOptions): Promise<RunningAgent> {
  const { config, logger: log } = opts;
  // First: a control-plane configuration it cannot use (transport_url, TLS files) stops the start before OVS is touched.
  const controlPlane = opts.controlPlane ?? await createControlPlane(config, log);
  const db = await ReplicaDatabase.connect(config.ovs.ovsdb_connection, { timeoutMs: config.ovs.ovsdb_timeout * 1000 });
  let controller: OpenFlowController | undefined;
  let openFlowChannel: (bridge: string) => Promise<OpenFlowBridgeChannel>;
  if (config.ovs_agent.openflow_channel === 'controller') {
    // Neutron's way: we listen, each bridge's Controller row points at us, bridges are told apart by datapath id.
    controller = new OpenFlowController({ address: `ptcp:${config.ovs.of_listen_port}:${config.ovs.of_listen_address}` });
    const bound = await controller.listen().catch(async (err: Error) => {
      await db.close();
      throw err;
    });
    config.ovs.of_listen_port = bound.port;
    log.info(`OpenFlow controller listening on ${bound.host}:${bound.port}`);
    const timeoutMs = config.ovs.of_connect_timeout * 1000;
    openFlowChannel = async (bridge) => {
      const dpid = await waitForDatapathId(db, bridge, timeoutMs);
      return OpenFlowBridgeChannel.fromSwitch(bridge, await controller!.waitForSwitch(dpid, timeoutMs));
    };
  } else {
    openFlowChannel = (bridge) => OpenFlowBridgeChannel.connect(bridge, openflowAddress(config, bridge),
      { timeoutMs: config.ovs.of_connect_timeout * 1000 });
  }
  const firewall = config.securitygroup.enable_security_group
    ? createFirewall(config.securitygroup.firewall_driver, {
      permittedEthertypes: config.securitygroup.permitted_ethertypes,
      onError: (err, ctx) => log.warn(`firewall: ${err.message}`, ctx),
    })
    : createFirewall('noop');
  const agent = new OvsAgent({
    config, controlPlane, db, firewall, logger: log, onPass: opts.onPass, openFlowChannel,
  });
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    await controller?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
  const status = opts.statusSocket === false ? undefined : await StatusServer.listen(config.ovs_agent.status_socket, () => agent.status())
    .catch((err: Error) => {
      log.warn(`status socket ${config.ovs_agent.status_socket} unavailable: ${err.message}`);
      return undefined;
    });
  return {
    agent, db, controlPlane, status,
    async stop() {
      await status?.close();
      await agent.stop();
      await controller?.close();
      await db.close();
    },
  };
}
