/**
 * The health and metrics listener (docs/operations.md): `/healthz` (the
 * process answers), `/readyz` (readiness.ts: 200 when ready, 503 with the
 * reasons otherwise) and `/metrics` (Prometheus text). GET and HEAD only;
 * bounded like the status socket: few clients at once, idle ones dropped,
 * request bodies ignored.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from './address.js';
import type { Readiness } from './readiness.js';

export interface ObserveHandlers {
  readiness(): Readiness;
  /** Absent: /metrics answers 404 (health only). */
  metrics?: () => Promise<{ body: string; contentType: string }>;
}

export class ObserveListenError extends Error {
  override readonly name = 'ObserveListenError';
  readonly code = 'METRICS_LISTEN_FAILED';
}

const MAX_CLIENTS = 16;
const IDLE_TIMEOUT_MS = 10_000;

export class ObserveServer {
  private constructor(private readonly server: Server, readonly address: ListenAddress) {}

  /** Listens; rejects with ObserveListenError naming the address (in use, not local...). */
  static async listen(at: ListenAddress, handlers: ObserveHandlers): Promise<ObserveServer> {
    // Loaded here, not at start: node:http costs 1.2 MiB resident, and only an agent with metrics_address listens.
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => void handle(req, res, handlers));
    server.maxConnections = MAX_CLIENTS;
    server.headersTimeout = IDLE_TIMEOUT_MS;
    server.requestTimeout = IDLE_TIMEOUT_MS;
    server.keepAliveTimeout = IDLE_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new ObserveListenError(
        `cannot listen for metrics and health on ${at.host}:${at.port} ([ovs_agent] metrics_address): ${err.message}`, { cause: err })));
      server.listen(at.port, at.host, () => resolve());
    });
    server.on('error', () => undefined);
    const bound = server.address() as AddressInfo;
    return new ObserveServer(server, { host: bound.address, port: bound.port });
  }

  /** `http://HOST:PORT`. */
  get url(): string {
    const h = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${h}:${this.address.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, h: ObserveHandlers): Promise<void> {
  req.resume();
  const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    send(405, 'method not allowed\n');
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  try {
    switch (path) {
      case '/healthz':
        send(200, 'ok\n');
        return;
      case '/readyz': {
        const r = h.readiness();
        send(r.ready ? 200 : 503, r.ready ? 'ready\n' : `not ready:\n${r.reasons.map((x) => `  ${x}\n`).join('')}`);
        return;
      }
      case '/metrics': {
        if (!h.metrics) break;
        const m = await h.metrics();
        send(200, m.body, m.contentType);
        return;
      }
    }
    send(404, 'not found: /healthz, /readyz, /metrics\n');
  } catch (err) {
    send(500, `error: ${(err as Error).message}\n`);
  }
}
