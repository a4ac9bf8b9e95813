/**
 * The command line as bin/ovs-agent.ts defines it, read from its source
 * with the TypeScript compiler (no run, no help text scraped): the
 * commands, every flag with its type, description, group and command, and
 * the man-page sections of its usage text and epilogue (NAME, SYNOPSIS,
 * DESCRIPTION, SIGNALS, FILES, ...). The man page and the shell completions
 * are generated from this plus lib/config/options.ts, so they follow the
 * code they document.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export interface CliFlag {
  name: string;
  type: 'string' | 'boolean' | 'number';
  array: boolean;
  describe: string;
  group: string;
  /** The command that alone has it; undefined for the flags every command has. */
  command?: string;
}

export interface CliCommand {
  name: string;
  describe: string;
  isDefault: boolean;
}

export interface CliSection {
  heading: string;
  /** The section's lines, without the two-space indent of the usage text. */
  lines: string[];
}

export interface CliDefinition {
  commands: CliCommand[];
  flags: CliFlag[];
  /** DESCRIPTION's sections, then EPILOGUE's, in order. */
  sections: CliSection[];
}

function stringOf(node: ts.Node, consts: Map<string, string>): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    let out = node.head.text;
    for (const span of node.templateSpans) {
      const v = ts.isIdentifier(span.expression) ? consts.get(span.expression.text) : undefined;
      if (v === undefined) throw new Error(`bin/ovs-agent.ts: cannot evaluate \${${span.expression.getText()}} in a usage text`);
      out += v + span.literal.text;
    }
    return out;
  }
  if (ts.isIdentifier(node)) return consts.get(node.text);
  return undefined;
}

function property(obj: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === name) return p.initializer;
  }
  return undefined;
}

/** `HEADING` lines at column 0 open a section; its body is indented by two spaces. */
export function splitSections(text: string): CliSection[] {
  const out: CliSection[] = [];
  for (const line of text.split('\n')) {
    if (/^[A-Z][A-Z ]*[A-Z]$/.test(line)) {
      out.push({ heading: line, lines: [] });
    } else if (out.length) {
      out[out.length - 1].lines.push(line.startsWith('  ') ? line.slice(2) : line);
    }
  }
  for (const s of out) {
    while (s.lines.length && s.lines[s.lines.length - 1].trim() === '') s.lines.pop();
  }
  return out;
}

export function readCliDefinition(root: string): CliDefinition {
  const file = join(root, 'bin/ovs-agent.ts');
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const consts = new Map<string, string>();
  const templates = new Map<string, string>();
  const commands: CliCommand[] = [];
  const flags: CliFlag[] = [];

  // Top-level string constants first: the usage texts refer to them (e.g. ${DEFAULT_CONFIG}).
  for (const st of src.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || !d.initializer) continue;
      const v = stringOf(d.initializer, consts);
      if (v !== undefined) {
        consts.set(d.name.text, v);
        templates.set(d.name.text, v);
      }
    }
  }

  /** `flows [port]` is the command `flows` with a positional argument. */
  const commandName = (spec: string | undefined): string | undefined => spec?.split(' ')[0];

  /** The command whose builder a node is in (`.command(NAME, DESC, (y) => ...)`), if any. */
  const commandOf = (node: ts.Node): string | undefined => {
    for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'command' && n.arguments.length >= 3
        && n.arguments.slice(2).some((a) => a.pos <= node.pos && node.end <= a.end)) {
        const names = n.arguments[0];
        const first = ts.isArrayLiteralExpression(names) ? names.elements[0] : names;
        return commandName(stringOf(first, consts));
      }
    }
    return undefined;
  };

  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const [a0, a1] = node.arguments;
      if (method === 'option' && a0 && a1 && ts.isObjectLiteralExpression(a1)) {
        const name = stringOf(a0, consts);
        const type = property(a1, 'type');
        const array = property(a1, 'array');
        if (name) {
          flags.push({
            name,
            type: (type && stringOf(type, consts)) as CliFlag['type'] ?? 'string',
            array: array?.kind === ts.SyntaxKind.TrueKeyword,
            describe: stringOf(property(a1, 'describe') ?? a1, consts) ?? '',
            group: stringOf(property(a1, 'group') ?? a1, consts) ?? 'Options:',
            command: commandOf(node),
            pos: a0.getStart(),
          } as CliFlag & { pos: number });
        }
      } else if (method === 'command' && a0 && a1) {
        const names = (ts.isArrayLiteralExpression(a0) ? a0.elements.map((e) => stringOf(e, consts)) : [stringOf(a0, consts)]).map(commandName);
        const describe = stringOf(a1, consts);
        if (names[0] && describe !== undefined) commands.push({ name: names[0], describe, isDefault: names.includes('$0'), pos: a0.getStart() } as CliCommand & { pos: number });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  // A chain's last call is the outermost node, visited first: back to source order.
  const byPos = (a: object, b: object) => (a as { pos: number }).pos - (b as { pos: number }).pos;
  flags.sort(byPos);
  commands.sort(byPos);
  for (const x of [...flags, ...commands]) delete (x as { pos?: number }).pos;

  const usage = templates.get('DESCRIPTION');
  const epilogue = templates.get('EPILOGUE');
  if (!usage || !epilogue) throw new Error('bin/ovs-agent.ts: DESCRIPTION or EPILOGUE not found');
  if (!commands.length || !flags.length) throw new Error('bin/ovs-agent.ts: no .command() or .option() found');
  return { commands, flags, sections: [...splitSections(usage), ...splitSections(epilogue)] };
}
