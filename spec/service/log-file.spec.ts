/**
 * The log file and SIGHUP, as oslo.log and neutron-openvswitch-agent do
 * them: [DEFAULT] log_file / log_dir (or --log-file), appended to; SIGHUP
 * re-reads the log level and reopens the file, so logrotate can move it
 * away without copytruncate.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStatus } from '../../lib/agent/status-socket.js';
import { logFilePath } from '../../lib/log-file.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const BIN = join(process.cwd(), 'bin/ovs-agent.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('log file and SIGHUP', () => {
  it('places the log as oslo.log does: log_file, relative to log_dir; log_dir alone means ovs-agent.log there', () => {
    expect(logFilePath({ log_file: '/var/log/a.log' })).to.equal('/var/log/a.log');
    expect(logFilePath({ log_file: 'a.log', log_dir: '/var/log/neutron' })).to.equal('/var/log/neutron/a.log');
    expect(logFilePath({ log_dir: '/var/log/neutron' })).to.equal('/var/log/neutron/ovs-agent.log');
    expect(logFilePath({})).to.equal(undefined);
  });
});

describe('log file and SIGHUP @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let dir: string;
  let agent: ChildProcess | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-logfile-'));
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ networks: [], ports: [] }));
  });
  after(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGKILL');
      await new Promise((r) => agent!.once('exit', r));
    }
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeIni(debug: boolean): string {
    const ini = join(dir, 'agent.ini');
    writeFileSync(ini, [`[DEFAULT]`, `debug = ${debug}`, '[ovs]', 'datapath_type = netdev', `ovsdb_connection = ${sb.dbRemote}`,
      '[ovs_agent]', `state_file = ${join(dir, 'state.json')}`, `status_socket = ${join(dir, 'status.sock')}`, `ovs_rundir = ${sb.rundir}`, ''].join('\n'));
    return ini;
  }

  it('logs to --log-file only; after logrotate moved it, SIGHUP reopens it and applies the re-read log level', async () => {
    const ini = writeIni(false);
    const log = join(dir, 'agent.log');
    // Debian's unit passes the file as --log-file=PATH.
    agent = spawn(process.execPath, ['--import', 'tsx', BIN, `--config-file=${ini}`, `--log-file=${log}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    agent.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    await until('the first full sync', () => existsSync(log) && readFileSync(log, 'utf8').includes('first full sync done'));
    expect(stderr, 'nothing on stderr when logging to a file').to.equal('');
    const firstLines = readFileSync(log, 'utf8').trim().split('\n');
    // oslo.log's default text line: date, time with ms, pid, level, logger, [-] (no request), message.
    expect(firstLines[0]).to.match(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${agent.pid} INFO ovs_agent \\[-\\] ovs-agent \\S+ starting`));

    renameSync(log, `${log}.1`);
    writeIni(true);
    agent.kill('SIGHUP');
    await until('the reopened log file', () => existsSync(log) && readFileSync(log, 'utf8').includes('SIGHUP'));
    const sighup = readFileSync(log, 'utf8').trim().split('\n').find((l) => l.includes('SIGHUP'));
    expect(sighup).to.include(`[-] SIGHUP: configuration files re-read; log level debug; log file ${log} reopened; other options apply at the next start`);
    expect(readFileSync(`${log}.1`, 'utf8')).to.not.include('SIGHUP');
    // Debug lines now reach the new file: a port wired logs its bundle at debug level.
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ networks: [{ id: 'n', type: 'local' }], ports: [{ id: 'p1', mac: 'fa:16:3e:00:02:01', network: 'n' }] }));
    await sb.vsctl('add-port', 'br-int', 'tap-log1', '--', 'set', 'Interface', 'tap-log1', 'external_ids:iface-id=p1', 'external_ids:attached-mac=fa:16:3e:00:02:01');
    await until('a debug line', () => readFileSync(log, 'utf8').split('\n').some((l) => /^\S+ \S+ \d+ DEBUG /.test(l)));
    expect((await readStatus(join(dir, 'status.sock'), 2000)).firstSyncDone).to.equal(true);
    agent.kill('SIGTERM');
    expect(await new Promise((r) => agent!.once('exit', r))).to.equal(0);
  });

  it('refuses to start, naming the file and the option, when the log file cannot be opened', async () => {
    const ini = writeIni(false);
    const p = spawn(process.execPath, ['--import', 'tsx', BIN, '--config-file', ini, '--log-file', join(dir, 'missing-dir', 'agent.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise((r) => p.once('exit', r));
    expect(code).to.not.equal(0);
    expect(stderr).to.include(join(dir, 'missing-dir', 'agent.log')).and.include('log_file').and.include('ENOENT');
  });
});
