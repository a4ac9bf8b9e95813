/**
 * `node --import tsx protocol/ovsdb/modelgen/cli.ts SCHEMA OUTDIR`
 * (or `npm run modelgen -- SCHEMA OUTDIR`): writes OUTDIR/<db>.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generateModel } from './generate.js';

const [schemaPath, outDir] = process.argv.slice(2);
if (!schemaPath || !outDir) {
  console.error('usage: modelgen SCHEMA.ovsschema OUTDIR');
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
