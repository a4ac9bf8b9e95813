// A tiny scripted peer for the malformed-input and liveness tests: it accepts
// connections and lets each test decide what bytes to send back.
import net from 'node:net';
import { JsonSplitter } from '@ovs-agent/ovsdb';

export interface FakePeer {
  socket: net.Socket;
  /** Requests received so far. */
  received: { id: unknown; method: string; params: unknown[] }[];
  /** Resolves with the next request received. */
  next(): Promise<{ id: unknown; method: string; params: unknown[] }>;
  send(bytes: string | Buffer): void;
}

export class FakeServer {
  readonly server: net.Server;
  readonly peers: FakePeer[] = [];
  private waiting: ((p: FakePeer) => void)[] = [];
  private unclaimed: FakePeer[] = [];

  private constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (socket) => {
      const received: FakePeer['received'] = [];
      const waiters: ((m: FakePeer['received'][number]) => void)[] = [];
      const splitter = new JsonSplitter((text) => {
        const m = JSON.parse(text) as FakePeer['received'][number];
        received.push(m);
        waiters.shift()?.(m);
      });
      socket.on('data', (d) => splitter.push(d));
      socket.on('error', () => undefined);
      let seen = 0;
      const peer: FakePeer = {
        socket,
        received,
        next: () => (seen < received.length ? Promise.resolve(received[seen++]) : new Promise((r) => waiters.push((m) => (seen++, r(m))))),
        send: (bytes) => socket.write(bytes),
      };
      this.peers.push(peer);
      const waiter = this.waiting.shift();
      if (waiter) waiter(peer);
      else this.unclaimed.push(peer);
    });
  }

  static async start(): Promise<FakeServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeServer(server);
  }

  get remote(): string {
    return `tcp:127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** The next accepted connection. */
  accepted(): Promise<FakePeer> {
    const p = this.unclaimed.shift();
    return p ? Promise.resolve(p) : new Promise((r) => this.waiting.push(r));
  }

  async stop(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
