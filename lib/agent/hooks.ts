/**
 * How extensions plug into a pass: the firewall (lib/firewall) and
 * l2population (lib/l2pop) return flow changes that join the pass's bundle;
 * the agent feeds them into the bridges' desired-flow tables, so restarts and
 * stale-flow cleanup treat them like the agent's own flows.
 */
export type { Firewall, FirewallPort, FlowChange } from '../firewall/index.js';
