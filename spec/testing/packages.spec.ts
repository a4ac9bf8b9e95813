/**
 * The two protocol packages as their users get them: `npm pack -w` (its
 * prepack builds dist/), then, in a fresh project outside the checkout,
 * `npm install --offline` of the tarballs alone (they depend on nothing, so
 * no registry is needed), then the README's own quick start, a CommonJS
 * `require`, and a type-checked TypeScript consumer, all against a real
 * ovsdb-server and ovs-vswitchd.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OvsSandbox } from '../../testing/sandbox.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PACKAGES = ['@ovs-agent/ovsdb', '@ovs-agent/openflow'] as const;

interface PackInfo { name: string; filename: string; size: number; files: Array<{ path: string }> }

/** The first fenced ```js block of a README: its quick start. */
function quickStart(readme: string): string {
  const m = /```js\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('no ```js block in the README');
  return m[1];
}

describe('the protocol packages, packed and installed from their tarballs alone @integration', function () {
  this.timeout(300_000);
  let dir = '';
  let app = '';
  let packed: PackInfo[] = [];
  let sb: OvsSandbox | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ovs-agent-packages-'));
    const args = ['pack', '--json', '--pack-destination', dir, ...PACKAGES.flatMap((p) => ['-w', p])];
    const { stdout } = await run('npm', args, { cwd: ROOT, maxBuffer: 64 << 20 });
    // npm prints the prepack scripts' output before the JSON.
    packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as PackInfo[];
    app = join(dir, 'app');
    await run('mkdir', [app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    const tarballs = packed.map((p) => join(dir, p.filename));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], { cwd: app, maxBuffer: 64 << 20 });
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'fail-mode=secure');
    await sb.vsctl('add-port', 'br0', 'p1', '--', 'set', 'interface', 'p1', 'type=dummy', 'ofport_request=1');
  });
  after(async () => {
    await sb?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ship package.json, README and dist/ (JavaScript and declarations) only', () => {
    expect(packed.map((p) => p.name)).to.deep.equal([...PACKAGES]);
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).to.include.members(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']);
      expect(files.filter((f) => !/^(package\.json|README\.md|dist\/.*\.(js|d\.ts))$/.test(f)), p.name).to.deep.equal([]);
    }
  });

  it('install nothing but themselves', async () => {
    const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: app });
    const installed = stdout.trim().split('\n').slice(1).map((l) => l.slice(join(app, 'node_modules').length + 1));
    expect(installed.sort()).to.deep.equal([...PACKAGES].sort());
  });

  it('run the OVSDB README\'s quick start as written', async () => {
    const readme = await readFile(join(app, 'node_modules/@ovs-agent/ovsdb/README.md'), 'utf8');
    await writeFile(join(app, 'quickstart.mjs'), quickStart(readme));
    const { stdout } = await run(process.execPath, ['quickstart.mjs', sb!.dbRemote], { cwd: app, env: { ...process.env, WATCH_MS: '300' } });
    expect(stdout.trim().split('\n')).to.deep.equal(['br0: br0 p1', 'watching 2 interfaces']);
  });

  it('run the OpenFlow README\'s quick start as written', async () => {
    const readme = await readFile(join(app, 'node_modules/@ovs-agent/openflow/README.md'), 'utf8');
    await writeFile(join(app, 'quickstart-of.mjs'), quickStart(readme));
    const { stdout } = await run(process.execPath, ['quickstart-of.mjs', `unix:${sb!.mgmtSocket('br0')}`], { cwd: app });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 2).sort()).to.deep.equal([
      'cookie=0x42, priority=100,in_port=1 actions=output:2',
      'cookie=0x42, priority=100,in_port=2 actions=output:1',
    ]);
    expect(lines.slice(2)).to.deep.equal(['left with cookie 66: 0']);
  });

  it('give `npx modelgen`, which writes the same Open_vSwitch model as the one the package ships', async () => {
    const help = await run('npx', ['--offline', 'modelgen', '--help'], { cwd: app });
    expect(help.stdout).to.match(/^usage: modelgen SCHEMA\.ovsschema OUTDIR/);
    const { stdout } = await run('npx', ['--offline', 'modelgen', '/usr/share/openvswitch/vswitch.ovsschema', 'models'], { cwd: app });
    expect(stdout.trim()).to.equal('wrote models/open-vswitch.ts');
    expect(await readFile(join(app, 'models/open-vswitch.ts'), 'utf8'))
      .to.equal(await readFile(join(ROOT, 'protocol/ovsdb/models/generated/open-vswitch.ts'), 'utf8'));
    const bad = await run('npx', ['--offline', 'modelgen', 'models'], { cwd: app }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(bad?.code, 'a missing argument exits 2').to.equal(2);
    expect(bad?.stderr).to.include('usage: modelgen');
  });

  it('load with require() from CommonJS, as the READMEs say (Node.js 20.19 and newer), one class for import and require', async () => {
    await writeFile(join(app, 'cjs.cjs', ), `
const ovsdb = require('@ovs-agent/ovsdb');
const openflow = require('@ovs-agent/openflow');
import('@ovs-agent/ovsdb').then((esm) => {
  console.log([typeof ovsdb.OvsdbClient.connect, typeof openflow.parseFlow, ovsdb.OvsdbError === esm.OvsdbError].join(','));
});
`);
    const { stdout, stderr } = await run(process.execPath, ['cjs.cjs'], { cwd: app });
    expect(stdout.trim()).to.equal('function,function,true');
    expect(stderr, 'no warning').to.equal('');
  });

  it('type-check a TypeScript consumer against the shipped declarations only', async () => {
    await writeFile(join(app, 'check.ts'), `
import { OvsdbClient, op, Replica, type OpenVSwitchTables, OvsdbError } from '@ovs-agent/ovsdb';
import { flowMod, formatFlow, type FlowMod } from '@ovs-agent/openflow';

export async function bridges(remote: string): Promise<string[]> {
  const c = await OvsdbClient.connect(remote);
  const [r] = await c.transact('Open_vSwitch', [op.select('Bridge', [], ['name'])]);
  c.close();
  return r.rows.map((row) => String(row.name));
}
export async function ofports(remote: string): Promise<Array<number | null>> {
  const r = await Replica.start<OpenVSwitchTables>({ remote, tables: { Interface: true } });
  return [...r.table('Interface').values()].map((i) => i.ofport);
}
const fm: FlowMod = flowMod({ tableId: 0, priority: 1, match: {}, instructions: [] });
export const text: string = formatFlow(fm);
export const isOurs = (e: unknown): boolean => e instanceof OvsdbError;
// @ts-expect-error a wrong type must be refused, or this check would pass whatever the declarations say
flowMod({ tableId: 'zero', priority: 1, match: {}, instructions: [] });
`);
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'check.ts'];
    await run(process.execPath, [TSC, ...args], { cwd: app });
  });
});
