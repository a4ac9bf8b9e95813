/**
 * A transaction with a wait condition: set a bridge's external_ids only if
 * its fail_mode is still what we read, as an optimistic lock. The `wait`
 * operation makes the server check the condition inside the transaction
 * (timeout 0: check now, do not wait), so no other client's change can
 * slip in between our read and our write; if it did, the whole transaction
 * fails and nothing is written.
 *
 *   node --import tsx examples/wait-transaction.ts BRIDGE [REMOTE]
 */
import { OvsdbClient, OvsdbTransactionError, op } from '@ovs-agent/ovsdb';

const [bridge, remote = 'unix:/var/run/openvswitch/db.sock'] = process.argv.slice(2);
if (!bridge) {
  console.error('usage: wait-transaction.ts BRIDGE [REMOTE]');
  process.exit(2);
}
const client = await OvsdbClient.connect(remote);
try {
  const where = [['name', '==', bridge]] as const;
  const [read] = await client.transact('Open_vSwitch', [op.select('Bridge', [...where], ['fail_mode'])]);
  if (read.rows.length === 0) throw new Error(`no bridge ${bridge}`);
  const failMode = read.rows[0].fail_mode;
  console.log(`${bridge}: fail_mode ${failMode ?? '(unset)'}`);

  // 1. The condition holds: the update goes through.
  const setIfUnchanged = (expected: typeof failMode, owner: string) => client.transact('Open_vSwitch', [
    op.wait('Bridge', [...where], ['fail_mode'], '==', [{ fail_mode: expected }], 0),
    op.mutate('Bridge', [...where], [['external_ids', 'insert', new Map([['owner', owner]])]]),
  ]);
  const [, updated] = await setIfUnchanged(failMode, 'example');
  console.log(`updated ${updated.count} row: owner=example`);

  // 2. Another client changed fail_mode meanwhile: the wait fails, nothing is written.
  const other = failMode === 'secure' ? 'standalone' : 'secure';
  await client.transact('Open_vSwitch', [op.update('Bridge', [...where], { fail_mode: other })]);
  try {
    await setIfUnchanged(failMode, 'too-late');
    console.log('updated again (unexpected)');
  } catch (err) {
    if (!(err instanceof OvsdbTransactionError)) throw err;
    console.log(`refused: ${err.code} (${err.error})`);
  }
  const [after] = await client.transact('Open_vSwitch', [op.select('Bridge', [...where], ['external_ids'])]);
  console.log(`owner is still ${(after.rows[0].external_ids as ReadonlyMap<string, string>).get('owner')}`);
} finally {
  client.close();
}
