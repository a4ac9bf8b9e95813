export { L2Population, L2popError } from './l2pop.js';
export type { L2popAction, L2popNetwork, L2popOptions } from './l2pop.js';
export { applyToTunnelBridge } from './tunnel-bridge.js';
export type { TunnelFlowTarget } from './tunnel-bridge.js';
