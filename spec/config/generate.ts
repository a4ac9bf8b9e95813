/**
 * Generated ini files for the loader's fuzz and oracle tests: valid lines of
 * the agent's options with good and bad values, Object.prototype names as
 * sections, options and dict keys, continuation and comment lines, long
 * lines, and odd characters spliced into ordinary lines.
 */
import { OPTIONS, type OptionSpec } from '../../lib/config/index.js';

const SECTIONS = Object.keys(OPTIONS);
const OPTION_NAMES = Object.entries(OPTIONS).map(([s, o]) => [s, Object.keys(o)] as const);
export const PROTO = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable',
  'toLocaleString', '__defineGetter__', '__lookupSetter__', 'name', 'length', 'prototype', 'call', 'apply'];
const ODD = ['\0', '\r', '\t', '\v', '\f', '\u00a0', '\u2028', '\u2029', '\ufeff', '\ufffd', '\ud800', '\udfff', '\u0085', '"', "'", '=', ':', '[', ']', '#', ';', ',', '$', '%', '\\'];

function valueFor(spec: OptionSpec, r: () => number): string {
  const t = spec.type;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  switch (t.kind) {
    case 'bool': return pick(['true', 'False', '1', 'no', 'maybe', '']);
    case 'int': return pick(['0', '7', '-3', '65536', '1e3', 'x', '', '99999999999999999999']);
    case 'float': return pick(['0', '2.5', '-1', 'NaN', 'Infinity', '']);
    case 'ip': return pick(['127.0.0.1', '::1', '10.0.0.300', '', 'host']);
    case 'dict': return pick(['physnet1:br-a', `${pick(PROTO)}:br-x,${pick(PROTO)}:br-y`, 'a:b,a:c', 'nocolon', ':x', 'x:', '']);
    case 'list': return t.choices ? pick([...t.choices, 'ipip', '']).concat(r() < 0.5 ? `,${pick(t.choices)}` : '') : pick(['a,b', '', ',,', '0x4008']);
    case 'string': return t.choices ? pick([...t.choices, 'other']) : pick(['br-int', '', '"quoted"', "'q'", 'x'.repeat(200)]);
    case 'multi': return pick(['a', '', 'b,c']);
  }
}

function line(r: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const x = r();
  if (x < 0.12) return `[${pick(r() < 0.6 ? SECTIONS : PROTO)}]`;
  if (x < 0.40) {
    const [section, names] = pick(OPTION_NAMES);
    const name = pick(names);
    const spec = (OPTIONS as Record<string, Record<string, OptionSpec>>)[section][name];
    return `${name}${pick([' = ', '=', ': ', ' :'])}${valueFor(spec, r)}`;
  }
  if (x < 0.55) return `${pick(PROTO)}${pick([' = ', ':'])}${pick(['1', '', pick(PROTO)])}`;
  if (x < 0.60) return `${pick(['  ', '\t'])}${pick(['continued', pick(PROTO), ''])}`;
  if (x < 0.65) return pick(['# comment', '; comment', '', '   ', '[', ']', '[]', '=', ':x', '= v']);
  if (x < 0.655) {
    // A long line: a key and spaces, or one word, or an option with a long value.
    const n = 1000 + Math.floor(r() * 10_000);
    return pick([`a${' '.repeat(n)}x`, 'k'.repeat(n), `host = ${'h'.repeat(n)}`, `[${'s'.repeat(n)}`]);
  }
  // Odd characters spliced into an otherwise ordinary line.
  let s = pick(['[ovs]', 'integration_bridge = br-int', 'local_ip = 127.0.0.1', 'tunnel_types = vxlan', 'x']);
  for (let i = 1 + Math.floor(r() * 3); i > 0; i--) {
    const at = Math.floor(r() * (s.length + 1));
    s = s.slice(0, at) + pick(ODD) + s.slice(at);
  }
  return s;
}

/** One generated file: 1 to 6 lines, mostly after a section header, with \n or \r\n line ends. */
export function configText(r: () => number): string {
  const lines: string[] = [];
  if (r() < 0.7) lines.push(`[${SECTIONS[Math.floor(r() * SECTIONS.length)]}]`);
  for (let i = 1 + Math.floor(r() * 6); i > 0; i--) lines.push(line(r));
  return lines.join(r() < 0.9 ? '\n' : '\r\n') + (r() < 0.8 ? '\n' : '');
}
