/**
 * The oracle of the replica tests: what `ovsdb-client dump -f json` says a
 * table holds, decoded to natural values, and a comparison with a replica.
 */
import { decodeDatum } from '@ovs-agent/ovsdb';
import type { Value } from '@ovs-agent/ovsdb';
import type { DatabaseSchema } from '@ovs-agent/ovsdb';
import type { TableCache } from '@ovs-agent/ovsdb';
import { valuesEqual } from '@ovs-agent/ovsdb';

export type DumpedTable = Map<string, Record<string, Value>>;

/** Runs `dump -f json DB TABLE` through `run` and decodes it. */
export async function dumpTable(run: (...args: string[]) => Promise<string>, schema: DatabaseSchema, table: string): Promise<DumpedTable> {
  const out = JSON.parse(await run('dump', '-f', 'json', schema.name, table)) as { headings: string[]; data: unknown[][] };
  const t = schema.tables.get(table)!;
  const rows: DumpedTable = new Map();
  for (const cells of out.data) {
    const row: Record<string, Value> = {};
    out.headings.forEach((h, i) => (row[h] = decodeDatum(t.columns.get(h)!.type, cells[i])));
    rows.set(row._uuid as string, row);
  }
  return rows;
}

/** Differences between a dump and a replicated table (empty when equal), for assertion messages. */
export function diffTable(dump: DumpedTable, cache: TableCache): string[] {
  const out: string[] = [];
  for (const [uuid, row] of dump) {
    const mine = cache.get(uuid) as Record<string, Value> | undefined;
    if (!mine) {
      out.push(`${cache.name} ${uuid} (${String(row.name)}) missing from the replica`);
      continue;
    }
    for (const c of cache.columns) {
      if (!valuesEqual(mine[c.name], row[c.name])) out.push(`${cache.name} ${uuid}.${c.name}: replica ${show(mine[c.name])} != dump ${show(row[c.name])}`);
    }
  }
  for (const r of cache.values()) if (!dump.has(r._uuid)) out.push(`${cache.name} ${r._uuid} (${String(r.name)}) in the replica but not in the dump`);
  return out;
}

function show(v: Value | undefined): string {
  return v instanceof Map ? JSON.stringify([...v]) : JSON.stringify(v);
}
