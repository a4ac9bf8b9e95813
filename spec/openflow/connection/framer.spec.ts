import { expect } from 'chai';
import { MessageFramer } from '@ovs-agent/openflow';
import { FramingError } from '../../../protocol/openflow/connection/errors.js';

/** A raw OpenFlow message: header with the given type and xid, then `body`. */
function message(type: number, xid: number, body: number[] = []): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b.writeUInt8(4, 0);
  b.writeUInt8(type, 1);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(xid, 4);
  Buffer.from(body).copy(b, 8);
  return b;
}

function collect(): { framer: MessageFramer; out: Buffer[] } {
  const out: Buffer[] = [];
  return { framer: new MessageFramer((m) => out.push(Buffer.from(m))), out };
}

describe('openflow connection: MessageFramer', () => {
  const stream = Buffer.concat([
    message(0, 1),
    message(2, 2, [1, 2, 3, 4, 5]),
    message(14, 3, Array.from({ length: 300 }, (_, i) => i & 0xff)),
    message(20, 4),
  ]);

  it('yields every message of one chunk as views, in order', () => {
    const seen: Buffer[] = [];
    const framer = new MessageFramer((m) => seen.push(m));
    framer.push(stream);
    expect(seen.map((m) => m.readUInt32BE(4))).to.deep.equal([1, 2, 3, 4]);
    // Views share the chunk's memory: no copy for messages inside one chunk.
    expect(seen.every((m) => m.buffer === stream.buffer)).to.equal(true);
    expect(framer.idle).to.equal(true);
  });

  it('reassembles the same messages when the stream is cut at every offset', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { framer, out } = collect();
      framer.push(stream.subarray(0, cut));
      framer.push(stream.subarray(cut));
      expect(Buffer.concat(out).equals(stream), `cut at ${cut}`).to.equal(true);
      expect(out).to.have.length(4);
      expect(framer.idle).to.equal(true);
    }
  });

  it('reassembles when fed one byte at a time and when cut at two offsets', () => {
    const { framer, out } = collect();
    for (let i = 0; i < stream.length; i++) framer.push(stream.subarray(i, i + 1));
    expect(Buffer.concat(out).equals(stream)).to.equal(true);
    for (let a = 1; a < 40; a++) {
      for (let b = a + 1; b < stream.length; b += 7) {
        const c = collect();
        c.framer.push(stream.subarray(0, a));
        c.framer.push(stream.subarray(a, b));
        c.framer.push(stream.subarray(b));
        expect(Buffer.concat(c.out).equals(stream), `cuts ${a},${b}`).to.equal(true);
      }
    }
  });

  it('rejects a header whose length is below 8, wherever it is cut', () => {
    const bad = Buffer.from([4, 0, 0, 4, 0, 0, 0, 1]);
    expect(() => new MessageFramer(() => undefined).push(bad)).to.throw(FramingError, /length 4/);
    for (let cut = 1; cut < 8; cut++) {
      const f = new MessageFramer(() => undefined);
      expect(() => {
        f.push(bad.subarray(0, cut));
        f.push(bad.subarray(cut));
      }, `cut ${cut}`).to.throw(FramingError);
    }
  });

  it('holds a partial message until the rest arrives, then forgets it on reset', () => {
    const { framer, out } = collect();
    framer.push(stream.subarray(0, 20));
    expect(out).to.have.length(1);
    expect(framer.idle).to.equal(false);
    framer.reset();
    expect(framer.idle).to.equal(true);
    framer.push(message(20, 9));
    expect(out.map((m) => m.readUInt32BE(4))).to.deep.equal([1, 9]);
  });
});
