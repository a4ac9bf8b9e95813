/**
 * The tunnel mesh: the only owner of remote endpoints, br-tun's tunnel
 * ports and each network's flood list (docs/design.md#br-tun-tunnel-bridge).
 *
 * Without l2population every host that ever said `tunnel_sync` gets a port,
 * and every tunnelled network floods to all of them. With it, ports exist
 * for the hosts that have ports on a network of ours, as fdb entries say
 * (lib/l2pop computes which flows and tunnels the entries mean; this module
 * carries them out: ports in OVSDB, flows in br-tun's table).
 */
import { tunnelPortName } from '../bridges/names.js';
import type { TunnelBridge } from '../bridges/br-tun.js';
import type { AgentConfig } from '../config/index.js';
import type { ControlPlane } from '../control-plane/types.js';
import { TUNNEL_TYPES, isTunnelType, type FdbEntries, type FdbIpChanges, type TunnelType } from '../model/index.js';
import { L2Population, applyToTunnelBridge, type L2popAction } from '../l2pop/index.js';
import { named, type Logger } from '../log.js';
import type { LocalVlanMapping } from './local-vlans.js';
import type { SwitchDatabase } from './switch.js';

export interface TunnelPort {
  name: string;
  type: TunnelType;
  remoteIp: string;
  ofport: number | undefined;
}

const OFPORT_TIMEOUT_MS = 10_000;

export class Tunnels {
  private readonly remoteIps = new Map<TunnelType, Set<string>>();
  private readonly ports = new Map<string, TunnelPort>();
  private readonly l2pop: L2Population | undefined;
  private syncPending = true;
  private br: TunnelBridge | undefined;
  private readonly log: Logger;

  constructor(
    private readonly config: AgentConfig,
    private readonly db: SwitchDatabase,
    log: Logger,
    /** The networks provisioned here (for their flood flows). */
    private readonly networks: () => Iterable<LocalVlanMapping>,
  ) {
    this.log = named(log, 'ovs_agent.agent.tunnels');
    const l2popLog = named(log, 'ovs_agent.l2pop');
    if (config.agent.tunnel_types.length && config.agent.l2_population) {
      this.l2pop = new L2Population({
        localIp: config.ovs.local_ip!, arpResponder: config.agent.arp_responder,
        onError: (err) => l2popLog.warn(`l2population: ${err.message}`),
      });
    }
  }

  /** br-tun, once it is set up (none without tunnel_types). */
  useBridge(br: TunnelBridge): void {
    this.br = br;
  }

  private get l2popOn(): boolean {
    return this.config.agent.l2_population;
  }

  // ------------------------------------------------------------ control-plane events

  /** Another host's tunnel endpoint (its `tunnel_sync`): a port to it, without l2population. */
  endpointUp(type: TunnelType, ip: string): void {
    if (this.config.agent.tunnel_types.includes(type) && !this.l2popOn && ip !== this.config.ovs.local_ip) this.ipsOf(type).add(ip);
  }

  endpointDown(type: TunnelType, ip: string): void {
    this.ipsOf(type).delete(ip);
  }

  /** l2population's fdb entries (ignored without it); true when they were taken in. */
  fdbAdd(entries: FdbEntries): boolean {
    this.applyL2pop(this.l2pop?.fdbAdd(entries));
    return this.l2pop !== undefined;
  }

  fdbRemove(entries: FdbEntries): boolean {
    this.applyL2pop(this.l2pop?.fdbRemove(entries));
    return this.l2pop !== undefined;
  }

  fdbUpdate(changes: FdbIpChanges): boolean {
    this.applyL2pop(this.l2pop?.fdbUpdate(changes));
    return this.l2pop !== undefined;
  }

  // ------------------------------------------------------------ networks

  /** A tunnelled network got its local VLAN: its flood list, and fdb entries that waited for it. */
  networkProvisioned(m: LocalVlanMapping): void {
    if (!isTunnelType(m.networkType)) return;
    this.refreshFlood(m);
    this.applyL2pop(this.l2pop?.networkProvisioned({ networkId: m.networkId, lvid: m.lvid, segmentationId: m.segmentationId!, networkType: m.networkType }));
  }

  networkReclaimed(networkId: string): void {
    this.applyL2pop(this.l2pop?.networkReclaimed(networkId));
  }

  // ------------------------------------------------------------ OVSDB work

  /** `tunnel_sync` for each tunnel type: at start and after ovs-vswitchd restarted, until it succeeds. */
  async syncEndpoints(cp: ControlPlane): Promise<void> {
    if (!this.syncPending || !this.br) return;
    const localIp = this.config.ovs.local_ip!;
    for (const type of this.config.agent.tunnel_types) {
      const endpoints = await cp.tunnelSync(localIp, type);
      if (this.l2popOn) continue;
      const set = this.ipsOf(type);
      for (const ep of endpoints) if (ep.ipAddress !== localIp) set.add(ep.ipAddress);
    }
    this.syncPending = false;
  }

  /** Makes br-tun's tunnel ports match the endpoints (waiting for new ports' ofports); flood flows follow. */
  async syncPorts(): Promise<boolean> {
    const br = this.br;
    if (!br) return false;
    let changed = false;
    const wanted = new Set<string>();
    for (const type of TUNNEL_TYPES) {
      for (const ip of this.remoteIps.get(type) ?? []) {
        const name = tunnelPortName(type, ip);
        wanted.add(name);
        if (this.ports.get(name)?.ofport !== undefined) continue;
        await this.db.ensurePort(br.name, name, { type, options: this.portOptions(ip) });
        const ofport = await this.db.waitOfport(name, OFPORT_TIMEOUT_MS);
        this.ports.set(name, { name, type, remoteIp: ip, ofport });
        br.addTunnelPort(name, ofport, type);
        this.applyL2pop(this.l2pop?.tunnelPortReady(name, ofport));
        changed = true;
        this.log.info(`tunnel port ${name} to ${ip} ready`, { ofport });
      }
    }
    for (const name of [...this.ports.keys()]) {
      if (wanted.has(name)) continue;
      this.ports.delete(name);
      br.removeTunnelPort(name);
      await this.db.deletePort(br.name, name);
      changed = true;
      this.log.info(`tunnel port ${name} deleted`);
    }
    if (changed) for (const m of this.networks()) this.refreshFlood(m);
    return changed;
  }

  /** ovs-vswitchd restarted: ofports are to be read again and the endpoints synced again. */
  switchRestarted(): void {
    for (const t of this.ports.values()) t.ofport = undefined;
    this.syncPending = true;
  }

  list(): TunnelPort[] {
    return [...this.ports.values()].map((t) => ({ ...t }));
  }

  // ------------------------------------------------------------ internals

  /** Neutron's tunnel port options (docs/design.md#ovsdb-what-is-read-and-written). */
  private portOptions(remoteIp: string): Record<string, string> {
    const a = this.config.agent;
    const o: Record<string, string> = {
      remote_ip: remoteIp, local_ip: this.config.ovs.local_ip!, in_key: 'flow', out_key: 'flow',
      df_default: String(a.dont_fragment), egress_pkt_mark: '0',
    };
    if (a.vxlan_udp_port !== 4789) o.dst_port = String(a.vxlan_udp_port);
    if (a.tunnel_csum) o.csum = 'true';
    if (a.dscp_inherit) o.tos = 'inherit';
    else if (a.dscp) o.tos = String(a.dscp * 4);
    return o;
  }

  /** l2pop's intentions: flows into br-tun's table, tunnels to the next syncPorts. */
  private applyL2pop(actions: L2popAction[] | undefined): void {
    if (!actions || !this.br) return;
    for (const a of actions) {
      if (a.kind === 'add_tunnel') this.ipsOf(a.tunnelType).add(a.remoteIp);
      else if (a.kind === 'remove_tunnel') this.ipsOf(a.tunnelType).delete(a.remoteIp);
    }
    applyToTunnelBridge(this.br, actions);
  }

  /** Without l2population a network floods to every tunnel of its type. */
  private refreshFlood(m: LocalVlanMapping): void {
    if (!this.br || !isTunnelType(m.networkType) || this.l2popOn) return;
    const ofports = [...this.ports.values()].filter((t) => t.type === m.networkType && t.ofport !== undefined).map((t) => t.ofport!);
    this.br.setFloodFlow(m.networkId, m.lvid, m.segmentationId!, ofports);
  }

  private ipsOf(type: TunnelType): Set<string> {
    let s = this.remoteIps.get(type);
    if (!s) this.remoteIps.set(type, (s = new Set()));
    return s;
  }
}
