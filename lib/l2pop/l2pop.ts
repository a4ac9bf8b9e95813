/**
 * l2population (docs/design.md#br-tun-tunnel-bridge; docs/neutron.md,
 * "l2population's fdb entries"): instead of flooding
 * to every tunnel and learning, the server tells each agent which MACs and
 * IPs live behind which remote tunnel endpoint. From those fdb entries this
 * module decides, per network:
 *
 *  - which tunnel ports must exist (created on the first entry naming a
 *    remote IP, removed when no network refers to it any more);
 *  - the flood list (tunnels that sent a flooding entry for the network);
 *  - the unicast entries (remote MAC → its tunnel);
 *  - with `arp_responder`, the ARP answers br-tun gives locally (IPv4 only).
 *
 * It is pure: every call returns the intentions to carry out, in order
 * (tunnel creations first, removals last), and the agent maps them onto its
 * TunnelBridge (`applyToTunnelBridge`) and OVSDB. A tunnel's flows wait until
 * the agent reports its ofport with `tunnelPortReady`.
 */
import { isIPv4 } from 'node:net';
import { FLOODING_ENTRY, isTunnelType, type FdbEntries, type FdbIpChanges, type TunnelType } from '../model/index.js';
import { tunnelPortName } from '../bridges/names.js';

export interface L2popNetwork {
  networkId: string;
  lvid: number;
  segmentationId: number;
  networkType: TunnelType;
}

export type L2popAction =
  | { kind: 'add_tunnel'; name: string; tunnelType: TunnelType; remoteIp: string }
  | { kind: 'remove_tunnel'; name: string; tunnelType: TunnelType; remoteIp: string }
  /** The full flood list of a network; empty means "no flood flow". */
  | { kind: 'set_flood'; networkId: string; lvid: number; segmentationId: number; ofports: number[] }
  | { kind: 'add_unicast'; networkId: string; lvid: number; segmentationId: number; mac: string; ofport: number }
  | { kind: 'remove_unicast'; networkId: string; mac: string }
  | { kind: 'add_arp'; networkId: string; lvid: number; ip: string; mac: string }
  | { kind: 'remove_arp'; networkId: string; ip: string };

export interface L2popOptions {
  /** This agent's tunnel endpoint: entries for it are ignored. */
  localIp: string;
  /** `[agent] arp_responder` (effective only with l2_population). */
  arpResponder: boolean;
  onError?: (error: Error) => void;
}

export class L2popError extends Error {
  override readonly name = 'L2popError';
  readonly code = 'L2POP_BAD_ENTRY';
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

interface Tunnel {
  name: string;
  tunnelType: TunnelType;
  remoteIp: string;
  ofport?: number;
}

interface NetworkFdb {
  segmentId?: number;
  /** Remote agents that sent the flooding entry. */
  flood: Set<string>;
  /** agent ip → "mac|ip" → [mac, ip]. */
  ports: Map<string, Map<string, [string, string]>>;
}

interface Emitted {
  flood: string;
  unicast: Map<string, number>;
  arp: Map<string, string>;
}

const tunnelKey = (type: TunnelType, ip: string): string => `${type}|${ip}`;

export class L2Population {
  private readonly networks = new Map<string, L2popNetwork>();
  private readonly fdb = new Map<string, NetworkFdb>();
  private readonly tunnels = new Map<string, Tunnel>();
  private readonly emitted = new Map<string, Emitted>();
  private readonly onError: (error: Error) => void;

  constructor(private readonly options: L2popOptions) {
    this.onError = options.onError ?? (() => {});
  }

  /**
   * A tunnelled network got a local VLAN here. Entries that arrived before
   * (Neutron ignores those and re-sends the full table once the port is up;
   * a local control plane may send them first) take effect now.
   */
  networkProvisioned(n: L2popNetwork): L2popAction[] {
    this.networks.set(n.networkId, { ...n });
    const early = this.fdb.get(n.networkId);
    if (early && early.segmentId !== undefined && early.segmentId !== n.segmentationId) this.fdb.delete(n.networkId);
    return this.sync([n.networkId]);
  }

  /** The network's last port left: forget its entries, drop tunnels nobody uses any more. */
  networkReclaimed(networkId: string): L2popAction[] {
    const had = this.networks.has(networkId);
    this.networks.delete(networkId);
    this.fdb.delete(networkId);
    // The agent's reclaim removes the network's br-tun flows itself; only forget what we emitted.
    this.emitted.delete(networkId);
    return had ? this.sync([]) : [];
  }

  fdbAdd(entries: FdbEntries): L2popAction[] {
    return this.sync(this.apply(entries, 'add'));
  }

  fdbRemove(entries: FdbEntries): L2popAction[] {
    return this.sync(this.apply(entries, 'remove'));
  }

  /** `chg_ip`: an IP of a remote port changed; only the ARP answers follow (the MAC, so the unicast flow, is unchanged). */
  fdbUpdate(changes: FdbIpChanges): L2popAction[] {
    const touched: string[] = [];
    for (const [networkId, byAgent] of Object.entries(changes)) {
      const fdb = this.fdb.get(networkId);
      if (!this.networks.has(networkId) || !fdb) continue;
      for (const [agentIp, { before, after }] of Object.entries(byAgent)) {
        if (agentIp === this.options.localIp) continue;
        const ports = fdb.ports.get(agentIp) ?? new Map<string, [string, string]>();
        for (const e of before ?? []) {
          const p = this.entry(e);
          if (p) ports.delete(`${p[0]}|${p[1]}`);
        }
        for (const e of after ?? []) {
          const p = this.entry(e);
          if (p) ports.set(`${p[0]}|${p[1]}`, p);
        }
        if (ports.size) fdb.ports.set(agentIp, ports);
        else fdb.ports.delete(agentIp);
        touched.push(networkId);
      }
    }
    return this.sync(touched);
  }

  /** OVSDB assigned the tunnel port its ofport: install the flows that were waiting for it. */
  tunnelPortReady(name: string, ofport: number): L2popAction[] {
    const t = [...this.tunnels.values()].find((x) => x.name === name);
    if (!t || t.ofport === ofport) return [];
    t.ofport = ofport;
    return this.sync([...this.networks.keys()]);
  }

  /** Tunnel ports this module wants, with their ofports once known. */
  tunnelPorts(): Array<Readonly<Tunnel>> {
    return [...this.tunnels.values()].map((t) => ({ ...t }));
  }

  private entry(e: unknown): [string, string] | undefined {
    if (!Array.isArray(e) || e.length < 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string') {
      this.onError(new L2popError(`bad fdb port entry ${JSON.stringify(e)}: expected [mac, ip]`));
      return undefined;
    }
    const mac = e[0].toLowerCase();
    if (!MAC_RE.test(mac)) {
      this.onError(new L2popError(`bad MAC in fdb entry ${JSON.stringify(e)}`));
      return undefined;
    }
    return [mac, e[1]];
  }

  private apply(entries: FdbEntries, op: 'add' | 'remove'): string[] {
    const touched: string[] = [];
    for (const [networkId, net] of Object.entries(entries)) {
      const local = this.networks.get(networkId);
      // Neutron looks the local VLAN up by (network, segment). Entries for a network not (yet)
      // provisioned here are kept and only act once it is.
      if (local && net.segmentId !== undefined && net.segmentId !== local.segmentationId) continue;
      let fdb = this.fdb.get(networkId);
      if (fdb && !local && fdb.segmentId !== net.segmentId) fdb = undefined;
      if (!fdb) {
        fdb = { segmentId: net.segmentId, flood: new Set(), ports: new Map() };
        this.fdb.set(networkId, fdb);
      }
      for (const [agentIp, list] of Object.entries(net.ports ?? {})) {
        if (agentIp === this.options.localIp) continue;
        let ports = fdb.ports.get(agentIp);
        for (const e of list) {
          const p = this.entry(e);
          if (!p) continue;
          const isFlood = p[0] === FLOODING_ENTRY[0] && p[1] === FLOODING_ENTRY[1];
          if (op === 'add') {
            if (isFlood) fdb.flood.add(agentIp);
            else {
              if (!ports) {
                ports = new Map();
                fdb.ports.set(agentIp, ports);
              }
              ports.set(`${p[0]}|${p[1]}`, p);
            }
          } else if (isFlood) fdb.flood.delete(agentIp);
          else ports?.delete(`${p[0]}|${p[1]}`);
        }
        if (ports && ports.size === 0) fdb.ports.delete(agentIp);
      }
      touched.push(networkId);
    }
    return touched;
  }

  /** Recomputes the touched networks and the tunnel set, and returns the difference to what was emitted. */
  private sync(touched: readonly string[]): L2popAction[] {
    const creates: L2popAction[] = [];
    const changes: L2popAction[] = [];
    const removals: L2popAction[] = [];

    // Tunnels: every remote agent any provisioned network refers to.
    const wanted = new Map<string, { type: TunnelType; ip: string }>();
    for (const [networkId, fdb] of this.fdb) {
      const n = this.networks.get(networkId);
      if (!n) continue;
      for (const ip of [...fdb.flood, ...fdb.ports.keys()]) wanted.set(tunnelKey(n.networkType, ip), { type: n.networkType, ip });
    }
    for (const [k, { type, ip }] of wanted) {
      if (this.tunnels.has(k)) continue;
      if (!isTunnelType(type) || (isIPv4(ip) !== isIPv4(this.options.localIp))) {
        // Neutron needs the same IP version on both ends.
        this.onError(new L2popError(`cannot tunnel ${type} from ${this.options.localIp} to ${ip}`));
        continue;
      }
      const t: Tunnel = { name: tunnelPortName(type, ip), tunnelType: type, remoteIp: ip };
      this.tunnels.set(k, t);
      creates.push({ kind: 'add_tunnel', name: t.name, tunnelType: type, remoteIp: ip });
    }

    for (const networkId of new Set(touched)) {
      const n = this.networks.get(networkId);
      if (!n) continue;
      const fdb = this.fdb.get(networkId);
      const ofportOf = (ip: string): number | undefined => this.tunnels.get(tunnelKey(n.networkType, ip))?.ofport;
      const prev = this.emitted.get(networkId) ?? { flood: '', unicast: new Map<string, number>(), arp: new Map<string, string>() };
      const next: Emitted = { flood: '', unicast: new Map(), arp: new Map() };

      const flood = [...(fdb?.flood ?? [])].map(ofportOf).filter((p): p is number => p !== undefined).sort((a, b) => a - b);
      next.flood = flood.join(',');
      for (const [agentIp, ports] of fdb?.ports ?? []) {
        const ofport = ofportOf(agentIp);
        for (const [mac, ip] of ports.values()) {
          if (ofport !== undefined && !next.unicast.has(mac)) next.unicast.set(mac, ofport);
          if (this.options.arpResponder && isIPv4(ip) && !next.arp.has(ip)) next.arp.set(ip, mac);
        }
      }

      for (const [mac, ofport] of next.unicast) {
        if (prev.unicast.get(mac) !== ofport) changes.push({ kind: 'add_unicast', networkId, lvid: n.lvid, segmentationId: n.segmentationId, mac, ofport });
      }
      for (const [ip, mac] of next.arp) {
        if (prev.arp.get(ip) !== mac) changes.push({ kind: 'add_arp', networkId, lvid: n.lvid, ip, mac });
      }
      if (next.flood !== prev.flood) changes.push({ kind: 'set_flood', networkId, lvid: n.lvid, segmentationId: n.segmentationId, ofports: flood });
      for (const mac of prev.unicast.keys()) if (!next.unicast.has(mac)) changes.push({ kind: 'remove_unicast', networkId, mac });
      for (const ip of prev.arp.keys()) if (!next.arp.has(ip)) changes.push({ kind: 'remove_arp', networkId, ip });
      if (next.flood === '' && next.unicast.size === 0 && next.arp.size === 0) this.emitted.delete(networkId);
      else this.emitted.set(networkId, next);
      if (fdb && fdb.flood.size === 0 && fdb.ports.size === 0) this.fdb.delete(networkId);
    }

    for (const [k, t] of this.tunnels) {
      if (wanted.has(k)) continue;
      this.tunnels.delete(k);
      removals.push({ kind: 'remove_tunnel', name: t.name, tunnelType: t.tunnelType, remoteIp: t.remoteIp });
    }
    return [...creates, ...changes, ...removals];
  }
}
