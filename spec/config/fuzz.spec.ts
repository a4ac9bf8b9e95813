/**
 * Fuzzes the config loader: generated files (seeded, so a failure names a
 * seed and an input that reproduce it) mixing valid lines, Object.prototype
 * names, long lines and odd characters, plus command-line overrides. Every
 * input must either load or throw a ConfigError, and an error about a file
 * must name that file and a line of it.
 */
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../lib/config/index.js';
import { prng } from '../support/prng.js';
import { PROTO, configText } from './generate.js';

const SEED = Number(process.env.CONFIG_FUZZ_SEED ?? 0x14_09);
const COUNT = 100_000;

describe('config loader fuzz', () => {
  it(`loads or refuses with a ConfigError naming file and line: ${COUNT} generated inputs (seed ${SEED})`, function () {
    this.timeout(120_000);
    const r = prng(SEED);
    const outcomes = { loaded: 0, CONFIG_SYNTAX: 0, CONFIG_INVALID: 0, CONFIG_UNREADABLE: 0 };
    for (let n = 0; n < COUNT; n++) {
      const text = configText(r);
      const file = `fuzz-${n}.ini`;
      const overrides: Record<string, string> = {};
      if (r() < 0.05) overrides[`${r() < 0.5 ? 'ovs.' : ''}${PROTO[Math.floor(r() * PROTO.length)]}`] = '1';
      const what = () => `input #${n} (seed ${SEED}): ${JSON.stringify(text.length > 300 ? text.slice(0, 300) + '…' : text)} overrides ${JSON.stringify(overrides)}`;
      try {
        const { warnings } = loadConfig({ files: [{ file, text }], env: {}, overrides });
        for (const w of warnings) if (!w.includes(file)) expect.fail(`${what()}: warning ${w} does not name the file`);
        outcomes.loaded++;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`${what()} threw ${(e as Error).stack}`, { cause: e });
        outcomes[e.code]++;
        if (e.source?.file === 'command line') continue;
        const lineNo = e.source?.line;
        const named = e.source?.file === file && typeof lineNo === 'number' && lineNo >= 1
          && lineNo <= text.split(/\r\n|\r|\n/).length && e.message.includes(`${file}:${lineNo}`);
        if (!named) expect.fail(`${what()}: ${e.message} (source ${JSON.stringify(e.source)}) does not name the file and a line of it`);
      }
    }
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    // Every kind of outcome happened, so the generator exercises the loader.
    console.log(`      outcomes: ${JSON.stringify(outcomes)}`);
    expect(outcomes.loaded).to.be.above(COUNT / 50);
    expect(outcomes.CONFIG_SYNTAX).to.be.above(COUNT / 50);
    expect(outcomes.CONFIG_INVALID).to.be.above(COUNT / 50);
  });
});
