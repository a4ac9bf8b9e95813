/**
 * `npm run build`'s second half (after tsc): the installed command and what
 * ships with it, all in dist/ —
 *   dist/bin/ovs-agent.js            the executable, one bundled file (scripts/bundle.ts)
 *   dist/man/ovs-agent.8             the man page (scripts/man-page.ts)
 *   dist/completion/ovs-agent.bash   bash completion, and dist/completion/_ovs-agent for zsh (scripts/completion.ts)
 * Usage: node --import tsx scripts/build-cli.ts [--outdir DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleCli } from './bundle.js';
import { manPage } from './man-page.js';
import { bashCompletion, zshCompletion } from './completion.js';

const ROOT = resolve(import.meta.dirname, '..');

export async function buildCli(outdir: string): Promise<void> {
  await bundleCli({ root: ROOT, outfile: join(outdir, 'bin/ovs-agent.js'), minify: true });
  mkdirSync(join(outdir, 'man'), { recursive: true });
  writeFileSync(join(outdir, 'man/ovs-agent.8'), manPage(ROOT));
  mkdirSync(join(outdir, 'completion'), { recursive: true });
  writeFileSync(join(outdir, 'completion/ovs-agent.bash'), bashCompletion(ROOT));
  writeFileSync(join(outdir, 'completion/_ovs-agent'), zshCompletion(ROOT));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const i = process.argv.indexOf('--outdir');
  await buildCli(resolve(i > 0 ? process.argv[i + 1] : join(ROOT, 'dist')));
}
