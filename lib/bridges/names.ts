/** Port names as Neutron derives them (docs/design.md#port-names). */
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { PEER_INTEGRATION_PREFIX, PEER_PHYSICAL_PREFIX } from './constants.js';

/** Linux IFNAMSIZ − 1. */
const MAX_DEV_NAME_LEN = 15;
const INTERFACE_HASH_LEN = 6;

/**
 * `neutron_lib.plugins.utils.get_interface_name`: prefix + name, or when too
 * long prefix + the start of the name + the first 6 hex digits of sha1(name).
 */
export function interfaceName(name: string, prefix: string): string {
  if (prefix.length + name.length <= MAX_DEV_NAME_LEN) return prefix + name;
  const hash = createHash('sha1').update(name).digest('hex').slice(0, INTERFACE_HASH_LEN);
  const keep = MAX_DEV_NAME_LEN - prefix.length - INTERFACE_HASH_LEN;
  return prefix + name.slice(0, keep) + hash;
}

/** `int-<bridge>` on br-int, the patch to a physical bridge. */
export function intPatchName(physBridge: string): string {
  return interfaceName(physBridge, PEER_INTEGRATION_PREFIX);
}

/** `phy-<bridge>` on the physical bridge, the patch to br-int. */
export function physPatchName(physBridge: string): string {
  return interfaceName(physBridge, PEER_PHYSICAL_PREFIX);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * `OVSNeutronAgent.get_tunnel_name`: `vxlan-0a000002` for 10.0.0.2; for IPv6
 * the start of base32(sha1(ip)) filling the name to 15 characters.
 */
export function tunnelPortName(tunnelType: string, remoteIp: string): string {
  if (isIPv4(remoteIp)) {
    const hex = remoteIp.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
    return `${tunnelType}-${hex}`;
  }
  const digest = createHash('sha1').update(remoteIp).digest();
  return `${tunnelType}-${base32(digest).slice(0, MAX_DEV_NAME_LEN - tunnelType.length - 1)}`;
}
