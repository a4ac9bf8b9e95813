/**
 * Neutron's oslo.versionedobjects primitives (docs/neutron.md, "Versioned
 * objects and the resource cache"), decoded into
 * the few fields an L2 agent uses. Anything else in the object is dropped
 * here, so the cache stays small even though the server pushes every port of
 * the cloud to every agent.
 */
import type { AddressPair, FixedIp, NetworkType } from '../types.js';
import type { QosRule, SecurityGroupRule } from '../../model/index.js';
import { decodeError } from './errors.js';
import { isObject } from './envelope.js';

/** The OVO versions the agent reports, as the 21.0.0 agent does (docs/neutron.md, "Versioned objects and the resource cache"). */
export const RESOURCE_VERSIONS = {
  QosPolicy: '1.10',
  Trunk: '1.1',
  SubPort: '1.0',
  Port: '1.7',
  Subnet: '1.1',
  Network: '1.1',
  SecurityGroup: '1.5',
  SecurityGroupRule: '1.2',
  Log: '1.0',
  PortForwarding: '1.3',
  ConntrackHelper: '1.0',
  AddressGroup: '1.2',
  LocalIPAssociation: '1.0',
  NDPProxy: '1.0',
  Agent: '1.1',
} as const;

/** The types the L2 cache keeps (the 21.0.0 agent also watches Subnet, which L2 wiring never reads). */
export const CACHED_TYPES = ['Port', 'Network', 'SecurityGroup', 'SecurityGroupRule', 'AddressGroup', 'QosPolicy'] as const;
export type CachedType = (typeof CACHED_TYPES)[number];

export interface PortBinding {
  host: string;
  status: string;
  profile: Record<string, unknown>;
  vifType: string;
  vnicType: string;
}

export interface Segment {
  networkType: NetworkType;
  segmentationId?: number;
  physicalNetwork?: string;
}

export interface PortObject {
  kind: 'Port';
  id: string;
  revision: number;
  networkId: string;
  macAddress: string;
  adminStateUp: boolean;
  status: string;
  deviceId: string;
  deviceOwner: string;
  fixedIps: FixedIp[];
  allowedAddressPairs: AddressPair[];
  portSecurityEnabled: boolean;
  securityGroupIds: string[];
  bindings: PortBinding[];
  /** The segment of the last binding level: where the port is bound. */
  segment: Segment | undefined;
  /** Its own QoS policy. */
  qosPolicyId?: string;
}

export interface NetworkObject {
  kind: 'Network';
  id: string;
  revision: number;
  mtu: number | undefined;
  adminStateUp: boolean;
  qosPolicyId?: string;
}

/** A QoS policy with its rules (docs/qos.md); rules of types this agent does not know are dropped. */
export interface QosPolicyObject {
  kind: 'QosPolicy';
  id: string;
  revision: number;
  rules: QosRule[];
}

export interface SecurityGroupObject {
  kind: 'SecurityGroup';
  id: string;
  revision: number;
  stateful: boolean;
  /** Rules embedded in the push (the server sends no separate rule pushes on SG create). */
  rules: RuleObject[];
}

/** The rule as the firewall needs it (lib/model), with the object's identity; remoteIpPrefix is normalized_cidr, else remote_ip_prefix. */
export interface RuleObject extends SecurityGroupRule {
  kind: 'SecurityGroupRule';
  id: string;
  revision: number;
}

export interface AddressGroupObject {
  kind: 'AddressGroup';
  id: string;
  revision: number;
  addresses: string[];
}

export type ResourceObject = PortObject | NetworkObject | SecurityGroupObject | RuleObject | AddressGroupObject | QosPolicyObject;

interface Primitive {
  name: string;
  data: Record<string, unknown>;
}

function primitive(value: unknown, where: string): Primitive {
  if (!isObject(value)) throw decodeError(`${where}: not a versioned object`);
  const name = value['versioned_object.name'];
  const data = value['versioned_object.data'];
  if (typeof name !== 'string' || !isObject(data)) throw decodeError(`${where}: not a versioned object (no name or data)`);
  return { name, data };
}

/** The data of a nested object, or undefined when the field is null/absent. */
function nested(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  return primitive(value, where).data;
}

function list(value: unknown, where: string): unknown[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw decodeError(`${where}: expected a list`);
  return value;
}

function str(value: unknown, where: string): string {
  if (typeof value !== 'string') throw decodeError(`${where}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function optStr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optNum(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Any netaddr MAC spelling (`FA-16-3E-…`, `fa16.3e…`) → `fa:16:3e:00:00:01`. */
export function normalizeMac(mac: string): string {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  if (hex.length !== 12) return mac.toLowerCase();
  return hex.match(/../g)!.join(':');
}

function parseProfile(value: unknown): Record<string, unknown> {
  if (isObject(value)) return value;
  if (typeof value === 'string' && value !== '') {
    try {
      const parsed: unknown = JSON.parse(value);
      return isObject(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  return {};
}

/** Decodes one primitive of a cached type; throws ERR_NEUTRON_DECODE naming the object. */
export function decodeResource(value: unknown): ResourceObject {
  const { name, data } = primitive(value, 'resource');
  const id = str(data.id, `${name}.id`);
  const where = `${name} ${id}`;
  const revision = optNum(data.revision_number) ?? 0;
  switch (name) {
    case 'Port':
      return decodePort(id, revision, data, where);
    case 'Network':
      return {
        kind: 'Network',
        id,
        revision,
        mtu: optNum(data.mtu),
        adminStateUp: data.admin_state_up !== false,
        ...(optStr(data.qos_policy_id) ? { qosPolicyId: optStr(data.qos_policy_id) } : {}),
      };
    case 'QosPolicy':
      return { kind: 'QosPolicy', id, revision, rules: list(data.rules, `${where} rules`).flatMap((r) => qosRule(primitive(r, `${where} rule`), where)) };
    case 'SecurityGroup':
      return {
        kind: 'SecurityGroup',
        id,
        revision,
        stateful: data.stateful !== false,
        rules: list(data.rules, `${where} rules`).map((r) => decodeRule(primitive(r, `${where} rule`).data, `${where} rule`)),
      };
    case 'SecurityGroupRule':
      return decodeRule(data, where);
    case 'AddressGroup':
      return {
        kind: 'AddressGroup',
        id,
        revision,
        addresses: list(data.addresses, `${where} addresses`).map((a) =>
          str(primitive(a, `${where} address`).data.address, `${where} address`),
        ),
      };
    default:
      throw decodeError(`${where}: resource type ${name} is not cached`);
  }
}

function decodePort(id: string, revision: number, data: Record<string, unknown>, where: string): PortObject {
  const bindings = list(data.bindings, `${where} bindings`).map((b): PortBinding => {
    const d = primitive(b, `${where} binding`).data;
    return {
      host: typeof d.host === 'string' ? d.host : '',
      status: typeof d.status === 'string' ? d.status : '',
      profile: parseProfile(d.profile),
      vifType: typeof d.vif_type === 'string' ? d.vif_type : '',
      vnicType: typeof d.vnic_type === 'string' ? d.vnic_type : 'normal',
    };
  });
  const levels = list(data.binding_levels, `${where} binding_levels`);
  let segment: Segment | undefined;
  if (levels.length > 0) {
    // The agent wires the port on the segment of the deepest level (hierarchical binding).
    const sorted = levels.map((l) => primitive(l, `${where} binding level`).data).sort((a, b) => Number(a.level ?? 0) - Number(b.level ?? 0));
    const seg = nested(sorted[sorted.length - 1].segment, `${where} segment`);
    if (seg) {
      segment = {
        networkType: str(seg.network_type, `${where} segment network_type`) as Segment['networkType'],
        segmentationId: optNum(seg.segmentation_id),
        physicalNetwork: optStr(seg.physical_network),
      };
    }
  }
  const security = nested(data.security, `${where} security`);
  return {
    kind: 'Port',
    id,
    revision,
    networkId: str(data.network_id, `${where} network_id`),
    macAddress: normalizeMac(str(data.mac_address, `${where} mac_address`)),
    adminStateUp: data.admin_state_up !== false,
    status: typeof data.status === 'string' ? data.status : '',
    deviceId: typeof data.device_id === 'string' ? data.device_id : '',
    deviceOwner: typeof data.device_owner === 'string' ? data.device_owner : '',
    fixedIps: list(data.fixed_ips, `${where} fixed_ips`).map((f) => {
      const d = primitive(f, `${where} fixed ip`).data;
      return { subnetId: str(d.subnet_id, `${where} fixed ip subnet_id`), ipAddress: str(d.ip_address, `${where} fixed ip`) };
    }),
    allowedAddressPairs: list(data.allowed_address_pairs, `${where} allowed_address_pairs`).map((a) => {
      const d = primitive(a, `${where} address pair`).data;
      return { macAddress: normalizeMac(str(d.mac_address, `${where} pair mac`)), ipAddress: str(d.ip_address, `${where} pair ip`) };
    }),
    portSecurityEnabled: security ? security.port_security_enabled !== false : true,
    securityGroupIds: list(data.security_group_ids, `${where} security_group_ids`).map((s) => str(s, `${where} security group id`)),
    bindings,
    segment,
    ...(optStr(data.qos_policy_id) ? { qosPolicyId: optStr(data.qos_policy_id) } : {}),
  };
}

/** One rule of a QosPolicy (QosBandwidthLimitRule…, fields as Neutron's); an unknown rule type is kept as unsupported, to be warned. */
function qosRule({ name, data: d }: Primitive, where: string): QosRule[] {
  const id = str(d.id, `${where} rule id`);
  const n = (v: unknown): number => optNum(v) ?? 0;
  const dir = d.direction === 'ingress' ? 'ingress' : 'egress';
  switch (name) {
    case 'QosBandwidthLimitRule': return [{ type: 'bandwidth_limit', id, maxKbps: n(d.max_kbps), maxBurstKbps: n(d.max_burst_kbps), direction: dir }];
    case 'QosDscpMarkingRule': return [{ type: 'dscp_marking', id, dscpMark: n(d.dscp_mark) }];
    case 'QosMinimumBandwidthRule': return [{ type: 'minimum_bandwidth', id, minKbps: n(d.min_kbps), direction: dir }];
    case 'QosPacketRateLimitRule': return [{ type: 'packet_rate_limit', id, maxKpps: n(d.max_kpps), maxBurstKpps: n(d.max_burst_kpps), direction: dir }];
    case 'QosMinimumPacketRateRule': return [{ type: 'minimum_packet_rate', id, minKpps: n(d.min_kpps), direction: d.direction === 'any' ? 'any' : dir }];
    default: return [{ type: 'unsupported', id, objectName: name }];
  }
}

function decodeRule(data: Record<string, unknown>, where: string): RuleObject {
  const direction = data.direction;
  if (direction !== 'ingress' && direction !== 'egress') throw decodeError(`${where}: bad direction ${JSON.stringify(direction)}`);
  const ethertype = data.ethertype;
  if (ethertype !== 'IPv4' && ethertype !== 'IPv6') throw decodeError(`${where}: bad ethertype ${JSON.stringify(ethertype)}`);
  const protocol = data.protocol;
  return {
    kind: 'SecurityGroupRule',
    id: str(data.id, `${where} id`),
    revision: optNum(data.revision_number) ?? 0,
    securityGroupId: str(data.security_group_id, `${where} security_group_id`),
    direction,
    ethertype,
    protocol: typeof protocol === 'number' ? String(protocol) : optStr(protocol),
    portRangeMin: optNum(data.port_range_min),
    portRangeMax: optNum(data.port_range_max),
    remoteIpPrefix: optStr(data.normalized_cidr) ?? optStr(data.remote_ip_prefix),
    remoteGroupId: optStr(data.remote_group_id),
    remoteAddressGroupId: optStr(data.remote_address_group_id),
  };
}

/** The delete payload only promises `id`. */
export function decodeDeletedId(value: unknown): { type: string; id: string } {
  const { name, data } = primitive(value, 'deleted resource');
  return { type: name, id: str(data.id, `${name}.id`) };
}
