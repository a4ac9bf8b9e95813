#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need, when missing.
#
# Each line of NEEDS is "PACKAGE PROBE": the probe is a command or a file whose
# presence means the package is already there, so a machine that has
# everything pays nothing (no apt-get update). Set OVS_AGENT_SKIP_SYSTEM_DEPS=1
# to only check, never install.
set -euo pipefail

NEEDS=(
  "openvswitch-switch ovs-vswitchd"
  "openvswitch-switch ovsdb-server"
  "openvswitch-common ovs-ofctl"
  "openvswitch-common ovsdb-tool"
  "iproute2 ip"
  "tshark tshark"
  "iperf3 iperf3"
  "tcpdump tcpdump"
  "python3-openvswitch /usr/lib/python3/dist-packages/ovs/db/idl.py"
  "ovn-central /usr/share/ovn/ovn-nb.ovsschema"
  "python3-neutron /usr/lib/python3/dist-packages/neutron/agent/linux/openvswitch_firewall/firewall.py"
  "iputils-ping ping"
  "ethtool ethtool"
  "socat socat"
  "iptables /usr/sbin/iptables-restore"
  "ipset /usr/sbin/ipset"
  "conntrack /usr/sbin/conntrack"
  "nftables /usr/sbin/nft"
  "rabbitmq-server /usr/lib/rabbitmq/bin/rabbitmq-server"
  "postgresql-15 /usr/lib/postgresql/15/bin/postgres"
  "postgresql-client-15 /usr/lib/postgresql/15/bin/psql"
  "neutron-server /usr/bin/neutron-server"
  "python3-psycopg2 /usr/lib/python3/dist-packages/psycopg2/__init__.py"
  "neutron-openvswitch-agent /usr/bin/neutron-openvswitch-agent"
  "python3-os-ken /usr/bin/osken-manager"
  "python3 python3"
  "groff-base groff"
  "man-db man"
  "systemd systemd-analyze"
  "zsh zsh"
  "prometheus promtool"
)

have() {
  case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for entry in "${NEEDS[@]}"; do
  pkg=${entry%% *}
  probe=${entry#* }
  if ! have "$probe"; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

say() { printf 'install-system-deps: %s\n' "$*" >&2; }

if [ "${OVS_AGENT_SKIP_SYSTEM_DEPS:-}" = 1 ]; then
  say "missing Debian packages: ${missing[*]} (OVS_AGENT_SKIP_SYSTEM_DEPS=1, not installing)"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "missing Debian packages: ${missing[*]}"
  say "not root: run 'sudo apt-get install -y ${missing[*]}' and try again"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "missing packages: ${missing[*]}; no apt-get here, install their equivalents by hand"
  exit 1
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# rabbitmq-server, postgresql and neutron-server start their system services
# from postinst; the tests run private instances instead (testing/neutron-env.ts),
# so forbid service starts during the install unless a policy already exists.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by ovs-agent scripts/install-system-deps.sh for the install only\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
  trap '[ -n "$own_policy" ] && rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
say "done"
