/**
 * The local control plane's desired-state file: the networks and ports this
 * host should wire, as JSON. Parsed strictly: every problem names its path in
 * the document (`ports[2].mac`), and nothing of a bad file is used.
 *
 *   {
 *     "networks": [{ "id": "net-a", "type": "vlan", "segmentationId": 100, "physicalNetwork": "physnet1" }],
 *     "ports": [{ "id": "port-1", "mac": "fa:16:3e:00:00:01", "network": "net-a",
 *                 "adminStateUp": true, "fixedIps": [{ "ipAddress": "10.0.0.3" }] }],
 *     "tunnelEndpoints": [{ "ipAddress": "192.0.2.2", "type": "vxlan" }]
 *   }
 *
 * Keys this module does not know are kept in `extra` for extensions (the
 * firewall's security groups, l2pop's fdb entries) to read.
 */
import { isIP } from 'node:net';
import { NETWORK_TYPES, TUNNEL_TYPES, type NetworkType, type TunnelType } from '../../model/index.js';

export interface LocalNetwork {
  id: string;
  name?: string;
  type: NetworkType;
  segmentationId?: number;
  physicalNetwork?: string;
  mtu?: number;
  /** Its QoS policy (docs/qos.md). */
  qosPolicyId?: string;
}

export interface LocalPort {
  id: string;
  mac: string;
  network: string;
  adminStateUp: boolean;
  fixedIps: Array<{ subnetId: string; ipAddress: string }>;
  allowedAddressPairs: Array<{ macAddress: string; ipAddress: string }>;
  securityGroups: string[];
  portSecurityEnabled: boolean;
  deviceOwner: string;
  deviceId?: string;
  /** Its QoS policy (docs/qos.md). */
  qosPolicyId?: string;
}

export interface LocalTunnelEndpoint {
  ipAddress: string;
  type?: TunnelType;
  host?: string;
}

export interface DesiredState {
  networks: Map<string, LocalNetwork>;
  ports: Map<string, LocalPort>;
  tunnelEndpoints: LocalTunnelEndpoint[];
  /** Top-level keys of the file this module does not interpret. */
  extra: Record<string, unknown>;
}

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  readonly code = 'STATE_FILE_INVALID';
  constructor(readonly file: string, readonly path: string, detail: string) {
    super(`${file}: ${path ? `${path}: ` : ''}${detail}`);
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const SEGMENT_RANGE: Record<NetworkType, [number, number] | undefined> = {
  vlan: [1, 4094], vxlan: [1, 2 ** 24 - 1], geneve: [1, 2 ** 24 - 1], gre: [1, 2 ** 32 - 1], flat: undefined, local: undefined,
};

type Obj = Record<string, unknown>;

export function parseDesiredState(text: string, file: string): DesiredState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(file, '', `not valid JSON: ${(err as Error).message}`);
  }
  const fail = (path: string, detail: string): never => {
    throw new StateFileError(file, path, detail);
  };
  const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(doc)) fail('', 'the top level must be an object with "networks" and "ports"');
  const root = doc as Obj;
  const arr = (v: unknown, path: string): unknown[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(path, 'must be an array');
    return v as unknown[];
  };
  const str = (o: Obj, key: string, path: string, required = true): string | undefined => {
    const v = o[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '') fail(`${path}.${key}`, 'must be a non-empty string');
    return v as string;
  };

  const networks = new Map<string, LocalNetwork>();
  arr(root.networks, 'networks').forEach((n, i) => {
    const path = `networks[${i}]`;
    if (!isObj(n)) fail(path, 'must be an object');
    const o = n as Obj;
    const id = str(o, 'id', path)!;
    if (networks.has(id)) fail(`${path}.id`, `network ${id} appears twice`);
    const type = o.type as NetworkType;
    if (!(NETWORK_TYPES as readonly string[]).includes(type)) fail(`${path}.type`, `must be one of ${NETWORK_TYPES.join(', ')}`);
    const range = SEGMENT_RANGE[type];
    let segmentationId: number | undefined;
    if (range) {
      const s = o.segmentationId;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < range[0] || s > range[1]) {
        fail(`${path}.segmentationId`, `a ${type} network needs an integer in ${range[0]}..${range[1]}`);
      }
      segmentationId = s as number;
    }
    const physicalNetwork = str(o, 'physicalNetwork', path, type === 'flat' || type === 'vlan');
    const mtu = o.mtu;
    if (mtu !== undefined && (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68)) fail(`${path}.mtu`, 'must be an integer ≥ 68');
    networks.set(id, {
      id, type, segmentationId, physicalNetwork: type === 'flat' || type === 'vlan' ? physicalNetwork : undefined,
      name: typeof o.name === 'string' ? o.name : undefined, mtu: mtu as number | undefined,
      ...(o.qosPolicyId !== undefined ? { qosPolicyId: str(o, 'qosPolicyId', path)! } : {}),
    });
  });

  const ports = new Map<string, LocalPort>();
  const macs = new Map<string, string>();
  arr(root.ports, 'ports').forEach((p, i) => {
    const path = `ports[${i}]`;
    if (!isObj(p)) fail(path, 'must be an object');
    const o = p as Obj;
    const id = str(o, 'id', path)!;
    if (ports.has(id)) fail(`${path}.id`, `port ${id} appears twice`);
    const mac = str(o, 'mac', path)!.toLowerCase();
    if (!MAC.test(mac)) fail(`${path}.mac`, `${JSON.stringify(mac)} is not a MAC address like fa:16:3e:00:00:01`);
    const network = str(o, 'network', path)!;
    if (!networks.has(network)) fail(`${path}.network`, `no network with id ${JSON.stringify(network)}`);
    const macKey = `${network}/${mac}`;
    if (macs.has(macKey)) fail(`${path}.mac`, `${mac} is already used by port ${macs.get(macKey)} on network ${network}`);
    macs.set(macKey, id);
    const admin = o.adminStateUp ?? true;
    if (typeof admin !== 'boolean') fail(`${path}.adminStateUp`, 'must be true or false');
    const fixedIps = arr(o.fixedIps, `${path}.fixedIps`).map((f, j) => {
      const fp = `${path}.fixedIps[${j}]`;
      if (!isObj(f)) fail(fp, 'must be an object');
      const ip = str(f as Obj, 'ipAddress', fp)!;
      if (!isIP(ip)) fail(`${fp}.ipAddress`, `${JSON.stringify(ip)} is not an IP address`);
      return { subnetId: (f as Obj).subnetId === undefined ? `${network}-subnet` : str(f as Obj, 'subnetId', fp)!, ipAddress: ip };
    });
    const allowedAddressPairs = arr(o.allowedAddressPairs, `${path}.allowedAddressPairs`).map((a, j) => {
      const ap = `${path}.allowedAddressPairs[${j}]`;
      if (!isObj(a)) fail(ap, 'must be an object');
      const ip = str(a as Obj, 'ipAddress', ap)!;
      const amac = ((a as Obj).macAddress === undefined ? mac : str(a as Obj, 'macAddress', ap)!).toLowerCase();
      if (!MAC.test(amac)) fail(`${ap}.macAddress`, `${JSON.stringify(amac)} is not a MAC address`);
      return { macAddress: amac, ipAddress: ip };
    });
    const sgs = arr(o.securityGroups, `${path}.securityGroups`).map((s, j) => {
      if (typeof s !== 'string') fail(`${path}.securityGroups[${j}]`, 'must be a string');
      return s as string;
    });
    const pse = o.portSecurityEnabled ?? true;
    if (typeof pse !== 'boolean') fail(`${path}.portSecurityEnabled`, 'must be true or false');
    ports.set(id, {
      id, mac, network, adminStateUp: admin as boolean, fixedIps, allowedAddressPairs, securityGroups: sgs,
      portSecurityEnabled: pse as boolean, deviceOwner: str(o, 'deviceOwner', path, false) ?? 'compute:nova',
      deviceId: str(o, 'deviceId', path, false),
      ...(o.qosPolicyId !== undefined ? { qosPolicyId: str(o, 'qosPolicyId', path)! } : {}),
    });
  });

  const tunnelEndpoints = arr(root.tunnelEndpoints, 'tunnelEndpoints').map((t, i) => {
    const path = `tunnelEndpoints[${i}]`;
    if (!isObj(t)) fail(path, 'must be an object');
    const ip = str(t as Obj, 'ipAddress', path)!;
    if (!isIP(ip)) fail(`${path}.ipAddress`, `${JSON.stringify(ip)} is not an IP address`);
    const type = (t as Obj).type as TunnelType | undefined;
    if (type !== undefined && !(TUNNEL_TYPES as readonly string[]).includes(type)) fail(`${path}.type`, `must be one of ${TUNNEL_TYPES.join(', ')}`);
    return { ipAddress: ip, type, host: str(t as Obj, 'host', path, false) };
  });

  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(root)) {
    if (k !== 'networks' && k !== 'ports' && k !== 'tunnelEndpoints') extra[k] = v;
  }
  return { networks, ports, tunnelEndpoints, extra };
}
