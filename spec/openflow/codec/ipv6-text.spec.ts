/**
 * The project's one IPv6 formatter (protocol/openflow/addr.ts formatIpv6)
 * against glibc's inet_ntop, which OVS uses to print addresses: python3's
 * socket.inet_ntop calls it. Each printed form must also read back to the
 * same bytes through the codec's writer and the text parser, and the
 * firewall's prefix normalisation must print the same way.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { normalizeCidr } from '../../../lib/firewall/addresses.js';
import { formatIpv6, writeIpv6 } from '@ovs-agent/openflow';
import { parseIPv6 } from '@ovs-agent/openflow';

/** A seeded generator, so a failure names a reproducible case. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function cases(): Buffer[] {
  const out: Buffer[] = [];
  const fixed = [
    '::', '::1', '1::', '::ffff:1.2.3.4', '::1.2.3.4', '::ffff:0:0', '::0.1.0.0', '1:0:0:1:0:0:0:1',
    '1:0:0:2:0:0:3:4', 'fe80::', '2001:db8::ffff:1:0', '0:0:0:0:0:1:0:0', '::ffff', '0:ffff::', '1:2:3:4:5:6:7:8',
  ];
  for (const t of fixed) {
    const b = Buffer.alloc(16);
    writeIpv6(b, 0, t);
    out.push(b);
  }
  const rnd = lcg(6);
  for (let n = 0; n < 3000; n++) {
    const b = Buffer.alloc(16);
    for (let w = 0; w < 8; w++) {
      // Mostly zero words, so runs of every length and position occur; some
      // words with a zero high byte, to test dropped leading zeros.
      const r = rnd();
      const v = r < 0.5 ? 0 : r < 0.6 ? 0xffff : r < 0.8 ? Math.floor(rnd() * 256) : Math.floor(rnd() * 65536);
      b.writeUInt16BE(v, w * 2);
    }
    out.push(b);
  }
  return out;
}

describe('IPv6 text: one formatter, as inet_ntop prints', () => {
  const all = cases();
  const expected = execFileSync(
    'python3',
    ['-c', 'import socket,sys\nfor l in sys.stdin.read().split():\n  print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(l)))'],
    { input: all.map((b) => b.toString('hex')).join('\n'), encoding: 'utf8' },
  ).trim().split('\n');

  it(`prints ${all.length} addresses exactly as glibc's inet_ntop`, () => {
    expect(expected).to.have.length(all.length);
    for (let i = 0; i < all.length; i++) {
      expect(formatIpv6(all[i]), all[i].toString('hex')).to.equal(expected[i]);
    }
  });

  it('formats at an offset inside a larger buffer', () => {
    const big = Buffer.alloc(40, 0xaa);
    all[3].copy(big, 7);
    expect(formatIpv6(big, 7)).to.equal('::ffff:1.2.3.4');
  });

  it('reads every printed form back to the same bytes (codec writer and text parser)', () => {
    const b = Buffer.alloc(16);
    for (const bytes of all) {
      const text = formatIpv6(bytes);
      writeIpv6(b, 0, text);
      expect(b.equals(bytes), text).to.equal(true);
      expect(Buffer.from(parseIPv6(text) as Uint8Array).equals(bytes), text).to.equal(true);
    }
  });

  it('the firewall normalises prefixes with the same text, host bits cleared', () => {
    expect(normalizeCidr('::FFFF:1.2.3.4')).to.equal('::ffff:1.2.3.4/128');
    expect(normalizeCidr('2001:0db8:0:0:1:0:0:1/64')).to.equal('2001:db8::/64');
    expect(normalizeCidr('2001:db8::ffff:1:1/100')).to.equal('2001:db8::ffff:0:0/100');
    expect(normalizeCidr('fe80::1:2:3:4/0')).to.equal('::/0');
    expect(() => normalizeCidr('fe80::1%eth0')).to.throw(/not an IP address or CIDR/);
  });
});
