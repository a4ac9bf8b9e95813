/**
 * ovs-vswitchd's control socket (what ovs-appctl speaks): JSON-RPC 1.0 over
 * a unix socket, the same framing as OVSDB's, so protocol/ovsdb's session
 * carries it. One request per connection, as ovs-appctl makes it; the
 * answer is text. Where the socket is: `<rundir>/ovs-vswitchd.<pid>.ctl`
 * with the pid from `<rundir>/ovs-vswitchd.pid` (the daemon's default), or
 * `<rundir>/ovs-vswitchd.ctl` (a daemon started with `--unixctl` there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { JsonRpcSession } from '@ovs-agent/ovsdb';

export class UnixctlError extends Error {
  override readonly name = 'UnixctlError';
  constructor(message: string, readonly code: 'UNIXCTL_NO_SOCKET' | 'UNIXCTL_FAILED', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** ovs-vswitchd's control socket in `rundir`. */
export function vswitchdControlSocket(rundir: string): string {
  let pid: string | undefined;
  try {
    pid = readFileSync(join(rundir, 'ovs-vswitchd.pid'), 'utf8').trim();
  } catch {
    // no pid file: try the fixed name
  }
  const candidates = [...(pid ? [join(rundir, `ovs-vswitchd.${pid}.ctl`)] : []), join(rundir, 'ovs-vswitchd.ctl')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new UnixctlError(`no ovs-vswitchd control socket in ${rundir} (looked for ${candidates.join(', ')}; [ovs_agent] ovs_rundir)`, 'UNIXCTL_NO_SOCKET');
  return found;
}

/** Runs one command (`ofproto/trace`...) on the control socket at `path`; resolves with its text. */
export function unixctl(path: string, method: string, params: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let session: JsonRpcSession | undefined;
    const fail = (err: Error): void => reject(new UnixctlError(`${method} on ${path}: ${err.message}`, 'UNIXCTL_FAILED', { cause: err }));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      const s = new JsonRpcSession(socket, `unix:${path}`, {
        notification: () => undefined, protocolError: () => undefined, closed: () => undefined,
      }, { inactivityProbeMs: 0, requestTimeoutMs: timeoutMs });
      session = s;
      s.request(method, params).then((r) => resolve(typeof r === 'string' ? r : JSON.stringify(r)), (err: Error) => fail(err))
        .finally(() => session?.close());
    });
  });
}
