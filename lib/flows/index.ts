/**
 * Flows as the agent builds, keeps and sends them: typed builders (match.ts,
 * actions.ts), a flow and its identity (flow.ts), and the one ledger per
 * bridge of what is wanted and what the switch holds (flow-table.ts).
 */
export * from './actions.js';
export * from './flow.js';
export * from './flow-table.js';
export * from './match.js';
export * from './installer.js';
