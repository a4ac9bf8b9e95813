/**
 * A port range as OpenFlow matches: the minimal set of value/mask pairs
 * covering [min, max] (each pair an aligned power-of-two block), in
 * ascending order, written as Neutron's `port_rule_masking` writes them:
 * `0x0016` for one port, `0x03e8/0xfff8` for a block. The minimal cover is
 * unique, so this yields the same set as Neutron for every range.
 */
export class PortRangeError extends Error {
  override readonly name = 'PortRangeError';
  readonly code = 'FW_BAD_PORT_RANGE';
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

export function portRangeMasks(min: number, max: number): string[] {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max > 0xffff || min > max) {
    throw new PortRangeError(`bad port range ${min}-${max}`);
  }
  const out: string[] = [];
  let lo = min;
  while (lo <= max) {
    // The largest block aligned at lo that does not run past max.
    let size = lo === 0 ? 0x10000 : lo & -lo;
    while (lo + size - 1 > max) size >>= 1;
    out.push(size === 1 ? hex4(lo) : `${hex4(lo)}/${hex4((0xffff & ~(size - 1)) >>> 0)}`);
    lo += size;
  }
  return out;
}
