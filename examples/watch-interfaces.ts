/**
 * Watch the interfaces of an Open vSwitch: a replica (what the OVS IDL is
 * to C and Python) of the Interface table, kept current by a monitor, and
 * one line per row inserted, changed or deleted. Ctrl-C (SIGINT) or SIGTERM
 * closes the replica and exits.
 *
 *   node --import tsx examples/watch-interfaces.ts [REMOTE]
 *
 * REMOTE defaults to the local ovsdb-server, unix:/var/run/openvswitch/db.sock.
 */
import { Replica, type OpenVSwitchTables } from '@ovs-agent/ovsdb';

const remote = process.argv[2] ?? 'unix:/var/run/openvswitch/db.sock';
const replica = await Replica.start<OpenVSwitchTables>({
  remote,
  tables: { Interface: { columns: ['name', 'type', 'ofport', 'admin_state', 'link_state'] } },
});

// Rows are typed by the generated Open_vSwitch model: e.row.ofport is number | null.
replica.watch('Interface', (e) => {
  // ofport is null until ovs-vswitchd gives the interface one: a change of its own, or already in the
  // insert when the server sends both at once (it merges the changes a slow client has not read yet).
  if (e.kind === 'insert') console.log(`added ${e.row.name} (type ${e.row.type || 'system'}, ofport ${e.row.ofport})`);
  else if (e.kind === 'delete') console.log(`deleted ${e.row.name}`);
  else if (e.old.ofport !== e.row.ofport) console.log(`${e.row.name}: ofport ${e.old.ofport} -> ${e.row.ofport}`);
  else if (e.old.link_state !== e.row.link_state) console.log(`${e.row.name}: link ${e.row.link_state}`);
});
console.log(`watching ${replica.table('Interface').size} interfaces`);

const stop = (): void => {
  replica.close();
  console.log('stopped');
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
