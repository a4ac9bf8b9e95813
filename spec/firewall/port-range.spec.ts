import { expect } from 'chai';
import { portRangeMasks } from '../../lib/firewall/index.js';

/** Every port the value/mask list matches, by brute force: the oracle. */
function covered(masks: string[]): Set<number> {
  const out = new Set<number>();
  for (const m of masks) {
    const [v, k] = m.split('/').map((x) => parseInt(x, 16));
    const mask = k ?? 0xffff;
    for (let p = 0; p <= 0xffff; p++) if ((p & mask) === v) out.add(p);
  }
  return out;
}

describe('firewall port-range expansion', () => {
  it('writes one port as a bare 16-bit hex value (reference: 22 → tcp_dst=0x0016)', () => {
    expect(portRangeMasks(22, 22)).to.deep.equal(['0x0016']);
  });

  it('expands 1000-1999 into the 7 masked values Neutron produces', () => {
    expect(portRangeMasks(1000, 1999)).to.have.members([
      '0x03e8/0xfff8', '0x03f0/0xfff0', '0x0400/0xfe00', '0x0600/0xff00', '0x0700/0xff80', '0x0780/0xffc0', '0x07c0/0xfff0',
    ]).and.have.length(7);
  });

  it('matches the worked example of neutron.common.utils ([64, 105])', () => {
    expect(portRangeMasks(64, 105)).to.deep.equal(['0x0040/0xffe0', '0x0060/0xfff8', '0x0068/0xfffe']);
  });

  it('covers exactly the range, with no two values overlapping, for random ranges', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 65536;
    for (let i = 0; i < 40; i++) {
      let a = rnd();
      let b = rnd();
      if (a > b) [a, b] = [b, a];
      const masks = portRangeMasks(a, b);
      const set = covered(masks);
      expect(set.size, `${a}-${b}`).to.equal(b - a + 1);
      expect(Math.min(...set)).to.equal(a);
      expect(Math.max(...set)).to.equal(b);
      // Minimal: never more than two blocks per bit.
      expect(masks.length).to.be.at.most(30);
    }
  });

  it('rejects reversed and out-of-range input with a typed error', () => {
    expect(() => portRangeMasks(10, 9)).to.throw(/bad port range/).with.property('code', 'FW_BAD_PORT_RANGE');
    expect(() => portRangeMasks(1, 70000)).to.throw(/bad port range/);
  });
});
