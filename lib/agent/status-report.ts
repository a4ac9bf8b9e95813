/**
 * What the status socket answers (the agent's status, the process's waits
 * and start-up state), the requests a client may send instead, and the
 * status as `ovs-agent status` prints it.
 */
import type { AgentStatus } from './status.js';
import { describeWait, type WaitInfo } from '../waits.js';
import { startingReadiness } from '../observe/readiness.js';
import { sessionName } from '../observe/sessions.js';

/** What the status socket answers: the agent's status plus the process's waits and start-up state. */
export interface StatusReport extends AgentStatus {
  /** Present until start-up is done: what it is doing, e.g. "waiting for OVSDB at unix:/… since …". */
  starting?: string;
  /** Every wait on a dependency in progress (start-up or a reconnection). */
  waits: WaitInfo[];
}

/**
 * A request line a client may send first (JSON, then a newline). A client that sends nothing
 * (or anything not starting with `{`) gets the status, as before requests existed.
 */
export type AgentRequest =
  | { command: 'status' }
  | { command: 'flows'; port?: string; repair?: boolean }
  | { command: 'trace'; port: string; flow?: string };

/** The report while start-up has not finished: no ports yet, what it is waiting for. */
export function startingReport(host: string, startedAt: Date, waits: WaitInfo[]): StatusReport {
  const latest = waits[waits.length - 1];
  return {
    host, startedAt: startedAt.toISOString(), ovsState: 'NORMAL', ports: [], localVlans: [], tunnels: [], bridges: [],
    firstSyncDone: false, passes: 0, flowModsSent: 0, ancillaryBridges: [], readiness: startingReadiness(),
    starting: latest ? describeWait(latest, { since: true }) : 'setting up (bridges, flows, control plane)',
    waits,
  };
}

/** The status as a short human-readable report. */
export function formatStatus(s: AgentStatus & Partial<Pick<StatusReport, 'starting' | 'waits'>>): string {
  const lines: string[] = [];
  if (s.starting !== undefined) lines.push(`starting: ${s.starting}`);
  lines.push(`host ${s.host}, up since ${s.startedAt}, Open vSwitch ${s.ovsState}, ${s.passes} passes`);
  if (s.lastSync) {
    lines.push(`last sync ${s.lastSync.at}: ${s.lastSync.ports} ports in ${s.lastSync.durationMs} ms${s.lastSync.ok ? '' : ' (FAILED, retrying)'}`);
  }
  lines.push(`first full sync ${s.firstSyncDone ? 'done' : 'pending'}`);
  // An older agent's report has no readiness.
  if (s.readiness) {
    lines.push(s.readiness.ready ? 'ready' : `NOT READY: ${s.readiness.reasons.join('; ')}`);
    for (const x of s.readiness.sessions) {
      const again = x.reconnects ? `, ${x.reconnects} reconnect(s)` : '';
      lines.push(`  ${sessionName(x)}: ${x.up ? 'up' : 'DOWN'} since ${x.since}${again}${x.error ? ` (${x.error})` : ''}`);
    }
  }
  if (s.waits?.length) {
    lines.push('', 'WAITING FOR');
    for (const w of s.waits) lines.push(`  ${describeWait(w, { since: true })}`);
  }
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
