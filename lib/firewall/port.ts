/**
 * The firewall's view of a port, and the helper that builds it from the
 * control plane's port details plus what OVS and the agent know (ofport,
 * local VLAN).
 */
import type { AddressPair, NetworkType, PortDetails } from '../model/index.js';
import { linkLocalFromMac, matchAddress, normalizeMac } from './addresses.js';

export interface FirewallPort {
  /** Neutron port id (OVS iface-id). */
  portId: string;
  ofport: number;
  /** The network's local VLAN on this host: also the port's conntrack zone. */
  lvid: number;
  macAddress: string;
  /** Fixed IP addresses (bare addresses, either family). */
  fixedIps: string[];
  allowedAddressPairs: AddressPair[];
  portSecurityEnabled: boolean;
  securityGroups: string[];
  /** For the T60 "physical direct" flows: VLAN networks match the segmentation id, flat ones untagged frames. */
  networkType?: NetworkType;
  segmentationId?: number;
  /** Neutron's device_owner (the iptables_hybrid driver treats network-owned ports as stateful). */
  deviceOwner?: string;
}

export function firewallPortFrom(details: PortDetails, ofport: number, lvid: number): FirewallPort {
  return {
    portId: details.portId,
    ofport,
    lvid,
    macAddress: details.macAddress,
    fixedIps: details.fixedIps.map((f) => f.ipAddress),
    allowedAddressPairs: details.allowedAddressPairs,
    portSecurityEnabled: details.portSecurityEnabled,
    securityGroups: details.securityGroups,
    networkType: details.networkType,
    segmentationId: details.segmentationId,
    deviceOwner: details.deviceOwner,
  };
}

/** MAC/IP pairs a port may source traffic from, split by family (Neutron's OFPort). */
export interface PortAddresses {
  mac: string;
  /** The MAC plus every allowed-address-pair MAC, port MAC first. */
  macs: string[];
  pairs4: Array<[string, string]>;
  pairs6: Array<[string, string]>;
  lla: string;
}

/** The family of an address matchAddress wrote (and so checked): only IPv6 has colons. */
const isV6 = (matchText: string): boolean => matchText.includes(':');

function pushUnique(list: Array<[string, string]>, seen: Set<string>, mac: string, ip: string): void {
  const k = `${mac}|${ip}`;
  if (seen.has(k)) return;
  seen.add(k);
  list.push([mac, ip]);
}

/**
 * Allowed pairs first (as Neutron's set union puts them), then the fixed IPs
 * with the port's MAC; IPv6 also gets (MAC, EUI-64 link-local address) for
 * neighbour discovery.
 */
export function portAddresses(port: FirewallPort): PortAddresses {
  const mac = normalizeMac(port.macAddress);
  const lla = linkLocalFromMac(mac);
  const pairs4: Array<[string, string]> = [];
  const pairs6: Array<[string, string]> = [];
  const seen = new Set<string>();
  const macs = [mac];
  for (const aap of port.allowedAddressPairs) {
    const m = normalizeMac(aap.macAddress || mac);
    if (!macs.includes(m)) macs.push(m);
    const ip = matchAddress(aap.ipAddress);
    pushUnique(isV6(ip) ? pairs6 : pairs4, seen, m, ip);
  }
  pushUnique(pairs6, seen, mac, lla);
  for (const ipText of port.fixedIps) {
    const ip = matchAddress(ipText);
    pushUnique(isV6(ip) ? pairs6 : pairs4, seen, mac, ip);
  }
  return { mac, macs, pairs4, pairs6, lla };
}
