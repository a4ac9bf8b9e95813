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
export type { FlowSyntaxErrorCode } from './errors.js';
