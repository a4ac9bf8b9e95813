export { HybridIptablesFirewall, type ApplyResult, type HybridFirewallOptions } from './hybrid-firewall.js';
export { buildRuleset, zoneRules, type Chains, type Family, type Ruleset, type TableName, type Tables } from './ruleset.js';
export { portChains, type GroupsView, type HybridPort } from './port-chains.js';
export { parseSave, renderRestore } from './restore.js';
export { renderIpsets, parseIpsetSave, setMembers } from './ipsets.js';
export { commandRunner, NetfilterCommandError, type Runner } from './exec.js';
export { deviceName, ipsetName, portChain, wrapped, WRAP } from './names.js';
export { Zones, ZONE_START } from './zones.js';
