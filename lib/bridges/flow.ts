import type { FlowMod, Instruction, Match } from '../../protocol/openflow/types.js';

/**
 * One flow the agent wants on a bridge, in ovs-ofctl's own text.
 *
 * The agent's own flows are written in the canonical form `ovs-ofctl
 * dump-flows` prints (field order, `dl_vlan=`, `set_field:4097->vlan_vid`,
 * `goto_table:59`), so the desired pipeline compares with what the switch
 * reports by plain string equality, and tests read like a dump. The OpenFlow
 * codec turns the text into a FlowMod only when the flow is sent.
 *
 * Extensions (the firewall) write flows in their own spelling (`extension`):
 * the text is then only the flow's identity; what gets sent is the OpenFlow
 * form built with it (`of`) or the FlowMod parsed from it when it arrived
 * (`mod`), and its canonical spelling is worked out only when it must be
 * compared with a dump of the switch (restart).
 */
export interface Flow {
  readonly table: number;
  readonly priority: number;
  /** Match fields without table and priority, e.g. `in_port=5,dl_vlan=3`; '' matches everything. */
  readonly match: string;
  /** Action list as dump-flows prints it, e.g. `pop_vlan,NORMAL`. */
  readonly actions: string;
  /** Written in an extension's spelling, not dump-flows' (lib/bridges/extension-flows.ts). */
  readonly extension?: boolean;
  /** The parsed flow-mod, kept until the flow is sent (cookie ignored: the bridge's is sent). */
  mod?: FlowMod;
  /** Or the match and instructions the extension built with its text, kept until the flow is sent. */
  of?: PrebuiltFlow;
}

/** An extension's flow in OpenFlow terms, built with its text (table and priority are the flow's). */
export interface PrebuiltFlow {
  readonly match: Match;
  readonly instructions: Instruction[];
}

export function flow(table: number, priority: number, match: string, actions: string): Flow {
  return { table, priority, match, actions };
}

/**
 * The identity of a flow in an OpenFlow table: table, priority and match.
 * Two flows with the same key cannot coexist; an add replaces.
 */
export function flowKey(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  return f.match ? `table=${f.table}, priority=${f.priority},${f.match}` : `table=${f.table}, priority=${f.priority}`;
}

/** `table=N, priority=P,MATCH actions=A`, the dump-flows line without cookie and statistics. */
export function flowText(f: Flow): string {
  return `${flowKey(f)} actions=${f.actions}`;
}

/** Text for ovs-ofctl add-flow style parsers, carrying the cookie. */
export function flowModText(f: Flow, cookie: bigint): string {
  const head = `cookie=0x${cookie.toString(16)},table=${f.table},priority=${f.priority}`;
  return f.match ? `${head},${f.match},actions=${f.actions}` : `${head},actions=${f.actions}`;
}

/** Text that selects exactly one flow for a strict delete: no cookie, no actions. */
export function flowMatchText(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  const head = `table=${f.table},priority=${f.priority}`;
  return f.match ? `${head},${f.match}` : head;
}

/** 0x1000|vid, the OF1.3 vlan_vid value set_field writes, printed in decimal as OVS does. */
export function vlanVidField(vid: number): string {
  return `set_field:${0x1000 | vid}->vlan_vid`;
}

export function tunIdField(seg: number): string {
  return `set_field:0x${seg.toString(16)}->tun_id`;
}

/**
 * Parses one dump-flows line (with or without statistics) into a Flow and its
 * cookie. Table 0 lines have no `table=` in --no-stats output.
 */
export function parseDumpLine(line: string): { flow: Flow; cookie: bigint } | undefined {
  const trimmed = line.trim();
  const at = trimmed.indexOf(' actions=');
  if (at < 0) return undefined;
  const actions = trimmed.slice(at + ' actions='.length);
  let cookie = 0n;
  let table = 0;
  let priority = 32768;
  const match: string[] = [];
  for (const raw of trimmed.slice(0, at).split(/,\s*|\s+/)) {
    if (!raw) continue;
    const eq = raw.indexOf('=');
    const name = eq < 0 ? raw : raw.slice(0, eq);
    const value = eq < 0 ? '' : raw.slice(eq + 1);
    switch (name) {
      case 'cookie': cookie = BigInt(value); break;
      case 'table': table = Number(value); break;
      case 'priority': priority = Number(value); break;
      case 'duration': case 'n_packets': case 'n_bytes': case 'idle_age': case 'hard_age':
      case 'idle_timeout': case 'hard_timeout': case 'reset_counts': case 'send_flow_rem':
        break;
      default: match.push(raw);
    }
  }
  return { flow: { table, priority, match: match.join(','), actions }, cookie };
}
