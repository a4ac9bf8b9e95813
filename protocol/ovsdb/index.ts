/**
 * `protocol/ovsdb`: an OVSDB (RFC 7047 + Open vSwitch extensions) client.
 */
export * from './errors.js';
export * from './schema.js';
export * from './datum.js';
