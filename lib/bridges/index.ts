export * from './constants.js';
export * from './names.js';
export * from './cookie.js';
export * from './ovsdb-settings.js';
export { IntegrationBridge, type LocalVlanOnPhys } from './br-int.js';
export { TunnelBridge, type LocalVlanOnTunnel } from './br-tun.js';
export { PhysicalBridge, type LocalVlanToWire } from './br-phys.js';
