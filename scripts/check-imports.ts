/**
 * The architecture's import rules, checked on every `npm run lint`:
 *
 *  - no import cycle between files, counting type-only imports too (a type
 *    cycle is still two modules that cannot be understood one without the
 *    other);
 *  - no cycle between the folders of lib/ and of protocol/ (lib/firewall →
 *    lib/control-plane → lib/firewall would be one);
 *  - layers point one way: protocol/ imports nothing of the project outside
 *    protocol/; lib/ imports only lib/ and protocol/; testing/ never imports
 *    spec/ or bench/; bench/ never imports spec/; examples/ import only the
 *    packages, as their users do;
 *  - the packages (protocol/ovsdb, protocol/openflow) depend on nothing but
 *    Node: their files import only their own files and `node:` built-ins,
 *    never each other;
 *  - everything but spec/ imports the packages as their users do, by name
 *    (`@ovs-agent/ovsdb`), never a file of protocol/ by path; a spec may
 *    (it tests a module the package does not export). After a merge that
 *    adds such imports, scripts/import-packages.ts rewrites them;
 *  - the agent's flows go from typed builders to the wire (lib/flows): lib/
 *    never imports the ovs-ofctl text parser (text is a view for people,
 *    printed, never parsed back on the way to the switch).
 *
 * Imports are read with the TypeScript compiler's own pre-processor (no
 * regular expression guesses at the syntax) and resolved as Node resolves
 * relative specifiers (`./x.js` is the file `./x.ts`); a package's name
 * (`@ovs-agent/ovsdb`) is its entry point's source (PACKAGES), as tsconfig's
 * `paths` resolve it.
 *
 *   node --import tsx scripts/check-imports.ts      exit 1 and the offending chains if any rule is broken
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['protocol', 'lib', 'bin', 'testing', 'spec', 'bench', 'scripts', 'examples'];

/** The workspace packages: name → entry point (from the root) and folder. */
const PACKAGES: Readonly<Record<string, { entry: string; dir: string }>> = {
  '@ovs-agent/ovsdb': { entry: 'protocol/ovsdb/index.ts', dir: 'protocol/ovsdb' },
  '@ovs-agent/openflow': { entry: 'protocol/openflow/index.ts', dir: 'protocol/openflow' },
};
const SKIP_DIRS = new Set(['node_modules', 'dist', 'generated', 'fixtures']);

/** The ovs-ofctl text parser's entry points, which lib/ must not import. */
const TEXT_PARSERS = new Set(['parseFlow', 'parseFlowFile', 'parseFlowStats', 'parseDumpFlows', 'parseMatch', 'parseActions', 'parseInstructions']);
/** Files of lib/ allowed to parse flow text anyway, with why (none today). */
const TEXT_PARSER_ALLOWED = new Set<string>();

/** Which top-level folders each layer may import from (itself included). */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  protocol: ['protocol'],
  lib: ['lib', 'protocol'],
  bin: ['bin', 'lib', 'protocol'],
  testing: ['testing', 'lib', 'protocol'],
  bench: ['bench', 'testing', 'lib', 'protocol', 'scripts'],
  spec: ['spec', 'testing', 'lib', 'protocol', 'bin', 'bench', 'scripts'],
  scripts: ['scripts', 'testing', 'lib', 'protocol'],
  examples: ['examples', 'protocol'],
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name)) sourceFiles(path, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

function specifiersOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((ref) => ref.fileName);
}

/** The project files a file imports (relative specifiers and the packages' names), as paths from the root. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const spec of specifiersOf(file)) {
    const pkg = PACKAGES[spec];
    if (pkg) {
      out.push(pkg.entry);
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push(relative(ROOT, target));
  }
  return out;
}

/** Names imported from protocol/openflow's index or text modules by a lib/ file. */
function textParsersImported(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const st of src.statements) {
    if (!ts.isImportDeclaration(st) && !ts.isExportDeclaration(st)) continue;
    const spec = st.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !/(protocol\/openflow\/(index|text\/)|^@ovs-agent\/openflow$)/.test(spec.text)) continue;
    const names: ts.Node | undefined = ts.isImportDeclaration(st) ? st.importClause?.namedBindings : st.exportClause;
    if (names && (ts.isNamedImports(names) || ts.isNamedExports(names))) {
      for (const el of names.elements) {
        const name = (el.propertyName ?? el.name).text;
        if (TEXT_PARSERS.has(name)) out.push(name);
      }
    } else if (names) {
      out.push(`* (${spec.text})`);
    }
  }
  return out;
}

/** Strongly connected components with more than one member (or a self-import): Tarjan's algorithm. */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** `lib/firewall/flow.ts` → `lib/firewall`; a file directly in lib/ or protocol/ is its own unit. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file;
}

export function checkImports(): string[] {
  const problems: string[] = [];
  const files = SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)));
  const fileGraph = new Map<string, Set<string>>();
  const folderGraph = new Map<string, Set<string>>();
  const folderEdges = new Map<string, string>();
  for (const abs of files) {
    const file = relative(ROOT, abs);
    const layer = file.split('/')[0];
    const deps = new Set(importsOf(abs));
    if (layer === 'lib' && !TEXT_PARSER_ALLOWED.has(file)) {
      for (const name of textParsersImported(abs)) problems.push(`text on the send path: ${file} imports ${name} of the ovs-ofctl text parser (lib/flows builds flows in OpenFlow terms)`);
    }
    const pkg = Object.entries(PACKAGES).find(([, p]) => file.startsWith(`${p.dir}/`));
    if (pkg) {
      for (const spec of specifiersOf(abs)) {
        const local = spec.startsWith('.') && relative(pkg[1].dir, relative(ROOT, resolve(dirname(abs), spec))).startsWith('..') === false;
        if (!local && !spec.startsWith('node:')) problems.push(`package dependency: ${file} (${pkg[0]}) imports '${spec}' (a package imports only its own files and node: built-ins)`);
      }
    }
    if (layer !== 'protocol' && layer !== 'spec') {
      for (const spec of specifiersOf(abs)) {
        if (spec.startsWith('.') && relative(ROOT, resolve(dirname(abs), spec)).startsWith('protocol/')) {
          problems.push(`package by path: ${file} imports '${spec}' (import the package by its name; node --import tsx scripts/import-packages.ts rewrites it)`);
        }
      }
    }
    fileGraph.set(file, deps);
    for (const dep of deps) {
      const target = dep.split('/')[0];
      if (!LAYERS[layer]?.includes(target)) problems.push(`layering: ${file} imports ${dep} (${layer}/ may import only ${LAYERS[layer]?.join(', ')})`);
      if ((layer === 'lib' || layer === 'protocol') && target === layer) {
        const from = folderOf(file);
        const to = folderOf(dep);
        if (from === to) continue;
        let set = folderGraph.get(from);
        if (!set) folderGraph.set(from, (set = new Set()));
        set.add(to);
        if (!folderGraph.has(to)) folderGraph.set(to, new Set());
        folderEdges.set(`${from}>${to}`, `${file} → ${dep}`);
      }
    }
  }
  for (const scc of cycles(fileGraph)) problems.push(`import cycle between files: ${scc.join(', ')}`);
  for (const scc of cycles(folderGraph)) {
    const members = new Set(scc);
    const edges = [...folderEdges].filter(([k]) => {
      const [a, b] = k.split('>');
      return members.has(a) && members.has(b);
    }).map(([, v]) => v);
    problems.push(`import cycle between folders: ${scc.join(', ')} (${edges.join('; ')})`);
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkImports();
  for (const p of problems) process.stderr.write(`check-imports: ${p}\n`);
  if (problems.length) process.exit(1);
  process.stdout.write('check-imports: no import cycles, layers respected\n');
}
