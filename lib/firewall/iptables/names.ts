/**
 * The names Neutron's hybrid driver gives devices, chains and ipsets
 * (docs/firewall.md, "iptables_hybrid"): the agent uses the same ones, so
 * that it adopts the rules Neutron's agent left (and the other way round)
 * and os-vif's devices are found by name.
 */
import type { Ethertype } from '../rules.js';

/** Linux interface names are at most 15 bytes; Neutron keeps them to 14. */
export const LINUX_DEV_LEN = 14;
/**
 * The prefix of every chain the agent owns: iptables_manager names its
 * chains after the running binary cut to 16 characters, which for
 * `neutron-openvswitch-agent` is this.
 */
export const WRAP = 'neutron-openvswi';
/** A chain name without the wrap prefix is cut to 11 characters (28 - 16 - 1). */
const CHAIN_LEN_WRAP = 11;
/** Shared with Neutron's other agents on the host: created if missing, never flushed. */
export const FILTER_TOP = 'neutron-filter-top';
/** ipset names are at most 31 characters; Neutron keeps 2 for the "-n" of its swap sets. */
const IPSET_NAME_LEN = 29;

export type DevicePrefix = 'tap' | 'qvb' | 'qvo' | 'qbr';

/** `tap`, `qvb`, `qvo` or `qbr` and the start of the port id: os-vif's hybrid plug devices. */
export function deviceName(prefix: DevicePrefix, portId: string): string {
  return (prefix + portId).slice(0, LINUX_DEV_LEN);
}

/** Our wrapped chain (`neutron-openvswi-<name>`), the name cut as Neutron cuts it. */
export function wrapped(name: string): string {
  return `${WRAP}-${name.slice(0, CHAIN_LEN_WRAP)}`;
}

export type PortChainKind = 'i' | 'o' | 's';

/** A port's ingress (`i`), egress (`o`) or spoof-filter (`s`) chain. */
export function portChain(kind: PortChainKind, portId: string): string {
  return wrapped(kind + portId);
}

/** The ipset of a remote group's members of one ethertype: `NIPv4<sg id>`, cut to 29 characters. */
export function ipsetName(sgId: string, ethertype: Ethertype): string {
  return `N${ethertype}${sgId}`.slice(0, IPSET_NAME_LEN);
}

/** True for a chain of ours (and so one the agent may rewrite or delete). */
export function isOurChain(chain: string): boolean {
  return chain.startsWith(`${WRAP}-`);
}
