"""Loads configuration files the way neutron-openvswitch-agent 21 does
(Debian's python3-neutron: the options its main() registers, oslo.log's and
oslo.messaging's, then cfg.CONF(argv)) and prints every option's value as
JSON: {"group.name": value, or {"error": "..."} if reading it fails}. With
--list, prints instead every option the agent registers in the groups it
reads, with its deprecated (group, name) pairs. The command line is the
agent's: --config-file, --config-dir, in order."""
import json
import sys

from oslo_config import cfg
from oslo_log import log as logging
from oslo_messaging import opts as om_opts

import neutron.plugins.ml2.drivers.openvswitch.agent.main  # noqa: F401 (imports [OVS], as the agent)
from neutron.agent.l2 import l2_agent_extensions_manager
from neutron.common import config as common_config
from neutron.conf import service as service_conf
from neutron.plugins.ml2.drivers.openvswitch.agent import ovs_neutron_agent  # noqa: F401

common_config.register_common_config_options()
l2_agent_extensions_manager.register_opts(cfg.CONF)
service_conf.register_service_opts(service_conf.RPC_EXTRA_OPTS, cfg.CONF)
logging.register_options(cfg.CONF)
# The rabbit driver's, the notifier's and the transport's options (oslo.messaging registers them when it loads them).
for group, opts in om_opts.list_opts():
    if group in (None, 'oslo_messaging_rabbit', 'oslo_messaging_notifications'):
        for o in opts:
            try:
                cfg.CONF.register_opt(o, group=group)
            except cfg.DuplicateOptError:
                pass

GROUPS = ('DEFAULT', 'ovs', 'agent', 'securitygroup', 'dhcp', 'network_log', 'local_ip',
          'oslo_messaging_rabbit', 'oslo_messaging_notifications')


def registered():
    yield 'DEFAULT', cfg.CONF._opts
    for name, group in cfg.CONF._groups.items():
        if name.lower() in GROUPS:
            yield name, group._opts


# Listed by oslo-config-generator for the agent's files (Debian's openvswitch_agent.ini and the sections
# of neutron.conf the agent reads), though registered only when a driver or extension loads them.
NAMESPACES = ('neutron.ml2.ovs.agent', 'neutron.agent', 'neutron.base.agent', 'neutron.az.agent', 'oslo.log', 'oslo.messaging')

args = sys.argv[1:]
if args and args[0] == '--list':
    from oslo_config import generator
    out = {}
    for _, groups in generator._list_opts(NAMESPACES):
        for group, opts in groups:
            gname = group if isinstance(group, str) else (group.name if group else 'DEFAULT')
            gname = gname if gname == 'DEFAULT' else gname.lower()
            if gname not in GROUPS:
                continue
            for opt in opts:
                out['%s.%s' % (gname, opt.dest)] = [[(d.group or gname), d.name or opt.dest] for d in opt.deprecated_opts]
    for gname, opts in registered():
        for name, info in opts.items():
            opt = info['opt']
            if getattr(opt, 'positional', False) or name in ('config_file', 'config_dir'):
                continue
            group = gname.lower() if gname != 'DEFAULT' else gname
            # A DeprecatedOpt without a group is in the option's own group (oslo.config's Opt._get_deprecated_names).
            out['%s.%s' % (group, name)] = [[(d.group or group), d.name or name] for d in opt.deprecated_opts]
    json.dump(out, sys.stdout)
    sys.exit(0)

cfg.CONF(args, project='neutron', default_config_files=[], default_config_dirs=[])
out = {}
for gname, opts in registered():
    grp = cfg.CONF if gname == 'DEFAULT' else getattr(cfg.CONF, gname)
    for name in opts:
        try:
            value = getattr(grp, name)
        except Exception as e:  # noqa: BLE001 (the error is the answer)
            value = {'error': '%s: %s' % (type(e).__name__, e)}
        out['%s.%s' % (gname.lower() if gname != 'DEFAULT' else gname, name)] = value
json.dump(out, sys.stdout, default=str)
