/**
 * The OVSDB replica (IDL): `Replica.start({remote, tables, ...})`.
 */
export { Replica, isConflict } from './replica.js';
export type { ConditionsChange, MonitorMethod, ReplicaOptions, ResyncInfo, TableSpec, TransactOptions as ReplicaTransactOptions } from './replica.js';
export { eventIterator } from './changes.js';
export type { ChangesOptions } from './changes.js';
export { ReplicaCache, TableCache } from './cache.js';
export type { ReplicaRow, RowEvent } from './cache.js';
export { RowIndex } from './row-index.js';
export type { IndexSpec } from './row-index.js';
export { TransactionBuilder, TransactionResult } from './transaction.js';
export type { SelectHandle } from './transaction.js';
export { applyDiff, valuesEqual } from './values.js';
