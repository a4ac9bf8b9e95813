/**
 * The decoder against bytes ovs-vswitchd really sent (fixtures/vswitchd,
 * captured by fixtures/capture.ts): every fixture decodes to what the
 * capture session asked for, and re-encodes to the same bytes.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKS, roundTripBytes } from './helpers/vswitchd-checks.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vswitchd');
const files = readdirSync(dir).filter((f) => f.endsWith('.hex'));

describe('openflow codec: fixtures captured from ovs-vswitchd', () => {
  it('has a check for every fixture and a fixture for every check', () => {
    expect(files.map((f) => f.replace(/\.hex$/, '')).sort()).to.deep.equal(Object.keys(CHECKS).sort());
  });

  for (const file of files) {
    const name = file.replace(/\.hex$/, '');
    it(name, () => {
      const bytes = Buffer.from(readFileSync(path.join(dir, file), 'utf8').trim(), 'hex');
      CHECKS[name](roundTripBytes(bytes), bytes);
    });
  }
});
