/**
 * `ovs-agent status` talks to the running agent over a unix socket: the
 * agent writes its status as one JSON document and closes the connection.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AgentStatus } from './agent.js';

export class StatusServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path: string, status: () => AgentStatus): Promise<StatusServer> {
    mkdirSync(dirname(path), { recursive: true });
    // A socket file left by a killed agent would make listen() fail with EADDRINUSE.
    rmSync(path, { force: true });
    const server = createServer((sock) => {
      sock.on('error', () => sock.destroy());
      sock.end(`${JSON.stringify(status(), jsonBigint)}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return new StatusServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}

export class StatusUnavailableError extends Error {
  override readonly name = 'StatusUnavailableError';
  readonly code = 'STATUS_UNAVAILABLE';
}

/** Reads the running agent's status; rejects with StatusUnavailableError when no agent answers. */
export function readStatus(path: string, timeoutMs = 5000): Promise<AgentStatus> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
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
      try {
        resolve(JSON.parse(data) as AgentStatus);
      } catch (err) {
        reject(new StatusUnavailableError(`unreadable status from ${path}: ${(err as Error).message}`));
      }
    });
  });
}

/** The status as a short human-readable report. */
export function formatStatus(s: AgentStatus): string {
  const lines: string[] = [];
  lines.push(`host ${s.host}, up since ${s.startedAt}, Open vSwitch ${s.ovsState}, ${s.passes} passes`);
  if (s.lastSync) {
    lines.push(`last sync ${s.lastSync.at}: ${s.lastSync.ports} ports in ${s.lastSync.durationMs} ms${s.lastSync.ok ? '' : ' (FAILED, retrying)'}`);
  }
  lines.push(`first full sync ${s.firstSyncDone ? 'done' : 'pending'}`);
  lines.push('', 'PORTS');
  const ports = [...s.ports].sort((a, b) => a.name.localeCompare(b.name));
  if (!ports.length) lines.push('  (none)');
  for (const p of ports) {
    const net = p.networkId ? `${p.networkType} ${p.networkId} vlan ${p.lvid}` : '';
    const took = p.wiredInMs !== undefined ? `${p.wiredInMs} ms` : '';
    lines.push(`  ${p.name.padEnd(15)} ${p.portId.padEnd(38)} ${p.state.padEnd(7)} ofport ${String(p.ofport).padEnd(5)} ${net} ${took}${p.error ? `  error: ${p.error}` : ''}`.trimEnd());
  }
  lines.push('', 'LOCAL VLANS');
  if (!s.localVlans.length) lines.push('  (none)');
  for (const v of [...s.localVlans].sort((a, b) => a.lvid - b.lvid)) {
    const seg = v.segmentationId !== undefined ? ` segmentation ${v.segmentationId}` : '';
    const phys = v.physicalNetwork ? ` on ${v.physicalNetwork}` : '';
    lines.push(`  ${String(v.lvid).padStart(4)}  ${v.networkId}  ${v.networkType}${seg}${phys}, ${v.ports} port(s)`);
  }
  lines.push('', 'TUNNELS');
  if (!s.tunnels.length) lines.push('  (none)');
  for (const t of s.tunnels) lines.push(`  ${t.name.padEnd(15)} ${t.type} to ${t.remoteIp}, ofport ${t.ofport ?? '-'}`);
  lines.push('', 'BRIDGES');
  for (const b of s.bridges) lines.push(`  ${b.name.padEnd(15)} ${b.flows} flows, cookie ${b.cookie}`);
  if (s.ancillaryBridges.length) lines.push(`  ancillary: ${s.ancillaryBridges.join(', ')}`);
  return lines.join('\n');
}
