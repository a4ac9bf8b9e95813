/**
 * Keeps the agent's modules small enough to read (docs/design.md,
 * "Architecture"), checked on every `npm run lint`: no file under lib/agent/
 * over 300 lines, no other file of lib/ over 400, unless its opening comment
 * says why it is longer, in a line starting "Longer than".
 *
 *   node --import tsx scripts/check-sizes.ts     exit 1 and one "file: N lines (limit L)" per finding
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AGENT_LIMIT = 300;
const LIB_LIMIT = 400;

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** A file's lines over its limit, with the reason it gives for them. */
export function checkSizes(root = ROOT): string[] {
  const problems: string[] = [];
  for (const file of tsFiles(join(root, 'lib'))) {
    const rel = relative(root, file);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const limit = rel.startsWith('lib/agent/') ? AGENT_LIMIT : LIB_LIMIT;
    if (lines <= limit) continue;
    const header = text.startsWith('/**') ? text.slice(0, text.indexOf('*/')) : '';
    if (/^\s*\*\s*Longer than/m.test(header)) continue;
    problems.push(`${rel}: ${lines} lines (limit ${limit}; split it, or say at its top why not, in a line starting "Longer than")`);
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = checkSizes();
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(`check-sizes: every file of lib/agent within ${AGENT_LIMIT} lines, of lib/ within ${LIB_LIMIT}`);
}
