#!/usr/bin/python3
"""Neutron's own OVSHybridIptablesFirewallDriver (python3-neutron, Debian's
21.0.0) driven as its agent drives it (defer_apply around the security-group
info and the port filters): the oracle for the iptables_hybrid driver's rules
and the firewall benchmark's peer.

stdin: JSON {"mode": "capture" | "netns", "namespace": name (netns mode),
"ports": [{"device", "mac_address", "fixed_ips": [ip], "allowed_address_pairs":
[{mac_address, ip_address}], "security_groups": [..], "port_security_enabled",
"device_owner", "network_id"}], "rules": {sg: [neutron rule dicts]},
"members": {sg: {"IPv4": [[ip, mac]], "IPv6": [...]}}, "steps": [{"rules",
"members", "update_ports": [port dicts], "remove_ports": [device]}]}

capture: every command Neutron runs is recorded, none is run; iptables-save
answers with nothing (a host without rules), so the first restore input holds
every rule. netns: the commands run for real in the named network namespace
(`ip netns exec`), each timed.

stdout: JSON {"applies": [[{"cmd": [...], "input": text|null}...] per step],
"seconds": [per step], "exec_seconds": [per step]}
"""
import json
import subprocess
import sys
import tempfile
import time

# iptables_manager names its chains after the running binary, as the agent's would be.
sys.argv[0] = '/usr/bin/neutron-openvswitch-agent'

from oslo_config import cfg  # noqa: E402
from oslo_utils import netutils  # noqa: E402

from neutron.agent.linux import utils as linux_utils  # noqa: E402
from neutron.conf.agent import common as agent_conf  # noqa: E402
from neutron.conf.agent import securitygroups_rpc as sg_conf  # noqa: E402

sg_conf.register_securitygroups_opts()
agent_conf.register_agent_state_opts_helper(cfg.CONF)
agent_conf.register_iptables_opts(cfg.CONF)
cfg.CONF([], project='neutron')
cfg.CONF.set_override('lock_path', tempfile.mkdtemp(), 'oslo_concurrency')

scenario = json.load(sys.stdin)
MODE = scenario.get('mode', 'capture')
NAMESPACE = scenario.get('namespace')
log = []
exec_time = [0.0]


def execute(cmd, process_input=None, addl_env=None, check_exit_code=True, return_stderr=False,
            log_fail_as_error=True, extra_ok_codes=None, run_as_root=False, privsep_exec=False):
    cmd = [str(c) for c in cmd]
    bare = cmd[4:] if cmd[:3] == ['ip', 'netns', 'exec'] else cmd
    if MODE == 'capture':
        log.append({'cmd': bare, 'input': process_input})
        if bare[0] == 'sysctl':
            return '1'
        return ''
    log.append({'cmd': bare, 'input': process_input})
    if bare[0] == 'sysctl':
        return '1'
    full = ['ip', 'netns', 'exec', NAMESPACE] + bare
    t = time.perf_counter()
    p = subprocess.run(full, input=process_input, capture_output=True, text=True)
    exec_time[0] += time.perf_counter() - t
    ok = [0] + list(extra_ok_codes or [])
    if check_exit_code and p.returncode not in ok:
        raise RuntimeError('%s: exit %d: %s' % (' '.join(full), p.returncode, p.stderr))
    return p.stdout


linux_utils.execute = execute
netutils.is_ipv6_enabled = lambda: True

import eventlet  # noqa: E402

from neutron.agent.linux import iptables_firewall  # noqa: E402

iptables_firewall.a_utils.execute = execute

fw = iptables_firewall.OVSHybridIptablesFirewallDriver(namespace=NAMESPACE if MODE == 'netns' else None)
ports = {}
applies = []
seconds = []
exec_seconds = []


def step(rules, members, prepare=(), update=(), remove=()):
    del log[:]
    exec_time[0] = 0.0
    t = time.perf_counter()
    with fw.defer_apply():
        for sg, r in rules.items():
            fw.update_security_group_rules(sg, r)
        for sg, m in members.items():
            fw.update_security_group_members(sg, m)
        for p in prepare:
            fw.prepare_port_filter(p)
        for p in update:
            fw.update_port_filter(p)
        for d in remove:
            fw.remove_port_filter(ports[d])
    # conntrack deletions are queued to green threads: let them run, as the agent's loop would.
    for _ in range(20):
        eventlet.sleep(0)
    seconds.append(time.perf_counter() - t)
    exec_seconds.append(exec_time[0])
    applies.append(list(log))


for p in scenario['ports']:
    ports[p['device']] = p
step(scenario['rules'], scenario['members'], prepare=scenario['ports'])
for s in scenario.get('steps', []):
    for p in s.get('update_ports', []):
        ports[p['device']] = p
    step(s.get('rules', {}), s.get('members', {}), update=s.get('update_ports', []), remove=s.get('remove_ports', []))
    for d in s.get('remove_ports', []):
        ports.pop(d, None)

json.dump({'applies': applies, 'seconds': seconds, 'exec_seconds': exec_seconds}, sys.stdout)
