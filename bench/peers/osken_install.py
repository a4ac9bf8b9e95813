"""os-ken peer of `npm run bench -- openflow`: installs the bench's flows as
an os-ken 2.5 application, used as fast as os-ken goes: every flow-mod sent
back to back through the datapath's send queue, then one barrier.

Run by the bench (bench/openflow.ts) under Debian's os-ken:

    /usr/bin/python3 /usr/bin/osken-manager --ofp-listen-host 127.0.0.1 \
        --ofp-tcp-listen-port PORT bench/peers/osken_install.py

with OSKEN_BENCH_FLOWS naming a JSON file written by the bench from the
same FlowMods it installs itself (os-ken's field names, see osken.ts there).

Protocol, one line each way:
  stdout  {"event": "ready", "flows": N, "build_seconds": S}
          once the bridge has connected (OpenFlow 1.3, features done) and
          the OFPFlowMod objects are built;
  stdin   "run"   install every flow once;
  stdout  {"event": "done", "seconds": S, "errors": E, "first_error": ...}
          S from just before the first send_msg to the barrier reply's
          arrival in this app's handler;
  stdout  {"event": "error", "message": ...} on anything unexpected.
The process exits when stdin closes; the bench also stops it by pid.
"""

import json
import os
import sys
import time

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import (DEAD_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3


def emit(event, **fields):
    fields['event'] = event
    sys.stdout.write(json.dumps(fields) + '\n')
    sys.stdout.flush()


def build_action(parser, spec):
    kind = spec['type']
    if kind == 'output':
        return parser.OFPActionOutput(spec['port'], spec['max_len'])
    if kind == 'push_vlan':
        return parser.OFPActionPushVlan(spec['ethertype'])
    if kind == 'pop_vlan':
        return parser.OFPActionPopVlan()
    if kind == 'set_field':
        return parser.OFPActionSetField(**{spec['field']: spec['value']})
    raise ValueError('unsupported action %r' % kind)


def build_instruction(parser, ofp, spec):
    kind = spec['type']
    if kind == 'apply_actions':
        return parser.OFPInstructionActions(
            ofp.OFPIT_APPLY_ACTIONS,
            [build_action(parser, a) for a in spec['actions']])
    if kind == 'goto_table':
        return parser.OFPInstructionGotoTable(spec['table_id'])
    raise ValueError('unsupported instruction %r' % kind)


def build_flow_mod(datapath, spec):
    parser = datapath.ofproto_parser
    ofp = datapath.ofproto
    # A masked field comes as [value, mask]; os-ken takes a tuple.
    match = {k: tuple(v) if isinstance(v, list) else v
             for k, v in spec['match'].items()}
    return parser.OFPFlowMod(
        datapath,
        cookie=int(spec['cookie']),
        table_id=spec['table_id'],
        command=ofp.OFPFC_ADD,
        priority=spec['priority'],
        buffer_id=ofp.OFP_NO_BUFFER,
        out_port=ofp.OFPP_ANY,
        out_group=ofp.OFPG_ANY,
        flags=spec['flags'],
        match=parser.OFPMatch(**match),
        instructions=[build_instruction(parser, ofp, i)
                      for i in spec['instructions']])


class BenchInstaller(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super(BenchInstaller, self).__init__(*args, **kwargs)
        with open(os.environ['OSKEN_BENCH_FLOWS']) as f:
            self.specs = json.load(f)
        self.datapath = None
        self.flow_mods = []
        self.barrier_xid = None
        self.started = 0.0
        self.errors = 0
        self.first_error = None

    def start(self):
        super(BenchInstaller, self).start()
        self.threads.append(hub.spawn(self._commands))

    @set_ev_cls(ofp_event.EventOFPStateChange,
                [MAIN_DISPATCHER, DEAD_DISPATCHER])
    def _state_change(self, ev):
        if ev.state == DEAD_DISPATCHER:
            if ev.datapath is self.datapath:
                self.datapath = None
                emit('error', message='the bridge closed the connection')
            return
        if self.datapath is not None:
            emit('error', message='a second switch connected')
            return
        # The objects are built once, outside the timing, as the bench's own
        # flow-mods are parsed once; each send serializes them again.
        t0 = time.perf_counter()
        flow_mods = []
        for i, spec in enumerate(self.specs):
            flow_mods.append(build_flow_mod(ev.datapath, spec))
            if i % 1000 == 999:
                # Let the receive loop answer the bridge's echo requests.
                hub.sleep(0)
        self.flow_mods = flow_mods
        self.datapath = ev.datapath
        emit('ready', flows=len(self.flow_mods),
             build_seconds=time.perf_counter() - t0)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def _error(self, ev):
        msg = ev.msg
        self.errors += 1
        if self.first_error is None:
            self.first_error = {'type': msg.type, 'code': msg.code,
                                'xid': msg.xid}

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def _barrier_reply(self, ev):
        if ev.msg.xid != self.barrier_xid:
            return
        seconds = time.perf_counter() - self.started
        self.barrier_xid = None
        emit('done', seconds=seconds, errors=self.errors,
             first_error=self.first_error)

    def _install(self):
        datapath = self.datapath
        if datapath is None:
            emit('error', message='no switch connected')
            return
        if self.barrier_xid is not None:
            emit('error', message='an install is already running')
            return
        self.errors = 0
        self.first_error = None
        barrier = datapath.ofproto_parser.OFPBarrierRequest(datapath)
        datapath.set_xid(barrier)
        self.barrier_xid = barrier.xid
        self.started = time.perf_counter()
        for flow_mod in self.flow_mods:
            # Blocks (yielding to the send loop) while the send queue is full.
            datapath.send_msg(flow_mod)
        datapath.send_msg(barrier)

    def _commands(self):
        # osken-manager monkey-patches os: a non-blocking read yields to the
        # hub instead of stalling every green thread.
        os.set_blocking(0, False)
        pending = b''
        while True:
            chunk = os.read(0, 4096)
            if not chunk:
                os._exit(0)
            pending += chunk
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                command = line.strip().decode()
                if command == 'run':
                    self._install()
                elif command:
                    emit('error', message='unknown command %r' % command)
