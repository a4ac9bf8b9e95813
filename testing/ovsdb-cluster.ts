/**
 * A disposable clustered (Raft) ovsdb-server: N members, each its own
 * process with its own database file, raft socket, client socket, pidfile
 * and unixctl socket, in one temp dir. Members talk Raft over unix sockets
 * and serve clients on unix sockets, so nothing listens on a fixed port and
 * any number of clusters can run at once.
 *
 * Built as ovsdb-tool(1) says: `create-cluster` for the first member,
 * `join-cluster` for the others, then each started detached (the command
 * returning means the daemon runs; joining completes in the background, and
 * `start` waits until every member reports itself connected). Members are
 * stopped (and killed, for failover tests) by the pid they wrote; every live
 * cluster is stopped on process exit.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VSWITCH_SCHEMA, pidAlive } from './sandbox.js';
import { until } from './until.js';

const run = promisify(execFile);
const STOP_GRACE_MS = 3000;

/** Options of `OvsdbCluster.start`. */
export interface ClusterOptions {
  /** Members (default 3). */
  members?: number;
  /** The schema file (default Open vSwitch's vswitch.ovsschema). */
  schema?: string;
  /** How long to wait for every member to join (default 30 s). */
  joinTimeoutMs?: number;
}

/** One member's `cluster/status`, the fields the tests use. */
export interface MemberStatus {
  readonly role: string;
  readonly status: string;
  readonly term: number;
}

/**
 * True once every thread of `pid` has exited. ovsdb-server is multithreaded:
 * its main thread shows as a zombie while other threads still run and still
 * hold the shared file table (its listening socket keeps accepting), so a
 * zombie counts as gone only when it is the last thread left.
 */
function threadsGone(pid: number): boolean {
  if (!pidAlive(pid)) {
    try {
      return readdirSync(`/proc/${pid}/task`).length <= 1;
    } catch {
      return true;
    }
  }
  return false;
}

const live = new Set<OvsdbCluster>();
let hooked = false;

export class OvsdbCluster {
  readonly dir: string;
  readonly size: number;
  /** The database name from the schema (e.g. `Open_vSwitch`). */
  readonly database: string;

  private constructor(dir: string, size: number, database: string) {
    this.dir = dir;
    this.size = size;
    this.database = database;
  }

  static async start(options: ClusterOptions = {}): Promise<OvsdbCluster> {
    const size = options.members ?? 3;
    const schema = options.schema ?? VSWITCH_SCHEMA;
    const database = (JSON.parse(readFileSync(schema, 'utf8')) as { name: string }).name;
    const c = new OvsdbCluster(mkdtempSync(join(tmpdir(), 'ovsdb-raft-')), size, database);
    live.add(c);
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const cl of live) cl.killAllSync();
      });
    }
    try {
      for (let i = 0; i < size; i++) mkdirSync(c.memberDir(i));
      await run('ovsdb-tool', ['create-cluster', c.dbFile(0), schema, c.raftAddress(0)]);
      for (let i = 1; i < size; i++) {
        await run('ovsdb-tool', ['join-cluster', c.dbFile(i), database, c.raftAddress(i), c.raftAddress(0)]);
      }
      for (let i = 0; i < size; i++) await c.startMember(i);
      await c.waitJoined(options.joinTimeoutMs ?? 30_000);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private memberDir(i: number): string {
    return join(this.dir, `m${i}`);
  }

  private dbFile(i: number): string {
    return join(this.memberDir(i), 'db');
  }

  private raftAddress(i: number): string {
    return `unix:${join(this.memberDir(i), 'raft.sock')}`;
  }

  private ctl(i: number): string {
    return join(this.memberDir(i), 'server.ctl');
  }

  /** Member `i`'s client remote, `unix:PATH`. */
  remote(i: number): string {
    return `unix:${join(this.memberDir(i), 'db.sock')}`;
  }

  /** Every member's client remote, comma-separated, as OVS tools take a cluster. */
  get remotes(): string {
    return Array.from({ length: this.size }, (_, i) => this.remote(i)).join(',');
  }

  /** Member `i`'s pid, while it runs. */
  pid(i: number): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(join(this.memberDir(i), 'server.pid'), 'utf8').trim(), 10);
      return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Starts member `i` (again, after a kill: it rejoins from its own log). */
  async startMember(i: number): Promise<void> {
    const d = this.memberDir(i);
    await run('ovsdb-server', [
      `--remote=punix:${join(d, 'db.sock')}`,
      `--pidfile=${join(d, 'server.pid')}`,
      `--unixctl=${this.ctl(i)}`,
      `--log-file=${join(d, 'server.log')}`,
      '--detach',
      '--no-chdir',
      this.dbFile(i),
    ]);
  }

  /** `ovs-appctl cluster/status`: role (leader, follower, candidate), status (cluster member, joining...), term. */
  async status(i: number): Promise<MemberStatus> {
    const { stdout } = await run('ovs-appctl', ['-t', this.ctl(i), 'cluster/status', this.database], { timeout: 10_000 });
    const field = (name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
    return { role: field('Role'), status: field('Status'), term: Number(field('Term')) };
  }

  /** Runs `ovs-appctl` against member `i`. */
  async appctl(i: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('ovs-appctl', ['-t', this.ctl(i), ...args], { timeout: 10_000 });
    return stdout;
  }

  /** The index of the member that is leader, waiting (up to `timeoutMs`) for an election to settle. */
  async leader(timeoutMs = 15_000, among: readonly number[] = this.running()): Promise<number> {
    return until(async () => {
      for (const i of among) {
        const s = await this.status(i).catch(() => undefined);
        if (s?.role === 'leader') return i;
      }
      return undefined;
    }, `a leader among members ${among.join(', ')} of the cluster in ${this.dir}`, timeoutMs);
  }

  /** The members whose process runs. */
  running(): number[] {
    return Array.from({ length: this.size }, (_, i) => i).filter((i) => this.pid(i) !== undefined);
  }

  /** SIGKILLs member `i` by its pid and waits until it is gone, its sockets closed. */
  async kill(i: number): Promise<void> {
    const pid = this.pid(i);
    if (pid === undefined) return;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (!threadsGone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Stops every member (SIGTERM, then SIGKILL after a grace period) and removes the dir. */
  async stop(): Promise<void> {
    const pids = Array.from({ length: this.size }, (_, i) => this.pid(i)).filter((p): p is number => p !== undefined);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    const deadline = Date.now() + STOP_GRACE_MS;
    while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.killAllSync();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private killAllSync(): void {
    for (let i = 0; i < this.size; i++) {
      const pid = this.pid(i);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  private async waitJoined(timeoutMs: number): Promise<void> {
    await until(async () => {
      const all = await Promise.all(Array.from({ length: this.size }, (_, i) => this.status(i).catch(() => undefined)));
      return all.every((s) => s?.status === 'cluster member') && all.some((s) => s?.role === 'leader');
    }, `the ${this.size} members in ${this.dir} to form a cluster (ovs-appctl cluster/status)`, timeoutMs);
  }
}
