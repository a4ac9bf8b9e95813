/**
 * List the bridges of an Open vSwitch and the ports on each: two `select`s
 * in one transaction, decoded by the server's schema (a set column is an
 * array, a uuid a string), the bridge's port UUIDs turned into names.
 *
 *   node --import tsx examples/list-bridges.ts [REMOTE]
 *
 * REMOTE defaults to the local ovsdb-server, unix:/var/run/openvswitch/db.sock.
 */
import { OvsdbClient, op } from '@ovs-agent/ovsdb';

const remote = process.argv[2] ?? 'unix:/var/run/openvswitch/db.sock';
const client = await OvsdbClient.connect(remote);
try {
  const [bridges, ports] = await client.transact('Open_vSwitch', [
    op.select('Bridge', [], ['name', 'ports']),
    op.select('Port', [], ['_uuid', 'name']),
  ]);
  const portName = new Map(ports.rows.map((p) => [p._uuid as string, p.name as string]));
  const sorted = [...bridges.rows].sort((a, b) => (a.name as string).localeCompare(b.name as string));
  for (const bridge of sorted) {
    const names = (bridge.ports as readonly string[]).map((uuid) => portName.get(uuid) ?? uuid).sort();
    console.log(`${bridge.name as string}: ${names.join(' ')}`);
  }
} finally {
  client.close();
}
