/**
 * A clustered Open_vSwitch database, written with typed operations and
 * watched by a replica that follows the leader:
 *
 *  1. connect to the leader of the cluster, given every member
 *     (`unix:A,unix:B,tcp:C:6641`): the client reads each member's state in
 *     `_Server` and skips the followers;
 *  2. add two bridges in one transaction with `typedOps<OpenVSwitchTables>()`,
 *     whose table names, columns and values the compiler checks, and read
 *     one back with a typed `select`;
 *  3. a replica of the Bridge table, limited by a monitor condition to one
 *     bridge, widened on the live session with `changeConditions`;
 *  4. `for await` over the replica's changes until the next bridge appears.
 *
 *   node --import tsx examples/cluster-typed.ts REMOTE[,REMOTE...]
 */
import { OvsdbClient, Replica, namedUuid, typedOps, type OpenVSwitchTables } from '@ovs-agent/ovsdb';

const remotes = process.argv[2];
if (!remotes) {
  console.error('usage: cluster-typed.ts REMOTE[,REMOTE...]');
  process.exit(2);
}
const DB = 'Open_vSwitch';
const ovs = typedOps<OpenVSwitchTables>();
const addBridge = (name: string, failMode: 'secure' | 'standalone') => [
  ovs.insert('Bridge', { name, fail_mode: failMode, external_ids: { example: 'cluster-typed' } }, 'br'),
  ovs.mutate('Open_vSwitch', [], [['bridges', 'insert', [namedUuid('br')]]]),
] as const;

// 1. The leader, whatever its place in the list.
const client = await OvsdbClient.connect(remotes, { database: DB, leaderOnly: true });
const state = client.serverState!;
console.log(`connected to the ${state.leader ? 'leader' : 'member'} of a ${state.model} ${DB} (${client.remotes.length} members given)`);

// 2. Typed writes, typed reads: rows.fail_mode is 'secure' | 'standalone' | null.
await client.transact(DB, addBridge('br-a', 'secure'));
await client.transact(DB, addBridge('br-b', 'standalone'));
const [sel] = await client.transact(DB, [ovs.select('Bridge', [['name', '==', 'br-a']], ['name', 'fail_mode'])]);
console.log(`${sel.rows[0].name}: fail_mode ${sel.rows[0].fail_mode}`);

// 3. A replica of one bridge, then of both, without a new session.
const replica = await Replica.start<OpenVSwitchTables>({
  remote: remotes,
  leaderOnly: true,
  tables: { Bridge: { columns: ['name'], where: [['name', '==', 'br-a']] } },
});
const held = (): string => [...replica.table('Bridge').values()].map((b) => b.name).sort().join(' ');
console.log(`replica holds: ${held()}`);
await replica.changeConditions({ Bridge: [['external_ids', 'includes', { example: 'cluster-typed' }]] });
await replica.waitFor(() => replica.table('Bridge').size === 2 || undefined);
console.log(`replica holds: ${held()}`);

// 4. Changes as an async iterator; the loop ends when the signal aborts.
const ac = new AbortController();
const seen = (async () => {
  for await (const e of replica.changes('Bridge', { signal: ac.signal })) {
    console.log(`${e.kind} ${e.row.name}`);
    ac.abort();
  }
})();
await client.transact(DB, addBridge('br-c', 'secure'));
await seen;
await replica.close();
await client.close();
