/**
 * OpenFlow switch connections, both directions: `OpenFlowController` accepts
 * bridges that connect to us; `connectSwitch` dials a bridge's `tcp:` listener
 * or `unix:` management socket. Either way the caller holds an
 * `OpenFlowSwitch` that survives reconnects, sends coalesced flow-mods,
 * matches replies, and runs bundles as transactions.
 */
export { OpenFlowController, type ControllerOptions, type SwitchClaim, type ClaimVerdict } from './controller.js';
export { OpenFlowSwitch, connectSwitch, formatDatapathId, type ConnectOptions, type ReconnectOptions } from './switch.js';
export { OpenFlowConnection, type ConnectionOptions, type ConnectionStats } from './connection.js';
export { OpenFlowChannel, type FlowModSpec, type FlowFilter, type Aggregate, type MessageHandler, type RequestOptions } from './channel.js';
export { FlowMonitor, flowMonitorFlags, type FlowMonitorOptions, type FlowMonitorSession, type FlowUpdateEvent, type FlowUpdateHandler } from './flow-monitor.js';
export { DEFAULT_MAX_BUFFERED_UPDATES, type FlowUpdatesOptions } from './update-iterator.js';
export { BundleTransaction, type BundleOptions } from './bundle.js';
export type { OpenFlowSession } from './session.js';
export { OpenFlowConnectionError, ConnectionErrorCode, SwitchClaimRefusedError, OpenFlowVersionError, openFlowVersionName, type ClaimRefusal } from './errors.js';
export { OpenFlowSwitchError } from './switch-error.js';
export { MessageFramer } from './framer.js';
export { Outbox, type OutboxOptions, type OutboxSink } from './outbox.js';
export { parseConnectAddress, parseListenAddress, formatAddress, NEUTRON_OF_LISTEN_PORT } from './address.js';
