/**
 * The driver `[securitygroup] firewall_driver` names: Neutron's
 * `openvswitch` (ovs-firewall.ts), `iptables_hybrid` (iptables/) or `noop`
 * (driver.ts).
 */
import { FirewallConfigError, NoopFirewall, type Firewall, type FirewallOptions } from './driver.js';
import { supportedFirewallDriver, type FirewallDriverName } from './drivers.js';
import { HybridIptablesFirewall } from './iptables/hybrid-firewall.js';
import { NftHybridFirewall } from './nftables/nft-firewall.js';
import { OvsFirewall } from './ovs-firewall.js';

/**
 * The driver named by `[securitygroup] firewall_driver`, by any name Neutron
 * accepts for it (drivers.ts; unset → noop, as in Neutron). A driver that
 * does not exist here is a FirewallConfigError whose message names the
 * option (and `where`, the file and line it was set at, when given).
 */
export function createFirewall(driver: string | undefined, options: FirewallOptions = {}, where?: string): Firewall {
  let name: FirewallDriverName;
  try {
    name = supportedFirewallDriver(driver, where);
  } catch (err) {
    throw new FirewallConfigError((err as Error).message);
  }
  if (name === 'iptables_hybrid') return options.hybridBackend === 'nftables' ? new NftHybridFirewall(options) : new HybridIptablesFirewall(options);
  return name === 'openvswitch' ? new OvsFirewall(options) : new NoopFirewall();
}
