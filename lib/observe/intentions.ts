/**
 * What a flow is for, from its owner in the bridge's flow table
 * (lib/flows/flow-table.ts): the owner names the parts of the agent give
 * their flows (lib/bridges, lib/firewall), said for people, with the group
 * it belongs to (base pipeline, network, port, firewall, l2pop).
 */

/** Every group (the metrics export each, 0 included). */
export const INTENTION_GROUPS = ['base', 'network', 'port', 'firewall', 'l2pop', 'tunnel'] as const;
export type IntentionGroup = typeof INTENTION_GROUPS[number];

export interface Intention {
  group: IntentionGroup;
  /** For people: "security-group filter of port P", "local VLAN of network N"... */
  text: string;
  /** The Neutron port the flows belong to, if one. */
  portId?: string;
  /** The network, if one. */
  networkId?: string;
}

export function intentionOf(owner: string): Intention {
  const after = (prefix: string) => owner.slice(prefix.length);
  if (owner === 'setup') return { group: 'base', text: 'the bridge\'s fixed pipeline' };
  if (owner === 'canary') return { group: 'base', text: 'canary (its absence tells an ovs-vswitchd restart)' };
  if (owner === 'patch') return { group: 'base', text: 'drop from br-int\'s patch until the bridges are peered' };
  if (owner.startsWith('phys:')) return { group: 'base', text: `drop from the patch of ${after('phys:')} until it is peered` };
  if (owner.startsWith('net:')) return { group: 'network', text: `local VLAN of network ${after('net:')}`, networkId: after('net:') };
  if (owner.startsWith('dead:')) return { group: 'port', text: `port ${after('dead:')} is dead: its traffic dropped`, portId: after('dead:') };
  if (owner.startsWith('dead-iface:')) return { group: 'port', text: `duplicate interface ${after('dead-iface:')}: its traffic dropped` };
  if (owner.startsWith('tunnel:')) return { group: 'tunnel', text: `traffic from tunnel port ${after('tunnel:')}` };
  if (owner.startsWith('flood:')) return { group: 'l2pop', text: `flooding of network ${after('flood:')} to its tunnels`, networkId: after('flood:') };
  if (owner.startsWith('ucast:')) {
    const [net, ...mac] = after('ucast:').split(':');
    return { group: 'l2pop', text: `l2pop unicast to ${mac.join(':')} on network ${net}`, networkId: net };
  }
  if (owner.startsWith('arp:')) {
    const [net, ip] = after('arp:').split(/:(.*)/s);
    return { group: 'l2pop', text: `ARP responder for ${ip} on network ${net}`, networkId: net };
  }
  if (owner === 'fw|init') return { group: 'firewall', text: 'the firewall\'s base flows' };
  if (owner.startsWith('fw|p|')) return { group: 'firewall', text: `security-group filter of port ${after('fw|p|')}`, portId: after('fw|p|') };
  if (owner.startsWith('fw|a|')) {
    const [lvid, direction] = after('fw|a|').split('|');
    return { group: 'firewall', text: `remote-group addresses (conjunctions) on local VLAN ${lvid}, ${direction}` };
  }
  return { group: 'base', text: owner };
}
