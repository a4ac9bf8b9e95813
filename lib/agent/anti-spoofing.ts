/**
 * A port's ARP/ND/MAC anti-spoofing flows on br-int, installed by the agent
 * when the firewall driver does not protect ports itself (the `noop`
 * driver), as Neutron's agent does (docs/firewall.md, "ARP, ND and MAC
 * anti-spoofing"). The flows themselves: lib/bridges/anti-spoofing.ts.
 */
import type { IntegrationBridge } from '../bridges/br-int.js';
import type { PortDetails } from '../control-plane/types.js';

/** Sets the port's flows in br-int's table; undefined, or why its addresses give none (the port must not be wired then). */
export function protectPort(brInt: IntegrationBridge, portId: string, d: PortDetails, ofport: number): string | undefined {
  try {
    brInt.setPortAntiSpoofing(portId, { ...d, ofport, fixedIps: d.fixedIps.map((f) => f.ipAddress) });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
