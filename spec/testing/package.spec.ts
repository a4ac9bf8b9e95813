/**
 * The package as another project sees it: built with the release tsconfig,
 * laid out as `npm pack` would ship it (package.json + dist/), then imported
 * by name from a separate project, both at run time (node resolving the
 * `exports` map) and at compile time (tsc resolving the `types` conditions).
 * The protocol libraries are packages of their own (`@ovs-agent/ovsdb`,
 * `@ovs-agent/openflow`, spec/testing/packages.spec.ts packs and installs
 * them); the agent's package depends on them, and so does its consumer here.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const RUNTIME_CHECK = `
import { OvsdbClient, op } from '@ovs-agent/ovsdb';
import { OfWriter, encodeMessage, decodeMessage, flowMod, parseFlow, formatFlow } from '@ovs-agent/openflow';
import { OvsSandbox } from 'ovs-agent/sandbox';
import { OvsAgent, loadConfig } from 'ovs-agent/agent';

const out = {};
const w = new OfWriter();
encodeMessage(w, flowMod({ tableId: 3, priority: 7, match: { in_port: 1 },
  instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] }));
const msg = decodeMessage(w.take());
out.decoded = msg.type === 'flow_mod' ? formatFlow(msg) : msg.type;
out.parsed = formatFlow(parseFlow('table=3,priority=7,in_port=1,actions=output:2'));
out.agent = typeof OvsAgent + ',' + typeof loadConfig;
out.op = op.select('Bridge', []).op;

const sbx = await OvsSandbox.start();
try {
  const c = await OvsdbClient.connect(sbx.dbRemote);
  out.dbs = await c.listDbs();
  c.close();
} finally {
  await sbx.stop();
}
try {
  await import('ovs-agent/lib/agent/agent.js');
  out.deepImport = 'allowed';
} catch (e) {
  out.deepImport = e.code;
}
console.log(JSON.stringify(out));
`;

const TYPES_CHECK = `
import { OvsdbClient, type OvsdbTransactionError } from '@ovs-agent/ovsdb';
import { flowMod, type FlowMod } from '@ovs-agent/openflow';
import type { ControlPlane } from 'ovs-agent/agent';
import type { OvsSandbox } from 'ovs-agent/sandbox';

const fm: FlowMod = flowMod({ tableId: 0, priority: 1, match: {}, instructions: [] });
export const checks: [FlowMod, typeof OvsdbClient.connect, OvsdbTransactionError | null, ControlPlane | null, OvsSandbox | null] =
  [fm, OvsdbClient.connect, null, null, null];
// A wrong type must be refused, or this check would pass whatever the declarations say.
// @ts-expect-error tableId is a number
flowMod({ tableId: 'zero', priority: 1, match: {}, instructions: [] });
`;

describe('the package, imported by another project @integration', function () {
  this.timeout(180_000);
  let dir = '';

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'ovs-agent-pkg-'));
    const pkg = join(dir, 'node_modules', 'ovs-agent');
    await mkdir(pkg, { recursive: true });
    // Built into the copy, not into the checkout's dist/, so the test never
    // depends on (or clobbers) a developer's earlier build.
    // The agent is compiled against the packages' declarations, as any of their users: they are built first.
    await run('npm', ['run', '--silent', 'build:packages'], { cwd: ROOT });
    await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], { cwd: ROOT });
    await symlink(join(ROOT, 'node_modules', '@ovs-agent'), join(dir, 'node_modules', '@ovs-agent'), 'dir');
    await cp(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    // The package's own dependencies (yargs, amqplib, prom-client, node-unix-socket) as npm would
    // have installed them next to it.
    await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ships only what package.json lists, with a declaration file per entry point', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      files: string[];
      exports: Record<string, { types: string; default: string }>;
    };
    // dist/ (the library, the bundled command, the man page, the completions), the systemd unit and the docs.
    expect(manifest.files).to.deep.equal(['dist/', 'packaging/', 'docs/']);
    for (const [entry, target] of Object.entries(manifest.exports)) {
      expect(target.types, entry).to.match(/^\.\/dist\/.*\.d\.ts$/);
      await readFile(join(dir, 'node_modules', 'ovs-agent', target.types), 'utf8');
      await readFile(join(dir, 'node_modules', 'ovs-agent', target.default), 'utf8');
    }
  });

  it('imports every entry point by name at run time and uses it against a real ovsdb-server', async () => {
    await writeFile(join(dir, 'check.mjs'), RUNTIME_CHECK);
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: dir });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out.decoded).to.be.a('string').and.match(/priority=7,in_port=1 actions=output:2$/);
    expect(out.decoded).to.equal(out.parsed);
    expect(out.agent).to.equal('function,function');
    expect(out.op).to.equal('select');
    expect(out.dbs).to.include('Open_vSwitch');
    // Only the exports map is public: internals can change without a major version.
    expect(out.deepImport).to.equal('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('type-checks a consumer against the shipped declarations', async () => {
    await writeFile(join(dir, 'check.ts'), TYPES_CHECK);
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'check.ts'];
    await run(process.execPath, [TSC, ...args], { cwd: dir });
  });
});
