/**
 * The flows every filtered port gets whatever its rules
 * (Neutron's `initialize_port_flows`, `_initialize_tracked_egress/ingress`;
 * neutron-ovs-agent.md §5.3), the unfiltered-port flows (§5.6) and the
 * bridge-wide flows installed once (§5.2).
 */
import {
  CT_ZONE,
  CtMark,
  CtState,
  EtherType,
  FIREWALL_TABLES,
  ICMPV6_ALLOWED_EGRESS_TYPES,
  ICMPV6_ALLOWED_INGRESS_TYPES,
  ICMPV6_RESTRICTED_EGRESS_TYPES,
  ICMPV6_TYPE_RA,
  Proto,
  Reg,
  Table,
} from './constants.js';
import { flow, type Flow } from './flow.js';
import { portAddresses, type FirewallPort } from './port.js';

export interface BaseFlowOptions {
  /** `[securitygroup] permitted_ethertypes`, e.g. `0x4008`. */
  permittedEthertypes: readonly string[];
}

/**
 * A port whose security groups are all stateless never goes through
 * conntrack in its own pipeline: its egress skips the ct() into T72 and its
 * ingress clears any tracking state before T82, so its rules (matching
 * `ct_state=-trk`) see every packet, replies included.
 */
export type PortMode = 'stateful' | 'stateless';

const setRegs = (p: FirewallPort): string => `set_field:${p.ofport}->reg${Reg.PORT},set_field:${p.lvid}->reg${Reg.NET}`;
const goTo = (t: number): string => `resubmit(,${t})`;
const IP_TYPES = [EtherType.IPV4, EtherType.IPV6] as const;

/** Bridge-wide defaults (§5.2): drops at the bottom of the firewall tables, T94 NORMAL, T91 → 94. */
export function initFlows(): Flow[] {
  const out: Flow[] = FIREWALL_TABLES.map((t) => flow(t, 0, [], 'drop'));
  out.push(flow(Table.BASE_EGRESS, 110, [`ct_state=${CtState.TRACKED}`], `ct_clear,${goTo(Table.BASE_EGRESS)}`));
  out.push(flow(Table.ACCEPTED_EGRESS_NORMAL, 1, [], 'normal'));
  out.push(flow(Table.ACCEPTED_EGRESS, 1, [], goTo(Table.ACCEPTED_EGRESS_NORMAL)));
  out.push(flow(Table.ACCEPTED_INGRESS, 0, [], 'drop'));
  out.push(flow(Table.DROPPED, 0, [], 'drop'));
  return out;
}

/** T60: classify a port's egress (by in_port) and ingress (by destination MAC) traffic. */
function classificationFlows(p: FirewallPort, macs: readonly string[]): Flow[] {
  const out = [flow(Table.TRANSIENT, 100, [`in_port=${p.ofport}`], `${setRegs(p)},${goTo(Table.BASE_EGRESS)}`)];
  for (const mac of macs) {
    // Frames arriving from br-phys that were not translated to the local VLAN.
    if (p.networkType === 'vlan' && p.segmentationId !== undefined) {
      out.push(flow(Table.TRANSIENT, 90, [`dl_vlan=${p.segmentationId}`, `dl_dst=${mac}`], `${setRegs(p)},strip_vlan,${goTo(Table.BASE_INGRESS)}`));
    } else if (p.networkType === 'flat') {
      out.push(flow(Table.TRANSIENT, 90, ['vlan_tci=0x0000/0x1fff', `dl_dst=${mac}`], `${setRegs(p)},${goTo(Table.BASE_INGRESS)}`));
    }
    out.push(flow(Table.TRANSIENT, 90, [`dl_vlan=${p.lvid}`, `dl_dst=${mac}`], `${setRegs(p)},strip_vlan,${goTo(Table.BASE_INGRESS)}`));
  }
  return out;
}

/** T71, T73: anti-spoofing, DHCP/RA guards and the hand-off to the egress rules (§5.3). */
function egressBaseFlows(p: FirewallPort, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  const { mac, macs, pairs4, pairs6 } = portAddresses(p);
  const P = p.ofport;
  const port = [`in_port=${P}`, `reg${Reg.PORT}=${P}`];
  const toRules = mode === 'stateless' ? goTo(Table.RULES_EGRESS) : `ct(table=${Table.RULES_EGRESS},zone=${CT_ZONE})`;
  const out: Flow[] = [];
  for (const [m, ip] of pairs4) {
    out.push(flow(Table.BASE_EGRESS, 95, [...port, `dl_type=${EtherType.ARP}`, `dl_src=${m}`, `arp_spa=${ip}`], goTo(Table.ACCEPTED_EGRESS_NORMAL)));
    out.push(flow(Table.BASE_EGRESS, 65, [...port, `dl_type=${EtherType.IPV4}`, `dl_src=${m}`, `nw_src=${ip}`], toRules));
  }
  const icmp6 = [...port, `dl_type=${EtherType.IPV6}`, `nw_proto=${Proto.ICMPV6}`];
  for (const [m, ip] of pairs6) {
    for (const t of ICMPV6_ALLOWED_EGRESS_TYPES) {
      out.push(flow(Table.BASE_EGRESS, 95, [...icmp6, `icmp_type=${t}`, `dl_src=${m}`, `ipv6_src=${ip}`], goTo(Table.ACCEPTED_EGRESS_NORMAL)));
    }
    for (const t of ICMPV6_RESTRICTED_EGRESS_TYPES) {
      out.push(flow(Table.BASE_EGRESS, 95, [...icmp6, `icmp_type=${t}`, `nd_target=${ip}`], goTo(Table.ACCEPTED_EGRESS_NORMAL)));
    }
  }
  for (const [m, ip] of pairs6) {
    out.push(flow(Table.BASE_EGRESS, 65, [...port, `dl_type=${EtherType.IPV6}`, `dl_src=${m}`, `ipv6_src=${ip}`], toRules));
  }
  // DHCP requests from the port's own addresses (and 0.0.0.0 before it has one) skip the rules.
  const udp = `nw_proto=${Proto.UDP}`;
  for (const [m, ip] of [...pairs4, [mac, '0.0.0.0'] as [string, string]]) {
    out.push(flow(Table.BASE_EGRESS, 80, [...port, `dl_type=${EtherType.IPV4}`, `dl_src=${m}`, `nw_src=${ip}`, udp, 'tp_src=68', 'tp_dst=67'], goTo(Table.ACCEPT_OR_INGRESS)));
  }
  for (const [m, ip] of pairs6) {
    out.push(flow(Table.BASE_EGRESS, 80, [...port, `dl_type=${EtherType.IPV6}`, `dl_src=${m}`, `ipv6_src=${ip}`, udp, 'tp_src=546', 'tp_dst=547'], goTo(Table.ACCEPT_OR_INGRESS)));
  }
  // A VM must not act as a DHCP server or a router.
  out.push(flow(Table.BASE_EGRESS, 70, [...port, `dl_type=${EtherType.IPV4}`, udp, 'tp_src=67', 'tp_dst=68'], goTo(Table.DROPPED)));
  out.push(flow(Table.BASE_EGRESS, 70, [...port, `dl_type=${EtherType.IPV6}`, udp, 'tp_src=547', 'tp_dst=546'], goTo(Table.DROPPED)));
  out.push(flow(Table.BASE_EGRESS, 70, [...icmp6, `icmp_type=${ICMPV6_TYPE_RA}`], goTo(Table.DROPPED)));
  for (const et of opts.permittedEthertypes) {
    out.push(flow(Table.BASE_EGRESS, 95, [`reg${Reg.PORT}=${P}`, `dl_type=${et}`], goTo(Table.ACCEPTED_EGRESS_NORMAL)));
  }
  out.push(flow(Table.BASE_EGRESS, 10, port, `ct_clear,${goTo(Table.DROPPED)}`));

  // T73: traffic to another local port on the same network goes through that port's ingress pipeline.
  for (const m of macs) {
    out.push(flow(Table.ACCEPT_OR_INGRESS, 100, [`reg${Reg.NET}=${p.lvid}`, `dl_dst=${m}`], `set_field:${P}->reg${Reg.PORT},${goTo(Table.BASE_INGRESS)}`));
  }
  // Commit new connections leaving the port (a stateless port's packets are never tracked).
  for (const et of mode === 'stateless' ? [] : IP_TYPES) {
    out.push(
      flow(Table.ACCEPT_OR_INGRESS, 90, [`reg${Reg.PORT}=${P}`, `dl_type=${et}`, `ct_state=${CtState.NEW_NOT_ESTABLISHED}`], `ct(commit,zone=${CT_ZONE}),${goTo(Table.ACCEPTED_EGRESS)}`),
    );
  }
  out.push(flow(Table.ACCEPT_OR_INGRESS, 80, [`reg${Reg.PORT}=${P}`], goTo(Table.ACCEPTED_EGRESS_NORMAL)));
  return out;
}

/** T81: what a port always accepts (ARP, ND, DHCP replies), then conntrack and the ingress rules. */
function ingressBaseFlows(p: FirewallPort, opts: BaseFlowOptions, mode: PortMode): Flow[] {
  const P = p.ofport;
  const reg = `reg${Reg.PORT}=${P}`;
  const out = [flow(Table.BASE_INGRESS, 100, [reg, `dl_type=${EtherType.ARP}`], `output:${P}`)];
  for (const et of opts.permittedEthertypes) out.push(flow(Table.BASE_INGRESS, 100, [reg, `dl_type=${et}`], `output:${P}`));
  for (const t of ICMPV6_ALLOWED_INGRESS_TYPES) {
    out.push(flow(Table.BASE_INGRESS, 100, [reg, `dl_type=${EtherType.IPV6}`, `nw_proto=${Proto.ICMPV6}`, `icmp_type=${t}`], `output:${P}`));
  }
  out.push(flow(Table.BASE_INGRESS, 95, [reg, `dl_type=${EtherType.IPV4}`, `nw_proto=${Proto.UDP}`, 'tp_src=67', 'tp_dst=68'], `output:${P}`));
  out.push(flow(Table.BASE_INGRESS, 95, [reg, `dl_type=${EtherType.IPV6}`, `nw_proto=${Proto.UDP}`, 'tp_src=547', 'tp_dst=546'], `output:${P}`));
  const track = mode === 'stateless' ? goTo(Table.RULES_INGRESS) : `ct(table=${Table.RULES_INGRESS},zone=${CT_ZONE})`;
  for (const et of IP_TYPES) {
    out.push(flow(Table.BASE_INGRESS, 90, [reg, `dl_type=${et}`, `ct_state=${CtState.NOT_TRACKED}`], track));
  }
  // Tracked here means it came from a local stateful port's egress.
  const tracked = mode === 'stateless' ? `ct_clear,${goTo(Table.RULES_INGRESS)}` : goTo(Table.RULES_INGRESS);
  out.push(flow(Table.BASE_INGRESS, 80, [reg, `ct_state=${CtState.TRACKED}`], tracked));
  return out;
}

/** T72/T82 conntrack verdicts shared by every rule: invalid and revoked dropped, replies and related accepted. */
function trackedFlows(p: FirewallPort, table: number, accept: string): Flow[] {
  const reg = `reg${Reg.PORT}=${p.ofport}`;
  const out = [
    flow(table, 50, [`ct_state=${CtState.INVALID}`], goTo(Table.DROPPED)),
    flow(table, 50, [reg, `ct_mark=${CtMark.INVALID}`], goTo(Table.DROPPED)),
  ];
  for (const state of [CtState.ESTABLISHED_REPLY, CtState.RELATED]) {
    out.push(flow(table, 50, [reg, `ct_state=${state}`, `ct_mark=${CtMark.NORMAL}`, `ct_zone=${p.lvid}`], accept));
  }
  out.push(flow(table, 40, [reg, `ct_state=${CtState.NOT_ESTABLISHED}`], goTo(Table.DROPPED)));
  for (const et of IP_TYPES) {
    // An established connection no rule accepts any more is marked, so its next packets hit the p50 ct_mark drop.
    out.push(flow(table, 40, [reg, `dl_type=${et}`, `ct_state=${CtState.ESTABLISHED}`], `ct(commit,zone=${CT_ZONE},exec(set_field:${CtMark.INVALID}->ct_mark))`));
  }
  return out;
}

/** Every base flow of a filtered port. */
export function filteredPortBaseFlows(p: FirewallPort, opts: BaseFlowOptions, mode: PortMode = 'stateful'): Flow[] {
  const { macs } = portAddresses(p);
  return [
    ...classificationFlows(p, macs),
    ...egressBaseFlows(p, opts, mode),
    ...ingressBaseFlows(p, opts, mode),
    ...trackedFlows(p, Table.RULES_INGRESS, `output:${p.ofport}`),
    ...trackedFlows(p, Table.RULES_EGRESS, goTo(Table.ACCEPTED_EGRESS_NORMAL)),
  ];
}

/** port_security_enabled=false (§5.6): egress skips filtering; other ports' ingress still applies. */
export function unfilteredPortFlows(p: FirewallPort): Flow[] {
  return [
    flow(Table.TRANSIENT, 100, [`in_port=${p.ofport}`], `${setRegs(p)},${goTo(Table.ACCEPT_OR_INGRESS)}`),
    flow(Table.ACCEPT_OR_INGRESS, 80, [`reg${Reg.PORT}=${p.ofport}`], goTo(Table.ACCEPTED_EGRESS_NORMAL)),
  ];
}
