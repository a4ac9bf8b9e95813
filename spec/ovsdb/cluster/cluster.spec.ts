/**
 * Clustered remotes against a real 3-member Raft cluster (three
 * ovsdb-server processes, testing/ovsdb-cluster.ts): a remote list
 * connects to any member, `leaderOnly` finds the leader, `_Server` is
 * watched so a member that stops being the leader is left, and a client
 * and a live replica follow the leader when it is killed by its pid,
 * without losing a change.
 */
import { expect } from 'chai';
import { OvsdbClient, Replica, connectWithBackoff, namedUuid, op, splitRemotes } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables, OvsdbError, ResyncInfo } from '@ovs-agent/ovsdb';
import { OvsdbCluster } from '../../../testing/ovsdb-cluster.js';
import { until } from '../../../testing/until.js';

const DB = 'Open_vSwitch';

/** Bridge is not a root table: a new bridge is kept only if Open_vSwitch refers to it. */
const addBridge = (name: string) => [op.insert('Bridge', { name }, 'br'), op.mutate('Open_vSwitch', [], [['bridges', 'insert', [namedUuid('br')]]])] as const;

/** Every Bridge name the given member holds, read with a plain client. */
async function bridgeNames(remote: string): Promise<string[]> {
  const c = await OvsdbClient.connect(remote);
  try {
    const [r] = await c.transact(DB, [op.select('Bridge', [], ['name'])]);
    return r.rows.map((row) => String(row.name)).sort();
  } finally {
    await c.close();
  }
}

describe('ovsdb clustered remotes (3-member Raft cluster) @integration', function () {
  this.timeout(90_000);
  let cluster: OvsdbCluster;

  beforeEach(async () => {
    cluster = await OvsdbCluster.start({ members: 3 });
    const c = await OvsdbClient.connect(cluster.remote(0));
    await c.transact(DB, [op.insert('Open_vSwitch', {})]);
    await c.close();
  });
  afterEach(async () => {
    await cluster?.stop();
  });

  it('splits a remote list as OVS does', () => {
    expect(splitRemotes('unix:/a,tcp:127.0.0.1:6641, ssl:[::1]:6642')).to.deep.equal(['unix:/a', 'tcp:127.0.0.1:6641', 'ssl:[::1]:6642']);
  });

  it('connects to any live member of a remote list, skipping the dead ones', async () => {
    await cluster.kill(0);
    const c = await OvsdbClient.connect(cluster.remotes);
    try {
      expect(c.remote).to.equal(cluster.remote(1));
      expect(c.remotes).to.deep.equal(splitRemotes(cluster.remotes));
      expect(await c.listDbs()).to.include(DB);
    } finally {
      await c.close();
    }
  });

  it('with leaderOnly connects to the leader, whatever its place in the list, and reports _Server state', async () => {
    const leader = await cluster.leader();
    const list = [...splitRemotes(cluster.remotes)].reverse().join(',');
    const c = await OvsdbClient.connect(list, { leaderOnly: true, database: DB });
    try {
      expect(c.remote).to.equal(cluster.remote(leader));
      expect(c.serverState).to.include({ name: DB, model: 'clustered', connected: true, leader: true });
    } finally {
      await c.close();
    }
  });

  it('minIndex: a member whose log ends below the index already seen is skipped as behind; one at or past it is used', async () => {
    const leader = await cluster.leader();
    const first = await OvsdbClient.connect(cluster.remote(leader), { leaderOnly: true, database: DB });
    const seen = first.serverState?.index;
    await first.close();
    expect(seen, "the leader's log index").to.be.a('number');
    let err: OvsdbError | undefined;
    await OvsdbClient.connect(cluster.remotes, { database: DB, minIndex: seen! + 1_000_000 }).catch((e: OvsdbError) => (err = e));
    expect(err?.code).to.equal('ERR_OVSDB_CLUSTER_MEMBER');
    expect(err?.message).to.match(/is behind: its Open_vSwitch log ends at index \d+, below the \d+ already seen/);
    const c = await OvsdbClient.connect(cluster.remotes, { database: DB, minIndex: seen! });
    try {
      expect(c.serverState?.index).to.be.at.least(seen!);
    } finally {
      await c.close();
    }
    let bad: OvsdbError | undefined;
    await OvsdbClient.connect(cluster.remotes, { minIndex: 1 }).catch((e: OvsdbError) => (bad = e));
    expect(bad?.code).to.equal('ERR_OVSDB_BAD_REMOTE');
  });

  it('refuses leaderOnly without a database to check, before connecting', async () => {
    let err: OvsdbError | undefined;
    await OvsdbClient.connect(cluster.remotes, { leaderOnly: true }).catch((e: OvsdbError) => (err = e));
    expect(err?.code).to.equal('ERR_OVSDB_BAD_REMOTE');
    expect(err?.message).to.include('database');
  });

  it('watches _Server: a leaderOnly client whose member loses the leadership is closed with CLUSTER_MEMBER', async () => {
    const leader = await cluster.leader();
    const c = await OvsdbClient.connect(cluster.remotes, { leaderOnly: true, database: DB });
    expect(c.remote).to.equal(cluster.remote(leader));
    await cluster.appctl(leader, 'cluster/failure-test', 'transfer-leadership');
    const reason = await Promise.race([c.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
    expect(reason?.code, 'closed when its member stopped leading').to.equal('ERR_OVSDB_CLUSTER_MEMBER');
    expect(cluster.pid(leader), 'the member itself still runs').to.be.a('number');
    const again = await connectWithBackoff(cluster.remotes, { leaderOnly: true, database: DB, maxAttempts: 50, initialDelayMs: 50 });
    try {
      expect(again.remote).to.equal(cluster.remote(await cluster.leader()));
      expect(again.remote).to.not.equal(cluster.remote(leader));
    } finally {
      await again.close();
    }
  });

  it('kill the leader by pid: a leaderOnly client reconnects to the new leader and a live replica follows without losing a change', async () => {
    const replica = await Replica.start<OpenVSwitchTables>({ remote: cluster.remotes, leaderOnly: true, database: DB, tables: { Bridge: { columns: ['name'] } }, backoffMs: 50 });
    const resyncs: ResyncInfo[] = [];
    replica.on('resync', (i) => resyncs.push(i));
    const events: string[] = [];
    replica.watch('Bridge', (e) => events.push(`${e.kind} ${e.row.name}`));
    let writer = await connectWithBackoff(cluster.remotes, { leaderOnly: true, database: DB });
    const written: string[] = [];
    const write = async (name: string): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          if (!writer.isConnected) writer = await connectWithBackoff(cluster.remotes, { leaderOnly: true, database: DB, initialDelayMs: 50, maxAttempts: 100 });
          await writer.transact(DB, addBridge(name));
          written.push(name);
          return;
        } catch (err) {
          // A write in flight when the leader died may or may not have committed: ask the cluster before retrying.
          if (attempt > 50) throw err;
          await writer.close().catch(() => {});
          const names = await bridgeNames(cluster.remotes).catch((): string[] => []);
          if (names.includes(name)) {
            written.push(name);
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    try {
      const leader = await cluster.leader();
      expect(replica.connection?.remote).to.equal(cluster.remote(leader));
      for (let i = 0; i < 20; i++) await write(`before${i}`);
      await replica.waitFor(() => replica.table('Bridge').size === 20 || undefined, { what: '20 bridges before the kill' });

      const killed = cluster.kill(leader);
      for (let i = 0; i < 20; i++) await write(`after${i}`);
      await killed;
      const newLeader = await cluster.leader(15_000, cluster.running());
      expect(newLeader).to.not.equal(leader);

      await replica.waitFor(() => replica.table('Bridge').size === written.length || undefined, { what: `${written.length} bridges after the kill`, timeoutMs: 20_000 });
      const held = [...replica.table('Bridge').values()].map((b) => b.name).sort();
      expect(held).to.deep.equal(written.slice().sort());
      expect(held).to.deep.equal(await bridgeNames(cluster.remote(newLeader)));
      expect(replica.connection?.remote).to.equal(cluster.remote(newLeader));
      expect(writer.remote).to.equal(cluster.remote(newLeader));
      expect(resyncs.at(-1)!.reconnects).to.be.greaterThan(0);
      // Each change seen once, as an insert: none lost, none undone and redone across the failover.
      expect(events.slice().sort()).to.deep.equal(written.map((n) => `insert ${n}`).sort());
    } finally {
      await writer.close().catch(() => {});
      await replica.close();
    }
  });

  it('a live replica follows the leadership moving to another member that stays up', async () => {
    const replica = await Replica.start<OpenVSwitchTables>({ remote: cluster.remotes, leaderOnly: true, database: DB, tables: { Bridge: { columns: ['name'] } }, backoffMs: 50 });
    try {
      const leader = await cluster.leader();
      expect(replica.connection?.remote).to.equal(cluster.remote(leader));
      await cluster.appctl(leader, 'cluster/failure-test', 'transfer-leadership');
      await until(() => replica.isConnected && replica.connection?.remote !== cluster.remote(leader), 'the replica on another member', 15_000, 50);
      const now = await cluster.leader();
      expect(replica.connection?.remote).to.equal(cluster.remote(now));
      const c = await OvsdbClient.connect(cluster.remote(now));
      await c.transact(DB, addBridge('moved'));
      await c.close();
      await replica.waitFor(() => replica.index('Bridge', 'name').get('moved'), { what: 'bridge "moved"' });
    } finally {
      await replica.close();
    }
  });
});
