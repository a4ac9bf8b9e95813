/**
 * l2population's fdb payloads (add/remove_fdb_entries, update_fdb_entries'
 * chg_ip) decoded into the agent's model (docs/neutron.md, "l2population's
 * fdb entries"). A malformed payload is a DECODE error, answered to the
 * server as the failure of that call.
 */
import { isObject } from './envelope.js';
import { NeutronErrorCode } from './errors.js';
import { ControlPlaneError, type FdbEntries, type FdbIpChanges, type NetworkType } from '../types.js';

function pairList(v: unknown, where: string): Array<[string, string]> {
  if (!Array.isArray(v)) throw new ControlPlaneError(`${where}: expected a list of [mac, ip]`, NeutronErrorCode.DECODE, false);
  return v.map((p) => {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') {
      throw new ControlPlaneError(`${where}: bad [mac, ip] entry ${JSON.stringify(p)}`, NeutronErrorCode.DECODE, false);
    }
    return [p[0], p[1]];
  });
}

/** l2pop `fdb_entries` (docs/neutron.md, "l2population's fdb entries"). */
export function fdbEntries(v: unknown): FdbEntries {
  if (!isObject(v)) throw new ControlPlaneError('fdb_entries is not an object', NeutronErrorCode.DECODE, false);
  const out: FdbEntries = {};
  for (const [networkId, entry] of Object.entries(v)) {
    if (networkId === 'chg_ip') continue;
    if (!isObject(entry) || !isObject(entry.ports)) throw new ControlPlaneError(`fdb_entries ${networkId}: no ports`, NeutronErrorCode.DECODE, false);
    const ports: Record<string, Array<[string, string]>> = {};
    for (const [ip, pairs] of Object.entries(entry.ports)) ports[ip] = pairList(pairs, `fdb_entries ${networkId} ${ip}`);
    out[networkId] = {
      segmentId: Number(entry.segment_id),
      networkType: String(entry.network_type) as NetworkType,
      ports,
    };
  }
  return out;
}

/** l2pop update `{chg_ip: {net: {agent_ip: {before, after}}}}`. */
export function fdbChanges(v: unknown): FdbIpChanges {
  if (!isObject(v) || !isObject(v.chg_ip)) throw new ControlPlaneError('update_fdb_entries without chg_ip', NeutronErrorCode.DECODE, false);
  const out: FdbIpChanges = {};
  for (const [networkId, agents] of Object.entries(v.chg_ip)) {
    if (!isObject(agents)) continue;
    out[networkId] = {};
    for (const [ip, change] of Object.entries(agents)) {
      if (!isObject(change)) continue;
      out[networkId][ip] = {
        before: change.before === undefined ? [] : pairList(change.before, `chg_ip ${networkId} ${ip} before`),
        after: change.after === undefined ? [] : pairList(change.after, `chg_ip ${networkId} ${ip} after`),
      };
    }
  }
  return out;
}
