/**
 * The ini parser against oslo.config's own (Debian's python3-oslo.config, the
 * one neutron-openvswitch-agent runs): on generated files both must read the
 * same sections, options and values, or both refuse the file, at the same
 * line (oslo reports an option before any section where the value ends, we
 * where it starts, so only that error's line may differ).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IniSyntaxError, parseIni } from '../../lib/config/index.js';
import { prng } from '../support/prng.js';
import { configText } from './generate.js';

const here = dirname(fileURLToPath(import.meta.url));
const SEED = 0x051_0;
const COUNT = 5000;

type OsloResult = { ok: Record<string, Record<string, string>> } | { error: number; msg: string };

async function oslo(texts: string[]): Promise<OsloResult[]> {
  const run = promisify(execFile)('/usr/bin/python3', [join(here, 'oslo_parse.py')], { maxBuffer: 256 * 1024 * 1024 });
  run.child.stdin!.end(JSON.stringify(texts));
  return JSON.parse((await run).stdout) as OsloResult[];
}

function ours(text: string): OsloResult {
  try {
    const doc = parseIni(text, 'x.ini');
    return { ok: Object.fromEntries([...doc].map(([s, opts]) => [s, Object.fromEntries([...opts].map(([k, v]) => [k, v.value]))])) };
  } catch (e) {
    if (!(e instanceof IniSyntaxError)) throw e;
    return { error: e.line, msg: e.message };
  }
}

describe('ini parser against oslo.config', () => {
  it(`reads ${COUNT} generated files as oslo.config does (seed ${SEED})`, async function () {
    this.timeout(120_000);
    const r = prng(SEED);
    const texts = Array.from({ length: COUNT }, () => configText(r));
    const theirs = await oslo(texts);
    const differ = texts.map((text, i) => ({ text, ours: ours(text), oslo: theirs[i] })).filter(({ ours: a, oslo: b }) => {
      if ('ok' in a || 'ok' in b) return JSON.stringify(a) !== JSON.stringify(b) && !('ok' in a && 'ok' in b && deepEqual(a.ok, b.ok));
      return a.error !== b.error && b.msg !== 'Section must be started before assignment';
    });
    const shown = differ.slice(0, 3).map((d) => ({ ...d, text: d.text.length > 200 ? d.text.slice(0, 200) + '…' : d.text }));
    expect(differ.length, JSON.stringify(shown, null, 1)).to.equal(0);
    // Both outcomes are exercised.
    expect(theirs.filter((t) => 'ok' in t).length).to.be.above(COUNT / 5);
    expect(theirs.filter((t) => 'error' in t).length).to.be.above(COUNT / 5);
  });
});

function deepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).to.deep.equal(b);
    return true;
  } catch {
    return false;
  }
}
