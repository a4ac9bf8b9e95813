#!/usr/bin/python3
"""Neutron's own OVS QoS driver (python3-neutron, Debian's 21.0.0,
QosOVSAgentDriver) run against a sandbox's real ovsdb-server: the oracle for
the QoS and Queue rows and Interface policing the qos extension writes. Its
flows (os-ken calls in Neutron) are recorded instead of sent.

stdin: JSON {"ovsdb": "unix:/path/db.sock", "bridge": "br-int",
"ports": [{"name", "ofport", "port_id", "mac", "device_owner"}],
"policy": {"id", "rules": [{"type", ...Neutron's rule fields}]} or null,
"steps": ["create" | "delete"]}

stdout: JSON {"flows": [{"call", ...args}]}; the rows are on the switch.
"""
import json
import sys

from oslo_config import cfg

from neutron.agent.common import ovs_lib
from neutron.conf.plugins.ml2.drivers import ovs_conf
from neutron.objects.qos import rule as rule_obj
from neutron.plugins.ml2.drivers.openvswitch.agent.extension_drivers import qos_driver

ovs_conf.register_ovs_agent_opts()
cfg.CONF([], project='neutron')

scenario = json.load(sys.stdin)
cfg.CONF.set_override('ovsdb_connection', scenario['ovsdb'], 'OVS')
flows = []


class RecordingBridge(ovs_lib.OVSBridge):
    """Neutron's OVSBridge on the sandbox's OVSDB; OpenFlow calls recorded."""

    def add_flow(self, **kwargs):
        flows.append(dict(call='add_flow', **{k: str(v) for k, v in kwargs.items()}))

    def delete_flows(self, **kwargs):
        flows.append(dict(call='delete_flows', **{k: str(v) for k, v in kwargs.items()}))

    def install_dscp_marking_rule(self, port, dscp_mark):
        flows.append(dict(call='install_dscp_marking_rule', port=port, dscp_mark=dscp_mark))

    def uninstall_flows(self, **kwargs):
        flows.append(dict(call='uninstall_flows', **{k: str(v) for k, v in kwargs.items()}))

    def list_meter_features(self):
        return []


class AgentApi(object):
    def __init__(self, br):
        self.br = br

    def request_int_br(self):
        return self.br

    def request_phy_brs(self):
        return []


RULES = {
    'bandwidth_limit': (rule_obj.QosBandwidthLimitRule, {'maxKbps': 'max_kbps', 'maxBurstKbps': 'max_burst_kbps', 'direction': 'direction'}),
    'dscp_marking': (rule_obj.QosDscpMarkingRule, {'dscpMark': 'dscp_mark'}),
    'minimum_bandwidth': (rule_obj.QosMinimumBandwidthRule, {'minKbps': 'min_kbps', 'direction': 'direction'}),
    'packet_rate_limit': (rule_obj.QosPacketRateLimitRule, {'maxKpps': 'max_kpps', 'maxBurstKpps': 'max_burst_kpps', 'direction': 'direction'}),
}


class Policy(object):
    def __init__(self, p):
        self.id = p['id']
        self.rules = []
        for i, r in enumerate(p['rules']):
            cls, fields = RULES[r['type']]
            kw = {fields[k]: v for k, v in r.items() if k in fields}
            self.rules.append(cls(id='00000000-0000-0000-0000-%012d' % i, qos_policy_id=p['id'], **kw))


br = RecordingBridge(scenario.get('bridge', 'br-int'), datapath_type='netdev')
driver = qos_driver.QosOVSAgentDriver()
driver.consume_api(AgentApi(br))
driver.initialize()
policy = Policy(scenario['policy']) if scenario.get('policy') else None
for step in scenario.get('steps', ['create']):
    for p in scenario['ports']:
        vif = ovs_lib.VifPort(p['name'], p['ofport'], p['port_id'], p['mac'], br)
        port = {'port_id': p['port_id'], 'vif_port': vif, 'device_owner': p.get('device_owner', 'compute:nova'),
                'qos_policy_id': policy.id if policy else None, 'network_qos_policy_id': None}
        if step == 'create':
            # As QosAgentExtension.handle_port for a port it has not seen: every rule type deleted, then the policy's created.
            driver.delete(port)
            if policy.rules:
                driver.create(port, policy)
        else:
            driver.delete(port, policy)
json.dump({'flows': flows}, sys.stdout)
