/**
 * package-lock.json must list every optional dependency of every package it
 * holds, even those the registry does not have: node-unix-socket names
 * prebuilt packages for seven platforms, of which the registry serves two.
 * npm 11.16 and later, regenerating the lock from scratch (no lock, or
 * `npm install` with the lock deleted), leave the missing ones out, and
 * `npm ci` then refuses that very lock ("Missing: node-unix-socket-darwin-
 * arm64@ from lock file"; npm/cli#9083 made ci skip optional packages, this
 * case came back after it). An `npm install` that starts from the existing
 * lock keeps their entries, so: never delete the lock, update it with
 * `npm install`; this check (run by `npm run lint`) says so if it happens.
 *
 *   node --import tsx scripts/check-lock.ts     exit 1, naming the missing entries
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface LockEntry { optionalDependencies?: Record<string, string>; link?: boolean }

/** Where npm would look for `dep` from the package at `path` (its own node_modules, then each parent's). */
function found(packages: Record<string, LockEntry>, path: string, dep: string): boolean {
  let base = path;
  for (;;) {
    if (packages[join(base, 'node_modules', dep)] || packages[`${base ? `${base}/` : ''}node_modules/${dep}`]) return true;
    if (!base) return false;
    const i = base.lastIndexOf('node_modules/');
    base = i <= 0 ? '' : base.slice(0, i - 1);
  }
}

export function checkLock(lockfile = join(ROOT, 'package-lock.json')): string[] {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages: Record<string, LockEntry> };
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      if (!found(lock.packages, path, dep)) problems.push(`${path || '(root)'}: optional dependency ${dep} has no entry`);
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkLock();
  for (const p of problems) process.stderr.write(`check-lock: ${p}\n`);
  if (problems.length) {
    process.stderr.write('check-lock: npm ci would refuse this lock. Restore the entries: git checkout the previous package-lock.json, then `npm install` (it keeps them).\n');
    process.exit(1);
  }
  process.stdout.write('check-lock: every optional dependency has its lock entry\n');
}
