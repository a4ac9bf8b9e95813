import type { HybridPort } from '../../lib/firewall/iptables/index.js';

/** A port of the hybrid driver's specs: a UUID-like id (so names are cut as on a real host), 10.0.0.n. */
export function hybridVm(n: number, over: Partial<HybridPort> = {}): HybridPort {
  const hex = n.toString(16).padStart(2, '0');
  return {
    portId: `${hex}${hex}${hex}${hex}-aaaa-4bbb-8ccc-${hex}0000000000`,
    macAddress: `fa:16:3e:00:00:${hex}`,
    fixedIps: [`10.0.0.${n}`],
    allowedAddressPairs: [],
    securityGroups: ['sg-web'],
    portSecurityEnabled: true,
    deviceOwner: 'compute:nova',
    ...over,
  };
}
