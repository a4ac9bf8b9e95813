/**
 * The status socket answers a request line the client sent in time even
 * when the agent's event loop was busy past the grace it gives clients that
 * send nothing (a loaded host: `ovs-agent trace` was answered with the
 * status instead of its trace). A real unix socket, the server and the
 * client in this process, the process kept busy past the grace right after
 * the request was written.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusServer } from '../../lib/agent/status-socket.js';

describe('status socket: a request sent while the agent is busy', function () {
  this.timeout(10_000);
  let dir: string;
  let server: StatusServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'status-race-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the request, not the status, when its line arrived before the grace ran out', async () => {
    const path = join(dir, 'status.sock');
    server = await StatusServer.listen(path, () => ({ answer: 'status' }), { request: async () => ({ answer: 'request' }) });
    const s = createConnection(path);
    await once(s, 'connect');
    // Long enough for the server to have taken the connection (its grace timer runs).
    await new Promise((r) => setTimeout(r, 50));
    // The request written, then the process busy past the 500 ms grace (in the event loop's check phase, as a
    // busy agent may be anywhere): when it runs again, both the grace's timer and the request are due, the timer first.
    await new Promise<void>((resolve) => setImmediate(() => {
      s.write('{"command":"flows"}\n');
      const until = Date.now() + 800;
      while (Date.now() < until) { /* busy */ }
      resolve();
    }));
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => { data += d; });
    await once(s, 'end');
    s.destroy();
    expect(JSON.parse(data)).to.deep.equal({ answer: 'request' });
  });
});
