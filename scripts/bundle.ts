/**
 * The `ovs-agent` executable as one file: esbuild bundles bin/ovs-agent.ts
 * and everything it imports, its npm dependencies included, into
 * dist/bin/ovs-agent.js, with only Node's built-in modules left outside.
 * The installed command then reads one file at start instead of a few
 * hundred modules (less start-up time and resident memory: docs/benchmarks.md,
 * "Memory and start-up of the bundled command", has the figures), and needs nothing from the checkout or node_modules.
 * The library entry points (package.json "exports") stay tsc's output.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

export interface BundleOptions {
  /** The checkout (bin/ovs-agent.ts is found there). */
  root: string;
  outfile: string;
  /** Leave the npm dependencies outside the bundle (resolved from node_modules at run time). */
  externalDependencies?: boolean;
  minify?: boolean;
}

/**
 * yargs draws its help with cliui and wrap-ansi, whose copies of `string-width`
 * build an `Intl.Segmenter` when the module is evaluated, so at every start of
 * the agent although only `--help` measures text: that loads ICU's break
 * iterator data, ~2 MiB resident for the life of the process. The bundle makes
 * it lazy (built at the first measurement). A `string-width` whose source no
 * longer has that line fails the build, so an update of it is looked at again.
 */
const SEGMENTER_AT_LOAD = /^const segmenter = new Intl\.Segmenter\(\);$/m;
export const lazySegmenter: Plugin = {
  name: 'lazy-intl-segmenter',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!SEGMENTER_AT_LOAD.test(text)) throw new Error(`${args.path}: no module-level Intl.Segmenter to make lazy (string-width changed: see scripts/bundle.ts)`);
      return {
        contents: text.replace(SEGMENTER_AT_LOAD,
          'let segmenterOnce;\nconst segmenter = { segment: (text) => (segmenterOnce ??= new Intl.Segmenter()).segment(text) };'),
        loader: 'js',
      };
    });
  },
};

/**
 * yargs renders the whole help text of a named command (`ovs-agent run`, as the
 * systemd unit starts it) before running its handler, and keeps it in case the
 * handler fails later: its text (46 lines) measured with string-width on every start.
 * That is work enough for V8 to optimise string-width's functions at once, so
 * the agent maps the optimising compiler's code and ICU's segmenter data
 * before its first port: 6.4 MiB resident of the idle agent (61.0 → 54.6,
 * docs/benchmarks.md, "Memory and start-up of the bundled command"). The bundle
 * drops that cache: `--help` and a refused command line render their help as
 * before; only an error thrown out of a command's handler (yargs then prints
 * help above it) is printed with the help rendered at that moment instead of
 * the one kept. A yargs whose source no longer has that line fails the build.
 */
const HELP_CACHED_AT_RUN = /^(\s*self\.cacheHelpMessage = function \(\) \{\n)\s*cachedHelpMessage = this\.help\(\);\n/m;
export const noHelpAtRun: Plugin = {
  name: 'no-help-at-run',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/]build[\\/]lib[\\/]usage\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!HELP_CACHED_AT_RUN.test(text)) throw new Error(`${args.path}: no cacheHelpMessage rendering the help to drop (yargs changed: see scripts/bundle.ts)`);
      return { contents: text.replace(HELP_CACHED_AT_RUN, '$1'), loader: 'js' };
    });
  },
};

export async function bundleCli(opts: BundleOptions): Promise<void> {
  const deps = opts.externalDependencies ? ['amqplib', 'yargs', 'yargs/*'] : [];
  const options: BuildOptions = {
    entryPoints: [join(opts.root, 'bin/ovs-agent.ts')],
    outfile: opts.outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`), ...deps],
    // The CommonJS dependencies (amqplib, yargs' helpers) call require() for Node's built-ins; an ES module has none of its own.
    banner: { js: "import { createRequire as __ovsAgentCreateRequire } from 'node:module'; const require = __ovsAgentCreateRequire(import.meta.url);" },
    minifySyntax: opts.minify,
    minifyWhitespace: opts.minify,
    // Identifiers stay: stack traces and error names read as in the source.
    keepNames: false,
    legalComments: 'eof',
    sourcemap: 'linked',
    logLevel: 'warning',
    // Module labels stay relative to the sources (node_modules/...), even when node_modules is a link elsewhere.
    preserveSymlinks: true,
    absWorkingDir: opts.root,
    plugins: [lazySegmenter, noHelpAtRun],
  };
  const pkg = JSON.parse(readFileSync(join(opts.root, 'package.json'), 'utf8')) as { version: string };
  // lib/version.ts: the bundle has no package.json of its own to read.
  options.define = { OVS_AGENT_VERSION: JSON.stringify(pkg.version) };
  await build(options);
  chmodSync(opts.outfile, 0o755);
}
