/**
 * A private, disposable Open vSwitch: ovsdb-server and ovs-vswitchd from the
 * system's openvswitch-switch package, running in a fresh temp dir.
 *
 * Used by the tests, the benchmarks and the demo. Each sandbox owns its dir,
 * its unix sockets and its pids; nothing listens on a fixed port, so any
 * number can run at once.
 *
 * Device model. The userspace datapath normally creates kernel tap devices
 * (`ovs-netdev`, one per internal port), which are global to the network
 * namespace and make two sandboxes collide. Two ways out are offered:
 *
 *  - `dummy` (the default): ovs-vswitchd runs with `--enable-dummy=override`,
 *    which swaps every system, tap and internal netdev for OVS's in-memory
 *    dummy device, as OVS's own test suite does. No kernel state is touched,
 *    nothing can leak outside the dir, the daemons share our loopback (so a
 *    bridge can reach a controller we listen on at 127.0.0.1), and packets
 *    can still be injected with `ovs-appctl netdev-dummy/receive` and traced
 *    with `ofproto/trace`. This is what nearly every test needs.
 *  - `netns`: the daemons run inside a network namespace of their own with
 *    real devices, so traffic tests can attach veth pairs whose far ends sit
 *    in further namespaces standing for VMs. The price: the daemons' loopback
 *    is the namespace's, not ours, so controllers must be reached over unix
 *    sockets or from inside the namespace.
 *
 * Daemons are started with `--detach`, so "the command returned" means "the
 * daemon is ready", and stopped by the pid they wrote. Every live sandbox is
 * stopped on process exit, SIGINT and SIGTERM; a sandbox left behind by a
 * process that was SIGKILLed is reaped by the next `OvsSandbox.start()`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where Debian's openvswitch-common installs the schema. */
export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

const DIR_PREFIX = 'ovs-sbx-';
const OWNER_FILE = 'owner.pid';
/** How long a daemon gets to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3000;

export type DeviceModel = 'dummy' | 'netns';

export interface SandboxOptions {
  /** `dummy` (default) or `netns`; see the module comment for the trade-off. */
  devices?: DeviceModel;
  /** Extra arguments for ovs-vswitchd, e.g. `['-vofproto:dbg']`. */
  vswitchdArgs?: string[];
  /**
   * Key, certificate and CA files (PEM paths) for ovsdb-server's SSL, so that
   * `addDbRemote('pssl:0:127.0.0.1')` can serve the database over TLS.
   */
  dbSsl?: { privateKey: string; certificate: string; caCert: string };
}

export interface SandboxPids {
  ovsdbServer: number | undefined;
  ovsVswitchd: number | undefined;
}

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

const live = new Set<OvsSandbox>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const sb of live) sb.stopSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const sb of live) sb.stopSync();
      // Re-raise with the default disposition so the exit status tells the truth.
      process.kill(process.pid, sig);
    });
  }
}

/**
 * True while the process runs. A detached daemon is reparented to init, which
 * may be slow to reap it, so a zombie counts as gone.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // The state is the first field after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(20);
  }
  return !pidAlive(pid);
}

function waitForExitSync(pid: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    Atomics.wait(tick, 0, 0, 20);
  }
  return !pidAlive(pid);
}

type Daemon = 'ovsdb-server' | 'ovs-vswitchd';

export class OvsSandbox {
  /** The sandbox's private directory; also OVS_RUNDIR, so bridge `.mgmt` sockets land here. */
  readonly dir: string;
  readonly devices: DeviceModel;
  /** The network namespace the daemons run in (netns mode only). */
  readonly netns: string | undefined;
  private readonly vswitchdArgs: string[];
  private dbSslArgs: string[] = [];
  private stopped = false;

  private constructor(dir: string, devices: DeviceModel, netns: string | undefined, vswitchdArgs: string[]) {
    this.dir = dir;
    this.devices = devices;
    this.netns = netns;
    this.vswitchdArgs = vswitchdArgs;
  }

  /** Creates the database and starts both daemons. */
  static async start(options: SandboxOptions = {}): Promise<OvsSandbox> {
    OvsSandbox.reapStale();
    installExitHooks();
    const devices = options.devices ?? 'dummy';
    const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
    const netns = devices === 'netns' ? `ovs-sbx-${dir.slice(-6)}` : undefined;
    const sb = new OvsSandbox(dir, devices, netns, options.vswitchdArgs ?? []);
    if (options.dbSsl) {
      const { privateKey, certificate, caCert } = options.dbSsl;
      sb.dbSslArgs = [`--private-key=${privateKey}`, `--certificate=${certificate}`, `--ca-cert=${caCert}`];
    }
    live.add(sb);
    try {
      if (netns) {
        await execFileAsync('ip', ['netns', 'add', netns]);
        await execFileAsync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
      }
      await execFileAsync('ovsdb-tool', ['create', sb.dbFile, VSWITCH_SCHEMA]);
      await sb.startOvsdbServer();
      // ovs-vsctl's "init": the Open_vSwitch root row must exist before ovs-vswitchd reads it.
      await sb.vsctl('--no-wait', 'init');
      await sb.startVswitchd();
    } catch (err) {
      await sb.stop();
      throw err;
    }
    return sb;
  }

  /** The database file. */
  get dbFile(): string {
    return join(this.dir, 'conf.db');
  }

  /** Path of the unix socket ovsdb-server serves the database on. */
  get dbSocket(): string {
    return join(this.dir, 'db.sock');
  }

  /** The database address in OVS syntax (`unix:PATH`). */
  get dbRemote(): string {
    return `unix:${this.dbSocket}`;
  }

  /** The run dir: OVS_RUNDIR for the daemons and for ovs-ofctl/ovs-appctl. */
  get rundir(): string {
    return this.dir;
  }

  /** The management socket ovs-vswitchd opens for each bridge (OpenFlow over unix). */
  mgmtSocket(bridge: string): string {
    return join(this.dir, `${bridge}.mgmt`);
  }

  get pids(): SandboxPids {
    return {
      ovsdbServer: readPid(this.pidFile('ovsdb-server')),
      ovsVswitchd: readPid(this.pidFile('ovs-vswitchd')),
    };
  }

  private pidFile(d: Daemon): string {
    return join(this.dir, `${d}.pid`);
  }

  private ctlFile(d: Daemon): string {
    return join(this.dir, `${d}.ctl`);
  }

  logFile(d: Daemon): string {
    return join(this.dir, `${d}.log`);
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, OVS_RUNDIR: this.dir, OVS_DBDIR: this.dir, OVS_LOGDIR: this.dir };
  }

  /** Runs a program, inside the sandbox's namespace when it has one. */
  async run(program: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const [file, argv] = this.netns ? ['ip', ['netns', 'exec', this.netns, program, ...args]] : [program, args];
    try {
      const child = execFileAsync(file, argv, {
        env: this.env,
        cwd: this.dir,
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 256 * 1024 * 1024,
      });
      if (opts.input !== undefined) {
        child.child.stdin?.end(opts.input);
      }
      const { stdout } = await child;
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new SandboxError(`${program} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
    }
  }

  /** ovs-vsctl against this sandbox's database. */
  vsctl(...args: string[]): Promise<string> {
    return this.run('ovs-vsctl', [`--db=${this.dbRemote}`, '--timeout=20', ...args]);
  }

  /** ovs-ofctl against a bridge of this sandbox (through its `.mgmt` socket via OVS_RUNDIR). */
  ofctl(...args: string[]): Promise<string> {
    return this.run('ovs-ofctl', args);
  }

  /** ovs-appctl to one of the daemons. */
  appctl(target: Daemon, ...args: string[]): Promise<string> {
    return this.run('ovs-appctl', ['-t', this.ctlFile(target), ...args]);
  }

  /** ovsdb-client against this sandbox's database. */
  ovsdbClient(...args: string[]): Promise<string> {
    const [cmd, ...rest] = args;
    return this.run('ovsdb-client', [cmd, this.dbRemote, ...rest]);
  }

  /**
   * Adds a listening remote to ovsdb-server (e.g. `ptcp:0:127.0.0.1`) and
   * returns the port it bound, so TCP and SSL transports can be tested without
   * fixed ports.
   */
  async addDbRemote(remote: string): Promise<number | undefined> {
    await this.appctl('ovsdb-server', 'ovsdb-server/add-remote', remote);
    if (!/^p(tcp|ssl):0/.test(remote)) return undefined;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const log = readFileSync(this.logFile('ovsdb-server'), 'utf8');
      const m = [...log.matchAll(/\|(?:stream_tcp|stream_ssl|socket_util)\|INFO\|.*?listening on port (\d+)/g)].at(-1)
        ?? [...log.matchAll(/listening on port (\d+)/g)].at(-1);
      if (m) return Number(m[1]);
      await sleep(20);
    }
    throw new SandboxError(`ovsdb-server did not report the port it bound for ${remote}`);
  }

  async startOvsdbServer(): Promise<void> {
    await this.run('ovsdb-server', [
      `--remote=punix:${this.dbSocket}`,
      `--pidfile=${this.pidFile('ovsdb-server')}`,
      `--unixctl=${this.ctlFile('ovsdb-server')}`,
      `--log-file=${this.logFile('ovsdb-server')}`,
      '--detach',
      '--no-chdir',
      ...this.dbSslArgs,
      this.dbFile,
    ]);
  }

  async startVswitchd(): Promise<void> {
    const devices = this.devices === 'dummy' ? ['--enable-dummy=override', '--disable-system'] : ['--disable-system'];
    await this.run('ovs-vswitchd', [
      this.dbRemote,
      ...devices,
      `--pidfile=${this.pidFile('ovs-vswitchd')}`,
      `--unixctl=${this.ctlFile('ovs-vswitchd')}`,
      `--log-file=${this.logFile('ovs-vswitchd')}`,
      '--detach',
      '--no-chdir',
      ...this.vswitchdArgs,
    ]);
  }

  /** Stops one daemon by its pid (SIGTERM, then SIGKILL after a grace period). */
  async stopDaemon(d: Daemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pid = readPid(this.pidFile(d));
    if (pid === undefined || !pidAlive(pid)) return;
    process.kill(pid, signal);
    if (!(await waitForExit(pid, STOP_GRACE_MS))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, STOP_GRACE_MS);
    }
    rmSync(this.pidFile(d), { force: true });
  }

  stopOvsdbServer(signal?: NodeJS.Signals): Promise<void> {
    return this.stopDaemon('ovsdb-server', signal);
  }

  stopVswitchd(signal?: NodeJS.Signals): Promise<void> {
    return this.stopDaemon('ovs-vswitchd', signal);
  }

  async restartOvsdbServer(): Promise<void> {
    await this.stopOvsdbServer();
    await this.startOvsdbServer();
  }

  async restartVswitchd(): Promise<void> {
    await this.stopVswitchd();
    await this.startVswitchd();
  }

  /** Stops both daemons by pid, deletes the namespace and removes the dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // ovs-vswitchd first: it would otherwise spin reconnecting to a dead database.
    await this.stopVswitchd();
    await this.stopOvsdbServer();
    this.cleanupSync();
  }

  /** The same as stop(), synchronously, for exit handlers. */
  stopSync(): void {
    if (this.stopped) return;
    for (const d of ['ovs-vswitchd', 'ovsdb-server'] as const) {
      const pid = readPid(this.pidFile(d));
      if (pid === undefined || !pidAlive(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
        if (!waitForExitSync(pid, STOP_GRACE_MS)) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.cleanupSync();
  }

  private cleanupSync(): void {
    this.stopped = true;
    live.delete(this);
    if (this.netns) {
      try {
        execFileSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
      } catch {
        // never created, or already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Stops the daemons of sandboxes whose owning process is gone (it was
   * SIGKILLed and its exit hook never ran), by the pids they recorded.
   */
  static reapStale(): void {
    let entries: string[];
    try {
      entries = readdirSync(tmpdir()).filter((e) => e.startsWith(DIR_PREFIX));
    } catch {
      return;
    }
    for (const entry of entries) {
      const dir = join(tmpdir(), entry);
      const owner = readPid(join(dir, OWNER_FILE));
      if (owner === undefined || pidAlive(owner)) continue;
      for (const d of ['ovs-vswitchd', 'ovsdb-server']) {
        const pid = readPid(join(dir, `${d}.pid`));
        if (pid !== undefined && pidAlive(pid) && isDaemonOf(pid, dir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // raced with its own exit
          }
        }
      }
      const ns = `ovs-sbx-${entry.slice(-6)}`;
      if (existsSync(`/run/netns/${ns}`)) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        } catch {
          // not ours to worry about
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Guards against pid reuse: the process must still be a daemon started for that dir. */
function isDaemonOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}
