/**
 * How the firewall (lib/firewall/) and l2population (lib/l2pop/) plug into a
 * pass: they return flow changes in ovs-ofctl text that join the pass's
 * bundle on br-int / br-tun (they are fed into the bridges' desired-flow
 * tables, so restarts and stale-flow cleanup treat them like the agent's own).
 */
import type { PortDetails, SecurityGroupInfo } from '../control-plane/types.js';

export interface FlowChange {
  op: 'add' | 'delete_strict';
  /** `table=T,priority=P,<match> actions=A` (no actions for delete_strict). */
  text: string;
}

export interface FirewallPort {
  details: PortDetails;
  ofport: number;
  lvid: number;
}

/** The agent's view of a firewall driver. */
export interface FirewallHook {
  /** Base flows, at start and after ovs-vswitchd lost its tables. */
  initialize(): FlowChange[];
  updateSecurityGroupInfo(info: SecurityGroupInfo): void;
  setupPortFilters(ports: FirewallPort[]): void;
  removePortFilters(portIds: string[]): void;
  /** Everything changed since the last flush. */
  flush(): FlowChange[];
}
