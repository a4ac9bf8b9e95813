/**
 * The ovs-ofctl flow syntax (ovs-fields(7), ovs-actions(7)) for the codec's
 * types: parse flows as operators write them, print them exactly as
 * `ovs-ofctl -O OpenFlow13 dump-flows` does.
 */
export { parseFlow, parseFlowFile, parseFlowStats, parseDumpFlows, parseMatch, formatFlow, formatFlowStats, formatMatch } from './flow.js';
export type { ParseFlowOptions, FlowLineStats } from './flow.js';
export { formatActions, formatInstructions, formatAction } from './actions-format.js';
export { parseActions } from './actions-entry.js';
export { FlowSyntaxError } from './errors.js';
// The address forms of the syntax, for callers that build matches from addresses (the agent's firewall does).
export { parseIPv4, formatIPv4, parseIPv6, ipv4PrefixMask, ipv6PrefixMask } from './values.js';
export type { FlowSyntaxErrorCode } from './errors.js';
