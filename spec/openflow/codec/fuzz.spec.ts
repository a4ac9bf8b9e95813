/**
 * Fuzzing the decoder: random and mutated messages (seeded, bounded) either
 * decode or throw OpenFlowDecodeError, never anything else, never hang. The
 * corpus is every sample message and every fixture captured from
 * ovs-vswitchd. A failure prints the seed and the offending bytes.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeMessage, OFP_VERSION, OfWriter, OpenFlowDecodeError, OpenFlowEncodeError } from '@ovs-agent/openflow';
import { SAMPLES } from './samples.js';
import { prng } from '../../support/prng.js';

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  const w = new OfWriter();
  for (const msg of SAMPLES) {
    for (const version of [OFP_VERSION.OF13, OFP_VERSION.OF14]) {
      w.reset();
      try {
        encodeMessage(w, msg, version);
      } catch (err) {
        // A few kinds are OF1.3-only (see roundtrip.spec.ts).
        if (err instanceof OpenFlowEncodeError && err.code === 'OF_ENCODE_UNSUPPORTED') continue;
        throw err;
      }
      out.push(w.take());
    }
  }
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vswitchd');
  for (const f of readdirSync(dir)) out.push(Buffer.from(readFileSync(path.join(dir, f), 'utf8').trim(), 'hex'));
  return out;
}

/** Decodes; returns 'ok' or 'decode-error', rethrows anything else with the input attached. */
function attempt(bytes: Buffer, what: string): 'ok' | 'decode-error' {
  try {
    decodeMessage(bytes);
    return 'ok';
  } catch (err) {
    if (err instanceof OpenFlowDecodeError) {
      if (!(err.offset >= 0 && err.offset <= bytes.length)) {
        throw new Error(`${what}: error offset ${err.offset} outside the message`, { cause: err });
      }
      return 'decode-error';
    }
    throw new Error(`${what}: ${(err as Error)?.stack ?? String(err)}\ninput: ${bytes.toString('hex')}`, { cause: err });
  }
}

/** Keeps the header's length field equal to the buffer size, so mutations reach the body decoders. */
function fixLength(b: Buffer): Buffer {
  if (b.length >= 4 && b.length <= 0xffff) b.writeUInt16BE(b.length, 2);
  return b;
}

describe('openflow codec: fuzzing the decoder', () => {
  const seeds = corpus();

  it('mutated real messages: 40,000 inputs, only OpenFlowDecodeError', () => {
    const rand = prng(0x0f13);
    const int = (n: number): number => Math.floor(rand() * n);
    const counts = { ok: 0, 'decode-error': 0 };
    for (let i = 0; i < 40_000; i++) {
      const base = seeds[int(seeds.length)];
      let b: Buffer = Buffer.from(base);
      const kind = int(6);
      if (kind === 0) {
        // Flip 1-4 random bytes.
        for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256);
      } else if (kind === 1) {
        // Truncate.
        b = b.subarray(0, int(b.length + 1));
      } else if (kind === 2) {
        // Truncate but keep the length field consistent.
        b = fixLength(Buffer.from(b.subarray(0, 8 + int(Math.max(1, b.length - 7)))));
      } else if (kind === 3) {
        // Append random bytes, length consistent.
        const extra = Buffer.alloc(1 + int(24));
        for (let k = 0; k < extra.length; k++) extra[k] = int(256);
        b = fixLength(Buffer.concat([b, extra]));
      } else if (kind === 4) {
        // Overwrite a 16-bit field (lengths, types, counts) with a boundary value.
        const at = 8 + int(Math.max(1, b.length - 9));
        if (at + 2 <= b.length) b.writeUInt16BE([0, 1, 4, 7, 8, 0xff, 0x100, 0xfff8, 0xffff][int(9)], at);
      } else {
        // Splice the tail of another message, length consistent.
        const other = seeds[int(seeds.length)];
        b = fixLength(Buffer.concat([b.subarray(0, 8 + int(Math.max(1, b.length - 8))), other.subarray(int(other.length))]));
      }
      counts[attempt(b, `mutation ${i} (kind ${kind})`)]++;
    }
    // Both outcomes occur: the mutations reach past the header checks.
    expect(counts.ok).to.be.greaterThan(1000);
    expect(counts['decode-error']).to.be.greaterThan(1000);
  });

  it('random messages: 10,000 inputs with a valid header and random body, only OpenFlowDecodeError', () => {
    const rand = prng(0xbeef);
    const int = (n: number): number => Math.floor(rand() * n);
    for (let i = 0; i < 10_000; i++) {
      const b = Buffer.alloc(8 + int(200));
      for (let k = 0; k < b.length; k++) b[k] = int(256);
      b[0] = [1, 4, 4, 4, 5, 6][int(6)];
      b[1] = int(36);
      fixLength(b);
      attempt(b, `random ${i}`);
    }
  });

  it('decodes the same bytes to the same message wherever they sit in memory', () => {
    for (const b of seeds) {
      const padded = Buffer.alloc(b.length + 64, 0xa5);
      b.copy(padded, 32);
      expect(decodeMessage(padded.subarray(32, 32 + b.length))).to.deep.equal(decodeMessage(b));
    }
  });
});
