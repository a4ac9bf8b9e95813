/**
 * Reading `ovs-ofctl dump-flows` output in tests: each line as its flow
 * (`table=N, priority=P,MATCH actions=A`, cookie and statistics left out)
 * and its cookie. ovs-ofctl is the oracle; this only takes its lines apart.
 */
export interface DumpedLine {
  table: number;
  priority: number;
  /** Match fields without table and priority; '' matches everything. */
  match: string;
  actions: string;
}

/** One dump-flows line (with or without statistics); table 0 lines have no `table=` in --no-stats output. */
export function parseDumpLine(line: string): { flow: DumpedLine; cookie: bigint } | undefined {
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

/** `table=N, priority=P,MATCH actions=A`. */
export function flowText(f: DumpedLine): string {
  const key = f.match ? `table=${f.table}, priority=${f.priority},${f.match}` : `table=${f.table}, priority=${f.priority}`;
  return `${key} actions=${f.actions}`;
}
