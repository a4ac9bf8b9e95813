/**
 * Field values in text, both ways, by the field's format (OVS `mf_parse` and
 * `mf_format`): integers with `/mask`, addresses with prefix lengths or
 * masks, ports by name, and the `+flag-flag` syntax of ct_state and
 * tcp_flags.
 */
import { FlowSyntaxError } from './errors.js';
import { CT_STATE_BITS, TCP_FLAG_BITS, TUN_FLAG_BITS, type FieldDef } from './fields.js';
import {
  formatHexBytes, formatIPv4Masked, formatIPv6Masked, formatMac, ipv4PrefixMask, ipv6PrefixMask, parseBig,
  parseIPv4, parseIPv6, parseMac, parseNumber, bigToBytes,
} from './values.js';
import { bytesAllOnes, fieldRepr, type SlotValue } from './view.js';

/** OpenFlow 1.1+ reserved ports, by the names ovs-ofctl reads and prints. */
export const PORT_NAMES: ReadonlyMap<string, number> = new Map([
  ['IN_PORT', 0xfffffff8],
  ['TABLE', 0xfffffff9],
  ['NORMAL', 0xfffffffa],
  ['FLOOD', 0xfffffffb],
  ['ALL', 0xfffffffc],
  ['CONTROLLER', 0xfffffffd],
  ['LOCAL', 0xfffffffe],
  ['ANY', 0xffffffff],
  ['NONE', 0xffffffff],
  // OVS's own: "no port" in actset_output (OFPP_UNSET).
  ['UNSET', 0xfffffff7],
]);
const PORT_BY_NUMBER = new Map<number, string>([...PORT_NAMES].filter(([n]) => n !== 'NONE').map(([n, v]) => [v, n]));

/** OpenFlow 1.0's reserved range (0xff00-0xffff) and OpenFlow 1.1's (0xffffff00-0xffffffff): one maps onto the other. */
const OF10_MAX = 0xff00;
const OF11_MAX = 0xffffff00;
const OF10_TO_OF11 = 0xffff0000;

/**
 * The port names of the bridge being programmed (as ovs-ofctl learns them from
 * the switch), while a parse that was given some runs. Parsing is synchronous,
 * so this cannot leak into another parse.
 */
let portNames: ReadonlyMap<string, number> | undefined;

export function withPortNames<T>(names: ReadonlyMap<string, number> | undefined, fn: () => T): T {
  const prev = portNames;
  portNames = names;
  try {
    return fn();
  } finally {
    portNames = prev;
  }
}

/**
 * ovs-ofctl's port syntax (ofputil_port_from_string): a reserved name (any
 * case), a decimal number (OpenFlow 1.0's reserved range 0xff00-0xffff maps
 * onto OpenFlow 1.1's 0xffffff00-0xffffffff; 0x10000 up to 0xffffff00 is no
 * port), or, given a port map, a port name, quoted or not.
 */
export function parsePort(s: string): number | undefined {
  const named = PORT_NAMES.get(s.toUpperCase());
  if (named !== undefined) return named;
  const quoted = s.length >= 2 && s.charCodeAt(0) === 34 && s.charCodeAt(s.length - 1) === 34;
  if (!quoted && /^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n < OF10_MAX) return n;
    if (n <= 0xffff) return (n + OF10_TO_OF11) >>> 0;
    if (n >= OF11_MAX && n <= 0xffffffff) return n;
    return undefined;
  }
  return portNames?.get(quoted ? s.slice(1, -1) : s);
}

/** A port as OVS prints one (ofputil_format_port): reserved ones by name, the rest of the reserved range in OpenFlow 1.0 numbers. */
export function formatPort(port: number): string {
  const name = PORT_BY_NUMBER.get(port);
  if (name !== undefined) return name;
  return port >= OF11_MAX ? String(port - OF10_TO_OF11) : String(port);
}

function bad(f: FieldDef, text: string, at: number, why = `invalid value for ${f.name}`): FlowSyntaxError {
  return new FlowSyntaxError('OFTEXT_BAD_VALUE', why, text, at + 1);
}

function flagValue(
  f: FieldDef, text: string, at: number, table: readonly (readonly [string, number])[], allBits: number,
): [number, number] {
  const c0 = text.charCodeAt(0);
  if (c0 === 43 || c0 === 45) {
    // +a-b: the named bits are matched, set (+) or clear (-).
    let value = 0;
    let mask = 0;
    let i = 0;
    while (i < text.length) {
      const sign = text[i];
      if (sign !== '+' && sign !== '-') throw bad(f, text, at + i, `expected + or - in ${f.name}`);
      let j = i + 1;
      while (j < text.length && text[j] !== '+' && text[j] !== '-') j++;
      const name = text.slice(i + 1, j);
      const bit = table.find(([n]) => n === name)?.[1];
      if (bit === undefined) throw bad(f, name, at + i + 1, `unknown ${f.name} flag`);
      if (mask & bit) throw bad(f, name, at + i + 1, `${f.name} flag given twice`);
      mask |= bit;
      if (sign === '+') value |= bit;
      i = j;
    }
    return [value, mask];
  }
  if (/^[a-z[]/.test(text)) {
    // a|b: exactly these bits set, every other bit clear.
    let value = 0;
    let i = 0;
    for (const name of text.split('|')) {
      const bit = table.find(([n]) => n === name)?.[1];
      if (bit === undefined) throw bad(f, name, at + i, `unknown ${f.name} flag`);
      value |= bit;
      i += name.length + 1;
    }
    return [value, allBits];
  }
  const [v, m] = numericPair(f, text, at, allBits);
  return [v, m];
}

/** All ones of the bytes OVS stores a field in (1, 2, 4 or 8): its "exact" mask in text, e.g. 0xff for the 3-bit vlan_pcp. */
function storageOnes(bits: number): number {
  return bits <= 8 ? 0xff : bits <= 16 ? 0xffff : 0xffffffff;
}

function numericPair(f: FieldDef, text: string, at: number, maxMask: number, maxValue = maxMask): [number, number] {
  const slash = text.indexOf('/');
  const vs = slash < 0 ? text : text.slice(0, slash);
  const v = parseNumber(vs);
  if (v === undefined || v > maxValue) throw bad(f, vs, at, v === undefined ? `invalid value for ${f.name}` : `value too large for ${f.name}`);
  if (slash < 0) return [v, maxMask];
  const m = parseNumber(text.slice(slash + 1));
  if (!f.maskable) {
    // A field that cannot be masked still takes the two masks that are no mask: all ones of its bytes
    // (exact) and zero (anything).
    if (m === 0) return [v, 0];
    if (m === storageOnes(f.bits)) return [v, maxMask];
    throw new FlowSyntaxError('OFTEXT_BAD_MASK', `${f.name} cannot be masked`, text, at + 1);
  }
  if (m === undefined || m > maxMask) throw new FlowSyntaxError('OFTEXT_BAD_MASK', `invalid mask for ${f.name}`, text.slice(slash + 1), at + slash + 2);
  return [v, m];
}

/** nw_frag's names (ovs-ofctl compares them ignoring case); it takes no number. */
const FRAG: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['no', [0, 3]], ['first', [1, 3]], ['later', [3, 3]], ['yes', [1, 1]], ['not_later', [0, 2]],
]);

/**
 * Largest value of a numeric field, where it is not all ones of its width:
 * OpenFlow 1.0's dl_vlan also takes 0xffff ("no VLAN"); Open vSwitch keeps
 * only 8 bits of arp_op (ovs-fields(7): larger opcodes are treated as zero),
 * so a larger one is refused rather than matched as 0.
 */
const MAX_VALUE: Record<string, number> = { arp_op: 0xff };

function allOnes(bits: number): number | bigint {
  return bits > 32 ? (1n << BigInt(bits)) - 1n : bits === 32 ? 0xffffffff : (1 << bits) - 1;
}

/**
 * Parses `text` (at offset `at` of the source) as a value of field `f`.
 * Returns [value, mask] in the field's representation (view.ts fieldRepr).
 */
export function parseFieldValue(f: FieldDef, text: string, at: number): [SlotValue, SlotValue] {
  if (text === '') text = '0/0';
  switch (f.format) {
    case 'ct_state':
      return flagValue(f, text, at, CT_STATE_BITS, 0xff);
    case 'tcp_flags':
      return flagValue(f, text, at, TCP_FLAG_BITS, 0xfff);
    case 'tun_flags':
      return flagValue(f, text, at, TUN_FLAG_BITS, 0x1);
    case 'frag': {
      const fr = FRAG.get(text.toLowerCase());
      if (!fr) throw bad(f, text, at, `unknown fragment type for ${f.name} (no, yes, first, later, not_later)`);
      return [fr[0], fr[1]];
    }
    case 'port': {
      const p = parsePort(text);
      if (p === undefined) throw bad(f, text, at, `invalid or unknown port for ${f.name}`);
      return [p, 0xffffffff];
    }
    case 'ethernet': {
      const slash = text.indexOf('/');
      const v = parseMac(slash < 0 ? text : text.slice(0, slash));
      if (!v) throw bad(f, slash < 0 ? text : text.slice(0, slash), at, 'invalid Ethernet address');
      if (slash < 0) return [v, new Uint8Array(6).fill(0xff)];
      const m = parseMac(text.slice(slash + 1));
      if (!m) throw new FlowSyntaxError('OFTEXT_BAD_MASK', 'invalid Ethernet mask', text.slice(slash + 1), at + slash + 2);
      return [v, m];
    }
    case 'ipv4': {
      const slash = text.indexOf('/');
      const v = parseIPv4(slash < 0 ? text : text.slice(0, slash));
      if (v === undefined) throw bad(f, slash < 0 ? text : text.slice(0, slash), at, 'invalid IPv4 address');
      if (slash < 0) return [v, 0xffffffff];
      const ms = text.slice(slash + 1);
      let m: number | undefined;
      if (/^[0-9]{1,2}$/.test(ms) && Number(ms) <= 32) m = ipv4PrefixMask(Number(ms));
      else m = parseIPv4(ms);
      if (m === undefined) throw new FlowSyntaxError('OFTEXT_BAD_MASK', 'invalid IPv4 mask', ms, at + slash + 2);
      return [v, m];
    }
    case 'ipv6': {
      const slash = text.indexOf('/');
      const v = parseIPv6(slash < 0 ? text : text.slice(0, slash));
      if (!v) throw bad(f, slash < 0 ? text : text.slice(0, slash), at, 'invalid IPv6 address');
      if (slash < 0) return [v, new Uint8Array(16).fill(0xff)];
      const ms = text.slice(slash + 1);
      let m: Uint8Array | undefined;
      if (/^[0-9]{1,3}$/.test(ms) && Number(ms) <= 128) m = ipv6PrefixMask(Number(ms));
      else m = parseIPv6(ms);
      if (!m) throw new FlowSyntaxError('OFTEXT_BAD_MASK', 'invalid IPv6 mask', ms, at + slash + 2);
      return [v, m];
    }
    case 'decimal':
    case 'hex': {
      if (fieldRepr(f) === 'num') {
        const full = allOnes(f.bits) as number;
        if (f.name === 'dl_vlan') {
          // OpenFlow 1.0's 0xffff means "no VLAN"; anything else beyond 12 bits would be truncated.
          const [v, m] = numericPair(f, text, at, 0xffff);
          if (v !== 0xffff && v > full) throw bad(f, text, at, `value too large for ${f.name}`);
          return [v, m === 0xffff ? full : m];
        }
        const [v, m] = numericPair(f, text, at, full, MAX_VALUE[f.name] ?? full);
        if (f.name === 'nw_tos' && m !== 0 && v & 3) {
          throw bad(f, text, at, 'nw_tos is the DSCP bits of the TOS byte: a multiple of 4 (the ECN bits are nw_ecn)');
        }
        return [v, m];
      }
      const slash = text.indexOf('/');
      const vs = slash < 0 ? text : text.slice(0, slash);
      const full = allOnes(f.bits) as bigint;
      const v = parseBig(vs);
      if (v === undefined || v > full) throw bad(f, vs, at, v === undefined ? `invalid value for ${f.name}` : `value too large for ${f.name}`);
      if (slash < 0) return [v, full];
      const m = parseBig(text.slice(slash + 1));
      if (m === undefined || m > full) throw new FlowSyntaxError('OFTEXT_BAD_MASK', `invalid mask for ${f.name}`, text.slice(slash + 1), at + slash + 2);
      if (!f.maskable && m !== 0n && m !== full) throw new FlowSyntaxError('OFTEXT_BAD_MASK', `${f.name} cannot be masked`, text, at + 1);
      return [v, m];
    }
  }
}

function hexNum(v: number): string {
  return v === 0 ? '0' : '0x' + v.toString(16);
}

function hexBig(v: bigint): string {
  return v === 0n ? '0' : '0x' + v.toString(16);
}

/**
 * A value as `set_field:` and learn print it (OVS `mf_format`): hex fields
 * as `0x..` (`0` for zero), decimal fields in decimal, masks in hex,
 * addresses in their notation. `mask` undefined means exact.
 */
export function formatFieldValue(f: FieldDef, value: SlotValue, mask?: SlotValue): string {
  switch (f.format) {
    case 'ethernet': {
      const v = formatMac(value as Uint8Array);
      return mask === undefined || bytesAllOnes(mask as Uint8Array) ? v : `${v}/${formatMac(mask as Uint8Array)}`;
    }
    case 'ipv4':
      return formatIPv4Masked(value as number, mask === undefined ? 0xffffffff : (mask as number));
    case 'ipv6':
      return formatIPv6Masked(value as Uint8Array, mask === undefined ? new Uint8Array(16).fill(0xff) : (mask as Uint8Array));
    case 'port':
      if (mask === undefined) return formatPort(value as number);
      break;
    case 'ct_state':
      return formatFlags(CT_STATE_BITS, value as number, mask === undefined ? 0xff : (mask as number), 0xff);
    case 'tcp_flags':
      return formatFlags(TCP_FLAG_BITS, value as number, mask === undefined ? 0xfff : (mask as number), 0xfff);
    case 'tun_flags':
      return formatFlags(TUN_FLAG_BITS, value as number, mask === undefined ? 0x1 : (mask as number) & 0x1, 0x1);
    default:
      break;
  }
  const full = allOnes(f.bits);
  const exact = mask === undefined || mask === full;
  let s: string;
  if (typeof value === 'bigint') s = f.format === 'hex' ? hexBig(value) : value.toString();
  else s = f.format === 'hex' ? hexNum(value as number) : String(value);
  if (exact) return s;
  return `${s}/${typeof mask === 'bigint' ? hexBig(mask) : hexNum(mask as number)}`;
}

/** OVS `format_flags_masked`: `a|b` when exact, else `+a-b` over the masked bits. */
export function formatFlags(
  table: readonly (readonly [string, number])[], value: number, mask: number, maxMask: number,
): string {
  const name = (bit: number): string => table.find(([, b]) => b === bit)?.[0] ?? `0x${bit.toString(16)}`;
  if (mask === maxMask) {
    if (value === 0) return '0';
    const parts: string[] = [];
    for (let bit = 1; bit !== 0 && bit <= value; bit = (bit << 1) >>> 0) if (value & bit) parts.push(name(bit));
    return parts.join('|');
  }
  if (mask === 0) return '0/0';
  let s = '';
  for (let bit = 1; bit !== 0 && bit <= (mask >>> 0); bit = (bit << 1) >>> 0) {
    if (mask & bit) s += (value & bit ? '+' : '-') + (table.find(([, b]) => b === bit)?.[0] ?? '[Unknown]');
  }
  return s;
}

/** Value bytes of a field printed as OVS `ds_put_hex` does. */
export function formatHexValue(v: bigint, bytes: number): string {
  return formatHexBytes(bigToBytes(v, bytes));
}
