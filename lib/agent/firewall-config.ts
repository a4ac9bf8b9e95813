/**
 * The firewall `[securitygroup]` asks for (docs/firewall.md#driver-names):
 * the driver by any name Neutron 21 accepts; with
 * `enable_security_group = false` nothing is filtered (noop), as Neutron
 * skips every filter then, while the named driver is still resolved (a name
 * Neutron could not load stops it too) and still decides whether the
 * agent's ARP/ND/MAC anti-spoofing flows are installed: Neutron loads the
 * driver either way and asks it whether it protects ports itself.
 */
import { optionSource } from '../config/load.js';
import type { AgentConfig } from '../config/index.js';
import { createFirewall, NoopFirewall, resolveFirewallDriver, supportedFirewallDriver, type Firewall } from '../firewall/index.js';
import { hybridPreflight, NFT_TOOLS } from '../firewall/iptables/preflight.js';
import type { Logger } from '../log.js';

/** Throws a FirewallConfigError / FirewallDriverError naming the option and where it was set. */
export function createFirewallFromConfig(config: AgentConfig, log: Logger, netfilterPrefix?: readonly string[]): Firewall {
  const sg = config.securitygroup;
  const where = optionSource(config, 'securitygroup.firewall_driver');
  if (!sg.enable_security_group) {
    const driver = supportedFirewallDriver(sg.firewall_driver, where);
    return new NoopFirewall({ providesArpSpoofingProtection: driver === 'openvswitch' });
  }
  const fw = createFirewall(sg.firewall_driver, {
    permittedEthertypes: sg.permitted_ethertypes,
    netfilterPrefix,
    hybridBackend: config.ovs_agent.hybrid_backend,
    onError: (err, ctx) => log.warn(`firewall: ${err.message}`, ctx),
  }, where);
  // The tools it runs must be there (else a start error naming them); br_netfilter off is warned, as Neutron does.
  if (fw.driver === 'iptables_hybrid') {
    const tools = config.ovs_agent.hybrid_backend === 'nftables' ? NFT_TOOLS : undefined;
    for (const w of hybridPreflight(undefined, undefined, undefined, tools)) log.warn(`firewall: ${w}`);
  }
  return fw;
}

/**
 * The state report's `ovs_hybrid_plug`: Neutron asks the driver it loaded,
 * whether or not security groups are enabled, and only iptables_hybrid says
 * yes; neutron-server then tells nova to plug through a Linux bridge.
 */
export function hybridPlug(config: AgentConfig): boolean {
  try {
    const r = resolveFirewallDriver(config.securitygroup.firewall_driver);
    return r.kind === 'supported' && r.driver === 'iptables_hybrid';
  } catch {
    return false; // refused at start already
  }
}
