/**
 * Runs Neutron's own OVSHybridIptablesFirewallDriver (python3-neutron, in
 * neutron_iptables_oracle.py next to this file) on a scenario in our types:
 * the iptables_hybrid driver's oracle and the firewall benchmark's peer.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SecurityGroupInfo, SecurityGroupRule } from '../lib/control-plane/types.js';
import type { HybridPort } from '../lib/firewall/iptables/index.js';
import { SYSTEM_PYTHON } from './neutron-firewall-oracle.js';

export const IPTABLES_ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'neutron_iptables_oracle.py');

export function neutronRule(r: SecurityGroupRule, stateful = true): Record<string, unknown> {
  const out: Record<string, unknown> = { direction: r.direction, ethertype: r.ethertype, stateful, security_group_id: r.securityGroupId };
  if (r.protocol !== undefined) out.protocol = r.protocol;
  if (r.portRangeMin !== undefined) out.port_range_min = r.portRangeMin;
  if (r.portRangeMax !== undefined) out.port_range_max = r.portRangeMax;
  if (r.remoteIpPrefix !== undefined) out[r.direction === 'ingress' ? 'source_ip_prefix' : 'dest_ip_prefix'] = r.remoteIpPrefix;
  if (r.remoteGroupId !== undefined) out.remote_group_id = r.remoteGroupId;
  return out;
}

export function neutronPort(p: HybridPort): Record<string, unknown> {
  return {
    device: p.portId,
    mac_address: p.macAddress,
    fixed_ips: p.fixedIps,
    allowed_address_pairs: p.allowedAddressPairs.map((a) => ({ mac_address: a.macAddress || p.macAddress, ip_address: a.ipAddress })),
    security_groups: p.securityGroups,
    port_security_enabled: p.portSecurityEnabled,
    device_owner: p.deviceOwner ?? 'compute:nova',
    network_id: 'net',
  };
}

/** Members as the server sends them: only the ethertypes some rule of some group names the group for. */
function membersOf(info: SecurityGroupInfo): Record<string, Record<string, unknown>> {
  const wanted = new Map<string, Set<string>>();
  for (const rules of Object.values(info.rules)) {
    for (const r of rules) if (r.remoteGroupId) (wanted.get(r.remoteGroupId) ?? wanted.set(r.remoteGroupId, new Set()).get(r.remoteGroupId)!).add(r.ethertype);
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const [sg, m] of Object.entries(info.members)) {
    const w = wanted.get(sg);
    if (!w) continue;
    out[sg] = Object.fromEntries([...w].map((e) => [e, m[e as 'IPv4' | 'IPv6'] ?? []]));
  }
  return out;
}

function rulesOf(info: SecurityGroupInfo): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries(info.rules).map(([sg, rules]) => [sg, rules.map((r) => neutronRule(r, info.stateful[sg] !== false))]));
}

export interface IptablesOracleStep {
  info?: SecurityGroupInfo;
  updatePorts?: HybridPort[];
  removePorts?: string[];
}

export interface OracleCommand {
  cmd: string[];
  input: string | null;
}

export interface IptablesOracleResult {
  applies: OracleCommand[][];
  seconds: number[];
  exec_seconds: number[];
}

export function runNeutronIptables(ports: HybridPort[], info: SecurityGroupInfo, steps: IptablesOracleStep[] = [],
  mode: { netns?: string } = {}): IptablesOracleResult {
  const scenario = {
    mode: mode.netns ? 'netns' : 'capture',
    namespace: mode.netns,
    ports: ports.map(neutronPort),
    rules: rulesOf(info),
    members: membersOf(info),
    steps: steps.map((s) => ({
      rules: s.info ? rulesOf(s.info) : {}, members: s.info ? membersOf(s.info) : {},
      update_ports: (s.updatePorts ?? []).map(neutronPort), remove_ports: s.removePorts ?? [],
    })),
  };
  const out = execFileSync(SYSTEM_PYTHON, [IPTABLES_ORACLE], { input: JSON.stringify(scenario), encoding: 'utf8', maxBuffer: 1 << 30 });
  return JSON.parse(out) as IptablesOracleResult;
}

/**
 * The tables an iptables-restore input built on an empty host leaves
 * (`:chain` declarations and `-I chain N rule` lines), per table:
 * chain → rules.
 */
export function tablesFromRestore(input: string): Map<string, Map<string, string[]>> {
  const tables = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  for (const line of input.split('\n')) {
    if (line.startsWith('*')) tables.set(line.slice(1), (cur = new Map()));
    else if (line.startsWith(':')) cur!.set(line.slice(1).split(' ')[0], []);
    else if (line.startsWith('-I ')) {
      const m = /^-I (\S+) (\d+) (.*)$/.exec(line)!;
      const rules = cur!.get(m[1]) ?? cur!.set(m[1], []).get(m[1])!;
      rules.splice(Number(m[2]) - 1, 0, m[3]);
    }
  }
  return tables;
}
