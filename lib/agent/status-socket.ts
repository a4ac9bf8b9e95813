/**
 * `ovs-agent status` talks to the running agent over a unix socket: the
 * agent writes its status as one JSON document and closes the connection.
 *
 * The socket answers from the very start (before OVSDB is reached), so
 * status can say what start-up waits for. Its safety (docs/agent.md, "The
 * status socket"):
 *  - it is created mode 0600 with no window: bound inside a fresh 0700
 *    directory next to the path, chmod'ed there, then hard-linked into
 *    place (link() fails if something appeared at the path meanwhile);
 *  - what is at the path already is never blindly removed: a live agent
 *    answering there means refusing to start, a stale socket (nothing
 *    answers) is replaced, anything that is not a socket is left alone and
 *    the agent refuses to start;
 *  - on close the path is unlinked only if it is still our socket (same
 *    device and inode): a later agent's socket is not ours to remove;
 *  - input is read and dropped (a client that writes must not pin its
 *    connection: unread bytes kept its end-of-file from ever being seen),
 *    idle clients are dropped, and at most `maxClients` are held at once.
 *
 * A client may send one request line first (JSON: `{"command":"flows",...}`,
 * AgentRequest); one that sends nothing, or anything else, gets the status
 * as it always did (after a short grace for its request, REQUEST_GRACE_MS).
 */
import { createConnection, createServer, type Server } from 'node:net';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentRequest } from './status-report.js';

export { formatStatus, startingReport, type AgentRequest, type StatusReport } from './status-report.js';
export { AgentRequestError, StatusUnavailableError, askAgent, readStatus } from './status-client.js';

export type StatusSocketErrorCode = 'STATUS_SOCKET_IN_USE' | 'STATUS_SOCKET_NOT_A_SOCKET' | 'STATUS_SOCKET_UNUSABLE';

export class StatusSocketError extends Error {
  override readonly name = 'StatusSocketError';
  constructor(message: string, readonly code: StatusSocketErrorCode, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface StatusServerOptions {
  /** Clients held at once; more are closed at once (default 16). */
  maxClients?: number;
  /** A client idle this long is dropped (default 5 s). */
  idleTimeoutMs?: number;
  /** Answers a request other than `status` (`ovs-agent flows`); rejects with what to tell the client. */
  request?: (req: AgentRequest) => Promise<unknown>;
}


/**
 * How long a client that sends nothing waits for its status: a request line comes at once, but
 * a client process on a loaded host may take a while to run its write.
 */
const REQUEST_GRACE_MS = 500;
/** A request line is small: a command and a port id. */
const MAX_REQUEST_BYTES = 4096;

export class StatusServer {
  private constructor(private readonly server: Server, readonly path: string, private readonly dev: number, private readonly ino: number) {}

  /** Listens on `path`; rejects with StatusSocketError when the path is taken (see the module comment). */
  static async listen(path: string, status: () => unknown, opts: StatusServerOptions = {}): Promise<StatusServer> {
    const dir = dirname(path);
    const unusable = (err: unknown): StatusSocketError =>
      new StatusSocketError(`cannot create the status socket ${path}: ${(err as Error).message}`, 'STATUS_SOCKET_UNUSABLE', { cause: err });
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw unusable(err);
    }
    await claimPath(path);
    const idleMs = opts.idleTimeoutMs ?? 5000;
    const statusBody = (): string => {
      try {
        return JSON.stringify(status(), jsonBigint);
      } catch (err) {
        return JSON.stringify({ error: `status unavailable: ${(err as Error).message}` });
      }
    };
    const server = createServer((sock) => {
      sock.on('error', () => sock.destroy());
      sock.setTimeout(idleMs, () => sock.destroy());
      let answered = false;
      let head = '';
      const answer = (body: () => string): void => {
        if (answered) return;
        answered = true;
        clearTimeout(grace);
        sock.off('data', onData);
        // Read and drop from here on: the client's end-of-file then closes the connection (allowHalfOpen is off).
        sock.resume();
        sock.end(`${body()}\n`);
      };
      // Once the grace is over, the status; but a request that came meanwhile is read first: a busy event loop runs
      // a due timer before it reads the sockets, and the check phase (setImmediate) comes after they are read.
      const grace = setTimeout(() => setImmediate(() => { if (!requested) answer(statusBody); }), REQUEST_GRACE_MS);
      let requested = false;
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('utf8');
        if (!head.startsWith('{')) return answer(statusBody);
        const nl = head.indexOf('\n');
        if (nl < 0) {
          if (head.length > MAX_REQUEST_BYTES) answer(() => JSON.stringify({ error: `request longer than ${MAX_REQUEST_BYTES} bytes` }));
          return;
        }
        clearTimeout(grace);
        requested = true;
        sock.off('data', onData);
        let req: AgentRequest;
        try {
          req = JSON.parse(head.slice(0, nl)) as AgentRequest;
        } catch (err) {
          return answer(() => JSON.stringify({ error: `unreadable request: ${(err as Error).message}` }));
        }
        if (req.command === 'status') return answer(statusBody);
        if (!opts.request) return answer(() => JSON.stringify({ error: `unknown request ${JSON.stringify(req.command)}` }));
        // A request may take a while (a dump of every bridge, a repair): no idle timeout meanwhile.
        sock.setTimeout(0);
        opts.request(req).then((r) => JSON.stringify(r, jsonBigint), (err: Error) => JSON.stringify({ error: err.message, code: (err as { code?: string }).code }))
          .then((body) => {
            sock.setTimeout(idleMs, () => sock.destroy());
            answer(() => body);
          });
      };
      sock.on('data', onData);
      sock.on('close', () => clearTimeout(grace));
    });
    server.maxConnections = opts.maxClients ?? 16;
    // mkdtemp makes the directory 0700: nobody else can reach the socket while its mode is the umask's.
    let privateDir: string;
    try {
      // A short name: a unix socket path has at most 107 bytes.
      privateDir = mkdtempSync(join(dir, '.ovs-agent-'));
    } catch (err) {
      throw unusable(err);
    }
    const bound = join(privateDir, 's');
    try {
      await new Promise<void>((resolve, reject) => {
        let onError = (err: Error): void => reject(unusable(err));
        server.on('error', (err) => onError(err));
        server.listen(bound, () => {
          // Later errors (a failed accept under fd pressure) cost one status client, never the agent.
          onError = () => undefined;
          resolve();
        });
      });
      chmodSync(bound, 0o600);
      try {
        linkSync(bound, path);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw e.code === 'EEXIST'
          ? new StatusSocketError(`status socket ${path} appeared while this agent was starting; is another ovs-agent starting?`, 'STATUS_SOCKET_IN_USE')
          : unusable(err);
      }
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
    const st = lstatSync(path);
    return new StatusServer(server, path, st.dev, st.ino);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      const st = lstatSync(this.path);
      if (st.dev === this.dev && st.ino === this.ino) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** Makes `path` free for our socket, or says why it is not ours to take. */
async function claimPath(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StatusSocketError(`cannot use status socket ${path}: ${(err as Error).message}`, 'STATUS_SOCKET_UNUSABLE', { cause: err });
  }
  if (!st.isSocket()) {
    throw new StatusSocketError(`status socket ${path} exists and is not a socket; not touching it (remove it or set [ovs_agent] status_socket)`,
      'STATUS_SOCKET_NOT_A_SOCKET');
  }
  const answer = await probe(path);
  if (answer === 'live') {
    throw new StatusSocketError(`another ovs-agent answers on ${path}; not starting a second one on the same status socket`, 'STATUS_SOCKET_IN_USE');
  }
  // Nothing listens: left by an agent that was killed.
  const again = lstatSync(path);
  if (again.ino === st.ino && again.dev === st.dev) unlinkSync(path);
}

/** Whether something accepts connections on the socket at `path`. */
function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else reject(new StatusSocketError(`cannot tell whether an agent answers on ${path}: ${err.message}`, 'STATUS_SOCKET_UNUSABLE', { cause: err }));
    });
  });
}

function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}
