/**
 * The configuration files of a command line in the order written, as
 * oslo.config reads them: each `--config-file FILE` and `--config-dir DIR`
 * (also `--flag=value`) where it stands, so a directory's files override the
 * files before it and are overridden by those after it.
 */
import type { ConfigDir } from './load.js';

const FILE = '--config-file';
const DIR = '--config-dir';

export function configSources(argv: readonly string[]): Array<string | ConfigDir> {
  const out: Array<string | ConfigDir> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    for (const [flag, make] of [[FILE, (v: string) => v], [DIR, (v: string) => ({ dir: v })]] as const) {
      if (a === flag && i + 1 < argv.length) out.push(make(argv[++i]));
      else if (a.startsWith(`${flag}=`)) out.push(make(a.slice(flag.length + 1)));
    }
  }
  return out;
}
