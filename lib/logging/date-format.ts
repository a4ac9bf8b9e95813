/**
 * `[DEFAULT] log_date_format`: the strftime(3) format of `%(asctime)s`
 * (oslo.log's default "%Y-%m-%d %H:%M:%S"), in local time as Python's
 * logging formats it. Compiled once; a directive this does not know is
 * refused at start rather than printed wrong on every line.
 */

export class DateFormatError extends Error {
  override readonly name = 'DateFormatError';
  readonly code = 'LOG_DATE_FORMAT_INVALID';
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number, w = 2, c = '0'): string => String(n).padStart(w, c);

function dayOfYear(d: Date): number {
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - new Date(d.getFullYear(), 0, 1).getTime()) / 86_400_000) + 1;
}

function offset(d: Date): string {
  const m = -d.getTimezoneOffset();
  return `${m < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(m) / 60))}${pad(Math.abs(m) % 60)}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

const hour12 = (d: Date): number => (d.getHours() % 12) || 12;

/** The directives of C's strftime in the C locale, as Python's time.strftime passes them on. */
const DIRECTIVES: Readonly<Record<string, (d: Date) => string>> = {
  a: (d) => DAYS[d.getDay()].slice(0, 3),
  A: (d) => DAYS[d.getDay()],
  b: (d) => MONTHS[d.getMonth()].slice(0, 3),
  h: (d) => MONTHS[d.getMonth()].slice(0, 3),
  B: (d) => MONTHS[d.getMonth()],
  C: (d) => pad(Math.floor(d.getFullYear() / 100)),
  d: (d) => pad(d.getDate()),
  D: (d) => `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`,
  e: (d) => pad(d.getDate(), 2, ' '),
  F: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
  H: (d) => pad(d.getHours()),
  I: (d) => pad(hour12(d)),
  j: (d) => pad(dayOfYear(d), 3),
  k: (d) => pad(d.getHours(), 2, ' '),
  l: (d) => pad(hour12(d), 2, ' '),
  m: (d) => pad(d.getMonth() + 1),
  M: (d) => pad(d.getMinutes()),
  n: () => '\n',
  p: (d) => (d.getHours() < 12 ? 'AM' : 'PM'),
  R: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`,
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  S: (d) => pad(d.getSeconds()),
  t: () => '\t',
  T: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  u: (d) => String(d.getDay() || 7),
  w: (d) => String(d.getDay()),
  y: (d) => pad(d.getFullYear() % 100),
  Y: (d) => String(d.getFullYear()),
  z: offset,
  Z: zoneName,
  '%': () => '%',
};

/**
 * The format as a function of the time. Its result depends on the second
 * only (no directive is finer), so it is cached per second.
 */
export function compileDateFormat(format: string): (ms: number) => string {
  const parts: Array<string | ((d: Date) => string)> = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    const k = format[++i];
    const f = k === undefined ? undefined : DIRECTIVES[k];
    if (!f) {
      throw new DateFormatError(`[DEFAULT] log_date_format ${JSON.stringify(format)}: ${k === undefined ? 'a lone % at the end' : `%${k}`} `
        + `is not supported (supported: ${Object.keys(DIRECTIVES).map((x) => `%${x}`).join(' ')})`);
    }
    if (k === '%' || k === 'n' || k === 't') {
      literal += f(new Date(0));
      continue;
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push(f);
  }
  if (literal) parts.push(literal);
  let second = NaN;
  let text = '';
  return (ms: number): string => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      const d = new Date(s * 1000);
      text = parts.map((p) => (typeof p === 'string' ? p : p(d))).join('');
      second = s;
    }
    return text;
  };
}
