import { expect } from 'chai';
import { Outbox, type OutboxSink } from '@ovs-agent/openflow';
import { OpenFlowConnectionError } from '@ovs-agent/openflow';

/** A sink that records writes and can pretend to be congested. */
class FakeSink implements OutboxSink {
  chunks: Buffer[] = [];
  writeCalls = 0;
  corked = 0;
  accept = true;
  writableLength = 0;
  write(chunk: Buffer): boolean {
    this.writeCalls++;
    this.chunks.push(Buffer.from(chunk));
    if (!this.accept) this.writableLength += chunk.length;
    return this.accept;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {}
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Encodes a message of `n` bytes whose every byte is `tag`. */
function put(box: Outbox, n: number, tag: number): void {
  box.begin();
  box.ensure(n);
  box.buf.fill(tag, box.pos, box.pos + n);
  box.pos += n;
  box.end();
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('openflow connection: Outbox', () => {
  it('writes everything encoded in one tick with one write', async () => {
    const sink = new FakeSink();
    const box = new Outbox(sink);
    for (let i = 0; i < 100; i++) put(box, 16, i);
    expect(sink.writeCalls).to.equal(0);
    await tick();
    expect(sink.writeCalls).to.equal(1);
    expect(sink.bytes.length).to.equal(1600);
    expect(sink.bytes[16 * 57]).to.equal(57);
  });

  it('cuts a long burst every flushBytes, keeping messages whole across slabs', async () => {
    const sink = new FakeSink();
    const box = new Outbox(sink, { slabBytes: 1000, reserveBytes: 200, flushBytes: 4096 });
    const sizes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = 8 + (i % 37) * 3;
      sizes.push(n);
      put(box, n, i & 0xff);
    }
    await tick();
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(sink.bytes.length).to.equal(total);
    // Every message is intact and in order.
    let pos = 0;
    for (const [i, n] of sizes.entries()) {
      const m = sink.bytes.subarray(pos, pos + n);
      expect(m.every((b) => b === (i & 0xff)), `message ${i}`).to.equal(true);
      pos += n;
    }
    expect(box.writes).to.be.within(Math.floor(total / 4096), Math.ceil(total / 4096) + 1);
  });

  it('never moves a message while it is encoded: positions saved for back-patching stay valid', async () => {
    const sink = new FakeSink();
    const box = new Outbox(sink, { slabBytes: 256, reserveBytes: 64, flushBytes: 1 << 20 });
    const sizes = [40, 100, 30, 500, 60, 2000, 8];
    for (const [i, n] of sizes.entries()) {
      box.begin();
      const start = box.pos;
      box.u16(0); // length placeholder, patched at the end as the codec does
      for (let k = 2; k < n; k++) box.u8(i);
      box.patchU16(start, box.pos - start);
      expect(box.messageOffset).to.equal(start);
      box.end();
    }
    await tick();
    let pos = 0;
    for (const [i, n] of sizes.entries()) {
      expect(sink.bytes.readUInt16BE(pos), `length of message ${i}`).to.equal(n);
      expect(sink.bytes.subarray(pos + 2, pos + n).every((b) => b === i), `body of message ${i}`).to.equal(true);
      pos += n;
    }
    expect(pos).to.equal(sink.bytes.length);
  });

  it('stops writing when the socket is congested, holds the bytes, and caps them', async () => {
    const sink = new FakeSink();
    const box = new Outbox(sink, { slabBytes: 1024, reserveBytes: 700, flushBytes: 512, highWaterBytes: 2048, maxQueuedBytes: 8192 });
    sink.accept = false;
    put(box, 600, 1); // flushed at once (over flushBytes) and refused: congested
    expect(sink.writeCalls).to.equal(1);
    expect(box.needsDrain).to.equal(true);
    let drained = false;
    void box.drained().then(() => (drained = true));
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      try {
        put(box, 600, 2);
        accepted++;
      } catch (err) {
        refusal = err;
      }
    }
    // 8192 / 600: the cap is checked before each message, so at most one message goes past it.
    expect(accepted).to.equal(14);
    expect(refusal).to.be.instanceOf(OpenFlowConnectionError).with.property('code', 'OF_CONN_OUTBOX_FULL');
    await tick();
    expect(sink.writeCalls, 'nothing more written while congested').to.equal(1);
    // The kernel takes everything: 'drain'.
    sink.accept = true;
    sink.writableLength = 0;
    box.onDrain();
    await tick();
    expect(drained).to.equal(true);
    expect(sink.bytes.length).to.equal(600 * 15);
    expect(sink.corked).to.equal(1);
    expect(box.needsDrain).to.equal(false);
  });

  it('discard drops unsent bytes and releases waiters', async () => {
    const sink = new FakeSink();
    sink.accept = false;
    const box = new Outbox(sink, { flushBytes: 10 });
    put(box, 100, 1);
    put(box, 100, 2);
    const waiting = box.drained();
    box.discard();
    await waiting;
    expect(box.queuedBytes).to.equal(sink.writableLength);
  });
});
