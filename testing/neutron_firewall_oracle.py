#!/usr/bin/python3
"""Neutron's own openvswitch firewall driver (python3-neutron, Debian's
21.0.0) run against a fake bridge: the independent oracle for the firewall's
flows, and the benchmark's peer for flow computation.

stdin: JSON {"ports": [{"device", "ofport", "lvid", "mac", "fixed_ips": [ip],
"allowed_address_pairs": [{mac_address, ip_address}], "security_groups": [..],
"port_security_enabled", "network_type", "segmentation_id"}], "rules": {sg: [neutron rule dicts]},
"members": {sg: {"IPv4": [[ip, mac]], "IPv6": [...]}}, "steps": [{"members": {...}} | {"rules": {...}}]}

stdout: JSON {"initial": [ovs-ofctl lines], "steps": [[lines]...], "seconds": {"initial": s, "steps": [s]}}
Each line is "<add|del|mod>[ --strict] <flow text>" as Neutron would pass to ovs-ofctl.
"""
import json
import sys
import time

from oslo_config import cfg

from neutron.agent.common import ovs_lib
from neutron.conf.agent import securitygroups_rpc as sg_conf
from neutron.conf.plugins.ml2.drivers import ovs_conf
from neutron.agent.linux.openvswitch_firewall import firewall as ovsfw

sg_conf.register_securitygroups_opts()
ovs_conf.register_ovs_agent_opts()
cfg.CONF([], project='neutron')


class FakeBridge(ovs_lib.OVSBridge):
    """An OVSBridge whose ovs-ofctl and OVSDB calls are answered from memory."""

    def __init__(self, ports):
        self.br_name = 'br-int'
        self._default_cookie = 0
        self._flows_per_port = False
        self.ports = ports
        self.lines = []

    def run_ofctl(self, cmd, args, process_input=None):
        if cmd == 'dump-flows':
            return ''
        strict = ' --strict' if '--strict' in args else ''
        op = cmd.split('-')[0]
        for line in (process_input or '').splitlines():
            self.lines.append('%s%s %s' % (op, strict, line))
        return ''

    def request_cookie(self):
        # The temporary cookie of an update; its flows are re-added with the default cookie afterwards.
        return 0x7e

    def unset_cookie(self, cookie):
        pass

    def dump_flows_for_table(self, table):
        return ''

    def add_protocols(self, *protocols):
        pass

    @property
    def is_hw_offload_enabled(self):
        return False

    def get_port_name_list(self):
        return []

    def get_vif_port_by_id(self, port_id):
        p = self.ports[port_id]
        return ovs_lib.VifPort('tap' + port_id[:11], p['ofport'], port_id, p['mac'], self)

    def get_vifs_by_ids(self, port_ids):
        return {i: self.get_vif_port_by_id(i) for i in port_ids}

    def db_get_val(self, table, record, column, check_error=False, log_errors=True):
        for p in self.ports.values():
            if 'tap' + p['device'][:11] == record:
                oc = {'tag': str(p['lvid']), 'network_type': p.get('network_type', 'vxlan'),
                      'physical_network': p.get('physical_network') or 'None'}
                if p.get('segmentation_id') is not None:
                    oc['segmentation_id'] = str(p['segmentation_id'])
                return oc
        return None


class NoConntrack:
    def delete_conntrack_state_by_remote_ips(self, *args, **kwargs):
        pass


def port_dict(p):
    return {
        'device': p['device'],
        'fixed_ips': p.get('fixed_ips', []),
        'allowed_address_pairs': p.get('allowed_address_pairs', []),
        'security_groups': p.get('security_groups', []),
        'port_security_enabled': p.get('port_security_enabled', True),
        'mac_address': p['mac'],
    }


def members_of(m):
    # The agent's cache hands the driver (ip, mac) tuples.
    return {e: [tuple(x) for x in m.get(e, [])] for e in ('IPv4', 'IPv6') if e in m}


def main():
    scenario = json.load(sys.stdin)
    ports = {p['device']: p for p in scenario['ports']}
    br = FakeBridge(ports)
    driver = ovsfw.OVSFirewallDriver(br)
    driver.ipconntrack = NoConntrack()
    out = {'steps': [], 'seconds': {'steps': []}}

    t0 = time.perf_counter()
    for sg, rules in scenario.get('rules', {}).items():
        driver.update_security_group_rules(sg, rules)
    for sg, members in scenario.get('members', {}).items():
        driver.update_security_group_members(sg, members_of(members))
    driver.filter_defer_apply_on()
    for p in scenario['ports']:
        driver.prepare_port_filter(port_dict(p))
    driver.filter_defer_apply_off()
    out['seconds']['initial'] = time.perf_counter() - t0
    out['initial'] = br.lines
    br.lines = []

    for step in scenario.get('steps', []):
        t0 = time.perf_counter()
        for sg, rules in step.get('rules', {}).items():
            driver.update_security_group_rules(sg, rules)
        for sg, members in step.get('members', {}).items():
            driver.update_security_group_members(sg, members_of(members))
        driver.filter_defer_apply_on()
        for device in step.get('update_ports', []):
            driver.update_port_filter(port_dict(ports[device]))
        driver.filter_defer_apply_off()
        out['seconds']['steps'].append(time.perf_counter() - t0)
        out['steps'].append(br.lines)
        br.lines = []

    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
