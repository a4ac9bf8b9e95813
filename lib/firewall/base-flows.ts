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
  DROP,
  ETH,
  icmpType,
  inPort,
  NORMAL,
  nwProto,
  portReg,
  resubmit,
  setReg,
  tpDst,
  tpSrc,
  UNTAGGED,
  type ActionPart,
  type Actions,
  type MatchPart,
} from './flow-parts.js';
import { portAddresses, type FirewallPort } from './port.js';
import { portWords, type PortWords } from './port-words.js';

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
const NO_ADDRESS_YET = address('nw_src', '0.0.0.0');
const ALLOWED_EGRESS_ICMPV6 = ICMPV6_ALLOWED_EGRESS_TYPES.map((t) => icmpType(true, t));
const RESTRICTED_EGRESS_ICMPV6 = ICMPV6_RESTRICTED_EGRESS_TYPES.map((t) => icmpType(true, t));
const ALLOWED_INGRESS_ICMPV6 = ICMPV6_ALLOWED_INGRESS_TYPES.map((t) => icmpType(true, t));
const RA = icmpType(true, ICMPV6_TYPE_RA);
const TRACK_EGRESS = actions(ctTrack(Table.RULES_EGRESS));
const TRACK_INGRESS = actions(ctTrack(Table.RULES_INGRESS));
const TO_ACCEPT_OR_INGRESS = go(Table.ACCEPT_OR_INGRESS);
const CLEAR_AND_DROP = actions(CT_CLEAR, resubmit(Table.DROPPED));
const CLEAR_TO_INGRESS_RULES = actions(CT_CLEAR, resubmit(Table.RULES_INGRESS));
const COMMIT_EGRESS = actions(ctCommit(), resubmit(Table.ACCEPTED_EGRESS));
const REVOKE = actions(ctCommit(CtMark.INVALID));

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
function classificationFlows(p: FirewallPort, w: PortWords): Flow[] {
  const out = [flow(Table.TRANSIENT, 100, [w.inPort], w.toEgress)];
  for (const dst of w.dst) {
    // Frames arriving from br-phys that were not translated to the local VLAN.
    if (w.segVlan !== undefined) {
      out.push(flow(Table.TRANSIENT, 90, [w.segVlan, dst], w.untagToIngress));
    } else if (p.networkType === 'flat') {
      out.push(flow(Table.TRANSIENT, 90, [UNTAGGED, dst], w.toIngress));
    }
    out.push(flow(Table.TRANSIENT, 90, [w.localVlan, dst], w.untagToIngress));
  }
  return out;
}

/** T71, T73: anti-spoofing, DHCP/RA guards and the hand-off to the egress rules. */
function egressBaseFlows(w: PortWords, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  const reg = w.reg;
  const port = [w.inPort, reg];
  const toRules = mode === 'stateless' ? go(Table.RULES_EGRESS) : TRACK_EGRESS;
  const out: Flow[] = [];
  for (const a of w.pairs4) {
    out.push(flow(Table.BASE_EGRESS, 95, [port, ARP, a.src, a.arpSpa], TO_NORMAL));
    out.push(flow(Table.BASE_EGRESS, 65, [port, IPV4, a.src, a.nwSrc], toRules));
  }
  const icmp6 = [port, IPV6, ICMPV6];
  for (const a of w.pairs6) {
    for (const t of ALLOWED_EGRESS_ICMPV6) out.push(flow(Table.BASE_EGRESS, 95, [icmp6, t, a.src, a.ipv6Src], TO_NORMAL));
    for (const t of RESTRICTED_EGRESS_ICMPV6) out.push(flow(Table.BASE_EGRESS, 95, [icmp6, t, a.ndTarget], TO_NORMAL));
  }
  for (const a of w.pairs6) {
    out.push(flow(Table.BASE_EGRESS, 65, [port, IPV6, a.src, a.ipv6Src], toRules));
  }
  // DHCP requests from the port's own addresses (and 0.0.0.0 before it has one) skip the rules.
  for (const a of w.pairs4) {
    out.push(flow(Table.BASE_EGRESS, 80, [port, IPV4, a.src, a.nwSrc, DHCP4_REQUEST], TO_ACCEPT_OR_INGRESS));
  }
  out.push(flow(Table.BASE_EGRESS, 80, [port, IPV4, w.ownSrc, NO_ADDRESS_YET, DHCP4_REQUEST], TO_ACCEPT_OR_INGRESS));
  for (const a of w.pairs6) {
    out.push(flow(Table.BASE_EGRESS, 80, [port, IPV6, a.src, a.ipv6Src, DHCP6_REQUEST], TO_ACCEPT_OR_INGRESS));
  }
  // A VM must not act as a DHCP server or a router.
  out.push(flow(Table.BASE_EGRESS, 70, [port, IPV4, DHCP4_REPLY], TO_DROPPED));
  out.push(flow(Table.BASE_EGRESS, 70, [port, IPV6, DHCP6_REPLY], TO_DROPPED));
  out.push(flow(Table.BASE_EGRESS, 70, [icmp6, RA], TO_DROPPED));
  for (const et of opts.permittedEthertypes) {
    out.push(flow(Table.BASE_EGRESS, 95, [reg, et], TO_NORMAL));
  }
  out.push(flow(Table.BASE_EGRESS, 10, port, CLEAR_AND_DROP));

  // T73: traffic to another local port on the same network goes through that port's ingress pipeline.
  for (const dst of w.dst) {
    out.push(flow(Table.ACCEPT_OR_INGRESS, 100, [w.net, dst], w.toPortIngress));
  }
  // Commit new connections leaving the port (a stateless port's packets are never tracked).
  if (mode !== 'stateless') {
    for (const et of IP_TYPES) out.push(flow(Table.ACCEPT_OR_INGRESS, 90, [reg, et, CT.NEW_NOT_ESTABLISHED], COMMIT_EGRESS));
  }
  out.push(flow(Table.ACCEPT_OR_INGRESS, 80, [reg], TO_NORMAL));
  return out;
}

/** T81: what a port always accepts (ARP, ND, DHCP replies), then conntrack and the ingress rules. */
function ingressBaseFlows(w: PortWords, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  const reg = w.reg;
  const deliver = w.deliver;
  const out = [flow(Table.BASE_INGRESS, 100, [reg, ARP], deliver)];
  for (const et of opts.permittedEthertypes) out.push(flow(Table.BASE_INGRESS, 100, [reg, et], deliver));
  for (const t of ALLOWED_INGRESS_ICMPV6) {
    out.push(flow(Table.BASE_INGRESS, 100, [reg, IPV6, ICMPV6, t], deliver));
  }
  out.push(flow(Table.BASE_INGRESS, 95, [reg, IPV4, DHCP4_REPLY], deliver));
  out.push(flow(Table.BASE_INGRESS, 95, [reg, IPV6, DHCP6_REPLY], deliver));
  const track = mode === 'stateless' ? go(Table.RULES_INGRESS) : TRACK_INGRESS;
  for (const et of IP_TYPES) {
    out.push(flow(Table.BASE_INGRESS, 90, [reg, et, CT.NOT_TRACKED], track));
  }
  // Tracked here means it came from a local stateful port's egress.
  const tracked = mode === 'stateless' ? CLEAR_TO_INGRESS_RULES : go(Table.RULES_INGRESS);
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
function trackedFlows(w: PortWords, table: number, accept: Actions): Flow[] {
  const reg = w.reg;
  const zone = w.zone;
  const out = [
    INVALID_DROPPED[table],
    flow(table, 50, [reg, MARK_INVALID], TO_DROPPED),
  ];
  for (const state of [CT.ESTABLISHED_REPLY, CT.RELATED]) {
    out.push(flow(table, 50, [reg, state, MARK_NORMAL, zone], accept));
  }
  out.push(flow(table, 40, [reg, CT.NOT_ESTABLISHED], TO_DROPPED));
  // An established connection no rule accepts any more is marked, so its next packets hit the p50 ct_mark drop.
  for (const et of IP_TYPES) out.push(flow(table, 40, [reg, et, CT.ESTABLISHED], REVOKE));
  return out;
}

/** Every base flow of a filtered port. */
export function filteredPortBaseFlows(p: FirewallPort, opts: BaseFlowOptions, mode: PortMode = 'stateful'): Flow[] {
  return baseFlowsOf(p, portWords(p, portAddresses(p)), opts, mode);
}

/**
 * Every base flow of a filtered port from its words: what the port brings
 * to them is in `w` alone, besides the shape `p` gives them (its network's
 * type, whether it has a segmentation id), so port-template.ts can run this
 * once with placeholders and stamp the flows of every port of that shape.
 */
export function baseFlowsOf(p: FirewallPort, w: PortWords, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  return classificationFlows(p, w).concat(
    egressBaseFlows(w, opts, mode),
    ingressBaseFlows(w, opts, mode),
    trackedFlows(w, Table.RULES_INGRESS, w.deliver),
    trackedFlows(w, Table.RULES_EGRESS, TO_NORMAL),
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

