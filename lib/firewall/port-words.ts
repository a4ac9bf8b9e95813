/**
 * What of a port its base flows are written with (base-flows.ts): its match
 * parts (in_port, registers, zone, VLANs, MACs, addresses) and the action
 * lists that name its ofport. Everything else in those flows is the same for
 * every port of one shape (port-template.ts), which is what lets the flows
 * of a port be stamped from a template instead of built one by one.
 */
import { actions, address, ctZone, dlDst, dlSrc, dlVlan, inPort, netReg, output, portReg, resubmit, setReg, STRIP_VLAN, type Actions, type MatchPart } from './flow-parts.js';
import { Reg, Table } from './constants.js';
import type { FirewallPort, PortAddresses } from './port.js';

/** One IPv4 MAC/IP pair a port may source from: a /0 address is no part (undefined). */
export interface Pair4Words {
  readonly src: MatchPart;
  readonly arpSpa: MatchPart | undefined;
  readonly nwSrc: MatchPart | undefined;
}

/** One IPv6 MAC/IP pair a port may source from. */
export interface Pair6Words {
  readonly src: MatchPart;
  readonly ipv6Src: MatchPart | undefined;
  readonly ndTarget: MatchPart | undefined;
}

export interface PortWords {
  readonly inPort: MatchPart;
  /** reg5 = ofport. */
  readonly reg: MatchPart;
  /** reg6 = local VLAN. */
  readonly net: MatchPart;
  /** ct_zone = local VLAN. */
  readonly zone: MatchPart;
  /** dl_vlan = local VLAN. */
  readonly localVlan: MatchPart;
  /** dl_vlan = segmentation id, for a VLAN network that has one. */
  readonly segVlan: MatchPart | undefined;
  /** dl_src = the port's own MAC. */
  readonly ownSrc: MatchPart;
  /** dl_dst per MAC of the port (its own first, then its pairs'). */
  readonly dst: readonly MatchPart[];
  readonly pairs4: readonly Pair4Words[];
  readonly pairs6: readonly Pair6Words[];
  /** set reg5, reg6; to T71. */
  readonly toEgress: Actions;
  /** set reg5, reg6; to T81. */
  readonly toIngress: Actions;
  /** set reg5, reg6; strip the tag; to T81. */
  readonly untagToIngress: Actions;
  /** set reg5; to T81 (T73: to this port's ingress). */
  readonly toPortIngress: Actions;
  /** output to the port. */
  readonly deliver: Actions;
}

/**
 * The words of a port, its addresses worked out (portAddresses). The action
 * lists are made when first asked for: a port's base flows use four of the
 * five (toIngress only on flat networks, untagToIngress only on the others),
 * and each new list is frozen and encoded once made.
 */
export function portWords(p: FirewallPort, a: PortAddresses): PortWords {
  return new Words(p, a);
}

class Words implements PortWords {
  readonly inPort: MatchPart;
  readonly reg: MatchPart;
  readonly net: MatchPart;
  readonly zone: MatchPart;
  readonly localVlan: MatchPart;
  readonly segVlan: MatchPart | undefined;
  readonly ownSrc: MatchPart;
  readonly dst: readonly MatchPart[];
  readonly pairs4: readonly Pair4Words[];
  readonly pairs6: readonly Pair6Words[];
  private readonly ofport: number;
  private readonly lvid: number;
  private lists: Array<Actions | undefined> = [];

  constructor(p: FirewallPort, a: PortAddresses) {
    this.ofport = p.ofport;
    this.lvid = p.lvid;
    this.inPort = inPort(p.ofport);
    this.reg = portReg(p.ofport);
    this.net = netReg(p.lvid);
    this.zone = ctZone(p.lvid);
    this.localVlan = dlVlan(p.lvid);
    this.segVlan = p.networkType === 'vlan' && p.segmentationId !== undefined ? dlVlan(p.segmentationId) : undefined;
    this.ownSrc = dlSrc(a.mac);
    this.dst = a.macs.map((m) => dlDst(m));
    this.pairs4 = a.pairs4.map(([m, ip]) => ({ src: dlSrc(m), arpSpa: address('arp_spa', ip), nwSrc: address('nw_src', ip) }));
    this.pairs6 = a.pairs6.map(([m, ip]) => ({ src: dlSrc(m), ipv6Src: address('ipv6_src', ip), ndTarget: address('nd_target', ip) }));
  }

  get toEgress(): Actions {
    return (this.lists[0] ??= actions(setReg(Reg.PORT, this.ofport), setReg(Reg.NET, this.lvid), resubmit(Table.BASE_EGRESS)));
  }

  get toIngress(): Actions {
    return (this.lists[1] ??= actions(setReg(Reg.PORT, this.ofport), setReg(Reg.NET, this.lvid), resubmit(Table.BASE_INGRESS)));
  }

  get untagToIngress(): Actions {
    return (this.lists[2] ??= actions(setReg(Reg.PORT, this.ofport), setReg(Reg.NET, this.lvid), STRIP_VLAN, resubmit(Table.BASE_INGRESS)));
  }

  get toPortIngress(): Actions {
    return (this.lists[3] ??= actions(setReg(Reg.PORT, this.ofport), resubmit(Table.BASE_INGRESS)));
  }

  get deliver(): Actions {
    return (this.lists[4] ??= actions(output(this.ofport)));
  }
}
