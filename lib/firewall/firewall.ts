/**
 * The driver `[securitygroup] firewall_driver` names: Neutron's
 * `openvswitch` (ovs-firewall.ts) or `noop` (driver.ts).
 */
import { FirewallConfigError, NoopFirewall, type Firewall, type FirewallOptions } from './driver.js';
import { OvsFirewall } from './ovs-firewall.js';

/** The driver named by `[securitygroup] firewall_driver` (unset → noop, as in Neutron). */
export function createFirewall(driver: string | undefined, options: FirewallOptions = {}): Firewall {
  switch (driver ?? 'noop') {
    case 'openvswitch':
      return new OvsFirewall(options);
    case 'noop':
      return new NoopFirewall();
    default:
      throw new FirewallConfigError(`unsupported firewall_driver ${JSON.stringify(driver)} (openvswitch or noop)`);
  }
}
