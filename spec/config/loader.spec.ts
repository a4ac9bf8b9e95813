/**
 * The config loader on hostile input (issue 14, item 9): names that are
 * properties of Object.prototype, very long lines, and the linear-time
 * guarantee of the ini parser.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseIni, type LoadOptions } from '../../lib/config/index.js';
import { callWithDeadline } from './deadline.js';

const here = dirname(fileURLToPath(import.meta.url));
const LOAD_TS = join(here, '../../lib/config/load.ts');

/** Names Object.prototype has, which a loader keyed by plain objects mistakes for options or sections. */
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'name', 'length', 'prototype'];

function loadError(opts: LoadOptions): ConfigError {
  try {
    loadConfig(opts);
  } catch (e) {
    expect(e, String((e as Error).stack)).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('loadConfig accepted the input');
}

describe('config loader: hostile names and long lines', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'cfg-hard-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  for (const name of PROTO_NAMES) {
    it(`treats ${name} as an unknown option of a known section, warning with file and line`, () => {
      const f = file(`opt-${name}.ini`, `[ovs]\nintegration_bridge = br-x\n${name} = 1\n`);
      const { config, warnings } = loadConfig({ files: [f], env: {} });
      expect(warnings).to.deep.equal([`unknown option [ovs] ${name} at ${f}:3 (ignored)`]);
      expect(config.ovs.integration_bridge).to.equal('br-x');
    });

    it(`treats [${name}] as a section the agent does not use`, () => {
      const f = file(`sec-${name}.ini`, `[${name}]\ntoString = 1\nconstructor = 2\n__proto__ = 3\nname = 4\n`);
      const { warnings } = loadConfig({ files: [f], env: {} });
      expect(warnings).to.deep.equal([`${f}: sections ignored (not used by the agent): [${name}]`]);
    });

    it(`refuses ${name} as a command-line option (bare and as ovs.${name}) with a config error`, () => {
      for (const key of [name, `ovs.${name}`, `${name}.x`]) {
        const err = loadError({ env: {}, overrides: Object.fromEntries([[key, '1']]) });
        expect(err.code).to.equal('CONFIG_INVALID');
        expect(err.message).to.equal(`unknown option ${key} on the command line`);
      }
    });
  }

  it('reads physical networks named like Object.prototype properties in bridge_mappings, without touching any prototype', () => {
    const f = file('dict.ini', '[ovs]\nbridge_mappings = constructor:br-a,__proto__:br-b,toString:br-c\n');
    const { config } = loadConfig({ files: [f], env: {} });
    const m = config.ovs.bridge_mappings;
    expect(Object.entries(m)).to.deep.equal([['constructor', 'br-a'], ['__proto__', 'br-b'], ['toString', 'br-c']]);
    expect(({} as Record<string, unknown>).toString).to.equal(Object.prototype.toString);
    const twice = file('dict2.ini', '[ovs]\nbridge_mappings = hasOwnProperty:br-a,hasOwnProperty:br-b\n');
    expect(loadError({ files: [twice], env: {} }).message).to.include('key "hasOwnProperty" appears twice').and.include(`${twice}:2`);
  });

  it('reports a 40,000-character line without "=" as a syntax error naming file and line, showing none of it', () => {
    const line = `a${' '.repeat(40_000)}x`;
    const f = file('long.ini', `[ovs]\n${line}\n`);
    const err = loadError({ files: [f], env: {} });
    expect(err.code).to.equal('CONFIG_SYNTAX');
    expect(err.source).to.deep.equal({ file: f, line: 2 });
    expect(err.message).to.match(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `));
    expect(err.message.length).to.be.below(300);
  });

  for (const [what, line] of [
    ['a key then spaces', `a${' '.repeat(1_000_000)}x`],
    ['one word', 'k'.repeat(1_000_000)],
    ['spaces and tabs between words', 'a \t'.repeat(333_334)],
  ] as const) {
    it(`parses a 1,000,000-character line (${what}) to the syntax error naming file and line (in a worker, ended after 30 s)`, async function () {
      this.timeout(60_000);
      const out = await callWithDeadline(LOAD_TS, 'loadConfig', [{ files: [{ file: 'big.ini', text: `[ovs]\n\n${line}\n` }], env: {} }], 30_000);
      expect(out).to.have.property('threw');
      const thrown = (out as { threw: { name: string; code: string; source: unknown; message: string } }).threw;
      expect(thrown.name).to.equal('ConfigError');
      expect(thrown.code).to.equal('CONFIG_SYNTAX');
      expect(thrown.source).to.deep.equal({ file: 'big.ini', line: 3 });
    });
  }

  it('never shows a secret a malformed line carries: a syntax error quotes the line\'s first word only', () => {
    const password = 'S3cr3t-p4ss';
    const lines = [
      `transport_url rabbit://guest:${password}@10.0.0.1:5672/`, // "=" forgotten
      `[DEFAULT]\ntransport_url = rabbit://guest:pw@h/\n  ,rabbit://guest:${password}@h2/\n\n  ${password}`, // a stray continuation
      `[oslo_messaging_rabbit\nssl_key_password = ${password}`, // an unclosed section
      `${password}\n[DEFAULT]`, // a password line that lost its indentation, before any section
      `[DEFAULT]\nhost = a\n${password}`, // the same after a section
    ];
    for (const text of lines) {
      let err: unknown;
      try {
        parseIni(text, '/etc/neutron/neutron.conf');
      } catch (e) {
        err = e;
      }
      expect(err, text).to.be.instanceOf(Error);
      expect((err as Error).message, text).to.not.include(password);
    }
  });

  it('reads a long valid value in one pass: the parser looks at each character a bounded number of times', () => {
    // The work of a parse, counted as character reads: a regex or a rescan per
    // line would not be counted, so the parser must make none (checked below).
    const texts = [1_000, 4_000, 16_000].map((n) => [
      `[ovs]\nintegration_bridge = ${'b'.repeat(n)}\n`,
      `[ovs]\na${' '.repeat(n)}x\n`,
      `[ovs]\nx = 1\n${'  cont\n'.repeat(n / 8)}`,
      `[${'s'.repeat(n)}]\n`,
      `[ovs]\n${'#'.repeat(n)}\n${' '.repeat(n)}\n${'k'.repeat(n)}:${' '.repeat(n)}v${' '.repeat(n)}\n`,
    ]).flat();
    const charCodeAt = Object.getOwnPropertyDescriptor(String.prototype, 'charCodeAt')!;
    const regex = ['exec', 'test'].map((k) => [k, Object.getOwnPropertyDescriptor(RegExp.prototype, k)!] as const);
    let reads = 0;
    let regexCalls = 0;
    try {
      Object.defineProperty(String.prototype, 'charCodeAt', { ...charCodeAt, value(this: string, i: number) { reads++; return charCodeAt.value.call(this, i); } });
      for (const [k, d] of regex) Object.defineProperty(RegExp.prototype, k, { ...d, value(this: RegExp, s: string) { regexCalls++; return d.value.call(this, s); } });
      for (const text of texts) {
        reads = 0;
        regexCalls = 0;
        try {
          parseIni(text, 'x.ini');
        } catch {
          // the syntax errors are expected; only the work counts here
        }
        expect(regexCalls, `regex calls for ${JSON.stringify(text.slice(0, 20))}…`).to.equal(0);
        expect(reads, `character reads for a ${text.length}-character text`).to.be.at.most(3 * text.length + 10);
      }
    } finally {
      Object.defineProperty(String.prototype, 'charCodeAt', charCodeAt);
      for (const [k, d] of regex) Object.defineProperty(RegExp.prototype, k, d);
    }
  });
});
