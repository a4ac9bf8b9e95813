/**
 * Rewrites imports of the protocol packages' files by relative path
 * (`../../protocol/ovsdb/replica/index.js`) into imports by package name
 * (`@ovs-agent/ovsdb`), as the packages' users write them, in lib/, bin/,
 * testing/, spec/, bench/, scripts/ and examples/. An import is rewritten
 * only when every name it takes is exported by the package's entry point as
 * the very same declaration (checked with the TypeScript compiler, so
 * `TransactOptions` of the replica is not mistaken for the client's); the
 * others (a spec testing a module the package does not export, such as
 * protocol/openflow/connection/sent-window.ts) stay relative, and are listed.
 * Only the specifier string changes: the rest of each line is left as it is.
 * Idempotent: run it again after merging a branch that adds imports.
 *
 *   node --import tsx scripts/import-packages.ts [--check]
 *     --check: change nothing, exit 1 if an import could be rewritten
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIRS = ['lib', 'bin', 'testing', 'spec', 'bench', 'scripts', 'examples'];
const SKIP = new Set(['node_modules', 'dist', 'fixtures']);
const PACKAGES = [
  { name: '@ovs-agent/ovsdb', dir: join(ROOT, 'protocol/ovsdb') },
  { name: '@ovs-agent/openflow', dir: join(ROOT, 'protocol/openflow') },
];

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP.has(name)) files(path, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const program = ts.createProgram(PACKAGES.map((p) => join(p.dir, 'index.ts')), {
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true,
});
const checker = program.getTypeChecker();

/** A module's exports: name → the declaration's symbol (aliases followed). */
function exportsOf(file: string): Map<string, ts.Symbol> | undefined {
  const sf = program.getSourceFile(file);
  const mod = sf && checker.getSymbolAtLocation(sf);
  if (!mod) return undefined;
  const out = new Map<string, ts.Symbol>();
  for (const s of checker.getExportsOfModule(mod)) {
    out.set(s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  }
  return out;
}
const entryExports = new Map(PACKAGES.map((p) => [p.name, exportsOf(join(p.dir, 'index.ts'))!]));

/** The names an import or export declaration takes from its module, or undefined for `* as`, `*` or a side-effect import. */
function namesTaken(st: ts.ImportDeclaration | ts.ExportDeclaration): string[] | undefined {
  if (ts.isImportDeclaration(st)) {
    const clause = st.importClause;
    if (!clause || clause.name) return undefined;
    const b = clause.namedBindings;
    if (!b || !ts.isNamedImports(b)) return undefined;
    return b.elements.map((e) => (e.propertyName ?? e.name).text);
  }
  if (!st.exportClause || !ts.isNamedExports(st.exportClause)) return undefined;
  return st.exportClause.elements.map((e) => (e.propertyName ?? e.name).text);
}

const check = process.argv.includes('--check');
let rewritten = 0;
const kept: string[] = [];
for (const file of DIRS.flatMap((d) => files(join(ROOT, d)))) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const edits: Array<{ start: number; end: number; to: string }> = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) && !ts.isExportDeclaration(st)) continue;
    const spec = st.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.text).replace(/\.js$/, '.ts');
    const pkg = PACKAGES.find((p) => target.startsWith(`${p.dir}/`));
    if (!pkg) continue;
    const entry = entryExports.get(pkg.name)!;
    const names = target === join(pkg.dir, 'index.ts') ? [] : namesTaken(st);
    const from = exportsOf(target);
    const same = names !== undefined && names.every((n) => from?.get(n) !== undefined && entry.get(n) === from.get(n));
    if (!same) {
      kept.push(`${relative(ROOT, file)}: ${spec.text}`);
      continue;
    }
    edits.push({ start: spec.getStart(sf) + 1, end: spec.getEnd() - 1, to: pkg.name });
  }
  if (edits.length === 0) continue;
  rewritten += edits.length;
  if (check) {
    console.log(`${relative(ROOT, file)}: ${edits.length} import(s) could name the package`);
    continue;
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.to + out.slice(e.end);
  writeFileSync(file, out);
}
console.log(`${check ? 'could rewrite' : 'rewrote'} ${rewritten} import(s); ${kept.length} kept relative (not exported by the package as such):`);
for (const k of kept) console.log(`  ${k}`);
if (check && rewritten > 0) process.exit(1);
