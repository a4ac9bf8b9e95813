#!/usr/bin/python3
"""The Python IDL side of `npm run bench -- ovsdb`.

Does what an ovsdbapp-based agent does with Debian's python3-openvswitch:
connect an ovs.db.idl.Idl to the database, wait for the initial dump, then
run one job and print one JSON line with the timings and the process's RSS.

  ovsdb_idl_peer.py REMOTE SCHEMA ports-one BRIDGE COUNT PREFIX
  ovsdb_idl_peer.py REMOTE SCHEMA ports-each BRIDGE COUNT PREFIX
  ovsdb_idl_peer.py REMOTE SCHEMA dump EXPECTED_INTERFACES [IDLE_SECONDS]

With OVSDB_PEER_COLUMNS=a,b,c in the environment, the dump job registers only
those Interface columns. With IDLE_SECONDS, the dump job then sleeps that long and reports the RSS
again (rss_idle_kib), as our peer does.
"""
import json
import os
import resource
import sys
import time

import ovs.db.idl
import ovs.poller


def rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def run_until(idl, done):
    while not done():
        idl.run()
        if done():
            return
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.block()


def connect(remote, schema, tables, columns=None):
    helper = ovs.db.idl.SchemaHelper(location=schema)
    for t in tables:
        if columns and t in columns:
            helper.register_columns(t, columns[t])
        else:
            helper.register_table(t)
    idl = ovs.db.idl.Idl(remote, helper)
    run_until(idl, lambda: idl.has_ever_connected())
    return idl


def find_bridge(idl, name):
    for row in idl.tables['Bridge'].rows.values():
        if row.name == name:
            return row
    raise SystemExit('no bridge %s' % name)


def add_port(txn, idl, bridge, name):
    # What ovsdbapp's AddPortCommand does: an Interface, a Port holding it,
    # and the Port added to the bridge's port set (a mutate, not a rewrite).
    iface = txn.insert(idl.tables['Interface'])
    iface.name = name
    iface.type = 'internal'
    iface.external_ids = {'iface-id': name + '-id', 'attached-mac': 'fa:16:3e:00:00:01'}
    port = txn.insert(idl.tables['Port'])
    port.name = name
    port.interfaces = [iface]
    port.external_ids = {'owner': 'bench'}
    bridge.addvalue('ports', port)


def commit(txn):
    status = txn.commit_block()
    if status not in (ovs.db.idl.Transaction.SUCCESS, ovs.db.idl.Transaction.UNCHANGED):
        raise SystemExit('transaction failed: %s %s' % (status, txn.get_error()))


def main():
    remote, schema, job = sys.argv[1:4]
    out = {}
    if job in ('ports-one', 'ports-each'):
        bridge_name, count, prefix = sys.argv[4], int(sys.argv[5]), sys.argv[6]
        idl = connect(remote, schema, ['Open_vSwitch', 'Bridge', 'Port', 'Interface'])
        t0 = time.perf_counter()
        if job == 'ports-one':
            txn = ovs.db.idl.Transaction(idl)
            bridge = find_bridge(idl, bridge_name)
            for i in range(count):
                add_port(txn, idl, bridge, '%s%d' % (prefix, i))
            commit(txn)
        else:
            for i in range(count):
                txn = ovs.db.idl.Transaction(idl)
                add_port(txn, idl, find_bridge(idl, bridge_name), '%s%d' % (prefix, i))
                commit(txn)
        out['seconds'] = time.perf_counter() - t0
    elif job == 'dump':
        expected = int(sys.argv[4])
        t0 = time.perf_counter()
        # OVSDB_PEER_COLUMNS=a,b,c: only those Interface columns (as an agent registers them).
        cols = os.environ.get('OVSDB_PEER_COLUMNS')
        idl = connect(remote, schema, ['Interface'], {'Interface': cols.split(',')} if cols else None)
        run_until(idl, lambda: len(idl.tables['Interface'].rows) >= expected)
        out['seconds'] = time.perf_counter() - t0
        out['rows'] = len(idl.tables['Interface'].rows)
        if len(sys.argv) > 5:
            out['rss_kib'] = rss_kib()
            time.sleep(float(sys.argv[5]))
            out['rss_idle_kib'] = rss_kib()
    else:
        raise SystemExit('unknown job %s' % job)
    out.setdefault('rss_kib', rss_kib())
    out['maxrss_kib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))


if __name__ == '__main__':
    main()
