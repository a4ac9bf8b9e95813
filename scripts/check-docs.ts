/**
 * The repository carries its own notes, checked on every `npm run lint`:
 *
 *  - no file cites a document outside the repository: a path climbing out of
 *    it to a shared folder, an absolute path of the machine it was written on,
 *    an outside fact sheet by name, or a "§N" that does not say whose section
 *    it is (RFC 7047 §4.1 and OpenFlow 1.3 §7.1 are fine: they name their
 *    document). What the code relies on is written in docs/ and cited there;
 *  - the relative links of README.md and docs/*.md lead to files that exist,
 *    and their `#anchor`s to headings that exist;
 *  - wherever a file mentions `docs/NAME.md` (a comment, a spec, a doc), the
 *    page exists, and the section it names (`docs/x.md#anchor`, or
 *    `docs/x.md, "Heading"`) is one of its headings;
 *  - the source files README.md and docs/ name (`lib/flows/installer.ts`,
 *    `spec/agent/support/harness.ts`...) exist: a page that describes a
 *    module that was moved or removed is wrong.
 *
 *   node --import tsx scripts/check-docs.ts     exit 1 and one "file:line: problem" per finding
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Not the project's text: installed packages, build output, git's own files (`.git` is a file in a worktree). */
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.nyc_output', '.git']);
/** package-lock.json is npm's; this file spells the patterns it looks for. */
const SKIP_FILES = new Set(['package-lock.json', '.git', 'scripts/check-docs.ts']);
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * Citations of files outside the repository.
 */
const OUTSIDE: readonly { re: RegExp; what: string }[] = [
  { re: /\.\.\/shared\b/, what: 'a path out of the repository (../shared)' },
  { re: /(^|[^\w.])\/work\//, what: 'an absolute path of the build machine (/work/)' },
  { re: /neutron-ovs-agent\.md/, what: 'the outside fact sheet (neutron-ovs-agent.md)' },
  { re: /\breference\s*§\s*\d/i, what: 'a section of an outside reference ("reference §N")' },
];
/** A § names its document just before it: RFC 7047 §4.1, OpenFlow 1.3 §7.1, OF1.3 §6.3.1. */
const SECTION_OWNER = /(RFC\s*\d+|OpenFlow\s*1\.\d|OF\s*1\.\d)[\s,]*$/i;

function textFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name)) textFiles(path, out);
    } else if (st.isFile() && !SKIP_FILES.has(name) && !SKIP_FILES.has(relative(ROOT, path)) && st.size <= MAX_BYTES) {
      out.push(path);
    }
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2... */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

interface Page {
  anchors: Set<string>;
  /**
   * Section names for `docs/x.md, "Heading"` citations, lower case, without
   * backticks: the headings, and the bold labels that open a paragraph or a
   * list item (`- **Warm-up** ...`).
   */
  headings: Set<string>;
}

const pages = new Map<string, Page | null>();

/** The headings of a markdown file (outside fenced code), or null if there is no such file. */
function page(path: string): Page | null {
  if (pages.has(path)) return pages.get(path)!;
  let result: Page | null = null;
  if (existsSync(path) && statSync(path).isFile()) {
    result = { anchors: new Set(), headings: new Set() };
    const seen = new Map<string, number>();
    let fence = false;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) fence = !fence;
      if (fence) continue;
      const bold = /^\s*(?:[-*]\s+)?\*\*([^*]+?)\*\*/.exec(line);
      if (bold) result.headings.add(bold[1].replace(/`/g, '').replace(/[.:]$/, '').toLowerCase());
      const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!m) continue;
      const base = slug(m[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      result.anchors.add(n === 0 ? base : `${base}-${n}`);
      result.headings.add(m[1].replace(/`/g, '').toLowerCase());
    }
  }
  pages.set(path, result);
  return result;
}

/** Relative links of a markdown file, outside code: [text](target) with no scheme. */
function markdownLinks(file: string, lines: readonly string[], problems: string[]): void {
  let fence = false;
  lines.forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fence = !fence;
      return;
    }
    if (fence) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [pathPart, anchor] = target.split('#', 2);
      const where = `${relative(ROOT, file)}:${i + 1}`;
      const resolved = pathPart === '' ? file : resolve(dirname(file), pathPart);
      if (!resolved.startsWith(ROOT + '/') && resolved !== ROOT) {
        problems.push(`${where}: link to ${target} leaves the repository`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(`${where}: link to ${target}: no such file (${relative(ROOT, resolved)})`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !page(resolved)?.anchors.has(anchor)) {
        problems.push(`${where}: link to ${target}: ${relative(ROOT, resolved)} has no heading with anchor #${anchor}`);
      }
    }
  });
}

/** A project file named in prose: a top-level folder of the repository, then a path with a file extension. */
const FILE_MENTION = /(?<![\w./-])((?:lib|protocol|spec|bench|testing|scripts|bin|packaging|samples)\/[\w./-]*\.(?:ts|js|py|sh|json|service|ini|txt))(?![\w/-])/g;

/** Files of the project that README.md and docs/ name must exist (`x.js` in an import is the file `x.ts`). */
function fileMentions(file: string, lines: readonly string[], problems: string[]): void {
  lines.forEach((line, i) => {
    for (const m of line.matchAll(FILE_MENTION)) {
      const path = m[1];
      if (/\b[A-Z]{2,}\b/.test(path)) continue; // a placeholder: bench/NAME.ts
      if (path.startsWith('lib/node_modules/')) continue; // where npm installs the package, not the repository
      const abs = join(ROOT, path);
      if (existsSync(abs) || (path.endsWith('.js') && existsSync(abs.slice(0, -3) + '.ts'))) continue;
      problems.push(`${relative(ROOT, file)}:${i + 1}: ${path}: no such file in the repository`);
    }
  });
}

/** Mentions of docs/NAME.md anywhere: the page, and the section they name, must exist. */
function docMentions(file: string, text: string, problems: string[]): void {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  for (const m of text.matchAll(/(?<![\w/.-])docs\/([\w-]+\.md)(#[\w-]+)?/g)) {
    const where = `${relative(ROOT, file)}:${lineOf(m.index)}`;
    const target = join(ROOT, 'docs', m[1]);
    const p = page(target);
    if (!p) {
      problems.push(`${where}: docs/${m[1]}: no such page`);
      continue;
    }
    if (m[2] && !p.anchors.has(m[2].slice(1))) {
      problems.push(`${where}: docs/${m[1]}${m[2]}: no heading with that anchor`);
      continue;
    }
    // `docs/x.md, "Heading"` (the quote may run over a comment's line break).
    const after = text
      .slice(m.index + m[0].length, m.index + m[0].length + 200)
      .replace(/\s*\n\s*(\*|\/\/|#)?\s*/g, ' ');
    const quoted = /^\)?,?\s*"([^"]+)"/.exec(after);
    if (!m[2] && quoted && !p.headings.has(quoted[1].replace(/`/g, '').toLowerCase())) {
      problems.push(`${where}: docs/${m[1]}, "${quoted[1]}": no such heading`);
    }
  }
}

export function checkDocs(): string[] {
  const problems: string[] = [];
  for (const file of textFiles(ROOT)) {
    const buf = readFileSync(file);
    if (buf.includes(0)) continue;
    const text = buf.toString('utf8');
    const lines = text.split('\n');
    const rel = relative(ROOT, file);
    lines.forEach((line, i) => {
      for (const { re, what } of OUTSIDE) {
        if (re.test(line)) problems.push(`${rel}:${i + 1}: cites ${what}; write the fact in docs/ and cite that`);
      }
      for (let at = line.indexOf('§'); at !== -1; at = line.indexOf('§', at + 1)) {
        if (!SECTION_OWNER.test(line.slice(0, at))) {
          problems.push(`${rel}:${i + 1}: "§" without its document (RFC NNNN §, OpenFlow 1.3 §); cite docs/ for the project's own notes`);
        }
      }
    });
    if (rel === 'README.md' || (rel.startsWith('docs/') && rel.endsWith('.md'))) {
      markdownLinks(file, lines, problems);
      fileMentions(file, lines, problems);
    }
    docMentions(file, text, problems);
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkDocs();
  for (const p of problems) process.stderr.write(`check-docs: ${p}\n`);
  if (problems.length) process.exit(1);
  process.stdout.write('check-docs: no citation outside the repository, every docs/ link, section and named file found\n');
}
