/**
 * Security group info from the cache, as Neutron's SecurityGroupServerAPIShim
 * computes it (docs/neutron.md, "Security group information"): the rules of the ports' groups, whether each
 * group is stateful, and the member addresses of every group or address
 * group a rule names as its remote.
 */
import type { SecurityGroupInfo, SecurityGroupRule } from '../types.js';
import type { ResourceCache } from './resource-cache.js';

type Members = SecurityGroupInfo['members'][string];

export async function securityGroupInfo(cache: ResourceCache, devices: readonly string[]): Promise<SecurityGroupInfo> {
  const ports = await cache.getMany('Port', devices);
  const sgIds = new Set<string>();
  for (const port of ports.values()) for (const sg of port.securityGroupIds) sgIds.add(sg);
  return groupsInfo(cache, [...sgIds]);
}

/**
 * Fills the cache with what securityGroupInfo will need for these groups
 * (the same queries, so the later call finds them answered or in flight).
 */
export async function warmSecurityGroups(cache: ResourceCache, groupIds: readonly string[]): Promise<void> {
  await groupsInfo(cache, groupIds);
}

/**
 * The groups among `groupIds` whose info securityGroupInfo could not give
 * from the cache without waiting for the server (rules, statefulness, the
 * members of remote groups and address groups their rules name).
 */
export function unansweredGroups(cache: ResourceCache, groupIds: readonly string[]): Set<string> {
  const out = new Set<string>();
  const wanted = new Set<string>();
  for (const id of groupIds) {
    if (cache.answered('SecurityGroupRule', 'security_group_id', id) && cache.answered('SecurityGroup', 'id', id)) wanted.add(id);
    else out.add(id);
  }
  if (wanted.size === 0) return out;
  for (const rule of cache.values('SecurityGroupRule')) {
    if (!wanted.has(rule.securityGroupId)) continue;
    if ((rule.remoteGroupId !== undefined && !cache.answered('Port', 'security_group_ids', rule.remoteGroupId)) ||
        (rule.remoteAddressGroupId !== undefined && !cache.answered('AddressGroup', 'id', rule.remoteAddressGroupId))) {
      out.add(rule.securityGroupId);
    }
  }
  return out;
}

async function groupsInfo(cache: ResourceCache, groupIds: readonly string[]): Promise<SecurityGroupInfo> {

  const [rules, groups] = await Promise.all([
    cache.find('SecurityGroupRule', 'security_group_id', groupIds, (r, v) => r.securityGroupId === v),
    cache.getMany('SecurityGroup', groupIds),
  ]);

  const info: SecurityGroupInfo = { rules: {}, stateful: {}, members: {} };
  const remoteGroups = new Map<string, Set<'IPv4' | 'IPv6'>>();
  const remoteAddressGroups = new Map<string, Set<'IPv4' | 'IPv6'>>();
  for (const id of groupIds) {
    info.rules[id] = [];
    info.stateful[id] = groups.get(id)?.stateful ?? true;
  }
  for (const r of rules) {
    const rule: SecurityGroupRule = { id: r.id, securityGroupId: r.securityGroupId, direction: r.direction, ethertype: r.ethertype };
    if (r.protocol !== undefined) rule.protocol = r.protocol;
    if (r.portRangeMin !== undefined) rule.portRangeMin = r.portRangeMin;
    if (r.portRangeMax !== undefined) rule.portRangeMax = r.portRangeMax;
    if (r.remoteIpPrefix !== undefined) rule.remoteIpPrefix = r.remoteIpPrefix;
    if (r.remoteGroupId !== undefined) {
      rule.remoteGroupId = r.remoteGroupId;
      addEthertype(remoteGroups, r.remoteGroupId, r.ethertype);
    } else if (r.remoteAddressGroupId !== undefined) {
      rule.remoteAddressGroupId = r.remoteAddressGroupId;
      addEthertype(remoteAddressGroups, r.remoteAddressGroupId, r.ethertype);
    }
    info.rules[r.securityGroupId].push(rule);
  }

  if (remoteGroups.size > 0) {
    const ids = [...remoteGroups.keys()];
    for (const id of ids) info.members[id] = { IPv4: [], IPv6: [] };
    const seen = new Set<string>();
    const members = await cache.find('Port', 'security_group_ids', ids, (p, v) => p.securityGroupIds.includes(v));
    for (const p of members) {
      const addrs: Array<[string, string]> = [
        ...p.fixedIps.map((f): [string, string] => [f.ipAddress, p.macAddress]),
        ...p.allowedAddressPairs.map((a): [string, string] => [a.ipAddress, a.macAddress]),
      ];
      for (const sg of p.securityGroupIds) {
        const wanted = remoteGroups.get(sg);
        if (!wanted) continue;
        for (const [ip, mac] of addrs) addMember(info.members[sg], wanted, ip, mac, seen, sg);
      }
    }
  }
  if (remoteAddressGroups.size > 0) {
    const ids = [...remoteAddressGroups.keys()];
    const ags = await cache.getMany('AddressGroup', ids);
    const seen = new Set<string>();
    for (const id of ids) {
      info.members[id] = { IPv4: [], IPv6: [] };
      for (const address of ags.get(id)?.addresses ?? []) addMember(info.members[id], remoteAddressGroups.get(id)!, address, null, seen, id);
    }
  }
  return info;
}

function addEthertype(map: Map<string, Set<'IPv4' | 'IPv6'>>, id: string, ethertype: 'IPv4' | 'IPv6'): void {
  let set = map.get(id);
  if (!set) map.set(id, (set = new Set()));
  set.add(ethertype);
}

function addMember(members: Members, wanted: Set<'IPv4' | 'IPv6'>, ip: string, mac: string | null, seen: Set<string>, group: string): void {
  // Only ethertypes some rule refers to appear (as Neutron); duplicates once.
  const ethertype = ip.includes(':') ? 'IPv6' : 'IPv4';
  if (!wanted.has(ethertype)) return;
  const key = `${group}|${ip}|${mac}`;
  if (seen.has(key)) return;
  seen.add(key);
  members[ethertype].push([ip, mac]);
}
