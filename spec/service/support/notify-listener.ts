/**
 * systemd's NOTIFY_SOCKET for a test: a real unix datagram socket
 * (notify_listener.py, python3's socket module) whose datagrams, with the
 * sender's pid as the kernel saw it, are collected here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Notification {
  /** Monotonic seconds when the datagram was read. */
  t: number;
  /** The sender's pid (SCM_CREDENTIALS), as systemd would attribute it. */
  pid: number | null;
  msg: string;
  /** The message's assignments, e.g. { READY: '1', STATUS: '...' }. */
  fields: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class NotifyListener {
  readonly received: Notification[] = [];
  private buf = '';

  private constructor(private readonly child: ChildProcess, readonly socket: string) {}

  static async start(socket: string): Promise<NotifyListener> {
    const child = spawn('python3', [join(import.meta.dirname, 'notify_listener.py'), socket], { stdio: ['pipe', 'pipe', 'inherit'] });
    const l = new NotifyListener(child, socket);
    let listening = false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      l.buf += chunk;
      let nl;
      while ((nl = l.buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(l.buf.slice(0, nl)) as { listening?: string; t: number; pid: number | null; msg: string };
        l.buf = l.buf.slice(nl + 1);
        if (line.listening) {
          listening = true;
          continue;
        }
        const fields: Record<string, string> = {};
        for (const a of line.msg.split('\n')) {
          const eq = a.indexOf('=');
          if (eq > 0) fields[a.slice(0, eq)] = a.slice(eq + 1);
        }
        l.received.push({ t: line.t, pid: line.pid, msg: line.msg, fields });
      }
    });
    const deadline = Date.now() + 10_000;
    while (!listening) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`notify listener did not start on ${socket}`);
      await sleep(20);
    }
    return l;
  }

  /** The notifications carrying `field`. */
  with(field: string): Notification[] {
    return this.received.filter((n) => field in n.fields);
  }

  /** Waits until a notification with `field` (equal to `value`, or matching it, if given) has come; returns it. */
  async waitFor(field: string, timeoutMs: number, value?: string | RegExp, after = 0): Promise<Notification> {
    const deadline = Date.now() + timeoutMs;
    const fits = (v: string) => value === undefined || (typeof value === 'string' ? v === value : value.test(v));
    for (;;) {
      const n = this.received.slice(after).find((x) => field in x.fields && fits(x.fields[field]));
      if (n) return n;
      if (Date.now() > deadline) {
        throw new Error(`no ${field}${value ? `=${value}` : ''} within ${timeoutMs} ms; got: ${JSON.stringify(this.received.map((x) => x.msg))}`);
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await Promise.race([exited, sleep(2000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
