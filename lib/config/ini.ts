/**
 * The INI dialect oslo.config reads (its iniparser.BaseParser), line by line:
 * trailing white space is dropped; a blank line ends a value; a line that
 * starts with a space or a tab continues the previous value (joined with a
 * newline); `[name]` opens a section; `#` or `;` in the first column starts a
 * comment; anything else is `name = value` or `name: value`, split at the
 * first `=` or `:`, both sides stripped and one pair of matching quotes
 * around the value removed. A later value for the same option wins (the
 * earlier ones are kept for a multi-valued option). Every value remembers its file and line, so a bad one can be
 * reported where the operator wrote it.
 *
 * The parser is one forward scan of the text with character reads only (no
 * regular expression, no rescan), so its time is linear in the input
 * whatever the input. Section and option names are kept as written; name
 * normalization, interpolation and aliases are the loader's business.
 */
export interface IniValue {
  value: string;
  file: string;
  line: number;
  /** Values written for the same option earlier in the section, in order (a multi-valued option reads them all). */
  earlier?: Array<{ value: string; line: number }>;
}

/** section (as written) → option → value */
export type IniDocument = Map<string, Map<string, IniValue>>;

export class IniSyntaxError extends Error {
  override readonly name = 'IniSyntaxError';
  readonly code = 'CONFIG_SYNTAX';
  constructor(readonly file: string, readonly line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
  }
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const DQUOTE = 34;
const HASH = 35;
const SQUOTE = 39;
const COLON = 58;
const SEMICOLON = 59;
const EQUALS = 61;
const LBRACKET = 91;
const RBRACKET = 93;

/** Python's str.isspace(), which oslo's strip()/rstrip() use. */
function isSpace(c: number): boolean {
  if (c <= SPACE) return c === SPACE || (c >= TAB && c <= CR) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029
    || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Letters, digits, `_ . - [ ]`: what an option or section name is made of. */
function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x2d || c === 0x5b || c === 0x5d;
}

/** How much of an offending line an error message quotes. */
const EXCERPT = 40;

/**
 * What an error shows of a section or option name: its first word only
 * (letters, digits, `_ . - [ ]`), never what follows. A malformed line may
 * carry a secret (`transport_url rabbit://user:password@host` with its "="
 * forgotten, a password's continuation line), and a config error ends up in
 * logs and journals: lines that are not a name are not quoted at all.
 */
function quote(text: string, start: number, end: number): string {
  let i = start;
  while (i < end && i - start < EXCERPT && isWordChar(text.charCodeAt(i))) i++;
  const word = text.slice(start, i);
  return i === end ? JSON.stringify(word) : `${JSON.stringify(`${word}…`)} (${end - start} characters; the rest not shown: it may hold a password)`;
}

export function parseIni(text: string, file: string): IniDocument {
  const doc: IniDocument = new Map();
  let section: Map<string, IniValue> | undefined;
  // The option being read (its value may continue on the next lines).
  let pending: { name: string; parts: string[]; line: number } | undefined;
  const flush = (): void => {
    if (!pending) return;
    const old = section!.get(pending.name);
    const earlier = old ? [...(old.earlier ?? []), { value: old.value, line: old.line }] : undefined;
    section!.set(pending.name, { value: pending.parts.join('\n'), file, line: pending.line, ...(earlier ? { earlier } : {}) });
    pending = undefined;
  };

  const n = text.length;
  let lineNo = 0;
  let start = 0;
  while (start < n || (start === n && lineNo === 0)) {
    lineNo++;
    // The line is text[start, lineEnd); a line ends at \n, \r\n or \r (Python's universal newlines).
    let lineEnd = start;
    let c = 0;
    while (lineEnd < n) {
      c = text.charCodeAt(lineEnd);
      if (c === LF || c === CR) break;
      lineEnd++;
    }
    let next = lineEnd + 1;
    if (c === CR && lineEnd + 1 < n && text.charCodeAt(lineEnd + 1) === LF) next++;
    const lineStart = start;
    start = next;

    let end = lineEnd;
    while (end > lineStart && isSpace(text.charCodeAt(end - 1))) end--;
    if (end === lineStart) {
      flush();
      continue;
    }
    const first = text.charCodeAt(lineStart);
    if (first === SPACE || first === TAB) {
      if (!pending) throw new IniSyntaxError(file, lineNo, `unexpected continuation line (${end - lineStart} characters; not shown: it may hold a password)`);
      let s = lineStart + 1;
      while (isSpace(text.charCodeAt(s))) s++;
      pending.parts.push(text.slice(s, end));
      continue;
    }
    flush();
    if (first === LBRACKET) {
      if (text.charCodeAt(end - 1) !== RBRACKET) {
        throw new IniSyntaxError(file, lineNo, `invalid section (must end with "]"): ${quote(text, lineStart, end)}`);
      }
      if (end - lineStart <= 2) throw new IniSyntaxError(file, lineNo, 'empty section name');
      const name = text.slice(lineStart + 1, end - 1);
      section = doc.get(name);
      if (!section) doc.set(name, (section = new Map()));
      continue;
    }
    if (first === HASH || first === SEMICOLON) continue;

    let sep = lineStart;
    while (sep < end) {
      c = text.charCodeAt(sep);
      if (c === EQUALS || c === COLON) break;
      sep++;
    }
    if (sep === end) {
      throw new IniSyntaxError(file, lineNo,
        `expected "name = value" or "[section]", got a line of ${end - lineStart} characters without "=" (not shown: it may hold a password)`);
    }
    let nameStart = lineStart;
    while (nameStart < sep && isSpace(text.charCodeAt(nameStart))) nameStart++;
    let nameEnd = sep;
    while (nameEnd > nameStart && isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
    if (nameEnd === nameStart) throw new IniSyntaxError(file, lineNo, `option name missing before "${text[sep]}"`);
    const name = text.slice(nameStart, nameEnd);
    if (!section) {
      throw new IniSyntaxError(file, lineNo, `option ${quote(text, nameStart, nameEnd)} appears before any [section]`);
    }
    let v = sep + 1;
    while (v < end && isSpace(text.charCodeAt(v))) v++;
    let vEnd = end;
    if (vEnd > v) {
      const q = text.charCodeAt(v);
      if ((q === DQUOTE || q === SQUOTE) && text.charCodeAt(vEnd - 1) === q) {
        v++;
        vEnd = Math.max(v, vEnd - 1);
      }
    }
    pending = { name, parts: [text.slice(v, vEnd)], line: lineNo };
  }
  flush();
  return doc;
}
