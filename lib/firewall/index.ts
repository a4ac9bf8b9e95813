export { createFirewall } from './firewall.js';
export { FirewallConfigError, NoopFirewall } from './driver.js';
export type { Firewall, FirewallDriverName, FirewallOptions } from './driver.js';
export { OvsFirewall } from './ovs-firewall.js';
export { firewallPortFrom } from './port.js';
export type { FirewallPort } from './port.js';
export { portRangeMasks } from './port-range.js';
export { FIREWALL_TABLES, Reg, Table } from './constants.js';
