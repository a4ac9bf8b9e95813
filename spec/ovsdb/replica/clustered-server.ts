/**
 * A one-node clustered ovsdb-server of the Open_vSwitch schema, for the
 * reconnect tests: unlike a standalone database, a clustered one keeps
 * transaction history (also across restarts, from its raft log), so
 * `monitor_cond_since` can resume. It serves two sockets: `ours` for the
 * replica under test and `theirs` for ovs-vsctl, so a test can change the
 * database while the replica cannot reach it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VSWITCH_SCHEMA, pidAlive } from '../../../testing/sandbox.js';

const run = promisify(execFile);

export class ClusteredServer {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(): Promise<ClusteredServer> {
    const s = new ClusteredServer(mkdtempSync(join(tmpdir(), 'ovsdb-cluster-')));
    try {
      await run('ovsdb-tool', ['create-cluster', s.dbFile, VSWITCH_SCHEMA, `unix:${join(s.dir, 'raft.sock')}`]);
      await s.startServer(true);
      await s.vsctl('--no-wait', 'init');
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  get dbFile(): string {
    return join(this.dir, 'db.db');
  }

  get ours(): string {
    return `unix:${join(this.dir, 'ours.sock')}`;
  }

  get theirs(): string {
    return `unix:${join(this.dir, 'theirs.sock')}`;
  }

  get pid(): number | undefined {
    try {
      return Number(readFileSync(join(this.dir, 'server.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /** Starts ovsdb-server; without `withOurs` it listens only on `theirs`. */
  async startServer(withOurs: boolean): Promise<void> {
    const remotes = [`--remote=p${this.theirs}`];
    if (withOurs) remotes.push(`--remote=p${this.ours}`);
    await run('ovsdb-server', [
      ...remotes,
      `--pidfile=${join(this.dir, 'server.pid')}`,
      `--unixctl=${join(this.dir, 'server.ctl')}`,
      `--log-file=${join(this.dir, 'server.log')}`,
      '--detach',
      '--no-chdir',
      this.dbFile,
    ]);
  }

  /** Lets the replica in again (after `startServer(false)`). */
  async openOurs(): Promise<void> {
    await run('ovs-appctl', ['-t', join(this.dir, 'server.ctl'), 'ovsdb-server/add-remote', `p${this.ours}`]);
  }

  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined || !pidAlive(pid)) return;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  async vsctl(...args: string[]): Promise<string> {
    const { stdout } = await run('ovs-vsctl', [`--db=${this.theirs}`, '--timeout=20', ...args]);
    return stdout;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
