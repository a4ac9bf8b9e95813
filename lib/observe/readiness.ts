/**
 * Whether the agent is ready (docs/operations.md, "Health"): its first full
 * sync is done, and OVSDB, every bridge's OpenFlow session and the control
 * plane are connected. `/readyz` and `ovs-agent status` say the same, from
 * this one function.
 */
import { sessionName, type SessionInfo, type SessionKind, type Sessions } from './sessions.js';

export interface Readiness {
  ready: boolean;
  firstSyncDone: boolean;
  /** Why not, one line each (empty when ready). */
  reasons: string[];
  sessions: SessionInfo[];
}

export interface ReadinessFacts {
  firstSyncDone: boolean;
  /** The bridges the agent programs (each needs its OpenFlow session). */
  bridges: readonly string[];
  /** The control plane's session: `amqp` for Neutron, `control_plane` for the local file. */
  controlPlane: SessionKind;
  sessions: Sessions;
}

export function readiness(f: ReadinessFacts): Readiness {
  const reasons: string[] = [];
  if (!f.firstSyncDone) reasons.push('first full sync not done yet');
  const wanted: Array<{ kind: SessionKind; bridge?: string }> = [
    { kind: 'ovsdb' }, ...f.bridges.map((bridge) => ({ kind: 'openflow' as const, bridge })), { kind: f.controlPlane },
  ];
  for (const w of wanted) {
    const s = f.sessions.get(w.kind, w.bridge);
    if (!s) reasons.push(`${sessionName(w)} not connected yet`);
    else if (!s.up) reasons.push(`${sessionName(w)} down since ${s.since}${s.error ? ` (${s.error})` : ''}`);
  }
  return { ready: reasons.length === 0, firstSyncDone: f.firstSyncDone, reasons, sessions: f.sessions.list() };
}

/** The report while start-up has not built the agent yet. */
export function startingReadiness(): Readiness {
  return { ready: false, firstSyncDone: false, reasons: ['starting'], sessions: [] };
}
