/**
 * ARP, ND and MAC anti-spoofing on br-int for a firewall driver that does
 * not protect ports itself (noop): the flows Neutron 21's agent installs with
 * `setup_arp_spoofing_protection` and br_int's `set_allowed_macs_for_port`,
 * `install_arp_spoofing_protection` and `install_icmpv6_na_spoofing_protection`,
 * match for match (docs/firewall.md#arp-nd-and-mac-anti-spoofing).
 *
 * A port's flows are a function of its current addresses only: the whole set
 * is recomputed and the flow table sends the difference.
 */
import { gotoTable } from '../flows/actions.js';
import { flow, type DesiredFlow } from '../flows/flow.js';
import { address, ethSrc, ethType, icmpType, inPort, ipProto, type MatchPart } from '../flows/match.js';
import { linkLocalFromMac } from '../firewall/addresses.js';
import { Table } from './constants.js';

const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_IPV6 = 0x86dd;
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
/** Neutron's `n_const.DEVICE_OWNER_NETWORK_PREFIX`: DHCP, router interfaces... */
const NETWORK_OWNER_PREFIX = 'network:';

export interface SpoofingPort {
  ofport: number;
  macAddress: string;
  fixedIps: readonly string[];
  allowedAddressPairs: ReadonlyArray<{ ipAddress: string; macAddress?: string }>;
  portSecurityEnabled: boolean;
  deviceOwner: string;
}

/** Neutron leaves these ports unprotected: port security off, or owned by the network (DHCP, routers). */
export function isSpoofingProtected(p: Pick<SpoofingPort, 'portSecurityEnabled' | 'deviceOwner'>): boolean {
  return p.portSecurityEnabled && !p.deviceOwner.startsWith(NETWORK_OWNER_PREFIX);
}

const isV6 = (ip: string): boolean => ip.includes(':');
const zeroPrefix = (ip: string): boolean => ip.endsWith('/0');

/** The flows of one port; none for a port Neutron does not protect. Throws FlowMatchError on an address that does not parse. */
export function antiSpoofingFlows(p: SpoofingPort): DesiredFlow[] {
  if (!isSpoofingProtected(p)) return [];
  const port = inPort(p.ofport);
  const addresses = new Set(p.fixedIps);
  const macs = new Set([p.macAddress.toLowerCase()]);
  for (const pair of p.allowedAddressPairs) {
    addresses.add(pair.ipAddress);
    if (pair.macAddress) macs.add(pair.macAddress.toLowerCase());
  }
  const out: DesiredFlow[] = [];
  // set_allowed_macs_for_port: only the port's MACs leave it (table 25), everything from it goes there first.
  for (const mac of macs) out.push(flow(Table.MAC_SPOOF, 2, [port, ethSrc(mac)], gotoTable(Table.LOCAL_EGRESS)));
  out.push(flow(Table.LOCAL_SWITCHING, 9, [port], gotoTable(Table.MAC_SPOOF)));

  const v4 = [...addresses].filter((a) => !isV6(a));
  // A /0 address allows any, and ARP_SPA cannot match /0: Neutron then deletes the port's ARP and ND
  // protection as a whole (delete_arp_spoofing_protection), so only the MAC flows remain.
  if (v4.some(zeroPrefix)) return out;
  const v6 = [...addresses].filter(isV6);
  for (const mac of macs) v6.push(linkLocalFromMac(mac));
  if (!v6.some(zeroPrefix)) {
    // Neighbour advertisements only for the port's own IPv6 addresses (and its MACs' link-local ones).
    const na: MatchPart[] = [port, ethType(ETH_TYPE_IPV6), ipProto(IPPROTO_ICMPV6), icmpType(true, ND_NEIGHBOR_ADVERT)];
    for (const ip of new Set(v6)) {
      out.push(flow(Table.ARP_SPOOF, 2, [...na, address('nd_target', ip)], gotoTable(Table.PACKET_RATE_LIMIT)));
    }
    out.push(flow(Table.LOCAL_SWITCHING, 10, na, gotoTable(Table.ARP_SPOOF)));
  }
  // ARP only for the port's own IPv4 addresses; an IPv6-only port sends no ARP (table 24's default drop).
  const arp: MatchPart[] = [port, ethType(ETH_TYPE_ARP)];
  for (const ip of v4) out.push(flow(Table.ARP_SPOOF, 2, [...arp, address('arp_spa', ip)], gotoTable(Table.MAC_SPOOF)));
  out.push(flow(Table.LOCAL_SWITCHING, 10, arp, gotoTable(Table.ARP_SPOOF)));
  return out;
}
