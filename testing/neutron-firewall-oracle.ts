/**
 * Runs Neutron's own openvswitch firewall driver (python3-neutron, on a fake
 * bridge in neutron_firewall_oracle.py, next to this file) on a scenario
 * expressed in our types: the firewall specs' oracle and the firewall
 * benchmark's peer, so it lives here rather than in spec/ or bench/.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SecurityGroupInfo, SecurityGroupRule } from '../lib/control-plane/types.js';
import type { FirewallPort } from '../lib/firewall/index.js';

export const ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'neutron_firewall_oracle.py');
/** Debian's python3 carries python3-neutron; a pyenv python on PATH would not. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export function neutronRule(r: SecurityGroupRule): Record<string, unknown> {
  const out: Record<string, unknown> = { direction: r.direction, ethertype: r.ethertype };
  if (r.protocol !== undefined) out.protocol = r.protocol;
  if (r.portRangeMin !== undefined) out.port_range_min = r.portRangeMin;
  if (r.portRangeMax !== undefined) out.port_range_max = r.portRangeMax;
  if (r.remoteIpPrefix !== undefined) out[r.direction === 'ingress' ? 'source_ip_prefix' : 'dest_ip_prefix'] = r.remoteIpPrefix;
  if (r.remoteGroupId !== undefined) out.remote_group_id = r.remoteGroupId;
  if (r.remoteAddressGroupId !== undefined) out.remote_address_group_id = r.remoteAddressGroupId;
  return out;
}

export function neutronPort(p: FirewallPort): Record<string, unknown> {
  return {
    device: p.portId,
    ofport: p.ofport,
    lvid: p.lvid,
    mac: p.macAddress,
    fixed_ips: p.fixedIps,
    allowed_address_pairs: p.allowedAddressPairs.map((a) => ({ mac_address: a.macAddress, ip_address: a.ipAddress })),
    security_groups: p.securityGroups,
    port_security_enabled: p.portSecurityEnabled,
    network_type: p.networkType,
    segmentation_id: p.segmentationId ?? null,
  };
}

export interface OracleStep {
  info?: SecurityGroupInfo;
  updatePorts?: string[];
}

export interface OracleResult {
  initial: string[];
  steps: string[][];
  seconds: { initial: number; steps: number[] };
}

function rulesOf(info: SecurityGroupInfo): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries(info.rules).map(([sg, rules]) => [sg, rules.map(neutronRule)]));
}

export function runNeutron(ports: FirewallPort[], info: SecurityGroupInfo, steps: OracleStep[] = []): OracleResult {
  const scenario = {
    ports: ports.map(neutronPort),
    rules: rulesOf(info),
    members: info.members,
    steps: steps.map((s) => ({ rules: s.info ? rulesOf(s.info) : {}, members: s.info?.members ?? {}, update_ports: s.updatePorts ?? [] })),
  };
  const out = execFileSync(SYSTEM_PYTHON, [ORACLE], { input: JSON.stringify(scenario), encoding: 'utf8', maxBuffer: 1 << 30 });
  return JSON.parse(out) as OracleResult;
}

/** Neutron's ovs-ofctl lines as `add-flows` file lines (del → delete, del --strict → delete_strict, mod → modify). */
export function asOfctlFile(lines: readonly string[]): string {
  return (
    lines
      .map((l) => l.replace(/^del --strict /, 'delete_strict ').replace(/^del /, 'delete ').replace(/^mod --strict /, 'modify_strict ').replace(/^mod /, 'modify '))
      .join('\n') + '\n'
  );
}
