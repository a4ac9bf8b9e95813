/** Helpers for driving a sandbox br-int with computed flows and reading ofproto/trace verdicts. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OvsSandbox } from '../../testing/sandbox.js';
import { splitTop, changesToOfctlLines, type FlowChange } from './helpers.js';

/** Applies flow changes the way the agent will: one ordered bundle (here through ovs-ofctl, tests only). */
export async function applyChanges(sb: OvsSandbox, bridge: string, changes: readonly FlowChange[], extraLines = ''): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-flows-'));
  try {
    const file = join(dir, 'flows.txt');
    writeFileSync(file, extraLines + changesToOfctlLines(changes));
    await sb.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', bridge, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Datapath port number → interface name, from `dpif/show`. */
export async function datapathPorts(sb: OvsSandbox): Promise<Map<string, string>> {
  const out = await sb.appctl('ovs-vswitchd', 'dpif/show');
  const map = new Map<string, string>();
  for (const m of out.matchAll(/^\s+(\S+) \d+\/(\d+):/gm)) map.set(m[2], m[1]);
  return map;
}

export interface Verdict {
  /** The last "Datapath actions:" line (after every recirculation). */
  actions: string;
  /** Interfaces the packet finally leaves by. */
  outputs: string[];
  trace: string;
}

/**
 * Traces a packet; `ctStates` answers each ct() recirculation in order
 * (`trk,new`, `trk,est,rpl`, …), as `ofproto/trace --ct-next` does.
 */
export async function trace(sb: OvsSandbox, bridge: string, packet: string, ...ctStates: string[]): Promise<Verdict> {
  const args = ['ofproto/trace', bridge, packet];
  for (const s of ctStates) args.push('--ct-next', s);
  const out = await sb.appctl('ovs-vswitchd', ...args);
  const lines = out.split('\n').filter((l) => l.startsWith('Datapath actions:'));
  if (lines.length === 0) throw new Error(`no datapath actions in trace:\n${out}`);
  const actions = lines[lines.length - 1].slice('Datapath actions:'.length).trim();
  const ports = await datapathPorts(sb);
  const outputs = splitTop(actions)
    .filter((a) => /^\d+$/.test(a))
    .map((a) => ports.get(a) ?? `odp${a}`);
  return { actions, outputs, trace: out };
}
