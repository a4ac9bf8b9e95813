/**
 * Typed models generated from `.ovsschema` files by `protocol/ovsdb/modelgen`
 * (`npm run modelgen -- SCHEMA OUTDIR`). Checked in: the Open_vSwitch
 * database (vswitch.ovsschema of Open vSwitch 3.1).
 */
export * from './generated/open-vswitch.js';
