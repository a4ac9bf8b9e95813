/**
 * A private, disposable Neutron control plane for tests and benchmarks:
 * RabbitMQ (Debian's rabbitmq-server), a PostgreSQL 15 cluster and
 * neutron-server 21 (noauth, ML2 with the openvswitch mechanism driver and
 * the flat, vlan and vxlan type drivers), each in a temp dir, on loopback,
 * on free ports (docs/testing.md, "The Neutron test environment").
 *
 *   const env = await NeutronEnv.start();          // ~12 s on 2 cores
 *   env.transportUrl                               // rabbit://guest:guest@127.0.0.1:PORT/
 *   await env.api.post('/networks', {...})          // the REST API, admin (no X-Project-Id)
 *   await env.sql("SELECT id, status FROM ports")  // rows of fields, straight from PostgreSQL
 *   env.rabbit.ctl('trace_on')                     // rabbitmqctl against the private node
 *   await env.restartRabbit(); await env.restartServer();
 *   await env.stop();                              // kills by pid, removes the dir
 *
 * `RabbitBroker.start()` alone gives just a broker, for messaging tests.
 *
 * Every process is stopped by the pid we started it with (and the pids of
 * its children, read from /proc), never by name; every live environment is
 * killed on process exit, SIGINT and SIGTERM.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as amqpConnect } from 'amqplib';
import { pidAlive } from './sandbox.js';

export class NeutronEnvError extends Error {
  override readonly name = 'NeutronEnvError';
}

const PG_BIN = '/usr/lib/postgresql/15/bin';
const RABBIT_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const EPMD = '/usr/bin/epmd';
const NEUTRON_SERVER = '/usr/bin/neutron-server';
const NEUTRON_DB_MANAGE = '/usr/bin/neutron-db-manage';
/** Debian's own interpreter: neutron lives in its dist-packages, whatever python3 is first on PATH. */
const PYTHON = '/usr/bin/python3';

const STOP_GRACE_MS = 8000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A TCP port nobody listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Child pids of `pid`, recursively, read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A process we started: its pid, its log, and how to stop it and everything it forked. */
class Daemon {
  private exited = false;
  readonly pid: number;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly log: string,
  ) {
    if (child.pid === undefined) throw new NeutronEnvError(`${name}: could not start`);
    this.pid = child.pid;
    child.once('exit', () => (this.exited = true));
  }

  get alive(): boolean {
    return !this.exited && pidAlive(this.pid);
  }

  static spawn(name: string, program: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; log: string }): Daemon {
    const fd = openSync(opts.log, 'a');
    try {
      const child = spawn(program, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
        uid: opts.uid,
        gid: opts.gid,
      });
      child.unref();
      return new Daemon(name, child, opts.log);
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM (or `sig`), then SIGKILL to it and its children after the grace time. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = STOP_GRACE_MS): Promise<void> {
    const family = [this.pid, ...descendants(this.pid)];
    signal(this.pid, sig);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && family.some(pidAlive)) await sleep(50);
    for (const p of family) if (pidAlive(p)) signal(p, 'SIGKILL');
    const killDeadline = Date.now() + 3000;
    while (Date.now() < killDeadline && family.some(pidAlive)) await sleep(20);
  }

  killSync(): void {
    for (const p of [this.pid, ...descendants(this.pid)]) signal(p, 'SIGKILL');
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.log, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

const live = new Set<{ killSync(): void }>();
let hooksInstalled = false;

function track(x: { killSync(): void }): void {
  live.add(x);
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const e of live) e.killSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const e of live) e.killSync();
      process.kill(process.pid, sig);
    });
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, onTimeout: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new NeutronEnvError(`${what} not ready after ${timeoutMs / 1000} s\n${onTimeout()}`);
}

/** A TLS listener for the broker (its rabbitmq.conf `ssl_options`). */
export interface BrokerTls {
  /** PEM files: the CA that client certificates must chain to, the broker's certificate and key. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Ask clients for a certificate signed by `caFile`, and refuse those without one. */
  requireClientCert?: boolean;
  /** The only TLS versions offered, as RabbitMQ spells them (e.g. `tlsv1.3`); default: its own. */
  versions?: string[];
}

/** A RabbitMQ node of our own: epmd and the broker on free loopback ports, guest/guest allowed from loopback. */
export class RabbitBroker {
  private broker: Daemon | undefined;
  private epmd: Daemon | undefined;
  private ownsDir: boolean;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly epmdPort: number,
    private readonly distPort: number,
    private readonly nodeName: string,
    ownsDir: boolean,
    /** The TLS listener's port, when started with `tls`. */
    readonly tlsPort?: number,
  ) {
    this.ownsDir = ownsDir;
  }

  /** `rabbit://guest:guest@127.0.0.1:PORT/` */
  get transportUrl(): string {
    return `rabbit://guest:guest@127.0.0.1:${this.port}/`;
  }

  get pids(): { epmd?: number; broker?: number } {
    return { epmd: this.epmd?.pid, broker: this.broker?.pid };
  }

  get running(): boolean {
    return this.broker?.alive ?? false;
  }

  static async start(parentDir?: string, opts: { tls?: BrokerTls } = {}): Promise<RabbitBroker> {
    const dir = parentDir ? join(parentDir, 'rabbitmq') : mkdtempSync(join(tmpdir(), 'ovs-agent-rabbit-'));
    mkdirSync(join(dir, 'mnesia'), { recursive: true });
    mkdirSync(join(dir, 'log'), { recursive: true });
    mkdirSync(join(dir, 'home'), { recursive: true });
    const [port, epmdPort, distPort] = [await freePort(), await freePort(), await freePort()];
    const tlsPort = opts.tls ? await freePort() : undefined;
    const tls = opts.tls
      ? [
        `listeners.ssl.1 = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${opts.tls.caFile}`,
        `ssl_options.certfile = ${opts.tls.certFile}`,
        `ssl_options.keyfile = ${opts.tls.keyFile}`,
        `ssl_options.verify = ${opts.tls.requireClientCert ? 'verify_peer' : 'verify_none'}`,
        `ssl_options.fail_if_no_peer_cert = ${opts.tls.requireClientCert ? 'true' : 'false'}`,
        ...(opts.tls.versions ?? []).map((v, i) => `ssl_options.versions.${i + 1} = ${v}`),
      ]
      : [];
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        'loopback_users = none',
        `listeners.tcp.1 = 127.0.0.1:${port}`,
        'distribution.listener.interface = 127.0.0.1',
        'log.console = true',
        'log.console.level = warning',
        'log.file = false',
        ...tls,
        '',
      ].join('\n'),
    );
    const b = new RabbitBroker(dir, port, epmdPort, distPort, `rabbit-${port}@localhost`, parentDir === undefined, tlsPort);
    track(b);
    try {
      b.epmd = Daemon.spawn('epmd', EPMD, ['-address', '127.0.0.1', '-port', String(epmdPort)], { cwd: dir, log: join(dir, 'epmd.log') });
      await b.launch();
    } catch (err) {
      await b.stop();
      throw err;
    }
    return b;
  }

  private env(): NodeJS.ProcessEnv {
    const { dir } = this;
    return {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      HOME: join(dir, 'home'),
      ERL_EPMD_PORT: String(this.epmdPort),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      // Keep /etc/rabbitmq/rabbitmq-env.conf out.
      RABBITMQ_CONF_ENV_FILE: join(dir, 'no-rabbitmq-env.conf'),
    };
  }

  private async launch(): Promise<void> {
    this.broker = Daemon.spawn('rabbitmq-server', RABBIT_SERVER, [], { cwd: this.dir, env: this.env(), log: join(this.dir, 'rabbitmq.log') });
    const broker = this.broker;
    await waitUntil(
      'RabbitMQ',
      async () => {
        if (!broker.alive) throw new NeutronEnvError(`rabbitmq-server exited\n${broker.tail()}`);
        if (!(await portOpen(this.port))) return false;
        try {
          const c = await amqpConnect(`amqp://guest:guest@127.0.0.1:${this.port}/`);
          await c.close();
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      () => broker.tail(),
    );
  }

  /** Runs `rabbitmqctl ARGS` against this node (e.g. `trace_on`, the firehose); returns its stdout. */
  ctl(...args: string[]): string {
    return execFileSync(RABBITMQCTL, ['-n', this.nodeName, ...args], { env: this.env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Stops the broker (epmd stays), as a crashed or restarted RabbitMQ. */
  async stopBroker(): Promise<void> {
    const b = this.broker;
    this.broker = undefined;
    if (b) await b.stop('SIGTERM', 15_000);
  }

  /** Starts the broker again on the same port and data dir. */
  async startBroker(): Promise<void> {
    if (this.running) return;
    await this.launch();
  }

  async restart(): Promise<void> {
    await this.stopBroker();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.stopBroker();
    await this.epmd?.stop();
    this.epmd = undefined;
    live.delete(this);
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  killSync(): void {
    this.broker?.killSync();
    this.epmd?.killSync();
  }
}

/** A PostgreSQL 15 cluster on a unix socket in its dir, run as user postgres, with `jit=off` (docs/testing.md, "The Neutron test environment"). */
class Postgres {
  private daemon: Daemon | undefined;

  constructor(readonly dir: string) {}

  get socketDir(): string {
    return this.dir;
  }

  get pid(): number | undefined {
    return this.daemon?.pid;
  }

  async start(): Promise<void> {
    const { dir } = this;
    mkdirSync(dir, { recursive: true });
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    execFileSync(join(PG_BIN, 'initdb'), ['-D', join(dir, 'data'), '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8'], {
      uid,
      gid,
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.daemon = Daemon.spawn(
      'postgres',
      join(PG_BIN, 'postgres'),
      [
        '-D', join(dir, 'data'),
        '-c', 'listen_addresses=',
        '-c', `unix_socket_directories=${dir}`,
        // Neutron's eager-loading port queries get JIT-compiled at over a second each otherwise.
        '-c', 'jit=off',
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=200',
      ],
      { cwd: dir, uid, gid, log: join(dir, 'postgres.log') },
    );
    const pg = this.daemon;
    await waitUntil(
      'PostgreSQL',
      async () => {
        if (!pg.alive) throw new NeutronEnvError(`postgres exited\n${pg.tail()}`);
        return existsSync(join(dir, '.s.PGSQL.5432'));
      },
      30_000,
      () => pg.tail(),
    );
    await sleep(200);
    execFileSync(join(PG_BIN, 'psql'), ['-h', dir, '-U', 'postgres', '-q', '-c', 'CREATE DATABASE neutron'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  async stop(): Promise<void> {
    // SIGINT is PostgreSQL's fast shutdown.
    await this.daemon?.stop('SIGINT');
    this.daemon = undefined;
  }

  killSync(): void {
    this.daemon?.killSync();
  }
}

export interface NeutronEnvOptions {
  /** `[ml2_type_vlan] network_vlan_ranges` (default physnet1:100:199). */
  vlanRanges?: string;
  /** `[ml2] mechanism_drivers` (default openvswitch; add l2population for l2pop tests). */
  mechanismDrivers?: string[];
  /** Server's `agent_down_time`, seconds (default 75). */
  agentDownTime?: number;
  /** neutron-server `debug = True`. */
  debug?: boolean;
  /** The QoS API: the `qos` service plugin and the ML2 `qos` extension driver (docs/qos.md). */
  qos?: boolean;
  /** The trunk API: the `trunk` service plugin (docs/trunk.md). */
  trunk?: boolean;
}

/** Minimal REST client of the Neutron API as an admin (noauth, no X-Project-Id). */
export class NeutronApi {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/v2.0${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new NeutronEnvError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }
}

export class NeutronEnv {
  readonly api: NeutronApi;
  private server: Daemon | undefined;

  private constructor(
    readonly dir: string,
    readonly rabbit: RabbitBroker,
    private readonly pg: Postgres,
    readonly apiPort: number,
    private readonly configFile: string,
  ) {
    this.api = new NeutronApi(`http://127.0.0.1:${apiPort}`);
  }

  get transportUrl(): string {
    return this.rabbit.transportUrl;
  }

  get pids(): { epmd?: number; rabbit?: number; postgres?: number; neutronServer?: number } {
    return { epmd: this.rabbit.pids.epmd, rabbit: this.rabbit.pids.broker, postgres: this.pg.pid, neutronServer: this.server?.pid };
  }

  /** neutron-server's log file. */
  get serverLog(): string {
    return join(this.dir, 'neutron', 'server.log');
  }

  static async start(opts: NeutronEnvOptions = {}): Promise<NeutronEnv> {
    const dir = mkdtempSync(join(tmpdir(), 'ovs-agent-neutron-'));
    // PostgreSQL runs as postgres and must reach its dir below ours.
    chmodSync(dir, 0o755);
    let rabbit: RabbitBroker | undefined;
    const pg = new Postgres(join(dir, 'postgres'));
    const guard = { killSync: () => pg.killSync() };
    track(guard);
    try {
      const [r] = await Promise.all([RabbitBroker.start(dir), pg.start()]);
      rabbit = r;
      const apiPort = await freePort();
      const configFile = writeNeutronConfig(dir, apiPort, rabbit.transportUrl, pg.socketDir, opts);
      execFileSync(PYTHON, [NEUTRON_DB_MANAGE, '--config-file', configFile, 'upgrade', 'heads'], {
        cwd: join(dir, 'neutron'),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const env = new NeutronEnv(dir, rabbit, pg, apiPort, configFile);
      live.delete(guard);
      track(env);
      await env.startServer();
      return env;
    } catch (err) {
      await rabbit?.stop();
      await pg.stop();
      live.delete(guard);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Starts neutron-server; resolves once its API answers and its RPC workers consume q-plugin and q-reports-plugin. */
  async startServer(): Promise<void> {
    if (this.server?.alive) return;
    this.server = Daemon.spawn('neutron-server', PYTHON, [NEUTRON_SERVER, '--config-file', this.configFile], {
      cwd: join(this.dir, 'neutron'),
      log: join(this.dir, 'neutron', 'server.stdout.log'),
    });
    const server = this.server;
    const dead = () => {
      if (!server.alive) throw new NeutronEnvError(`neutron-server exited\n${this.serverTail()}`);
    };
    await waitUntil(
      'neutron-server API',
      async () => {
        dead();
        try {
          await this.api.get('/agents');
          return true;
        } catch {
          return false;
        }
      },
      90_000,
      () => this.serverTail(),
    );
    await waitUntil(
      'neutron-server RPC consumers',
      async () => {
        dead();
        return (await this.consumers('q-plugin')) > 0 && (await this.consumers('q-reports-plugin')) > 0;
      },
      90_000,
      () => this.serverTail(),
    );
  }

  /** Stops neutron-server (SIGTERM, then SIGKILL after `graceMs`). */
  async stopServer(graceMs = 5000): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.stop('SIGTERM', graceMs);
  }

  async restartServer(): Promise<void> {
    await this.stopServer();
    await this.startServer();
  }

  /** Stops and starts RabbitMQ on the same port; non-durable queues and exchanges are lost as on a real restart. */
  async restartRabbit(): Promise<void> {
    await this.rabbit.restart();
  }

  /**
   * Runs one SQL statement on neutron's database with psql; rows of
   * tab-separated fields. Reading port status here costs the server nothing,
   * unlike polling the API (docs/testing.md, "The Neutron test environment").
   */
  sql(statement: string): Promise<string[][]> {
    return new Promise((resolve, reject) => {
      execFile(join(PG_BIN, 'psql'), ['-h', this.pg.socketDir, '-U', 'postgres', '-d', 'neutron', '-At', '-F', '\t', '-c', statement], (err, stdout) => {
        if (err) reject(new NeutronEnvError(`psql: ${err.message}`));
        else resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')));
      });
    });
  }

  /** How many consumers a queue has (0 when it doesn't exist). */
  async consumers(queue: string): Promise<number> {
    let conn;
    try {
      conn = await amqpConnect(`amqp://guest:guest@127.0.0.1:${this.rabbit.port}/`);
    } catch {
      return 0;
    }
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      const q = await ch.checkQueue(queue);
      return q.consumerCount;
    } catch {
      return 0;
    } finally {
      await conn.close().catch(() => {});
    }
  }

  serverTail(lines = 40): string {
    try {
      return readFileSync(this.serverLog, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return this.server?.tail(lines) ?? '';
    }
  }

  async stop(): Promise<void> {
    await this.stopServer(3000);
    await this.rabbit.stop();
    await this.pg.stop();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  killSync(): void {
    this.server?.killSync();
    this.rabbit.killSync();
    this.pg.killSync();
  }
}

function writeNeutronConfig(dir: string, apiPort: number, transportUrl: string, pgSocketDir: string, opts: NeutronEnvOptions): string {
  const nDir = join(dir, 'neutron');
  for (const d of ['', 'state', 'lock']) mkdirSync(join(nDir, d), { recursive: true });
  const file = join(nDir, 'neutron.conf');
  writeFileSync(
    file,
    `[DEFAULT]
core_plugin = ml2
service_plugins = ${[opts.qos ? 'qos' : '', opts.trunk ? 'trunk' : ''].filter(Boolean).join(',')}
auth_strategy = noauth
bind_host = 127.0.0.1
bind_port = ${apiPort}
api_workers = 0
rpc_workers = 1
rpc_state_report_workers = 0
agent_down_time = ${opts.agentDownTime ?? 75}
notify_nova_on_port_status_changes = False
notify_nova_on_port_data_changes = False
transport_url = ${transportUrl}
state_path = ${join(nDir, 'state')}
debug = ${opts.debug ? 'True' : 'False'}
log_file = ${join(nDir, 'server.log')}

[database]
connection = postgresql+psycopg2://postgres@/neutron?host=${pgSocketDir}

[oslo_concurrency]
lock_path = ${join(nDir, 'lock')}

[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = ${(opts.mechanismDrivers ?? ['openvswitch']).join(',')}
extension_drivers = port_security${opts.qos ? ',qos' : ''}

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = ${opts.vlanRanges ?? 'physnet1:100:199'}

[ml2_type_vxlan]
vni_ranges = 1000:1999

[securitygroup]
enable_security_group = True
`,
  );
  return file;
}
