export { createFirewall, FirewallConfigError, NoopFirewall, OvsFirewall } from './firewall.js';
export type { Firewall, FirewallDriverName, FirewallOptions } from './firewall.js';
export { firewallPortFrom } from './port.js';
export type { FirewallPort } from './port.js';
export { portRangeMasks } from './port-range.js';
export { FIREWALL_TABLES, Reg, Table } from './constants.js';
export { FirewallDriverError, resolveFirewallDriver, supportedFirewallDriver } from './drivers.js';
export type { ResolvedDriver } from './drivers.js';
