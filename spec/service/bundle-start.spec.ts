/**
 * What the bundled command (scripts/bundle.ts) does at start besides starting:
 * `ovs-agent run`, as the systemd unit starts it, must not render its help text
 * (yargs keeps a named command's help before running it: the measurement of
 * its 46 lines made V8 optimise string-width and load ICU's segmenter, 6.4 MiB
 * resident of the idle agent). Seen from outside through `Intl.Segmenter`,
 * which string-width builds at its first measurement of a text. Nor load
 * Node's built-in modules only an option it was not given uses.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { bundleCli } from '../../scripts/bundle.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Counts the Intl.Segmenter built in the process; says so on stderr at exit. */
const COUNT_SEGMENTERS = `
const Base = Intl.Segmenter;
let built = 0;
Intl.Segmenter = class extends Base { constructor(...a) { super(...a); built++; } };
process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  require('node:fs').writeSync(2, '\\nsegmenters built: ' + built + '\\nbuiltins loaded: ' + builtins.join(' ') + '\\n');
});
`;

interface Ran {
  stdout: string;
  stderr: string;
  segmenters: number;
  builtins: string[];
}

/** Runs the bundle with `args` until its own exit, or SIGTERM once its output matches `until`. */
function runBundle(dir: string, args: string[], until?: RegExp): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--require', join(dir, 'count.cjs'), join(dir, 'bin/ovs-agent.js'), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const seen = () => until?.test(stdout + stderr) && child.kill('SIGTERM');
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      seen();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      seen();
    });
    child.on('error', fail);
    child.on('close', () => {
      clearTimeout(timer);
      const m = /segmenters built: (\d+)/.exec(stderr);
      if (!m) return fail(new Error(`no count at exit:\n${stderr.slice(-2000)}`));
      done({ stdout, stderr, segmenters: Number(m[1]), builtins: /builtins loaded: (.*)/.exec(stderr)?.[1].split(' ') ?? [] });
    });
  });
}

describe('the bundled command at start', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bundle-start-'));
    await bundleCli({ root: ROOT, outfile: join(dir, 'bin/ovs-agent.js'), minify: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'count.cjs'), COUNT_SEGMENTERS);
    writeFileSync(join(dir, 'agent.ini'), `[DEFAULT]
host = bundle-start
transport_url = rabbit://guest:guest@127.0.0.1:1/
[ovs]
ovsdb_connection = unix:${join(dir, 'no-ovsdb.sock')}
[ovs_agent]
control_plane = neutron
ovs_rundir = ${dir}
`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders no help for `ovs-agent run` (the unit\'s command line) while it waits for OVSDB', async () => {
    const ran = await runBundle(dir, ['run', '--config-file', join(dir, 'agent.ini')], /waiting for OVSDB at unix:/);
    expect(ran.stdout + ran.stderr, ran.stdout + ran.stderr).to.match(/waiting for OVSDB at unix:/);
    expect(ran.segmenters, 'Intl.Segmenter built: the help text was measured').to.equal(0);
    // node:http (1.2 MiB resident) serves only metrics_address, not set here.
    expect(ran.builtins).to.include('net').and.not.include('http');
  });

  it('still renders `ovs-agent run --help` (the count sees a rendering)', async () => {
    const ran = await runBundle(dir, ['run', '--help']);
    expect(ran.stdout).to.match(/--config-file/);
    expect(ran.segmenters).to.be.greaterThan(0);
  });
});
