import { expect } from 'chai';
import { JsonSplitter, OvsdbErrorCode, OvsdbProtocolError } from '@ovs-agent/ovsdb';

function collect(): { out: unknown[]; splitter: JsonSplitter } {
  const out: unknown[] = [];
  const splitter = new JsonSplitter((text) => out.push(JSON.parse(text)));
  return { out, splitter };
}

// Objects that stress the scanner: braces and brackets inside strings, escaped quotes
// and backslashes, \u escapes, multi-byte UTF-8 (2, 3 and 4 bytes), nesting, whitespace between.
const MESSAGES: unknown[] = [
  { id: 1, result: ['Open_vSwitch', '_Server'], error: null },
  { method: 'update', params: ['m', { Bridge: { x: { new: { name: 'br{0}"[', external_ids: ['map', [['k\\', 'v\\"}']]] } } } }], id: null },
  { id: 2, result: { s: '\\\\\\"', t: '\u0000\u001f', u: 'é€😀', nested: [[[{}]], {}, []] }, error: null },
  { id: 3, result: 'a"b{c}d[e]f\\\\', error: null },
  { method: 'echo', params: [], id: 'echo' },
];
const STREAM = Buffer.from(MESSAGES.map((m, i) => JSON.stringify(m) + (i % 2 ? '\n  ' : '')).join(''), 'utf8');

describe('ovsdb JsonSplitter', () => {
  it('splits a stream delivered in one read', () => {
    const { out, splitter } = collect();
    splitter.push(STREAM);
    expect(out).to.deep.equal(MESSAGES);
    expect(splitter.buffered).to.equal(0);
  });

  it('splits the stream cut in two at every byte position (including inside UTF-8 sequences)', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const { out, splitter } = collect();
      splitter.push(STREAM.subarray(0, cut));
      splitter.push(STREAM.subarray(cut));
      expect(out, `cut at ${cut}`).to.deep.equal(MESSAGES);
    }
  });

  it('splits the stream fed one byte at a time, and in three pieces at every pair of positions', () => {
    const one = collect();
    for (let i = 0; i < STREAM.length; i++) one.splitter.push(STREAM.subarray(i, i + 1));
    expect(one.out).to.deep.equal(MESSAGES);
    // Every pair on a shorter stream keeps the loop bounded (n²/2 splits).
    const short = STREAM.subarray(0, STREAM.indexOf('{"id":3'));
    const expected = MESSAGES.slice(0, 3);
    for (let a = 0; a <= short.length; a += 1) {
      for (let b = a; b <= short.length; b += 7) {
        const { out, splitter } = collect();
        splitter.push(short.subarray(0, a));
        splitter.push(short.subarray(a, b));
        splitter.push(short.subarray(b));
        expect(out, `cuts at ${a},${b}`).to.deep.equal(expected);
      }
    }
  });

  it('decodes a multi-byte character split across reads only once the message is whole', () => {
    const msg = Buffer.from(JSON.stringify({ s: '😀' }), 'utf8');
    const at = msg.indexOf(0xf0) + 2; // in the middle of the 4-byte sequence
    const texts: string[] = [];
    const splitter = new JsonSplitter((t) => texts.push(t));
    splitter.push(msg.subarray(0, at));
    expect(texts).to.deep.equal([]);
    splitter.push(msg.subarray(at));
    expect(texts).to.deep.equal(['{"s":"😀"}']);
  });

  it('reassembles a 24 MB message from 64 KiB reads', () => {
    const rows: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) {
      rows[`00000000-0000-0000-0000-${String(i).padStart(12, '0')}`] = { initial: { name: `tap${i}{"}`, external_ids: ['map', [['iface-id', `é${i}\\`]]] } };
    }
    const big = Buffer.from(JSON.stringify({ id: 7, result: { Interface: rows }, error: null }) + JSON.stringify({ id: 8, result: 1, error: null }));
    expect(big.length).to.be.greaterThan(10_000_000);
    const { out, splitter } = collect();
    // Linear, not quadratic: the chunks are joined once per message, not once per read.
    const concat = Buffer.concat;
    let joins = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => (joins++, concat(list, total))) as typeof Buffer.concat;
    try {
      for (let i = 0; i < big.length; i += 65536) splitter.push(big.subarray(i, i + 65536));
    } finally {
      Buffer.concat = concat;
    }
    expect(joins).to.equal(1);
    expect(out).to.have.length(2);
    const first = out[0] as { result: { Interface: Record<string, unknown> } };
    expect(Object.keys(first.result.Interface)).to.have.length(100_000);
    expect(out[1]).to.deep.equal({ id: 8, result: 1, error: null });
  });

  it('survives a fuzz: random objects, random cuts, random garbage', () => {
    // A small deterministic PRNG so a failure can be replayed.
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = ['a', '{', '}', '[', ']', '"', '\\', ':', ',', ' ', 'é', '€', '😀', '\u0000', '\n'];
    const str = () => Array.from({ length: rand(8) }, () => alphabet[rand(alphabet.length)]).join('');
    const value = (depth: number): unknown => {
      switch (depth > 3 ? rand(4) : rand(6)) {
        case 0: return rand(1000) - 500;
        case 1: return str();
        case 2: return rand(2) === 0;
        case 3: return null;
        case 4: return Array.from({ length: rand(4) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: rand(4) }, () => [str(), value(depth + 1)]));
      }
    };
    for (let round = 0; round < 200; round++) {
      const msgs = Array.from({ length: 1 + rand(5) }, () => ({ id: rand(100), v: value(0) }));
      const bytes = Buffer.from(msgs.map((m) => JSON.stringify(m) + ' '.repeat(rand(3))).join(''));
      const { out, splitter } = collect();
      let at = 0;
      while (at < bytes.length) {
        const len = 1 + rand(40);
        splitter.push(bytes.subarray(at, at + len));
        at += len;
      }
      expect(out, `round ${round}`).to.deep.equal(msgs);
    }
    // Garbage never escapes as anything but a protocol error.
    for (let round = 0; round < 200; round++) {
      const junk = Buffer.from(Array.from({ length: 1 + rand(64) }, () => rand(256)));
      // The splitter only frames; invalid JSON inside balanced braces is the session's to reject.
      const splitter = new JsonSplitter(() => undefined);
      try {
        splitter.push(junk);
        splitter.push(Buffer.from('}]}'));
      } catch (err) {
        expect(err).to.be.instanceOf(OvsdbProtocolError);
      }
    }
  });

  it('rejects what is not a sequence of objects, and stays broken', () => {
    for (const bad of ['[1]', 'x{}', '{}]', '"s"', '1']) {
      const { splitter } = collect();
      expect(() => splitter.push(Buffer.from(bad)), bad)
        .to.throw(OvsdbProtocolError, /expected a JSON object/)
        .with.property('code', OvsdbErrorCode.PROTOCOL);
      expect(() => splitter.push(Buffer.from('{}'))).to.throw(OvsdbProtocolError);
    }
  });

  it('rejects invalid UTF-8 and messages over the size cap', () => {
    const { splitter } = collect();
    expect(() => splitter.push(Buffer.from([0x7b, 0x22, 0x61, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).to.throw(OvsdbProtocolError, /UTF-8/);
    const small = new JsonSplitter(() => undefined, { maxMessageBytes: 16 });
    expect(() => small.push(Buffer.from('{"a":"0123456789'))).to.not.throw();
    expect(() => small.push(Buffer.from('0123456789"}'))).to.throw(OvsdbProtocolError, /exceeds 16 bytes/);
  });

  it('forgets a partial message on reset', () => {
    const { out, splitter } = collect();
    splitter.push(Buffer.from('{"a":"{'));
    expect(splitter.buffered).to.be.greaterThan(0);
    splitter.reset();
    splitter.push(Buffer.from('{"b":1}'));
    expect(out).to.deep.equal([{ b: 1 }]);
  });
});
