/**
 * The clustered case of `npm run bench -- ovsdb` (also alone: `npm run
 * bench -- ovsdb-cluster`): N ports (Port + Interface with external_ids,
 * added to a bridge) in one transaction against a 3-member Raft cluster
 * (testing/ovsdb-cluster.ts, each member its own ovsdb-server), ours (a
 * leaderOnly replica given the whole remote list) against Python's
 * ovs.db.idl (python3-openvswitch, given the same list; its leader_only
 * defaults to true), alternating, each run from the same empty bridge.
 * The time is from the start of the transaction to the leader's reply,
 * which comes once a majority has the entry in its log.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Replica } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';
import { OvsdbCluster } from '../testing/ovsdb-cluster.js';
import { VSWITCH_SCHEMA } from '../testing/sandbox.js';
import type { Metric } from './report.js';
import { metric, timeIt } from './report.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const BRIDGE = 'br0';
const RUNS = 3;

async function resetBridge(c: OvsdbCluster): Promise<void> {
  await run('ovs-vsctl', [`--db=${c.remotes}`, '--timeout=300', '--no-wait', '--if-exists', 'del-br', BRIDGE, '--', 'add-br', BRIDGE], { timeout: 300_000 });
}

async function oursOne(r: Replica<OpenVSwitchTables>, n: number): Promise<void> {
  await r.transact((txn) => {
    const br = r.index('Bridge', 'name').get(BRIDGE)!;
    const ports = [];
    for (let i = 0; i < n; i++) {
      const name = `p${i}`;
      const iface = txn.insert('Interface', { name, type: 'internal', external_ids: { 'iface-id': `${name}-id`, 'attached-mac': 'fa:16:3e:00:00:01' } });
      ports.push(txn.insert('Port', { name, interfaces: [iface], external_ids: { owner: 'bench' } }));
    }
    txn.addToSet('Bridge', br._uuid, 'ports', ports);
  });
}

async function pythonOne(c: OvsdbCluster, n: number): Promise<number> {
  const { stdout } = await run('/usr/bin/python3', [join(here, 'peers/ovsdb_idl_peer.py'), c.remotes, VSWITCH_SCHEMA, 'ports-one', BRIDGE, String(n), 'p'], { maxBuffer: 1 << 20 });
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
}

/** Runs the clustered case; returns its metrics and notes. */
export async function clusteredPorts(quick: boolean): Promise<{ metrics: Metric[]; notes: string[] }> {
  const n = quick ? 500 : 5000;
  const cluster = await OvsdbCluster.start({ members: 3 });
  try {
    await run('ovs-vsctl', [`--db=${cluster.remotes}`, '--no-wait', 'init']);
    await resetBridge(cluster);
    const replica = await Replica.start<OpenVSwitchTables>({
      remote: cluster.remotes,
      leaderOnly: true,
      tables: { Open_vSwitch: true, Bridge: true, Port: true, Interface: true },
    });
    const ours: number[] = [];
    const py: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        await resetBridge(cluster);
        await replica.waitFor(() => replica.index('Bridge', 'name').get(BRIDGE)?.ports.length === 1, { timeoutMs: 60_000 });
        ours.push(await timeIt(() => oursOne(replica, n)));
        await replica.waitFor(() => replica.index('Bridge', 'name').get(BRIDGE)?.ports.length === n + 1, { timeoutMs: 60_000, what: `${n} ports in the replica` });
        await resetBridge(cluster);
        py.push(await pythonOne(cluster, n));
      }
    } finally {
      await replica.close();
    }
    const leader = await cluster.leader();
    return {
      metrics: [
        metric({
          metric: `ports_${n}_one_txn_cluster3`,
          unit: 's',
          ours,
          peer: { name: 'python3-openvswitch ovs.db.idl (leader_only)', samples: py },
          target: '<= 0.3333',
          note: `3-member Raft cluster (unix sockets, one ovsdb-server process each); both sides given the remote list and using the leader (member ${leader} at the end)`,
        }),
      ],
      notes: [`Clustered: ${n} ports in one transaction against a 3-member cluster, medians of ${RUNS} runs alternating ours and the Python IDL.`],
    };
  } finally {
    await cluster.stop();
  }
}
