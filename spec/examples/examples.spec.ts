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

/** A long-running example: its stdout lines as they come, a wait for given lines, its exit. */
function follow(name: string, ...args: string[]): { lines: string[]; seen(...texts: string[]): Promise<void>; seenAny(...texts: string[]): Promise<void>; exited: Promise<number | null>; kill(sig: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [...example(name), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (done: () => boolean, missing: () => string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${missing()} within 15 s; got ${JSON.stringify(lines)}`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 500); });
    }
  };
  /** Until every one of `texts` was printed. */
  const seen = (...texts: string[]): Promise<void> =>
    until(() => texts.every((t) => lines.includes(t)), () => `no lines ${JSON.stringify(texts.filter((t) => !lines.includes(t)))}`);
  /** Until one of `texts` was printed. */
  const seenAny = (...texts: string[]): Promise<void> => until(() => texts.some((t) => lines.includes(t)), () => `no line ${JSON.stringify(texts)}`);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { lines, seen, seenAny, exited, kill: (sig) => { if (child.exitCode === null) child.kill(sig); } };
}

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
    const { lines, seen: seenAll, seenAny, exited, kill } = follow('watch-interfaces.ts', sb.dbRemote);
    try {
      // br0, br1 (internal), p1, p2, q1.
      await seenAll('watching 5 interfaces');
      await sb.vsctl('add-port', 'br1', 'q2', '--', 'set', 'interface', 'q2', 'type=dummy', 'ofport_request=7');
      // Either in two steps or at once, as ovsdb-server sends them (it merges what a busy client has not read).
      await seenAny('q2: ofport null -> 7', 'added q2 (type dummy, ofport 7)');
      expect(lines.filter((l) => l.startsWith('added q2 ('))).to.have.length(1);
      await sb.vsctl('del-port', 'br1', 'q2');
      await seenAll('deleted q2');
      kill('SIGINT');
      expect(await exited).to.equal(0);
      expect(lines.at(-1)).to.equal('stopped');
    } finally {
      kill('SIGKILL');
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

  it('watch-flows lists the flows present, then every flow added, modified and removed by another client', async () => {
    await sb.vsctl('add-br', 'br2', '--', 'set', 'bridge', 'br2', 'fail-mode=secure');
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br2', 'table=9,priority=1,actions=drop');
    const w = follow('watch-flows.ts', `unix:${sb.mgmtSocket('br2')}`);
    try {
      await w.seen('present: table=9, priority=1 actions=drop', 'watching 1 flows');
      await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br2', 'cookie=0x5,priority=5,in_port=1,actions=output:2');
      await w.seen('added: cookie=0x5, priority=5,in_port=1 actions=output:2');
      await sb.ofctl('-O', 'OpenFlow13', 'mod-flows', 'br2', 'in_port=1,actions=drop');
      await w.seen('modified: cookie=0x5, priority=5,in_port=1 actions=drop');
      await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br2', 'table=3,hard_timeout=1,priority=2,ip,actions=drop');
      await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br2', 'in_port=1');
      await w.seen('removed (deleted): cookie=0x5, priority=5,in_port=1 actions=drop');
      // ovs-vswitchd expires flows about once a second: the hard timeout shows within a few.
      await w.seen('removed (hard timeout): table=3, hard_timeout=1, priority=2,ip actions=drop');
      w.kill('SIGINT');
      expect(await w.exited).to.equal(0);
      expect(w.lines.at(-1)).to.equal('stopped');
      expect(w.lines.filter((l) => l.startsWith('added: ') || l.startsWith('removed ') || l.startsWith('modified: '))).to.have.length(5);
    } finally {
      w.kill('SIGKILL');
    }
  });
});

describe('examples/learning-switch, two namespaces pinging through a bridge whose only flow sends to it @integration', function () {
  this.timeout(120_000);
  let sb: OvsSandbox;
  const suffix = String(process.pid % 100000);
  const ns = (n: number): string => `ls${n}-${suffix}`;
  const created: string[] = [];
  const sh = (...argv: string[]): Promise<{ stdout: string }> => run(argv[0], argv.slice(1));
  const inNs = (n: number, ...argv: string[]): Promise<{ stdout: string }> => sh('ip', 'netns', 'exec', ns(n), ...argv);

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    await sb.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail-mode=secure');
    for (const n of [1, 2]) {
      const outer = `ls${n}b${suffix}`;
      await sh('ip', 'netns', 'add', ns(n));
      created.push(ns(n));
      await sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', `ls${n}v${suffix}`);
      await sh('ip', 'link', 'set', outer, 'netns', sb.netns!);
      await sh('ip', 'link', 'set', `ls${n}v${suffix}`, 'netns', ns(n));
      await inNs(n, 'ip', 'link', 'set', `ls${n}v${suffix}`, 'name', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'address', `fa:16:3e:00:0${n}:0${n}`);
      await inNs(n, 'ip', 'addr', 'add', `10.8.0.${n}/24`, 'dev', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'up');
      // The userspace datapath does not fill in checksums the kernel left to the NIC.
      await inNs(n, 'ethtool', '-K', 'eth0', 'tx', 'off');
      await sh('ip', 'netns', 'exec', sb.netns!, 'ip', 'link', 'set', outer, 'up');
      await sb.vsctl('add-port', 'br0', outer, '--', 'set', 'interface', outer, `ofport_request=${n}`);
    }
  });
  after(async () => {
    for (const n of created) await sh('ip', 'netns', 'del', n).catch(() => undefined);
    await sb?.stop();
  });

  it('learns both MACs, installs a flow each way, and the namespaces ping each other; its flows go when it stops', async () => {
    const flows = async (): Promise<string[]> => (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', '--rsort', 'dump-flows', 'br0')).trim().split('\n').map((l) => l.trim()).filter((l) => l !== '');
    expect(await flows()).to.deep.equal([]);
    const w = follow('learning-switch.ts', `unix:${sb.mgmtSocket('br0')}`);
    try {
      await w.seen('ready: cookie=0x1ea2, priority=0 actions=CONTROLLER:65535');
      expect(await flows()).to.deep.equal(['cookie=0x1ea2, priority=0 actions=CONTROLLER:65535']);
      const { stdout } = await inNs(1, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.8.0.2');
      expect(stdout).to.match(/3 packets transmitted, 3 received/);
      await w.seen('learned fa:16:3e:00:01:01 on port 1', 'learned fa:16:3e:00:02:02 on port 2',
        'flow: cookie=0x1ea2, idle_timeout=60, priority=10,in_port=1,dl_dst=fa:16:3e:00:02:02 actions=output:2',
        'flow: cookie=0x1ea2, idle_timeout=60, priority=10,in_port=2,dl_dst=fa:16:3e:00:01:01 actions=output:1');
      expect(await flows()).to.include.members([
        'cookie=0x1ea2, idle_timeout=60, priority=10,in_port=1,dl_dst=fa:16:3e:00:02:02 actions=output:2',
        'cookie=0x1ea2, idle_timeout=60, priority=10,in_port=2,dl_dst=fa:16:3e:00:01:01 actions=output:1',
      ]);
      const back = await inNs(2, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '10.8.0.1');
      expect(back.stdout).to.match(/2 packets transmitted, 2 received/);
      w.kill('SIGINT');
      expect(await w.exited).to.equal(0);
      expect(w.lines.at(-1)).to.equal('stopped');
      expect(await flows()).to.deep.equal([]);
    } finally {
      w.kill('SIGKILL');
    }
  });
});
