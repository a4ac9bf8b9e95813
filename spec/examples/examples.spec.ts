/**
 * examples/: each program run as its user would run it (a child process,
 * `node --import tsx examples/X.ts ADDRESS`, importing the packages by name)
 * against a real ovsdb-server and ovs-vswitchd, and its output checked line
 * by line against what the sandbox holds.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { OvsdbCluster } from '../../testing/ovsdb-cluster.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const example = (name: string): string[] => ['--import', 'tsx', join(ROOT, 'examples', name)];

async function runExample(name: string, ...args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, [...example(name), ...args], { cwd: ROOT, timeout: 60_000 });
  return stdout.trim().split('\n');
}

describe('examples/, run against a sandbox @integration', function () {
  this.timeout(120_000);
  let sb: OvsSandbox;

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'fail-mode=secure');
    await sb.vsctl('add-br', 'br1');
    for (const [br, port, ofport] of [['br0', 'p1', 1], ['br0', 'p2', 2], ['br1', 'q1', 1]] as const) {
      await sb.vsctl('add-port', br, port, '--', 'set', 'interface', port, 'type=dummy', `ofport_request=${ofport}`);
    }
  });
  after(async () => {
    await sb?.stop();
  });

  it('list-bridges prints each bridge with its ports, sorted', async () => {
    expect(await runExample('list-bridges.ts', sb.dbRemote)).to.deep.equal(['br0: br0 p1 p2', 'br1: br1 q1']);
  });

  it('watch-interfaces reports interfaces added, given an ofport and deleted, and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [...example('watch-interfaces.ts'), sb.dbRemote], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) w();
    });
    const seen = async (...texts: string[]): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!texts.some((t) => lines.includes(t))) {
        if (Date.now() > deadline) throw new Error(`no line ${JSON.stringify(texts)} within 15 s; got ${JSON.stringify(lines)}`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 500); });
      }
    };
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      // br0, br1 (internal), p1, p2, q1.
      await seen('watching 5 interfaces');
      await sb.vsctl('add-port', 'br1', 'q2', '--', 'set', 'interface', 'q2', 'type=dummy', 'ofport_request=7');
      // Either in two steps or at once, as ovsdb-server sends them (it merges what a busy client has not read).
      await seen('q2: ofport null -> 7', 'added q2 (type dummy, ofport 7)');
      expect(lines.filter((l) => l.startsWith('added q2 ('))).to.have.length(1);
      await sb.vsctl('del-port', 'br1', 'q2');
      await seen('deleted q2');
      child.kill('SIGINT');
      expect(await exited).to.equal(0);
      expect(lines.at(-1)).to.equal('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('wait-transaction writes while its wait condition holds and is refused, writing nothing, once it does not', async () => {
    expect(await runExample('wait-transaction.ts', 'br0', sb.dbRemote)).to.deep.equal([
      'br0: fail_mode secure',
      'updated 1 row: owner=example',
      'refused: ERR_OVSDB_TRANSACTION (timed out)',
      'owner is still example',
    ]);
    expect((await sb.vsctl('get', 'bridge', 'br0', 'fail_mode')).trim()).to.equal('standalone');
    expect((await sb.vsctl('get', 'bridge', 'br0', 'external_ids:owner')).trim()).to.equal('example');
  });

  it('flows-bundle adds flows in one bundle, dumps them as ovs-ofctl does and deletes them by cookie alone', async () => {
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br1', 'cookie=0x5,priority=1,actions=drop');
    const out = await runExample('flows-bundle.ts', `unix:${sb.mgmtSocket('br1')}`);
    expect(out).to.deep.equal([
      'bundle of 3 flows committed',
      'cookie=0xe1, priority=100,in_port=1 actions=output:2',
      'cookie=0xe1, priority=100,in_port=2 actions=output:1',
      'cookie=0xe1, priority=10,arp actions=NORMAL',
      'after delete by cookie: 0 flows',
    ]);
    // The bridge's other flows (its own NORMAL flow, another cookie) left alone.
    const dumped = (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', '--sort', 'dump-flows', 'br1')).trim().split('\n').map((l) => l.trim());
    expect(dumped).to.deep.equal(['priority=0 actions=NORMAL', 'cookie=0x5, priority=1 actions=drop']);
  });

  it('cluster-typed finds the leader among the members, writes with typed operations and widens a live replica', async () => {
    const cluster = await OvsdbCluster.start({ members: 3 });
    try {
      await promisify(execFile)('ovs-vsctl', [`--db=${cluster.remotes}`, '--no-wait', 'init']);
      // The list in an order where the leader is not first.
      const leader = await cluster.leader();
      const list = [0, 1, 2].map((i) => cluster.remote((leader + 1 + i) % 3)).join(',');
      expect(await runExample('cluster-typed.ts', list)).to.deep.equal([
        'connected to the leader of a clustered Open_vSwitch (3 members given)',
        'br-a: fail_mode secure',
        'replica holds: br-a',
        'replica holds: br-a br-b',
        'insert br-c',
      ]);
      const { stdout } = await promisify(execFile)('ovs-vsctl', [`--db=${cluster.remotes}`, 'list-br']);
      expect(stdout.trim().split('\n')).to.deep.equal(['br-a', 'br-b', 'br-c']);
    } finally {
      await cluster.stop();
    }
  });
});
