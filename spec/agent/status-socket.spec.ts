/**
 * The status socket of a real agent process (issue 14, item 8): no file
 * descriptor kept per client, a bound on clients held at once, created 0600
 * whatever the umask, never unlinking what is not its own.
 */
import { expect } from 'chai';
import { createConnection, type Socket } from 'node:net';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStatus } from '../../lib/agent/status-socket.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentProcess, sleep } from './support/agent-process.js';

const STARTUP_MS = 45_000;

/** Connects, writes one byte, reads the answer to its end, closes. */
function pokeAndRead(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let data = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write('x'));
    s.on('data', (d: string) => { data += d; });
    s.on('end', () => {
      s.destroy();
      resolve(data);
    });
    s.on('error', reject);
  });
}

/** Connects and then does nothing at all: never reads, never closes. */
function idleClient(path: string): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.pause();
    s.on('error', () => undefined);
    s.on('connect', () => resolve(s));
    s.on('close', () => resolve(s));
  });
}

describe('ovs-agent status socket @integration', function () {
  this.timeout(120_000);
  let sb: OvsSandbox;
  let dir: string;
  const procs: AgentProcess[] = [];
  let n = 0;

  const ini = (socket: string): string => {
    const id = ++n;
    const state = join(dir, `state-${id}.json`);
    writeFileSync(state, JSON.stringify({ networks: [], ports: [] }));
    const file = join(dir, `agent-${id}.ini`);
    writeFileSync(file, ['[ovs]', 'datapath_type = netdev', `ovsdb_connection = ${sb.dbRemote}`, `integration_bridge = br-int${id}`,
      '[ovs_agent]', `state_file = ${state}`, `status_socket = ${socket}`, `ovs_rundir = ${sb.rundir}`, ''].join('\n'));
    return file;
  };
  const start = async (socket: string, opts: { umask?: string } = {}): Promise<AgentProcess> => {
    const p = AgentProcess.spawn(['--config-file', ini(socket)], opts);
    procs.push(p);
    await p.waitForLog((l) => /first full sync done/.test(l.message), STARTUP_MS, 'the first full sync');
    return p;
  };

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-status-'));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });
  after(async () => {
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps no file descriptor for a client that wrote to it, and none for long for one that idles', async () => {
    const socket = join(dir, 'fd.sock');
    const agent = await start(socket);
    await sleep(500);
    const base = agent.fdCount();
    // Ten at a time: well under the bound on clients held at once (checked below).
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(...await Promise.all(Array.from({ length: 10 }, () => pokeAndRead(socket))));
    expect(answers).to.have.length(100);
    for (const a of answers) expect(JSON.parse(a).host).to.be.a('string');
    await sleep(1500);
    expect(agent.fdCount() - base, 'fds held after 100 clients that wrote a byte and left').to.be.at.most(5);

    const idle = await Promise.all(Array.from({ length: 100 }, () => idleClient(socket)));
    await sleep(500);
    expect(agent.fdCount() - base, 'fds held while 100 clients idle').to.be.at.most(40);
    // The idle ones are dropped after the idle timeout; status answers again meanwhile or right after.
    const deadline = Date.now() + 30_000;
    while (agent.fdCount() - base > 5 && Date.now() < deadline) await sleep(250);
    expect(agent.fdCount() - base, 'fds held 30 s after 100 idle clients').to.be.at.most(5);
    expect((await readStatus(socket, 5000)).firstSyncDone).to.equal(true);
    for (const s of idle) s.destroy();
  });

  it('is created 0600 even under umask 000', async () => {
    const socket = join(dir, 'mode.sock');
    await start(socket, { umask: '000' });
    const st = lstatSync(socket);
    expect(st.isSocket()).to.equal(true);
    expect((st.mode & 0o777).toString(8)).to.equal('600');
  });

  it('refuses to start on a path that holds a regular file, and leaves the file alone', async () => {
    const path = join(dir, 'regular.sock');
    writeFileSync(path, 'not a socket\n');
    const p = AgentProcess.spawn(['--config-file', ini(path)]);
    procs.push(p);
    const exit = await p.waitForExit(STARTUP_MS);
    expect(exit.code, p.stderr).to.equal(4);
    expect(p.stderr).to.include(path).and.include('not a socket');
    expect(readFileSync(path, 'utf8')).to.equal('not a socket\n');
  });

  it('a second agent given the same path refuses to start, and the first stays reachable', async () => {
    const socket = join(dir, 'shared.sock');
    const first = await start(socket);
    const second = AgentProcess.spawn(['--config-file', ini(socket)]);
    procs.push(second);
    // Before the fix the second one took the socket over; stop it in any case and look again.
    await Promise.race([second.exited, second.waitForLog((l) => /first full sync done/.test(l.message), STARTUP_MS).catch(() => undefined)]);
    if (!second.exit) second.child.kill('SIGTERM');
    const exit = await second.exited;
    expect(exit.code, second.stderr).to.equal(4);
    expect(second.stderr).to.include('another ovs-agent');
    await sleep(200);
    const st = await readStatus(socket, 5000);
    expect(st.host).to.be.a('string');
    expect(first.exit).to.equal(undefined);
  });

  it('replaces the stale socket of an agent that was killed', async () => {
    const socket = join(dir, 'stale.sock');
    const first = await start(socket);
    await first.kill();
    expect(lstatSync(socket).isSocket()).to.equal(true);
    await start(socket);
    expect((await readStatus(socket, 5000)).firstSyncDone).to.equal(true);
  });
});
