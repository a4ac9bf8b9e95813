/**
 * The flows every filtered port gets whatever its rules
 * (Neutron's `initialize_port_flows`, `_initialize_tracked_egress/ingress`;
 * docs/design.md#the-firewalls-tables), the unfiltered-port flows and the
 * bridge-wide flows installed once.
 */
import {
  CtMark,
  FIREWALL_TABLES,
  ICMPV6_ALLOWED_EGRESS_TYPES,
  ICMPV6_ALLOWED_INGRESS_TYPES,
  ICMPV6_RESTRICTED_EGRESS_TYPES,
  ICMPV6_TYPE_RA,
  Proto,
  Reg,
  Table,
} from './constants.js';
import { flow, type DesiredFlow as Flow } from '../flows/flow.js';
import {
  actions,
  address,
  CT,
  CT_CLEAR,
  ctCommit,
  ctMark,
  ctTrack,
  ctZone,
  dlDst,
  dlSrc,
  dlVlan,
  DROP,
  ETH,
  icmpType,
  inPort,
  netReg,
  NORMAL,
  nwProto,
  output,
  portReg,
  resubmit,
  setReg,
  STRIP_VLAN,
  tpDst,
  tpSrc,
  UNTAGGED,
  type ActionPart,
  type Actions,
  type MatchPart,
} from './flow-parts.js';
import { portAddresses, type FirewallPort, type PortAddresses } from './port.js';

export interface BaseFlowOptions {
  /** `[securitygroup] permitted_ethertypes` as match parts (`dl_type=0x4008`), made once from the config. */
  permittedEthertypes: readonly MatchPart[];
}

/**
 * A port whose security groups are all stateless never goes through
 * conntrack in its own pipeline: its egress skips the ct() into T72 and its
 * ingress clears any tracking state before T82, so its rules (matching
 * `ct_state=-trk`) see every packet, replies included.
 */
export type PortMode = 'stateful' | 'stateless';

const setRegs = (p: FirewallPort): ActionPart[] => [setReg(Reg.PORT, p.ofport), setReg(Reg.NET, p.lvid)];
const { IPV4, IPV6, ARP } = ETH;
const IP_TYPES = [IPV4, IPV6] as const;
const UDP = nwProto(Proto.UDP);
const ICMPV6 = nwProto(Proto.ICMPV6);
const MARK_NORMAL = ctMark(CtMark.NORMAL);
const MARK_INVALID = ctMark(CtMark.INVALID);
const go = (t: number): Actions => actions(resubmit(t));
const TO_NORMAL = go(Table.ACCEPTED_EGRESS_NORMAL);
const TO_DROPPED = go(Table.DROPPED);
const DHCP4_REQUEST = [UDP, tpSrc(Proto.UDP, 68), tpDst(Proto.UDP, 67)];
const DHCP6_REQUEST = [UDP, tpSrc(Proto.UDP, 546), tpDst(Proto.UDP, 547)];
const DHCP4_REPLY = [UDP, tpSrc(Proto.UDP, 67), tpDst(Proto.UDP, 68)];
const DHCP6_REPLY = [UDP, tpSrc(Proto.UDP, 547), tpDst(Proto.UDP, 546)];

/** Bridge-wide defaults: drops at the bottom of the firewall tables, T94 NORMAL, T91 → 94. */
export function initFlows(): Flow[] {
  const out: Flow[] = FIREWALL_TABLES.map((t) => flow(t, 0, [], DROP));
  out.push(flow(Table.BASE_EGRESS, 110, [CT.TRACKED], actions(CT_CLEAR, resubmit(Table.BASE_EGRESS))));
  out.push(flow(Table.ACCEPTED_EGRESS_NORMAL, 1, [], actions(NORMAL)));
  out.push(flow(Table.ACCEPTED_EGRESS, 1, [], TO_NORMAL));
  out.push(flow(Table.ACCEPTED_INGRESS, 0, [], DROP));
  out.push(flow(Table.DROPPED, 0, [], DROP));
  return out;
}

/** T60: classify a port's egress (by in_port) and ingress (by destination MAC) traffic. */
function classificationFlows(p: FirewallPort, macs: readonly string[]): Flow[] {
  const regs = setRegs(p);
  const out = [egressClassificationFlow(p)];
  const toIngress = actions(...regs, resubmit(Table.BASE_INGRESS));
  const untagToIngress = actions(...regs, STRIP_VLAN, resubmit(Table.BASE_INGRESS));
  const localVlan = dlVlan(p.lvid);
  for (const mac of macs) {
    const dst = dlDst(mac);
    // Frames arriving from br-phys that were not translated to the local VLAN.
    if (p.networkType === 'vlan' && p.segmentationId !== undefined) {
      out.push(flow(Table.TRANSIENT, 90, [dlVlan(p.segmentationId), dst], untagToIngress));
    } else if (p.networkType === 'flat') {
      out.push(flow(Table.TRANSIENT, 90, [UNTAGGED, dst], toIngress));
    }
    out.push(flow(Table.TRANSIENT, 90, [localVlan, dst], untagToIngress));
  }
  return out;
}

/** T71, T73: anti-spoofing, DHCP/RA guards and the hand-off to the egress rules. */
function egressBaseFlows(p: FirewallPort, addresses: PortAddresses, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  const { mac, macs, pairs4, pairs6 } = addresses;
  const P = p.ofport;
  const reg = portReg(P);
  const port = [inPort(P), reg];
  const toRules = mode === 'stateless' ? go(Table.RULES_EGRESS) : actions(ctTrack(Table.RULES_EGRESS));
  const out: Flow[] = [];
  for (const [m, ip] of pairs4) {
    const src = dlSrc(m);
    out.push(flow(Table.BASE_EGRESS, 95, [port, ARP, src, address('arp_spa', ip)], TO_NORMAL));
    out.push(flow(Table.BASE_EGRESS, 65, [port, IPV4, src, address('nw_src', ip)], toRules));
  }
  const icmp6 = [port, IPV6, ICMPV6];
  for (const [m, ip] of pairs6) {
    const src = dlSrc(m);
    const ip6 = address('ipv6_src', ip);
    for (const t of ICMPV6_ALLOWED_EGRESS_TYPES) {
      out.push(flow(Table.BASE_EGRESS, 95, [icmp6, icmpType(true, t), src, ip6], TO_NORMAL));
    }
    for (const t of ICMPV6_RESTRICTED_EGRESS_TYPES) {
      out.push(flow(Table.BASE_EGRESS, 95, [icmp6, icmpType(true, t), address('nd_target', ip)], TO_NORMAL));
    }
  }
  for (const [m, ip] of pairs6) {
    out.push(flow(Table.BASE_EGRESS, 65, [port, IPV6, dlSrc(m), address('ipv6_src', ip)], toRules));
  }
  // DHCP requests from the port's own addresses (and 0.0.0.0 before it has one) skip the rules.
  const toAcceptOrIngress = go(Table.ACCEPT_OR_INGRESS);
  for (const [m, ip] of [...pairs4, [mac, '0.0.0.0'] as [string, string]]) {
    out.push(flow(Table.BASE_EGRESS, 80, [port, IPV4, dlSrc(m), address('nw_src', ip), DHCP4_REQUEST], toAcceptOrIngress));
  }
  for (const [m, ip] of pairs6) {
    out.push(flow(Table.BASE_EGRESS, 80, [port, IPV6, dlSrc(m), address('ipv6_src', ip), DHCP6_REQUEST], toAcceptOrIngress));
  }
  // A VM must not act as a DHCP server or a router.
  out.push(flow(Table.BASE_EGRESS, 70, [port, IPV4, DHCP4_REPLY], TO_DROPPED));
  out.push(flow(Table.BASE_EGRESS, 70, [port, IPV6, DHCP6_REPLY], TO_DROPPED));
  out.push(flow(Table.BASE_EGRESS, 70, [icmp6, icmpType(true, ICMPV6_TYPE_RA)], TO_DROPPED));
  for (const et of opts.permittedEthertypes) {
    out.push(flow(Table.BASE_EGRESS, 95, [reg, et], TO_NORMAL));
  }
  out.push(flow(Table.BASE_EGRESS, 10, port, actions(CT_CLEAR, resubmit(Table.DROPPED))));

  // T73: traffic to another local port on the same network goes through that port's ingress pipeline.
  const toPortIngress = actions(setReg(Reg.PORT, P), resubmit(Table.BASE_INGRESS));
  const net = netReg(p.lvid);
  for (const m of macs) {
    out.push(flow(Table.ACCEPT_OR_INGRESS, 100, [net, dlDst(m)], toPortIngress));
  }
  // Commit new connections leaving the port (a stateless port's packets are never tracked).
  if (mode !== 'stateless') {
    const commit = actions(ctCommit(), resubmit(Table.ACCEPTED_EGRESS));
    for (const et of IP_TYPES) out.push(flow(Table.ACCEPT_OR_INGRESS, 90, [reg, et, CT.NEW_NOT_ESTABLISHED], commit));
  }
  out.push(flow(Table.ACCEPT_OR_INGRESS, 80, [reg], TO_NORMAL));
  return out;
}

/** T81: what a port always accepts (ARP, ND, DHCP replies), then conntrack and the ingress rules. */
function ingressBaseFlows(p: FirewallPort, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  const P = p.ofport;
  const reg = portReg(P);
  const deliver = actions(output(P));
  const out = [flow(Table.BASE_INGRESS, 100, [reg, ARP], deliver)];
  for (const et of opts.permittedEthertypes) out.push(flow(Table.BASE_INGRESS, 100, [reg, et], deliver));
  for (const t of ICMPV6_ALLOWED_INGRESS_TYPES) {
    out.push(flow(Table.BASE_INGRESS, 100, [reg, IPV6, ICMPV6, icmpType(true, t)], deliver));
  }
  out.push(flow(Table.BASE_INGRESS, 95, [reg, IPV4, DHCP4_REPLY], deliver));
  out.push(flow(Table.BASE_INGRESS, 95, [reg, IPV6, DHCP6_REPLY], deliver));
  const track = mode === 'stateless' ? go(Table.RULES_INGRESS) : actions(ctTrack(Table.RULES_INGRESS));
  for (const et of IP_TYPES) {
    out.push(flow(Table.BASE_INGRESS, 90, [reg, et, CT.NOT_TRACKED], track));
  }
  // Tracked here means it came from a local stateful port's egress.
  const tracked = mode === 'stateless' ? actions(CT_CLEAR, resubmit(Table.RULES_INGRESS)) : go(Table.RULES_INGRESS);
  out.push(flow(Table.BASE_INGRESS, 80, [reg, CT.TRACKED], tracked));
  return out;
}

/**
 * `ct_state=+inv+trk` dropped in T72/T82: a flow of every port, as Neutron
 * writes it, the same for all (the table keeps it while any port wants it),
 * so made once.
 */
const INVALID_DROPPED: Readonly<Record<number, Flow>> = {
  [Table.RULES_INGRESS]: flow(Table.RULES_INGRESS, 50, [CT.INVALID], TO_DROPPED),
  [Table.RULES_EGRESS]: flow(Table.RULES_EGRESS, 50, [CT.INVALID], TO_DROPPED),
};

/** T72/T82 conntrack verdicts shared by every rule: invalid and revoked dropped, replies and related accepted. */
function trackedFlows(p: FirewallPort, table: number, accept: Actions): Flow[] {
  const reg = portReg(p.ofport);
  const zone = ctZone(p.lvid);
  const out = [
    INVALID_DROPPED[table],
    flow(table, 50, [reg, MARK_INVALID], TO_DROPPED),
  ];
  for (const state of [CT.ESTABLISHED_REPLY, CT.RELATED]) {
    out.push(flow(table, 50, [reg, state, MARK_NORMAL, zone], accept));
  }
  out.push(flow(table, 40, [reg, CT.NOT_ESTABLISHED], TO_DROPPED));
  // An established connection no rule accepts any more is marked, so its next packets hit the p50 ct_mark drop.
  const revoke = actions(ctCommit(CtMark.INVALID));
  for (const et of IP_TYPES) out.push(flow(table, 40, [reg, et, CT.ESTABLISHED], revoke));
  return out;
}

/** Every base flow of a filtered port. */
export function filteredPortBaseFlows(p: FirewallPort, opts: BaseFlowOptions, mode: PortMode = 'stateful'): Flow[] {
  const addresses = portAddresses(p);
  return classificationFlows(p, addresses.macs).concat(
    egressBaseFlows(p, addresses, opts, mode),
    ingressBaseFlows(p, opts, mode),
    trackedFlows(p, Table.RULES_INGRESS, actions(output(p.ofport))),
    trackedFlows(p, Table.RULES_EGRESS, TO_NORMAL),
  );
}

/** port_security_enabled=false: egress skips filtering; other ports' ingress still applies. */
export function unfilteredPortFlows(p: FirewallPort): Flow[] {
  return [
    flow(Table.TRANSIENT, 100, [inPort(p.ofport)], actions(...setRegs(p), resubmit(Table.ACCEPT_OR_INGRESS))),
    flow(Table.ACCEPT_OR_INGRESS, 80, [portReg(p.ofport)], TO_NORMAL),
  ];
}

/**
 * T60: a port's egress, tagged with its registers, to T71. Alone, it also
 * blocks a port whose filter could not be built: its egress meets T71's
 * default drop.
 */
export function egressClassificationFlow(p: FirewallPort): Flow {
  return flow(Table.TRANSIENT, 100, [inPort(p.ofport)], actions(...setRegs(p), resubmit(Table.BASE_EGRESS)));
}

