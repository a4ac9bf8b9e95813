#!/usr/bin/env node
/**
 * The package's `modelgen` command: `npx modelgen SCHEMA OUTDIR` writes
 * OUTDIR/<db>.ts (in this repository: `npm run modelgen -- SCHEMA OUTDIR`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generateModel } from './generate.js';

const USAGE = `usage: modelgen SCHEMA.ovsschema OUTDIR
Writes OUTDIR/<database>.ts: a row interface per table, <Db>Tables (the type
parameter of Replica.start) and <db>Model, with no imports of its own.`;

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(USAGE);
  process.exit(0);
}
const [schemaPath, outDir] = args;
if (!schemaPath || !outDir || args.length > 2) {
  console.error(USAGE);
  process.exit(2);
}
try {
  const json: unknown = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const file = generateModel(json, { source: basename(schemaPath) });
  mkdirSync(outDir, { recursive: true });
  const target = join(outDir, file.name);
  writeFileSync(target, file.contents);
  console.log(`wrote ${target}`);
} catch (err) {
  console.error(`modelgen: ${schemaPath}: ${(err as Error).message}`);
  process.exit(1);
}
