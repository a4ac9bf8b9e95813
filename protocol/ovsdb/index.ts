/**
 * `protocol/ovsdb`: an OVSDB client (RFC 7047 and the Open vSwitch
 * extensions): transports, JSON-RPC session, typed schema, data and
 * operations, monitors and locks.
 *
 * @module @ovs-agent/ovsdb
 */
export * from './errors.js';
export * from './schema.js';
export * from './datum.js';
export * from './framer.js';
export * from './transport.js';
export * from './jsonrpc.js';
export * from './operations.js';
export * from './typed.js';
export * from './updates.js';
export * from './client.js';
export * from './cluster.js';
export * from './replica/index.js';
export * from './models/index.js';
export * from './commands/index.js';
