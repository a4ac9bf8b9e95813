export * from './constants.js';
export * from './flow.js';
export * from './flow-table.js';
export * from './names.js';
export * from './cookie.js';
export { IntegrationBridge, type LocalVlanOnPhys } from './br-int.js';
export { TunnelBridge, type LocalVlanOnTunnel } from './br-tun.js';
export { PhysicalBridge, type LocalVlanToWire } from './br-phys.js';
