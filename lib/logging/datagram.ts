/**
 * Log lines to unix datagram sockets (syslog's /dev/log, journald's native
 * socket) from the agent's own process: no child process, no fork per line.
 *
 * Node's core has no unix datagram sockets (node:dgram is UDP only), so the
 * socket comes from the npm package `node-unix-socket`: an N-API addon
 * (stable across Node majors) whose binary ships prebuilt in a per-platform
 * npm package, with no install script and nothing to compile. It is loaded
 * only when use_syslog or use_journal is set; an agent that cannot load it
 * refuses to start, naming the option (docs/logging.md, "Syslog and journal").
 *
 * One socket serves every destination (each datagram carries its path),
 * opened at the first use and kept for the life of the process, as glibc's
 * syslog(3) keeps its own: the addon crashes when a socket that never
 * received is closed, and nothing is gained by closing it before exit.
 * It is non-blocking and never bound, so it neither stalls the event loop
 * when the receiver is slow nor keeps the process alive. A line
 * the receiver does not take (not running, its queue full) is lost, as
 * glibc's syslog(3) loses lines when there is no syslog daemon; the first
 * loss is said at once, and how many were lost when lines go through again.
 */
import { createRequire } from 'node:module';

/** The part of node-unix-socket used here: its socket without the receive loop (which would hold the event loop open). */
interface DgramSocketWrap {
  init(self: object): void;
  sendTo(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
}
type DgramSocketWrapClass = new (emitter: { emit(event: string, ...args: unknown[]): boolean }) => DgramSocketWrap;

export class DatagramUnavailableError extends Error {
  override readonly name = 'DatagramUnavailableError';
  readonly code = 'LOG_DATAGRAM_UNAVAILABLE';
}

let shared: DgramSocketWrap | undefined;

/** The process's datagram socket, made at the first use. Throws DatagramUnavailableError. */
function sharedSocket(): DgramSocketWrap {
  if (shared) return shared;
  // A computed specifier: the bundler leaves it to be resolved at run time from the package's node_modules.
  const specifier = ['node-unix-socket', 'js', 'addon.js'].join('/');
  let Wrap: DgramSocketWrapClass;
  try {
    const load = createRequire(import.meta.url);
    Wrap = (load(specifier) as { DgramSocketWrap: DgramSocketWrapClass }).DgramSocketWrap;
  } catch (err) {
    throw new DatagramUnavailableError(`cannot load the npm package node-unix-socket (a dependency of ovs-agent, for unix datagram sockets): `
      + `${(err as Error).message.split('\n')[0]}`);
  }
  // Receive errors only (the socket never receives): nothing to hear.
  const socket = new Wrap({ emit: () => true });
  socket.init(socket);
  shared = socket;
  return socket;
}

export interface DatagramDestination {
  /** What the operator calls it, for messages ("syslog", "the journal"). */
  what: string;
  /** The socket's path. */
  path: string;
  /** The option that asked for it. */
  option: string;
}

export type DatagramEvent =
  | { kind: 'failed'; destination: DatagramDestination; error: string }
  | { kind: 'recovered'; destination: DatagramDestination; lost: number };

/** A datagram the socket refused as too long: the sender may send a shorter one. */
export function isTooLong(err: Error): boolean {
  return /message too long|EMSGSIZE/i.test(err.message);
}

/** Datagrams to one socket path. */
export class DatagramSender {
  private socket: DgramSocketWrap | undefined;
  /** The shared socket stays open; a closed sender only stops sending. */
  private failing = false;
  private lost = 0;

  /** Throws DatagramUnavailableError when the addon cannot be loaded. */
  constructor(readonly destination: DatagramDestination, private readonly onEvent: (e: DatagramEvent) => void) {
    this.socket = sharedSocket();
  }

  /**
   * Sends `datagram`; never throws. `tooLong`: what to send instead when
   * the socket refuses it as too long (once; journald's entries).
   */
  send(datagram: Buffer, tooLong?: () => Buffer): void {
    const socket = this.socket;
    if (!socket) return;
    socket.sendTo(datagram, 0, datagram.length, this.destination.path, (err) => {
      if (err && tooLong && isTooLong(err)) {
        this.send(tooLong());
        return;
      }
      this.sent(err);
    });
  }

  private sent(err: Error | undefined): void {
    if (err) {
      this.lost++;
      if (!this.failing) {
        this.failing = true;
        this.onEvent({ kind: 'failed', destination: this.destination, error: err.message });
      }
      return;
    }
    if (this.failing) {
      this.failing = false;
      const lost = this.lost;
      this.lost = 0;
      this.onEvent({ kind: 'recovered', destination: this.destination, lost });
    }
  }

  close(): void {
    this.socket = undefined;
  }
}
