/**
 * The item scanner of ovs-ofctl's flow syntax (lib/ofp-util.c
 * `ofputil_parse_key_value`): a list of `key`, `key=value`, `key:value` or
 * `key(value)` items separated by commas and white space. A value ends at a
 * separator outside parentheses; a `key(...)` value ends at its matching `)`,
 * except for the `key(x)->y` form (`move`-like shorthands), which runs on to
 * the next separator.
 *
 * Items carry offsets into the original text, never copies of it, so every
 * error downstream can name its column.
 */
import { FlowSyntaxError } from './errors.js';

export type ItemDelimiter = '' | '=' | ':' | '(';

export interface Item {
  readonly key: string;
  /** Offset of the key in the scanned text. */
  readonly at: number;
  /** What ended the key: `''` for a bare word such as `drop` or `tcp`. */
  readonly delim: ItemDelimiter;
  /** The value, `''` for a bare word. */
  readonly value: string;
  /** Offset of the value in the scanned text. */
  readonly valueAt: number;
}

const COMMA = 44;
const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const COLON = 58;
const EQUALS = 61;
const LPAREN = 40;
const RPAREN = 41;
const DASH = 45;
const GT = 62;

/** Character classes, one table lookup per character instead of a chain of comparisons. */
const SEPARATOR = 1;
/** Ends a key: a separator, `:`, `=`, `(` or `)`. */
const KEY_END = 2;
const CLASS = (() => {
  const t = new Uint8Array(128);
  for (const c of [COMMA, SPACE, TAB, LF, CR]) t[c] = SEPARATOR | KEY_END;
  for (const c of [COLON, EQUALS, LPAREN, RPAREN]) t[c] = KEY_END;
  return t;
})();

function isSeparator(c: number): boolean {
  return c < 128 && (CLASS[c] & SEPARATOR) !== 0;
}

/** Offset just past the `)` matching the `(` at `i`. */
function skipGroup(text: string, i: number, end: number): number {
  const open = i;
  let depth = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === LPAREN) depth++;
    else if (c === RPAREN && --depth === 0) return i + 1;
  }
  throw new FlowSyntaxError('OFTEXT_SYNTAX', 'unbalanced parenthesis', text.slice(open, end), open + 1);
}

/** End of a `key=value` value: the first separator outside parentheses. */
function valueEnd(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (isSeparator(c)) return i;
    if (c === LPAREN) i = skipGroup(text, i, end);
    else if (c === RPAREN) {
      throw new FlowSyntaxError('OFTEXT_SYNTAX', 'unbalanced parenthesis', ')', i + 1);
    } else i++;
  }
  return end;
}

/** End of a `key(value)` value: the `)` that closes it. */
function groupEnd(text: string, i: number, end: number, keyAt: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === RPAREN) return i;
    if (c === LPAREN) i = skipGroup(text, i, end);
    else i++;
  }
  throw new FlowSyntaxError('OFTEXT_SYNTAX', 'unbalanced parenthesis', text.slice(keyAt, end), keyAt + 1);
}

/**
 * Splits `text[start, end)` into items. Throws FlowSyntaxError on unbalanced
 * parentheses.
 */
export function scanItems(text: string, start = 0, end = text.length): Item[] {
  const items: Item[] = [];
  let i = start;
  for (;;) {
    while (i < end && isSeparator(text.charCodeAt(i))) i++;
    if (i >= end) return items;

    const at = i;
    let c = 0;
    while (i < end) {
      c = text.charCodeAt(i);
      if (c < 128 && CLASS[c] !== 0) {
        if (c === RPAREN) throw new FlowSyntaxError('OFTEXT_SYNTAX', 'unbalanced parenthesis', ')', i + 1);
        break;
      }
      i++;
    }
    const key = text.slice(at, i);
    if (i >= end || isSeparator(c)) {
      items.push({ key, at, delim: '', value: '', valueAt: i });
      continue;
    }

    const valueAt = ++i;
    if (c === LPAREN) {
      let close = groupEnd(text, i, end, at);
      let stop = close + 1;
      // `key(x)->y`: the value is `x)->y`, as ovs-ofctl hands it on.
      if (text.charCodeAt(close + 1) === DASH && text.charCodeAt(close + 2) === GT) {
        close = valueEnd(text, close + 1, end);
        stop = close;
      }
      items.push({ key, at, delim: '(', value: text.slice(valueAt, close), valueAt });
      i = stop;
    } else {
      const stop = valueEnd(text, i, end);
      items.push({ key, at, delim: c === COLON ? ':' : '=', value: text.slice(valueAt, stop), valueAt });
      i = stop;
    }
  }
}

/**
 * Splits a value at top-level commas (outside parentheses), as the
 * positional arguments of `resubmit(,T)`, `conjunction(ID,K/N)` or
 * `bundle(...)` are split. Empty arguments are kept (`resubmit(,5)` has two).
 */
export function splitArgs(text: string, start: number, end: number): Array<{ value: string; at: number }> {
  const out: Array<{ value: string; at: number }> = [];
  let from = start;
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === LPAREN) i = skipGroup(text, i, end);
    else if (c === COMMA) {
      out.push({ value: text.slice(from, i).trim(), at: from });
      from = ++i;
    } else i++;
  }
  out.push({ value: text.slice(from, end).trim(), at: from });
  return out;
}
