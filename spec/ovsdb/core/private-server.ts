// An ovsdb-server of our own, for what the sandbox's cannot do: a custom
// schema with every atom type, and SSL. Started detached, stopped by pid.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pidAlive } from '../../../testing/sandbox.js';

const run = promisify(execFile);

export interface SslFiles {
  caCert: string;
  privateKey: string;
  certificate: string;
}

export class PrivateOvsdbServer {
  readonly dir: string;
  pid: number | undefined;

  private constructor(dir: string) {
    this.dir = dir;
  }

  get socket(): string {
    return join(this.dir, 'db.sock');
  }

  get remote(): string {
    return `unix:${this.socket}`;
  }

  /**
   * Creates a database from `schema` (standalone, or a one-server cluster) and
   * serves it on a unix socket, plus `pssl:0:127.0.0.1` when `ssl` is given.
   */
  static async start(schema: object, ssl?: SslFiles, options: { clustered?: boolean } = {}): Promise<PrivateOvsdbServer> {
    const s = new PrivateOvsdbServer(mkdtempSync(join(tmpdir(), 'ovsdb-core-')));
    try {
      writeFileSync(join(s.dir, 'schema.ovsschema'), JSON.stringify(schema));
      // A one-server Raft cluster has transaction ids, so monitor_cond_since can resume.
      await run(
        'ovsdb-tool',
        options.clustered
          ? ['create-cluster', join(s.dir, 'db'), join(s.dir, 'schema.ovsschema'), `unix:${join(s.dir, 'raft.sock')}`]
          : ['create', join(s.dir, 'db'), join(s.dir, 'schema.ovsschema')],
      );
      const args = [
        `--remote=punix:${s.socket}`,
        `--pidfile=${join(s.dir, 'ovsdb-server.pid')}`,
        `--unixctl=${join(s.dir, 'ovsdb-server.ctl')}`,
        `--log-file=${join(s.dir, 'ovsdb-server.log')}`,
        '--detach',
        '--no-chdir',
      ];
      if (ssl) {
        args.push('--remote=pssl:0:127.0.0.1', `--private-key=${ssl.privateKey}`, `--certificate=${ssl.certificate}`, `--ca-cert=${ssl.caCert}`);
      }
      await run('ovsdb-server', [...args, join(s.dir, 'db')]);
      s.pid = Number.parseInt(readFileSync(join(s.dir, 'ovsdb-server.pid'), 'utf8'), 10);
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** The port a `pssl:0`/`ptcp:0` remote bound, from the log. */
  async boundPort(): Promise<number> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const m = /listening on port (\d+)/.exec(readFileSync(join(this.dir, 'ovsdb-server.log'), 'utf8'));
      if (m) return Number(m[1]);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('ovsdb-server did not report its port');
  }

  /** ovs-appctl to this server (e.g. `ovsdb-server/reconnect`, which drops every client connection). */
  async appctl(...args: string[]): Promise<string> {
    return (await run('ovs-appctl', ['-t', join(this.dir, 'ovsdb-server.ctl'), ...args])).stdout;
  }

  /** ovsdb-client against this server, as an independent oracle. */
  async ovsdbClient(...args: string[]): Promise<string> {
    const [cmd, ...rest] = args;
    return (await run('ovsdb-client', [cmd, this.remote, ...rest])).stdout;
  }

  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid !== undefined && pidAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 3000;
      while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    this.pid = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A CA, and a server and a client certificate it signed, made with the openssl CLI in `dir`. */
export async function makePki(dir: string, name = 'ca'): Promise<{ ca: string; server: SslFiles; client: SslFiles }> {
  const ca = join(dir, `${name}-cert.pem`);
  const caKey = join(dir, `${name}-key.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/CN=${name} test CA`]);
  const leaf = async (who: string): Promise<SslFiles> => {
    const key = join(dir, `${name}-${who}-key.pem`);
    const csr = join(dir, `${name}-${who}.csr`);
    const cert = join(dir, `${name}-${who}-cert.pem`);
    await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${who}`]);
    await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2']);
    return { caCert: ca, privateKey: key, certificate: cert };
  };
  return { ca, server: await leaf('server'), client: await leaf('client') };
}
