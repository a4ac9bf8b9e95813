/**
 * The client side of the status socket (status-socket.ts): `ovs-agent
 * status`, `flows` and `trace` send one request line and read one JSON
 * answer.
 */
import { createConnection } from 'node:net';
import type { AgentRequest, StatusReport } from './status-report.js';

/** The agent answered the request with an error (an unknown port...). */
export class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  readonly code = 'AGENT_REQUEST_FAILED';
}

export class StatusUnavailableError extends Error {
  override readonly name = 'StatusUnavailableError';
  readonly code = 'STATUS_UNAVAILABLE';
}

/** Reads the running agent's status; rejects with StatusUnavailableError when no agent answers. */
export async function readStatus(path: string, timeoutMs = 5000): Promise<StatusReport> {
  const report = await askAgent<StatusReport>(path, { command: 'status' }, timeoutMs);
  return { ...report, waits: report.waits ?? [] };
}

/** Sends one request to the running agent and reads its answer; rejects with StatusUnavailableError when none comes, or with the agent's error. */
export function askAgent<T>(path: string, request: AgentRequest, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    // Written now, sent as soon as connected: no wait for this process's event loop to see the connect.
    sock.write(`${JSON.stringify(request)}\n`);
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new StatusUnavailableError(`no answer from the agent on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => { data += chunk; });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new StatusUnavailableError(`cannot reach the agent on ${path}: ${err.message} (is ovs-agent running?)`));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      if (data === '') {
        reject(new StatusUnavailableError(`the agent on ${path} closed the connection without answering (too many status clients at once?)`));
        return;
      }
      let answer: T & { error?: string };
      try {
        answer = JSON.parse(data) as T & { error?: string };
      } catch (err) {
        reject(new StatusUnavailableError(`unreadable answer from ${path}: ${(err as Error).message}`));
        return;
      }
      if (answer.error !== undefined) reject(new AgentRequestError(`the agent on ${path} answered: ${answer.error}`));
      else resolve(answer);
    });
  });
}
