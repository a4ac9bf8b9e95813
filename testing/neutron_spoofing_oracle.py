#!/usr/bin/python3
"""Neutron's own ARP/ND/MAC anti-spoofing (python3-neutron, Debian's 21.0.0):
OVSNeutronAgent.setup_arp_spoofing_protection and delete_arp_spoofing_protection
run against the native OVSIntegrationBridge (os_ken's OpenFlow 1.3 messages),
whose messages are applied to a table kept in memory here: the oracle for
lib/bridges/anti-spoofing.ts.

stdin: JSON {"steps": [{"ports": [{"ofport", "mac", "fixed_ips": [ip],
"allowed_address_pairs": [{mac_address, ip_address}], "port_security_enabled",
"device_owner"}], "removed": [ofport]}]}: each step sets the protection of the
ports given (as a pass that binds them does) and deletes it for the removed ofports
(as update_stale_ofport_rules does).

stdout: JSON {"steps": [[flow text]]}: after each step, the flows the bridge
holds, as ovs-ofctl add-flows lines ("table=24,priority=2,in_port=5,...").
"""
import json
import sys

from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as ofpp

from neutron.agent.common import ovs_lib
from neutron.plugins.ml2.drivers.openvswitch.agent.openflow.native import br_int
from neutron.plugins.ml2.drivers.openvswitch.agent import ovs_neutron_agent as agent


class FakeDatapath(object):
    ofproto = ofp
    ofproto_parser = ofpp
    id = 1


class FakeIntBridge(br_int.OVSIntegrationBridge):
    """The native br-int whose OpenFlow messages change a table in memory."""

    def __init__(self):
        self.br_name = 'br-int'
        self._default_cookie = 0
        self.dp = FakeDatapath()
        # (table, priority, sorted match items) -> (match, instructions)
        self.table = {}

    @property
    def default_cookie(self):
        return 0

    def _get_dp(self):
        return self.dp, ofp, ofpp

    def _send_msg(self, msg, reply_cls=None, reply_multi=False, active_bundle=None):
        if isinstance(msg, ofpp.OFPFlowStatsRequest):
            body = [Stat(m) for (t, _p, _k), (m, _i) in self.table.items() if msg.table_id in (ofp.OFPTT_ALL, t)]
            return [Reply(body)]
        if msg.command == ofp.OFPFC_ADD:
            self.table[(msg.table_id, msg.priority, key(msg.match))] = (msg.match, msg.instructions)
            return None
        if msg.command in (ofp.OFPFC_DELETE, ofp.OFPFC_DELETE_STRICT):
            want = dict(msg.match.items())
            for k in list(self.table):
                t, p, items = k
                if msg.table_id not in (ofp.OFPTT_ALL, t):
                    continue
                have = dict(items)
                if msg.command == ofp.OFPFC_DELETE_STRICT:
                    if p == msg.priority and have == want:
                        del self.table[k]
                elif all(have.get(f) == v for f, v in want.items()):
                    del self.table[k]
            return None
        raise Exception('unexpected message %r' % msg)


class Stat(object):
    def __init__(self, match):
        self.match = match


class Reply(object):
    def __init__(self, body):
        self.body = body


def key(match):
    return tuple(sorted((f, v) for f, v in match.items()))


OFCTL_NAMES = {'ipv6_nd_target': 'nd_target'}


def value_text(field, v):
    if isinstance(v, tuple):
        # As Neutron sends it (the address unmasked, the mask); the switch applies the mask.
        return '%s/%s' % v
    if field == 'eth_type':
        return '0x%04x' % v
    return str(v)


def flow_text(table, priority, match, instructions):
    fields = ['table=%d' % table, 'priority=%d' % priority]
    for f, v in match.items():
        fields.append('%s=%s' % (OFCTL_NAMES.get(f, f), value_text(f, v)))
    actions = []
    for i in instructions:
        if isinstance(i, ofpp.OFPInstructionGotoTable):
            actions.append('goto_table:%d' % i.table_id)
        else:
            raise Exception('unexpected instruction %r' % i)
    return '%s,actions=%s' % (','.join(fields), ','.join(actions) or 'drop')


def main():
    scenario = json.load(sys.stdin)
    bridge = FakeIntBridge()
    out = []
    for step in scenario['steps']:
        for p in step.get('ports', []):
            vif = ovs_lib.VifPort('tap%d' % p['ofport'], p['ofport'], 'id-%d' % p['ofport'], p['mac'], bridge)
            details = {
                'fixed_ips': [{'ip_address': ip} for ip in p['fixed_ips']],
                'allowed_address_pairs': p['allowed_address_pairs'],
                'port_security_enabled': p['port_security_enabled'],
                'device_owner': p['device_owner'],
            }
            agent.OVSNeutronAgent.setup_arp_spoofing_protection(bridge, vif, details)
        for ofport in step.get('removed', []):
            # update_stale_ofport_rules: what Neutron removes for an ofport that is gone.
            bridge.delete_arp_spoofing_protection(port=ofport)
            bridge.uninstall_flows(in_port=ofport)
        out.append(sorted(flow_text(t, p, m, i) for (t, p, _k), (m, i) in bridge.table.items()))
    json.dump({'steps': out}, sys.stdout)


if __name__ == '__main__':
    main()
