/**
 * The package's version, for `ovs-agent --version`. The bundled command has
 * it written in at build time (scripts/bundle.ts defines OVS_AGENT_VERSION):
 * yargs' own guess looks for a package.json above node_modules/yargs, which
 * a bundle does not have, and falls back to the current directory's.
 * Elsewhere (tsx, tsc's output) it is read from the package.json above this
 * module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const OVS_AGENT_VERSION: string | undefined;

export function agentVersion(): string {
  if (typeof OVS_AGENT_VERSION === 'string') return OVS_AGENT_VERSION;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ovs-agent' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
