/**
 * The agent's sessions with what it depends on (OVSDB, each bridge's
 * OpenFlow session, the control plane) as one small table: whether each is
 * up, since when, how many times it came back. Readiness (readiness.ts) and
 * the metrics (metrics.ts) read it; the sessions' own events feed it, so
 * keeping it costs one map write per connect or disconnect, nothing per
 * message. Keys come from the configuration (bridges) and the code, never
 * from the outside: the table stays small.
 */

/** `ovsdb`, `openflow` (one per bridge), `amqp` (Neutron over RabbitMQ) or `control_plane` (the local file). */
export type SessionKind = 'ovsdb' | 'openflow' | 'amqp' | 'control_plane';

export interface SessionInfo {
  kind: SessionKind;
  /** The bridge of an `openflow` session. */
  bridge?: string;
  up: boolean;
  /** ISO time of the last change. */
  since: string;
  /** Times it came up again after being down. */
  reconnects: number;
  /** Why it went down, while it is. */
  error?: string;
}

type Listener = (s: Readonly<SessionInfo>, reconnected: boolean) => void;

export class Sessions {
  private readonly table = new Map<string, SessionInfo>();
  private readonly listeners = new Set<Listener>();

  /** The session went up or down (a repeat of the same state changes nothing). */
  set(kind: SessionKind, up: boolean, opts: { bridge?: string; error?: Error | string } = {}): void {
    const key = opts.bridge === undefined ? kind : `${kind} ${opts.bridge}`;
    const cur = this.table.get(key);
    if (cur && cur.up === up) return;
    const reconnected = up && cur !== undefined;
    const error = up || opts.error === undefined ? undefined : typeof opts.error === 'string' ? opts.error : opts.error.message;
    const next: SessionInfo = {
      kind, ...(opts.bridge !== undefined ? { bridge: opts.bridge } : {}), up, since: new Date().toISOString(),
      reconnects: (cur?.reconnects ?? 0) + (reconnected ? 1 : 0), ...(error !== undefined ? { error } : {}),
    };
    this.table.set(key, next);
    for (const l of this.listeners) l(next, reconnected);
  }

  get(kind: SessionKind, bridge?: string): Readonly<SessionInfo> | undefined {
    return this.table.get(bridge === undefined ? kind : `${kind} ${bridge}`);
  }

  list(): SessionInfo[] {
    return [...this.table.values()].map((s) => ({ ...s }));
  }

  /** Told of every change; returns the unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** How a session is named to people: `OVSDB`, `the OpenFlow session of br-int`, `RabbitMQ`, `the control plane`. */
export function sessionName(s: Pick<SessionInfo, 'kind' | 'bridge'>): string {
  switch (s.kind) {
    case 'ovsdb': return 'OVSDB';
    case 'openflow': return `the OpenFlow session of ${s.bridge ?? '?'}`;
    case 'amqp': return 'RabbitMQ';
    case 'control_plane': return 'the control plane';
  }
}
