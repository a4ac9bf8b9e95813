/**
 * sd_notify(3) from Node: messages to systemd's NOTIFY_SOCKET, a unix
 * datagram socket (abstract when its name starts with '@').
 *
 * Node's core cannot make a unix datagram socket (node:dgram is UDP only),
 * so the datagrams are sent by one small relay process, started once when
 * NOTIFY_SOCKET is set and never otherwise: it reads NUL-terminated
 * messages from a pipe and sends each as one datagram. No fork per message,
 * no native addon (docs/service.md says why this and not an npm package).
 * The relay is python3, which Open vSwitch's own packages depend on.
 *
 * systemd takes a notification from the service's main pid only
 * (NotifyAccess=main, its default). The relay therefore sends with the
 * agent's pid as SCM_CREDENTIALS, which the kernel allows a root process
 * (CAP_SYS_ADMIN), as `systemd-notify --pid` does; when that is refused it
 * sends as itself, which a unit with NotifyAccess=all accepts (ours has it);
 * so it does once the agent has exited (the kernel refuses a pid that is
 * gone): what the agent wrote just before exiting (STOPPING=1, a failure's
 * STATUS=) still reaches systemd. The relay exits when it has read all the
 * agent wrote (end of file on its pipe).
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** The relay: argv[1] the socket, argv[2] the pid it speaks for. */
const RELAY = `
import os, socket, struct, sys
path, pid = sys.argv[1], int(sys.argv[2])
addr = b'\\0' + os.fsencode(path[1:]) if path.startswith('@') else os.fsencode(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
creds = [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack('=iII', pid, os.getuid(), os.getgid()))]
buf = b''
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    *msgs, buf = (buf + chunk).split(b'\\0')
    for m in msgs:
        try:
            if creds:
                try:
                    s.sendmsg([m], creds, 0, addr)
                    continue
                except (PermissionError, ProcessLookupError):
                    creds = None
            s.sendto(m, addr)
        except OSError as e:
            sys.stderr.write('cannot send to %s: %s\\n' % (path, e))
            sys.stderr.flush()
`;

/** The longest STATUS= text sent: systemctl shows one line, and the relay reads in 64 KiB chunks. */
export const MAX_STATE_BYTES = 4096;

export interface SdNotifyOptions {
  /** The relay's interpreter (default python3 on the PATH). */
  python?: string;
  /** The relay could not start, or stopped, or a send failed: told once per kind, with what and where. */
  onError?: (err: SdNotifyError) => void;
}

export class SdNotifyError extends Error {
  override readonly name = 'SdNotifyError';
  constructor(message: string, readonly code: 'SD_NOTIFY_RELAY_FAILED' | 'SD_NOTIFY_SEND_FAILED' | 'SD_NOTIFY_BAD_SOCKET') {
    super(message);
  }
}

/** A NOTIFY_SOCKET value this relay can reach: an absolute path or an abstract name. */
export function validNotifySocket(value: string): boolean {
  return (value.startsWith('/') || (value.startsWith('@') && value.length > 1)) && !value.includes('\0');
}

/** One NOTIFY_SOCKET and its relay. */
export class SdNotify {
  private relay: ChildProcess | undefined;
  private broken = false;
  private closing = false;
  private sendFailureTold = false;

  private constructor(readonly socket: string, private readonly opts: SdNotifyOptions) {}

  /**
   * The notifier NOTIFY_SOCKET names, or undefined when it is unset (not
   * run by systemd with Type=notify: nothing is started, nothing sent).
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, opts: SdNotifyOptions = {}): SdNotify | undefined {
    const socket = env.NOTIFY_SOCKET;
    if (!socket) return undefined;
    if (!validNotifySocket(socket)) {
      opts.onError?.(new SdNotifyError(`NOTIFY_SOCKET=${JSON.stringify(socket)} is neither an absolute path nor an abstract name (@...): `
        + 'systemd will not hear from the agent', 'SD_NOTIFY_BAD_SOCKET'));
      return undefined;
    }
    return new SdNotify(socket, opts);
  }

  /** The relay's pid, once started (tests). */
  get relayPid(): number | undefined {
    return this.relay?.pid;
  }

  /**
   * Sends `state` (newline-separated assignments, e.g. "READY=1\nSTATUS=...")
   * as one datagram. Never throws: a failure is reported to onError once.
   */
  send(state: string): void {
    if (this.broken || this.closing) return;
    const relay = this.relay ?? this.start();
    if (!relay) return;
    relay.stdin!.write(`${state.replaceAll('\0', '')}\0`);
  }

  /** Stops the relay after what was sent has been handed over. */
  async close(): Promise<void> {
    this.closing = true;
    const relay = this.relay;
    if (!relay || relay.exitCode !== null || relay.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => relay.once('exit', () => resolve()));
    relay.stdin!.end();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([exited, timeout]);
    if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
  }

  private fail(err: SdNotifyError): void {
    if (this.broken) return;
    this.broken = true;
    this.opts.onError?.(err);
  }

  private start(): ChildProcess | undefined {
    const python = this.opts.python ?? 'python3';
    const env = { ...process.env };
    for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'PYTHONSTARTUP', 'PYTHONPATH']) delete env[k];
    let relay: ChildProcess;
    try {
      // -I -S: no user site, no environment, no site module: a bare interpreter, quick to start and small.
      relay = spawn(python, ['-I', '-S', '-c', RELAY, this.socket, String(process.pid)], { stdio: ['pipe', 'ignore', 'pipe'], env });
    } catch (err) {
      this.fail(new SdNotifyError(`cannot start the sd_notify relay (${python}): ${(err as Error).message}`, 'SD_NOTIFY_RELAY_FAILED'));
      return undefined;
    }
    this.relay = relay;
    relay.on('error', (err) => this.fail(new SdNotifyError(`cannot start the sd_notify relay (${python}) for NOTIFY_SOCKET ${this.socket}: `
      + `${err.message}; systemd will not hear that the agent is ready`, 'SD_NOTIFY_RELAY_FAILED')));
    relay.stdin!.on('error', () => undefined); // the exit below says it
    relay.stderr!.setEncoding('utf8');
    relay.stderr!.on('data', (text: string) => {
      const line = text.trim().split('\n')[0];
      if (!line || this.broken || this.sendFailureTold) return;
      this.sendFailureTold = true;
      this.opts.onError?.(new SdNotifyError(`sd_notify relay: ${line}`, 'SD_NOTIFY_SEND_FAILED'));
    });
    relay.on('exit', (code, signal) => {
      if (this.closing) return;
      this.fail(new SdNotifyError(`the sd_notify relay (${python}) for NOTIFY_SOCKET ${this.socket} exited (${signal ?? `status ${code}`}); `
        + 'systemd hears nothing more from the agent', 'SD_NOTIFY_RELAY_FAILED'));
    });
    // The relay lives as long as the agent but must not keep it alive.
    relay.unref();
    (relay.stdin as unknown as { unref?: () => void }).unref?.();
    (relay.stderr as unknown as { unref?: () => void }).unref?.();
    return relay;
  }
}
