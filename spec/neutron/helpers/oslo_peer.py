"""Debian's own oslo.messaging as the independent peer of our rabbit driver.

server TRANSPORT_URL TOPIC HOST   serves echo/fail/note (version 1.3) until stdin closes
call   TRANSPORT_URL TOPIC JSON   requests [{method, args, kind: call|cast|fanout}], prints their results as a JSON list
connect TRANSPORT_URL             one connection attempt of the rabbit driver (TLS included), prints {"connected": true} or the error
OSLO_PEER_CONFIG=FILE             an oslo config file to read (e.g. [oslo_messaging_rabbit] rabbit_quorum_queue)
"""
import json
import os
import sys
import threading

from oslo_config import cfg
import oslo_messaging as om


class Endpoint:
    target = om.Target(version='1.3')

    def echo(self, ctxt, value):
        return {'value': value, 'is_admin': ctxt.get('is_admin'), 'request_id': ctxt.get('request_id')}

    def fail(self, ctxt, message):
        raise ValueError(message)

    def note(self, ctxt, value):
        print(json.dumps({'note': value}), flush=True)


def transport(url):
    # The global config: the client reads options (metrics) registered only there.
    # OSLO_PEER_CONFIG names an oslo config file (control_exchange, [oslo_messaging_rabbit] queue options).
    conf = cfg.CONF
    path = os.environ.get('OSLO_PEER_CONFIG')
    conf(['--config-file', path] if path else [], project='ovs-agent-test')
    om.set_transport_defaults(control_exchange='neutron')
    return om.get_rpc_transport(conf, url=url)


def connect(url):
    # The driver's own Connection, one attempt (retry=0): what oslo.messaging accepts or refuses.
    from oslo_messaging._drivers import common, impl_rabbit
    t = transport(url)
    try:
        conn = impl_rabbit.Connection(t.conf, t._driver._url, common.PURPOSE_LISTEN, retry=0)
        conn.close()
        print(json.dumps({'connected': True}), flush=True)
    except Exception as exc:
        print(json.dumps({'connected': False, 'error': '%s: %s' % (type(exc).__name__, exc)}), flush=True)
    os._exit(0)


def main():
    if sys.argv[1] == 'connect':
        connect(sys.argv[2])
    mode, url, topic = sys.argv[1:4]
    if mode == 'server':
        server = om.get_rpc_server(transport(url), om.Target(topic=topic, server=sys.argv[4]), [Endpoint()], executor='threading')
        server.start()
        print(json.dumps({'ready': True}), flush=True)
        sys.stdin.read()
        server.stop()
        server.wait()
        return
    # One process for a batch of requests: importing oslo.messaging is the slow part.
    client = om.get_rpc_client(transport(url), om.Target(topic=topic, version='1.0'), timeout=20)
    ctxt = {'is_admin': True, 'request_id': 'req-from-python'}
    results = []
    for req in json.loads(sys.argv[4]):
        method, args, kind = req['method'], req.get('args', {}), req.get('kind', 'call')
        if kind == 'fanout':
            client.prepare(fanout=True).cast(ctxt, method, **args)
            results.append({'sent': True})
        elif kind == 'cast':
            client.cast(ctxt, method, **args)
            results.append({'sent': True})
        else:
            try:
                results.append({'result': client.call(ctxt, method, **args)})
            except om.MessagingTimeout:
                results.append({'error': 'timeout'})
            except Exception as exc:  # a RemoteError from our server
                results.append({'error': type(exc).__name__, 'exc_type': getattr(exc, 'exc_type', None),
                                'value': str(getattr(exc, 'value', exc))})
    print(json.dumps(results), flush=True)
    # Skip the driver's teardown (it waits for its heartbeat thread for seconds).
    os._exit(0)

if __name__ == '__main__':
    main()
