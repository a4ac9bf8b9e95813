/**
 * The package as an operator installs it: `npm pack` (its prepack builds
 * the bundle, the man page and the completions) in a copy of the sources,
 * then `npm install -g --prefix <tmp>` of the tarball from a directory
 * outside the checkout. The installed command must run on its own (its
 * node_modules removed even), carry its man page, completions, docs and
 * unit, and run for real the way the unit's ExecStart runs it, telling a
 * real NOTIFY_SOCKET READY=1 after its first full sync.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readStatus } from '../../lib/agent/status-socket.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { NotifyListener } from '../service/support/notify-listener.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
/** What `npm pack` needs from the checkout to build the package. */
const SOURCES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'bin', 'lib', 'protocol', 'testing', 'scripts', 'packaging', 'docs'];
// (protocol/ holds the two packages the agent depends on; the tarball bundles them: bundleDependencies.)

/** The unit's ExecStart, split as systemd splits it (the unit uses no quoting). */
function execStart(unit: string): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error('no ExecStart= in the unit');
  return line.slice('ExecStart='.length).trim().split(/\s+/);
}

describe('the package, packed and installed globally @integration', function () {
  this.timeout(300_000);
  let dir: string;
  let prefix: string;
  let tarball: string;
  let installed: string;
  let sb: OvsSandbox | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ovs-agent-install-'));
    const src = join(dir, 'src');
    mkdirSync(src);
    for (const s of SOURCES) cpSync(join(ROOT, s), join(src, s), { recursive: true });
    // The build tools (tsc, esbuild, tsx) come from the checkout's dev dependencies; nothing of the checkout is built into.
    // The workspace packages are the copy's own (built there by prepack, bundled into the tarball from there).
    mkdirSync(join(src, 'node_modules', '@ovs-agent'), { recursive: true });
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name !== '@ovs-agent') symlinkSync(join(ROOT, 'node_modules', name), join(src, 'node_modules', name));
    }
    for (const pkg of ['ovsdb', 'openflow']) symlinkSync(join(src, 'protocol', pkg), join(src, 'node_modules', '@ovs-agent', pkg), 'dir');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: src, maxBuffer: 64 << 20 });
    const info = JSON.parse(stdout) as Array<{ filename: string }>;
    tarball = join(dir, info[0].filename);
    prefix = join(dir, 'prefix');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    // As an operator would, from outside any checkout; the npm cache serves the dependencies the lock file named.
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: elsewhere, maxBuffer: 64 << 20 });
    installed = join(prefix, 'lib/node_modules/ovs-agent');
  });
  after(async () => {
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships README, docs, the unit, the man page, the completions and the bundled command, and no tests or benchmarks', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).to.include.members(['README.md', 'docs/service.md', 'packaging/ovs-agent.service', 'dist/man/ovs-agent.8',
      'dist/completion/ovs-agent.bash', 'dist/completion/_ovs-agent', 'dist/bin/ovs-agent.js', 'package.json']);
    expect(files.filter((f) => /^(spec|bench|scripts|lib|protocol|bin)\//.test(f))).to.deep.equal([]);
  });

  it('runs `ovs-agent --help` from the prefix on its own: one bundled file, its node_modules removed', async () => {
    const bin = readFileSync(join(installed, 'dist/bin/ovs-agent.js'), 'utf8');
    expect(bin.split('\n')[0]).to.match(/^#!\/usr\/bin\/env -S (\w+=\S+ )*node /);
    expect(bin).to.not.include(ROOT);
    expect(bin, 'imports nothing but node built-ins').to.not.match(/^import .* from ["'](?!node:)[^"']+["']/m);
    rmSync(join(installed, 'node_modules'), { recursive: true, force: true });
    const help = await run(join(prefix, 'bin/ovs-agent'), ['--help'], { cwd: dir });
    expect(help.stdout).to.include('NAME').and.include('--config-file').and.include('SIGHUP');
    const version = await run(join(prefix, 'bin/ovs-agent'), ['--version'], { cwd: dir });
    expect(version.stdout.trim()).to.equal((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('refuses an older Node.js at once, saying which it needs and where to get it (Debian 12\'s own nodejs is 18)', async () => {
    // Node 18 itself is not on this machine: the installed command runs with process.versions.node set to Debian 12's.
    const fake = `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'18.20.4'})`;
    const r = await run(process.execPath, ['--import', fake, join(installed, 'dist/bin/ovs-agent.js'), '--help'], { cwd: dir }).then(
      () => undefined, (err: { code: number; stderr: string; stdout: string }) => err);
    expect(r, 'exits non-zero').to.not.equal(undefined);
    expect(r!.code).to.equal(1);
    expect(r!.stdout, 'nothing else ran').to.equal('');
    expect(r!.stderr).to.include('needs Node.js 20.19 or newer, this is Node.js 18.20.4').and.include('NodeSource');
  });

  it('puts ovs-agent(8) where man finds it under the prefix', async () => {
    const { stdout } = await run('man', ['-w', 'ovs-agent'], { env: { ...process.env, MANPATH: join(prefix, 'share/man') } });
    expect(readFileSync(stdout.trim(), 'utf8')).to.include('.TH OVS\\-AGENT 8');
  });

  it('has a unit that systemd-analyze verify accepts (Type=notify, Conflicts= the Python agent, after Open vSwitch)', async () => {
    const unit = readFileSync(join(installed, 'packaging/ovs-agent.service'), 'utf8');
    for (const line of ['Type=notify', 'Conflicts=neutron-openvswitch-agent.service', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      expect(unit.split('\n'), line).to.include(line);
    }
    expect(unit).to.match(/^After=.*\bopenvswitch-switch\.service\b/m);
    const [cmd] = execStart(unit);
    expect(cmd).to.equal('ovs-agent');
    // systemd resolves a bare name in /usr/local/bin, /usr/bin...; here the command is under the test's prefix.
    const local = join(dir, 'ovs-agent.service');
    writeFileSync(local, unit.replace(/^ExecStart=ovs-agent /m, `ExecStart=${join(prefix, 'bin/ovs-agent')} `));
    const r = await run('systemd-analyze', ['verify', local], { env: { ...process.env, MANPATH: join(prefix, 'share/man') } });
    expect(r.stderr).to.equal('');
  });

  it('runs as the unit\'s ExecStart runs it, against a sandbox: READY=1 after the first full sync, the log file, SIGTERM', async () => {
    sb = await OvsSandbox.start();
    const work = join(dir, 'run');
    mkdirSync(work);
    const ports = [{ id: 'inst-port-1', mac: 'fa:16:3e:00:03:01' }];
    writeFileSync(join(work, 'state.json'), JSON.stringify({ networks: [{ id: 'net-i', type: 'local' }], ports: ports.map((p) => ({ ...p, network: 'net-i' })) }));
    await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
    await sb.vsctl('add-port', 'br-int', 'tap-inst1', '--', 'set', 'Interface', 'tap-inst1', 'external_ids:iface-id=inst-port-1', 'external_ids:attached-mac=fa:16:3e:00:03:01');
    // What Debian's unit passes, in its order: the agent's ini, agent.conf.d (here with the status socket's
    // path: read, or the socket is not where the test asks), then neutron.conf with sections the agent ignores.
    const files: Record<string, string> = {
      '/etc/neutron/plugins/ml2/openvswitch_agent.ini': ['[ovs]', 'datapath_type = netdev', `ovsdb_connection = ${sb.dbRemote}`,
        '[ovs_agent]', `state_file = ${join(work, 'state.json')}`, `ovs_rundir = ${sb.rundir}`, ''].join('\n'),
      '/etc/neutron/neutron.conf': ['[DEFAULT]', 'core_plugin = ml2', '[database]', 'connection = sqlite://', ''].join('\n'),
    };
    const args = execStart(readFileSync(join(installed, 'packaging/ovs-agent.service'), 'utf8')).slice(1).map((a) => {
      if (a === '--config-dir=/etc/neutron/agent.conf.d') {
        const confD = join(work, 'agent.conf.d');
        mkdirSync(confD);
        writeFileSync(join(confD, '50-status.conf'), `[ovs_agent]\nstatus_socket = ${join(work, 'status.sock')}\n`);
        return `--config-dir=${confD}`;
      }
      for (const [path, text] of Object.entries(files)) {
        if (a.endsWith(`=${path}`)) {
          const local = join(work, path.split('/').pop()!);
          writeFileSync(local, text);
          return a.replace(path, local);
        }
      }
      return a.replace('/var/log/neutron/', `${work}/`);
    });
    expect(args.filter((a) => a.includes('/etc/') || a.includes('/var/')), 'every path of ExecStart replaced').to.deep.equal([]);
    const listener = await NotifyListener.start(join(work, 'notify.sock'));
    const agent = spawn(join(prefix, 'bin/ovs-agent'), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: listener.socket } });
    let stderr = '';
    agent.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
    try {
      const ready = await listener.waitFor('READY', 60_000, '1').catch((err: Error) => {
        throw new Error(`${err.message}\n${stderr}`);
      });
      expect(ready.fields.STATUS).to.equal('running: 1/1 ports ACTIVE, 1 local VLANs, 0 tunnels');
      // The interpreter line's environment and node flags (the memory settings, docs/service.md "Memory") are the running process's.
      const words = readFileSync(join(installed, 'dist/bin/ovs-agent.js'), 'utf8').split('\n')[0].replace(/^#!\S+ -S /, '').split(' ');
      const node = words.indexOf('node');
      const cmdline = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0');
      const environ = readFileSync(`/proc/${agent.pid}/environ`, 'utf8').split('\0');
      expect(words.slice(node + 1).length, 'node flags').to.be.greaterThan(0);
      expect(cmdline, 'node flags').to.include.members(words.slice(node + 1));
      expect(environ, 'environment').to.include.members(words.slice(0, node));
      expect((await readStatus(join(work, 'status.sock'), 2000)).firstSyncDone).to.equal(true);
      const log = readdirSync(work).find((f) => f.endsWith('.log'));
      expect(log, 'the --log-file of ExecStart').to.equal('ovs-agent.log');
      expect(readFileSync(join(work, log!), 'utf8')).to.include('first full sync done');
      agent.kill('SIGTERM');
      await listener.waitFor('STOPPING', 10_000, '1');
      expect(await exited, stderr).to.equal(0);
    } finally {
      if (agent.exitCode === null) agent.kill('SIGKILL');
      await listener.stop();
    }
    expect(existsSync(join(work, 'status.sock'))).to.equal(false);
  });
});
