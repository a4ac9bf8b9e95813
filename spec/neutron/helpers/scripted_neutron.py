"""A scripted neutron-server for the control plane's retry tests: Debian's
oslo.messaging RPC servers on the agent's two server topics (q-plugin,
q-reports-plugin), answering each method as a script says, so a test can make
the server fail a call n times, then answer it.

scripted_neutron.py TRANSPORT_URL

stdin, one JSON object a line:
  {"script": {METHOD: [OUTCOME, ...]}}   replaces the script and resets the counts;
                                         the last outcome of a list repeats
  {"ping": true}                         answered {"pong": true}: every call line
                                         printed before it has been read
  end of input                           exits at once
OUTCOME:
  "ok"          the method's answer (below)
  "DBDeadlock"  raises oslo_db.exception.DBDeadlock, as a server whose
                database transaction lost a deadlock does
  "ValueError"  raises ValueError (a bad request: not worth retrying)
  {"hang": S}   answers only after S seconds
Answers: has_alive_neutron_server True; tunnel_sync one tunnel (192.0.2.9 on
host peer-host); update_device_list every device done; bulk_pull [].
A method not in the script answers "ok".

stdout, one JSON object a line: {"ready": true} once both servers consume,
{"scripted": true} after each script line, {"call": METHOD, "n": K, "outcome": O}
for the K-th call of METHOD since the last script (1-based), before it is answered.
"""
import json
import os
import sys
import threading
import time

from oslo_config import cfg
import oslo_db.exception as db_exc
import oslo_messaging as om

lock = threading.Lock()
script = {}
counts = {}


def emit(obj):
    with lock:
        print(json.dumps(obj), flush=True)


class Endpoint:
    # The newest version any of the agent's calls asks for (update_device_list 1.9).
    target = om.Target(version='1.9')

    def _serve(self, method, ok):
        with lock:
            n = counts.get(method, 0) + 1
            counts[method] = n
            outcomes = script.get(method) or ['ok']
            outcome = outcomes[min(n, len(outcomes)) - 1]
            print(json.dumps({'call': method, 'n': n, 'outcome': outcome}), flush=True)
        if outcome == 'DBDeadlock':
            raise db_exc.DBDeadlock()
        if outcome == 'ValueError':
            raise ValueError(f'{method}: scripted bad request')
        if isinstance(outcome, dict) and 'hang' in outcome:
            time.sleep(outcome['hang'])
        return ok

    def has_alive_neutron_server(self, context, **kwargs):
        return self._serve('has_alive_neutron_server', True)

    def tunnel_sync(self, context, **kwargs):
        return self._serve('tunnel_sync', {'tunnels': [{'ip_address': '192.0.2.9', 'host': 'peer-host', 'udp_port': 4789}]})

    def update_device_list(self, context, devices_up=(), devices_down=(), **kwargs):
        return self._serve('update_device_list', {
            'devices_up': list(devices_up), 'devices_down': list(devices_down),
            'failed_devices_up': [], 'failed_devices_down': [],
        })

    def bulk_pull(self, context, **kwargs):
        return self._serve('bulk_pull', [])


def main():
    url = sys.argv[1]
    conf = cfg.CONF
    conf([], project='ovs-agent-test')
    om.set_transport_defaults(control_exchange='neutron')
    transport = om.get_rpc_transport(conf, url=url)
    servers = [
        om.get_rpc_server(transport, om.Target(topic=topic, server='scripted-neutron'), [Endpoint()], executor='threading')
        for topic in ('q-plugin', 'q-reports-plugin')
    ]
    for s in servers:
        s.start()
    emit({'ready': True})
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        if msg.get('ping'):
            emit({'pong': True})
            continue
        new = msg['script']
        with lock:
            script.clear()
            script.update(new)
            counts.clear()
        emit({'scripted': True})
    # Skip the driver's teardown (it waits for hung handlers and its heartbeat thread).
    os._exit(0)


if __name__ == '__main__':
    main()
