/**
 * The security-group part of the local control plane's desired-state file,
 * and Neutron's `security_group_info_for_ports` computed from it.
 *
 *   "securityGroups": {
 *     "web": { "stateful": true, "rules": [
 *       { "id": "ssh", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "portRangeMin": 22, "portRangeMax": 22,
 *         "remoteIpPrefix": "10.0.0.0/8" },
 *       { "direction": "ingress", "ethertype": "IPv4", "remoteGroupId": "web" } ] } },
 *   "addressGroups": { "office": ["192.0.2.0/24", "2001:db8::/64"] }
 */
import type { SecurityGroupInfo, SecurityGroupRule } from '../../model/index.js';
import { ipVersion, normalizeCidr } from '../../firewall/addresses.js';
import { normalizeProtocol } from '../../firewall/rules.js';
import { StateFileError } from './state-file.js';

export interface LocalSecurityGroup {
  id: string;
  stateful: boolean;
  rules: SecurityGroupRule[];
}

/** A port as far as group membership goes. */
export interface MemberPort {
  id: string;
  mac: string;
  fixedIps: ReadonlyArray<{ ipAddress: string }>;
  allowedAddressPairs: ReadonlyArray<{ macAddress: string; ipAddress: string }>;
  securityGroups: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function portNumber(v: unknown, path: string, file: string, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new StateFileError(file, path, `must be an integer in 0..${max}`);
  return v;
}

/** Parses `securityGroups`; every problem names its path (`securityGroups.web.rules[2].protocol`). */
export function parseSecurityGroups(json: unknown, file: string): Map<string, LocalSecurityGroup> {
  const out = new Map<string, LocalSecurityGroup>();
  if (json === undefined) return out;
  if (!isObj(json)) throw new StateFileError(file, 'securityGroups', 'must be an object of security group id → { rules }');
  for (const [id, g] of Object.entries(json)) {
    const path = `securityGroups.${id}`;
    if (!isObj(g)) throw new StateFileError(file, path, 'must be an object with "rules"');
    const stateful = g.stateful ?? true;
    if (typeof stateful !== 'boolean') throw new StateFileError(file, `${path}.stateful`, 'must be true or false');
    const rulesJson = g.rules ?? [];
    if (!Array.isArray(rulesJson)) throw new StateFileError(file, `${path}.rules`, 'must be an array');
    const rules = rulesJson.map((r, i): SecurityGroupRule => {
      const rp = `${path}.rules[${i}]`;
      if (!isObj(r)) throw new StateFileError(file, rp, 'must be an object');
      const direction = r.direction;
      if (direction !== 'ingress' && direction !== 'egress') throw new StateFileError(file, `${rp}.direction`, 'must be "ingress" or "egress"');
      const ethertype = r.ethertype ?? 'IPv4';
      if (ethertype !== 'IPv4' && ethertype !== 'IPv6') throw new StateFileError(file, `${rp}.ethertype`, 'must be "IPv4" or "IPv6"');
      const rule: SecurityGroupRule = { securityGroupId: id, direction, ethertype };
      if (r.id !== undefined) {
        if (typeof r.id !== 'string' || r.id === '') throw new StateFileError(file, `${rp}.id`, 'must be a non-empty string');
        rule.id = r.id;
      }
      if (r.protocol !== undefined && r.protocol !== null) {
        const p = typeof r.protocol === 'number' ? String(r.protocol) : r.protocol;
        if (typeof p !== 'string') throw new StateFileError(file, `${rp}.protocol`, 'must be a protocol name or number');
        try {
          normalizeProtocol(p, ethertype);
        } catch (err) {
          throw new StateFileError(file, `${rp}.protocol`, (err as Error).message);
        }
        rule.protocol = p;
      }
      const isIcmp = rule.protocol !== undefined && ['1', '58', 'icmp', 'icmpv6', 'ipv6-icmp'].includes(rule.protocol.toLowerCase());
      const min = portNumber(r.portRangeMin, `${rp}.portRangeMin`, file, isIcmp ? 255 : 65535);
      const max = portNumber(r.portRangeMax, `${rp}.portRangeMax`, file, isIcmp ? 255 : 65535);
      if (!isIcmp && min !== undefined && max !== undefined && min > max) throw new StateFileError(file, `${rp}.portRangeMax`, 'must not be below portRangeMin');
      if (min !== undefined) rule.portRangeMin = min;
      if (max !== undefined) rule.portRangeMax = max;
      if (r.remoteIpPrefix !== undefined && r.remoteIpPrefix !== null) {
        if (typeof r.remoteIpPrefix !== 'string') throw new StateFileError(file, `${rp}.remoteIpPrefix`, 'must be a CIDR string');
        try {
          if ((ipVersion(r.remoteIpPrefix) === 4 ? 'IPv4' : 'IPv6') !== ethertype) throw new Error(`is not an ${ethertype} prefix`);
          normalizeCidr(r.remoteIpPrefix);
        } catch (err) {
          throw new StateFileError(file, `${rp}.remoteIpPrefix`, (err as Error).message);
        }
        rule.remoteIpPrefix = r.remoteIpPrefix;
      }
      const remotes = (['remoteGroupId', 'remoteAddressGroupId'] as const).filter((k) => r[k] !== undefined && r[k] !== null);
      if (remotes.length + (rule.remoteIpPrefix ? 1 : 0) > 1) {
        throw new StateFileError(file, rp, 'only one of remoteIpPrefix, remoteGroupId and remoteAddressGroupId may be set');
      }
      for (const k of remotes) {
        if (typeof r[k] !== 'string' || r[k] === '') throw new StateFileError(file, `${rp}.${k}`, 'must be a non-empty string');
        rule[k] = r[k] as string;
      }
      return rule;
    });
    out.set(id, { id, stateful, rules });
  }
  return out;
}

/** Parses `addressGroups`: id → list of CIDRs. */
export function parseAddressGroups(json: unknown, file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (json === undefined) return out;
  if (!isObj(json)) throw new StateFileError(file, 'addressGroups', 'must be an object of address group id → [CIDR, …]');
  for (const [id, list] of Object.entries(json)) {
    if (!Array.isArray(list)) throw new StateFileError(file, `addressGroups.${id}`, 'must be an array of CIDRs');
    out.set(
      id,
      list.map((c, i) => {
        try {
          if (typeof c !== 'string') throw new Error('must be a CIDR string');
          return normalizeCidr(c);
        } catch (err) {
          throw new StateFileError(file, `addressGroups.${id}[${i}]`, (err as Error).message);
        }
      }),
    );
  }
  return out;
}

/**
 * What Neutron's `security_group_info_for_ports` returns for `devices`: the
 * rules of their groups, and the member addresses of every group or address
 * group those rules name as remote (fixed IPs and allowed-address-pair IPs of
 * every port in the group, with the MAC; address-group CIDRs with no MAC),
 * only for the ethertypes the rules use.
 */
export function securityGroupInfoFor(
  devices: readonly MemberPort[],
  /** Iterated once per remote group the devices' rules name (not at all without remote groups). */
  allPorts: Iterable<MemberPort>,
  groups: ReadonlyMap<string, LocalSecurityGroup>,
  addressGroups: ReadonlyMap<string, readonly string[]> = new Map(),
): SecurityGroupInfo {
  const info: SecurityGroupInfo = { rules: {}, stateful: {}, members: {} };
  const remoteEthertypes = new Map<string, Set<'IPv4' | 'IPv6'>>();
  for (const d of devices) {
    for (const sgId of d.securityGroups) {
      if (sgId in info.rules) continue;
      const g = groups.get(sgId);
      info.rules[sgId] = g ? g.rules : [];
      info.stateful[sgId] = g?.stateful ?? true;
      for (const r of g?.rules ?? []) {
        const remote = r.remoteGroupId ?? r.remoteAddressGroupId;
        if (!remote) continue;
        let set = remoteEthertypes.get(remote);
        if (!set) {
          set = new Set();
          remoteEthertypes.set(remote, set);
        }
        set.add(r.ethertype);
      }
    }
  }
  for (const [remote, ethertypes] of remoteEthertypes) {
    const m: SecurityGroupInfo['members'][string] = { IPv4: [], IPv6: [] };
    const add = (ip: string, mac: string | null): void => {
      let v: 4 | 6;
      try {
        v = ipVersion(ip);
      } catch {
        return;
      }
      const e = v === 4 ? 'IPv4' : 'IPv6';
      if (ethertypes.has(e)) m[e].push([ip, mac]);
    };
    if (groups.has(remote) || !addressGroups.has(remote)) {
      for (const p of allPorts) {
        if (!p.securityGroups.includes(remote)) continue;
        for (const f of p.fixedIps) add(f.ipAddress, p.mac);
        for (const a of p.allowedAddressPairs) add(a.ipAddress, a.macAddress || p.mac);
      }
    }
    for (const c of addressGroups.get(remote) ?? []) add(c, null);
    info.members[remote] = m;
  }
  return info;
}
