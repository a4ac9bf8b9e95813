/**
 * The INI dialect oslo.config reads: `[section]` headers, `name = value` or
 * `name: value`, comments starting with `#` or `;` on their own line,
 * continuation lines that start with whitespace. Every value remembers its
 * file and line, so a bad one can be reported where the operator wrote it.
 */
export interface IniValue {
  value: string;
  file: string;
  line: number;
}

/** section (lowercased as oslo does for DEFAULT only) → option → value */
export type IniDocument = Map<string, Map<string, IniValue>>;

export class IniSyntaxError extends Error {
  override readonly name = 'IniSyntaxError';
  readonly code = 'CONFIG_SYNTAX';
  constructor(readonly file: string, readonly line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
  }
}

export function parseIni(text: string, file: string): IniDocument {
  const doc: IniDocument = new Map();
  let section: Map<string, IniValue> | undefined;
  let last: IniValue | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1;
    if (/^\s*$/.test(raw)) {
      last = undefined;
      continue;
    }
    if (/^\s*[#;]/.test(raw)) continue;
    if (/^\s/.test(raw) && last) {
      // A continuation of the previous value (oslo joins with a newline).
      last.value += `\n${raw.trim()}`;
      continue;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      const name = header[1].trim();
      section = doc.get(name) ?? new Map();
      doc.set(name, section);
      last = undefined;
      continue;
    }
    const kv = /^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!kv) throw new IniSyntaxError(file, lineNo, `expected "name = value" or "[section]", got ${JSON.stringify(raw.trim())}`);
    if (!section) throw new IniSyntaxError(file, lineNo, `option ${kv[1]} appears before any [section]`);
    last = { value: kv[2].trim(), file, line: lineNo };
    section.set(kv[1].trim(), last);
  }
  return doc;
}
