/**
 * Carries l2pop's intentions out on the agent's TunnelBridge (flows only;
 * tunnel ports themselves are OVSDB work the agent does, then it reports the
 * ofport with `L2Population.tunnelPortReady`).
 */
import type { TunnelBridge } from '../bridges/br-tun.js';
import type { L2popAction } from './l2pop.js';

export type TunnelFlowTarget = Pick<
  TunnelBridge,
  'setFloodFlow' | 'installUnicastToTun' | 'deleteUnicastToTun' | 'installArpResponder' | 'deleteArpResponder' | 'removeTunnelPort'
>;

export function applyToTunnelBridge(br: TunnelFlowTarget, actions: readonly L2popAction[]): void {
  for (const a of actions) {
    switch (a.kind) {
      case 'set_flood':
        br.setFloodFlow(a.networkId, a.lvid, a.segmentationId, a.ofports);
        break;
      case 'add_unicast':
        br.installUnicastToTun(a.networkId, a.lvid, a.segmentationId, a.mac, a.ofport);
        break;
      case 'remove_unicast':
        br.deleteUnicastToTun(a.networkId, a.mac);
        break;
      case 'add_arp':
        br.installArpResponder(a.networkId, a.lvid, a.ip, a.mac);
        break;
      case 'remove_arp':
        br.deleteArpResponder(a.networkId, a.ip);
        break;
      case 'remove_tunnel':
        // Its in_port flow goes with the port.
        br.removeTunnelPort(a.name);
        break;
      case 'add_tunnel':
        // OVSDB work for the agent; the in_port flow follows once the ofport is known (TunnelBridge.addTunnelPort).
        break;
    }
  }
}
