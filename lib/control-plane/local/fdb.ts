/**
 * The `fdb` part of the local control plane's desired-state file: the same
 * JSON as Neutron's l2pop `fdb_entries` (docs/neutron.md, "l2population's fdb entries"), in camelCase:
 *
 *   "fdb": { "net-a": { "segmentId": 1001, "networkType": "vxlan",
 *            "ports": { "192.0.2.2": [["00:00:00:00:00:00", "0.0.0.0"], ["fa:16:3e:00:00:05", "10.0.0.5"]] } } }
 */
import { isIP } from 'node:net';
import type { FdbEntries, NetworkType } from '../../model/index.js';
import { StateFileError } from './state-file.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const TYPES: readonly NetworkType[] = ['vxlan', 'gre', 'geneve', 'vlan', 'flat', 'local'];

export function parseFdbEntries(json: unknown, file: string): FdbEntries {
  const out: FdbEntries = {};
  if (json === undefined) return out;
  if (!isObj(json)) throw new StateFileError(file, 'fdb', 'must be an object of network id → { segmentId, networkType, ports }');
  for (const [networkId, n] of Object.entries(json)) {
    const path = `fdb.${networkId}`;
    if (!isObj(n)) throw new StateFileError(file, path, 'must be an object');
    const seg = n.segmentId;
    if (typeof seg !== 'number' || !Number.isInteger(seg) || seg < 0) throw new StateFileError(file, `${path}.segmentId`, 'must be a non-negative integer');
    const type = (n.networkType ?? 'vxlan') as NetworkType;
    if (!TYPES.includes(type)) throw new StateFileError(file, `${path}.networkType`, `must be one of ${TYPES.join(', ')}`);
    if (!isObj(n.ports)) throw new StateFileError(file, `${path}.ports`, 'must be an object of tunnel IP → [[mac, ip], …]');
    const ports: Record<string, Array<[string, string]>> = {};
    for (const [agentIp, list] of Object.entries(n.ports)) {
      const pp = `${path}.ports.${agentIp}`;
      if (!isIP(agentIp)) throw new StateFileError(file, pp, `${JSON.stringify(agentIp)} is not a tunnel IP address`);
      if (!Array.isArray(list)) throw new StateFileError(file, pp, 'must be an array of [mac, ip]');
      ports[agentIp] = list.map((e, i): [string, string] => {
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string') {
          throw new StateFileError(file, `${pp}[${i}]`, 'must be [mac, ip]');
        }
        if (!MAC_RE.test(e[0])) throw new StateFileError(file, `${pp}[${i}][0]`, `${JSON.stringify(e[0])} is not a MAC address`);
        if (!isIP(e[1])) throw new StateFileError(file, `${pp}[${i}][1]`, `${JSON.stringify(e[1])} is not an IP address`);
        return [e[0].toLowerCase(), e[1]];
      });
    }
    out[networkId] = { segmentId: seg, networkType: type, ports };
  }
  return out;
}
