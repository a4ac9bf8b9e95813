/**
 * ovs-agent as a library (`ovs-agent/agent`): the agent, its configuration,
 * the control-plane interface with its local implementation, and the bridge
 * pipeline classes.
 */
export { OvsAgent, MAX_DEVICE_RETRIES, type AgentOptions, type AgentStatus, type PassSummary, type PortState, type WiredPort, type TunnelPort } from './agent/agent.js';
export { runAgent, createControlPlane, openflowAddress, type RunningAgent, type RunOptions } from './agent/run.js';
export { cleanupPorts, type CleanupResult } from './agent/cleanup.js';
export { StatusServer, readStatus, formatStatus, StatusUnavailableError } from './agent/status-socket.js';
export { LocalVlanManager, VlanPoolExhaustedError, type LocalVlanMapping } from './agent/local-vlans.js';
export type { SwitchDatabase, FlowChannel, VifRow, BridgeRow, DbChange, FlowChannelEvent, PortTagUpdate, PortSpec, BridgeSettings } from './agent/switch.js';
export { ReplicaDatabase } from './agent/ovs/replica-database.js';
export { OpenFlowBridgeChannel } from './agent/ovs/openflow-channel.js';
export * from './config/index.js';
export * from './control-plane/types.js';
export { LocalControlPlane, parseDesiredState, StateFileError, type DesiredState } from './control-plane/local/index.js';
export * as bridges from './bridges/index.js';
export * as flows from './flows/index.js';
export { createLogger, silentLogger, type Logger } from './log.js';
