/**
 * Clustered databases: what a member says of itself in the `_Server`
 * database (ovsdb-server(5)), and whether a client may use it.
 *
 * Every ovsdb-server serves `_Server`, whose `Database` table holds one row
 * per database it serves: its storage model, and for a clustered (Raft)
 * database whether this member is connected to the cluster, whether it is
 * the leader, and the index of the last log entry it has. A member cut off
 * from its cluster serves stale data and accepts no write; with
 * `leaderOnly`, only the leader is used (as the OVS IDL's `leader_only`
 * and libovsdb's `WithLeaderOnly` do), so reads are never behind a write
 * another client saw committed.
 */
import { decodeRow, type Row, type Uuid } from './datum.js';
import { OvsdbProtocolError, preview } from './errors.js';
import { getTable, type DatabaseSchema } from './schema.js';
import type { TableUpdates } from './updates.js';

/** The name of the database in which every ovsdb-server describes the databases it serves. */
export const SERVER_DATABASE = '_Server';

/** The monitor id the client uses for its own `_Server` monitor (its updates are not emitted as `update` events). */
export const CLUSTER_MONITOR_ID = '_Server.Database/cluster-state';

/** How a database is stored: one file, a Raft cluster, or a relay of another server. */
export type DatabaseModel = 'standalone' | 'clustered' | 'relay';

/** One database as the member serving it reports it in `_Server.Database`. */
export interface ServerDatabaseState {
  /** The database's name. */
  readonly name: string;
  /** Its storage model. */
  readonly model: DatabaseModel;
  /** Clustered: whether this member is connected to a majority of the cluster (always true otherwise). */
  readonly connected: boolean;
  /** Clustered: whether this member is the leader (always true otherwise). */
  readonly leader: boolean;
  /** Clustered: the index of the last log entry this member has (null otherwise). */
  readonly index: number | null;
  /** Clustered: the cluster's id (null otherwise, or while joining). */
  readonly cid: Uuid | null;
  /** Clustered: this member's server id (null otherwise). */
  readonly sid: Uuid | null;
}

/** The `_Server.Database` columns the client monitors. */
export const SERVER_DATABASE_COLUMNS = ['name', 'model', 'connected', 'leader', 'index', 'cid', 'sid'] as const;

function isModel(v: unknown): v is DatabaseModel {
  return v === 'standalone' || v === 'clustered' || v === 'relay';
}

/** A decoded `_Server.Database` row as a {@link ServerDatabaseState}; throws `PROTOCOL` on an ill-typed row. */
export function serverDatabaseState(row: Row): ServerDatabaseState {
  const { name, model, connected, leader, index, cid, sid } = row;
  if (typeof name !== 'string' || !isModel(model) || typeof connected !== 'boolean' || typeof leader !== 'boolean') {
    throw new OvsdbProtocolError(`_Server.Database row is not {name, model, connected, leader}: ${preview(row)}`);
  }
  return Object.freeze({
    name,
    model,
    connected,
    leader,
    index: typeof index === 'number' ? index : null,
    cid: typeof cid === 'string' ? cid : null,
    sid: typeof sid === 'string' ? sid : null,
  });
}

/**
 * Why a member must not be used for `db`, or undefined when it may: the
 * database is not served, a clustered member is cut off from its cluster,
 * (with `leaderOnly`) it is not the leader, or its log is behind `minIndex`,
 * the highest index the caller has already seen: a follower that has not yet
 * caught up would show the caller an older database than it had (rows that
 * came back, changes undone), which the OVS IDL also refuses (its
 * `min_index`). A standalone or relay database has no leader to prefer and
 * no index, so `leaderOnly` and `minIndex` accept it.
 */
export function memberProblem(state: ServerDatabaseState | undefined, db: string, leaderOnly: boolean, minIndex = 0): string | undefined {
  if (!state) return `does not serve database ${db}`;
  if (state.model !== 'clustered') return undefined;
  if (!state.connected) return `is not connected to the ${db} cluster`;
  if (leaderOnly && !state.leader) return `is not the leader of the ${db} cluster`;
  if (state.index !== null && state.index < minIndex) return `is behind: its ${db} log ends at index ${state.index}, below the ${minIndex} already seen`;
  return undefined;
}

/**
 * Applies a `_Server` monitor's `update` to the state of `db`: returns the
 * new state, `null` when its row was deleted (the database is no longer
 * served), or undefined when the update does not concern it.
 */
export function applyServerUpdate(schema: DatabaseSchema, updates: TableUpdates, db: string): ServerDatabaseState | null | undefined {
  const rows = updates.Database;
  if (!rows) return undefined;
  const table = getTable(schema, 'Database');
  let out: ServerDatabaseState | null | undefined;
  for (const u of Object.values(rows)) {
    if (u.new !== undefined) {
      const row = decodeRow(table, u.new);
      if (row.name === db) out = serverDatabaseState(row);
    } else if (u.old !== undefined && decodeRow(table, u.old).name === db) {
      out = null;
    }
  }
  return out;
}
