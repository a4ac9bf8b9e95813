/**
 * The text line oslo.log writes (its ContextFormatter), from
 * `[DEFAULT] logging_default_format_string`:
 *
 *   2026-12-06 10:05:18.501 4242 INFO ovs_agent.agent.report [-] port 5f1c… is ACTIVE {"port_id":"5f1c…",…}
 *
 * date, time with milliseconds, pid, level, logger, `[-]` (no request
 * context: the context format string applies to lines with a request id,
 * which the agent's never have), the message. The line's fields follow the
 * message as one JSON object. A message of several lines is written as
 * several lines with the same prefix, so that each line of the file parses.
 * The format string is compiled once; a key Python's records do not have is
 * refused at start (Python would fail on every line).
 */
import { basename } from 'node:path';
import { compileDateFormat } from './date-format.js';
import { levelName } from './levels.js';
import { fieldsJson, hasFields, type LogRecord, type ProcessInfo } from './record.js';

export const DEFAULT_FORMAT = '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s';
export const DEFAULT_DATE_FORMAT = '%Y-%m-%d %H:%M:%S';

export class LogFormatError extends Error {
  override readonly name = 'LogFormatError';
  readonly code = 'LOG_FORMAT_INVALID';
}

type Getter = (r: LogRecord, message: string) => unknown;

function isoTime(ms: number): string {
  const d = new Date(ms);
  const m = -d.getTimezoneOffset();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
    + `.${p(d.getMilliseconds(), 3)}000${m < 0 ? '-' : '+'}${p(Math.floor(Math.abs(m) / 60))}:${p(Math.abs(m) % 60)}`;
}

/** The record's attributes by their Python names, plus what oslo.log's formatter adds (empty without a request context). */
function getters(info: ProcessInfo, asctime: (ms: number) => string): ReadonlyMap<string, Getter> {
  const empty: Getter = () => '';
  const module = (r: LogRecord): string => (r.file ? basename(r.file).replace(/\.[^.]*$/, '') : '');
  return new Map<string, Getter>([
    ['name', (r) => r.name],
    ['levelno', (r) => r.levelno],
    ['levelname', (r) => levelName(r.levelno)],
    ['message', (_r, m) => m],
    ['msg', (_r, m) => m],
    ['args', () => '()'],
    ['asctime', (r) => asctime(r.created)],
    ['msecs', (r) => r.created % 1000],
    ['created', (r) => r.created / 1000],
    ['relativeCreated', (r) => r.created - info.startedAt],
    ['process', () => info.pid],
    ['processName', () => 'MainProcess'],
    ['thread', () => info.pid],
    ['threadName', () => 'MainThread'],
    ['pathname', (r) => r.file ?? ''],
    ['filename', (r) => (r.file ? basename(r.file) : '')],
    ['module', module],
    ['lineno', () => 0],
    ['funcName', empty],
    ['exc_info', empty], ['exc_text', empty], ['stack_info', empty],
    ['isotime', (r) => isoTime(r.created)],
    ['hostname', () => info.hostname],
    ['project', () => info.project],
    ['version', () => info.version],
    ['error_summary', empty],
    ...['instance', 'color', 'reset_color', 'user_identity', 'resource', 'user_name', 'project_name', 'global_request_id', 'request_id']
      .map((k): [string, Getter] => [k, empty]),
  ]);
}

/** `%(key)[flags][width][.precision]conversion`, or `%%`. */
const SPEC = /%(?:\((\w+)\)([#0\- +]*)(\d+)?(?:\.(\d+))?[hlL]?([diouxXeEfFgGcrsa])|(%))/gy;

function converter(conv: string, flags: string, width: number | undefined, precision: number | undefined): (v: unknown) => string {
  const left = flags.includes('-');
  const zero = flags.includes('0') && !left && 'diouxXeEfFgG'.includes(conv);
  const fit = (s: string): string => {
    if (width === undefined || s.length >= width) return s;
    if (left) return s.padEnd(width);
    if (zero) return s.startsWith('-') ? `-${s.slice(1).padStart(width - 1, '0')}` : s.padStart(width, '0');
    return s.padStart(width);
  };
  switch (conv) {
    case 'd': case 'i': case 'u':
      return (v) => fit(String(Math.trunc(Number(v))));
    case 'f': case 'F':
      return (v) => fit(Number(v).toFixed(precision ?? 6));
    case 'e': case 'E': {
      return (v) => {
        const s = Number(v).toExponential(precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
        return fit(conv === 'E' ? s.toUpperCase() : s);
      };
    }
    case 'g': case 'G':
      return (v) => fit(String(Number(Number(v).toPrecision(precision ?? 6))));
    case 'x': return (v) => fit(Math.trunc(Number(v)).toString(16));
    case 'X': return (v) => fit(Math.trunc(Number(v)).toString(16).toUpperCase());
    case 'o': return (v) => fit(Math.trunc(Number(v)).toString(8));
    case 'c': return (v) => fit(typeof v === 'number' ? String.fromCharCode(v) : String(v).slice(0, 1));
    case 'r': case 'a':
      return (v) => fit(typeof v === 'string' ? `'${v}'` : String(v));
    default: {
      const trim = precision === undefined ? (s: string) => s : (s: string) => s.slice(0, precision);
      return (v) => fit(trim(String(v)));
    }
  }
}

/** A Python %-style format string over a record's attributes, compiled into a function. */
export function compileFormat(format: string, option: string, info: ProcessInfo, asctime: (ms: number) => string):
  (r: LogRecord, message: string) => string {
  const known = getters(info, asctime);
  const parts: Array<string | ((r: LogRecord, m: string) => string)> = [];
  let literal = '';
  let i = 0;
  while (i < format.length) {
    const pc = format.indexOf('%', i);
    if (pc < 0) {
      literal += format.slice(i);
      break;
    }
    literal += format.slice(i, pc);
    SPEC.lastIndex = pc;
    const m = SPEC.exec(format);
    if (!m) throw new LogFormatError(`${option}: cannot read the conversion at ${JSON.stringify(format.slice(pc, pc + 12))} (expected %(key)s, %(key)03d, ... or %%)`);
    i = SPEC.lastIndex;
    if (m[6]) {
      literal += '%';
      continue;
    }
    const get = known.get(m[1]);
    if (!get) throw new LogFormatError(`${option}: %(${m[1]}) is not an attribute of a log record (known: ${[...known.keys()].join(', ')})`);
    const conv = converter(m[5], m[2], m[3] === undefined ? undefined : Number(m[3]), m[4] === undefined ? undefined : Number(m[4]));
    if (literal) parts.push(literal);
    literal = '';
    parts.push((r, msg) => conv(get(r, msg)));
  }
  if (literal) parts.push(literal);
  return (r, message) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(r, message);
    return out;
  };
}

export interface TextFormatOptions {
  format?: string;
  dateFormat?: string;
  info: ProcessInfo;
}

export class TextFormatter {
  private readonly line: (r: LogRecord, message: string) => string;

  constructor(opts: TextFormatOptions) {
    const asctime = compileDateFormat(opts.dateFormat ?? DEFAULT_DATE_FORMAT);
    this.line = compileFormat(opts.format ?? DEFAULT_FORMAT, '[DEFAULT] logging_default_format_string', opts.info, asctime);
  }

  /** The record as one or more lines, without the final newline. */
  format(r: LogRecord): string {
    const message = hasFields(r.fields) ? `${r.message} ${fieldsJson(r.fields)}` : r.message;
    if (!message.includes('\n')) return this.line(r, message);
    return message.split('\n').map((m) => this.line(r, m)).join('\n');
  }
}
