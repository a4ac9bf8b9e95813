/**
 * `ovs-agent flows [PORT] [--repair]` (docs/operations.md): the flows the
 * agent owns, for one port or all, grouped by what they are for (their
 * owner in the bridge's flow table, intentions.ts), each compared with a
 * dump of the real switch: installed as wanted, missing, or changed
 * (other actions, or another cookie: someone re-added it). With all ports,
 * flows on the agent's bridges that nobody in the agent wants are listed
 * too. The comparison is by the flow's identity (table, priority, match),
 * the one the agent itself uses (lib/flows/flow.ts).
 */
import type { FlowStats } from '@ovs-agent/openflow';
import { sameInstructions } from '../flows/actions.js';
import { flowText, keyOfStats } from '../flows/flow.js';
import type { FlowTable } from '../flows/flow-table.js';
import { intentionOf, type Intention } from './intentions.js';

export type FlowState = 'installed' | 'missing' | 'changed';

export interface ReportedFlow {
  /** The flow as the agent wants it, in ovs-ofctl syntax. */
  flow: string;
  state: FlowState;
  /** What the switch holds instead (`changed`). */
  installed?: string;
}

export interface OwnerReport {
  owner: string;
  intention: Intention;
  flows: ReportedFlow[];
}

export interface BridgeReport {
  bridge: string;
  owners: OwnerReport[];
  /** Flows on the bridge nobody in the agent wants (only when all ports are asked for); flows with a timeout (learned) are the switch's own and left out. */
  unexpected: string[];
}

export interface Drift {
  missing: number;
  changed: number;
  unexpected: number;
}

export interface FlowReport {
  /** The port asked for; absent: all. */
  port?: { portId: string; name: string; ofport: number; networkId?: string; lvid?: number; state: string };
  bridges: BridgeReport[];
  drift: Drift;
  /** With --repair: the drift found before the agent put its flows back (`drift` is then what remains). */
  repaired?: Drift;
}

export class FlowReportError extends Error {
  override readonly name = 'FlowReportError';
  constructor(message: string, readonly code: 'FLOWS_UNKNOWN_PORT' | 'FLOWS_NOT_READY') {
    super(message);
  }
}

/** Which owners a report covers: all, or those of one port (its own flows and its network's local VLAN). */
export type OwnerFilter = (owner: string, intention: Intention) => boolean;

export function portOwners(portId: string, networkId: string | undefined): OwnerFilter {
  return (_owner, i) => i.portId === portId || (networkId !== undefined && i.group === 'network' && i.networkId === networkId);
}

/** Compares the tables' wanted flows of the selected owners with the dumps of their bridges. */
export function compareFlows(tables: readonly FlowTable[], dumps: ReadonlyMap<string, readonly FlowStats[]>, filter: OwnerFilter | undefined): {
  bridges: BridgeReport[]; drift: Drift;
} {
  const drift: Drift = { missing: 0, changed: 0, unexpected: 0 };
  const bridges: BridgeReport[] = [];
  for (const t of tables) {
    const held = new Map<string, FlowStats>();
    for (const s of dumps.get(t.bridge) ?? []) if (s.idleTimeout === 0 && s.hardTimeout === 0) held.set(keyOfStats(s), s);
    const owners: OwnerReport[] = [];
    for (const owner of [...t.ownerNames()].sort()) {
      const intention = intentionOf(owner);
      if (filter && !filter(owner, intention)) continue;
      const flows: ReportedFlow[] = t.flowsOf(owner).map((f) => {
        const text = flowText(f);
        const s = held.get(f.key);
        if (!s) {
          drift.missing++;
          return { flow: text, state: 'missing' };
        }
        if (s.cookie !== t.cookie || !sameInstructions(s.instructions, f.instructions)) {
          drift.changed++;
          const cookie = s.cookie !== t.cookie ? ` (cookie 0x${s.cookie.toString(16)})` : '';
          return { flow: text, state: 'changed', installed: `${flowText({ key: f.key, instructions: s.instructions, match: s.match })}${cookie}` };
        }
        return { flow: text, state: 'installed' };
      });
      owners.push({ owner, intention, flows });
    }
    const unexpected: string[] = [];
    if (!filter) {
      const wanted = new Set<string>();
      for (const f of t.desiredFlows()) wanted.add(f.key);
      for (const [key, s] of held) {
        if (wanted.has(key)) continue;
        unexpected.push(`${flowText({ key, instructions: s.instructions, match: s.match })} (cookie 0x${s.cookie.toString(16)})`);
      }
      drift.unexpected += unexpected.length;
    }
    bridges.push({ bridge: t.bridge, owners, unexpected });
  }
  return { bridges, drift };
}

const hasDrift = (d: Drift): boolean => d.missing + d.changed + d.unexpected > 0;

/** The report as people read it. */
export function formatFlowReport(r: FlowReport): string {
  const lines: string[] = [];
  if (r.port) {
    const net = r.port.networkId ? `, network ${r.port.networkId} (local VLAN ${r.port.lvid})` : '';
    lines.push(`port ${r.port.portId} (${r.port.name}, ofport ${r.port.ofport}, ${r.port.state}${net})`);
  }
  if (r.repaired) {
    lines.push(`repaired: ${r.repaired.missing} missing and ${r.repaired.changed} changed flows put back, ${r.repaired.unexpected} unexpected removed`);
  }
  lines.push(hasDrift(r.drift)
    ? `DRIFT: ${r.drift.missing} missing, ${r.drift.changed} changed, ${r.drift.unexpected} unexpected (ovs-agent flows --repair puts them right)`
    : 'no drift: the switch holds these flows as the agent wants them');
  for (const b of r.bridges) {
    if (!b.owners.length && !b.unexpected.length) continue;
    lines.push('', b.bridge.toUpperCase());
    for (const o of b.owners) {
      lines.push(`  ${o.intention.group}: ${o.intention.text} [${o.owner}]`);
      for (const f of o.flows) {
        const mark = f.state === 'installed' ? ' ' : f.state === 'missing' ? '-' : '~';
        lines.push(`   ${mark} ${f.flow}${f.state === 'installed' ? '' : `  (${f.state.toUpperCase()})`}`);
        if (f.installed) lines.push(`       switch holds: ${f.installed}`);
      }
    }
    if (b.unexpected.length) {
      lines.push('  UNEXPECTED (on the switch, wanted by nobody in the agent)');
      for (const u of b.unexpected) lines.push(`   + ${u}`);
    }
  }
  return lines.join('\n');
}
