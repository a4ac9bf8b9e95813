/**
 * The L2 agent: sets up br-int, br-tun and the physical bridges as
 * neutron-openvswitch-agent does, then wires ports in passes driven by
 * events from the OVSDB replica and the control plane.
 *
 * One pass: take every port that changed since the last pass, ask the
 * control plane about them in one request, compute the flows they need in
 * the bridges' desired-flow tables, then send each bridge's difference as ONE
 * ordered atomic bundle closed by one barrier, write all Port tags in ONE
 * OVSDB transaction, and report the ports up only after both were confirmed
 * (ovn-controller's one-bundle-per-iteration, ofctrl.c). Events arriving
 * during a pass are coalesced into the next one. The report itself runs
 * behind the passes (device-reporter.ts): the next pass need not wait for
 * the server's answer.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AgentConfig } from '../config/index.js';
import {
  BRIDGE_PROTOCOLS, COOKIE_EXTERNAL_ID, DEAD_VLAN_TAG, IntegrationBridge, NONEXISTENT_PEER, OVS_FIREWALL_PROTOCOLS, PhysicalBridge, TunnelBridge,
  integrationBridgeSnooping, patchPortSnooping,
  Table, applyExtensionChange, formatCookie, type Flow, intPatchName, parseCookie, physPatchName, randomCookie, tunnelPortName,
  type FlowTable,
} from '../bridges/index.js';
import type {
  ControlPlane, ControlPlaneEvent, DeviceLookup, NetworkType, PortDetails, TunnelType,
} from '../control-plane/types.js';
import { silentLogger, type Logger } from '../log.js';
import { firewallPortFrom, type Firewall, type FirewallPort, type FlowChange } from '../firewall/index.js';
import { L2Population, applyToTunnelBridge, type L2popAction } from '../l2pop/index.js';
import { DeviceReporter, type ReportedBatch } from './device-reporter.js';
import { LocalVlanManager, VlanPoolExhaustedError, type LocalVlanMapping } from './local-vlans.js';
import type { BridgeSettings, FlowChannel, FlowChannelEvent, SwitchDatabase, VifRow } from './switch.js';
import { VifRegistry, startupOrder, type TrackedVif, type VifEvent, type VifPlace } from './vif-registry.js';
import { warmUpFlowPath, type WarmUpResult } from './warm-up.js';

export const MAX_DEVICE_RETRIES = 5;
const OFPORT_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 10_000;
const TUNNEL_TYPES: readonly TunnelType[] = ['vxlan', 'gre', 'geneve'];
/** The start-up warm-up: rounds of made-up ports (warm-up.ts; measured in docs/agent.md). */
const WARM_UP_ROUNDS = 3;
const WARM_UP_PORTS = 10;

export type PortState = 'ACTIVE' | 'DEAD' | 'DOWN' | 'FAILED' | 'WAITING';

export interface WiredPort {
  portId: string;
  name: string;
  ofport: number;
  mac: string;
  state: PortState;
  networkId?: string;
  networkType?: NetworkType;
  lvid?: number;
  /** When the interface was first seen ready (ms since epoch). */
  readyAt: number;
  /** From ready to flows confirmed and reported (ms). */
  wiredInMs?: number;
  error?: string;
}

export interface TunnelPort {
  name: string;
  type: TunnelType;
  remoteIp: string;
  ofport: number | undefined;
}

export interface AgentStatus {
  host: string;
  startedAt: string;
  ovsState: 'NORMAL' | 'RESTARTED' | 'DEAD';
  ports: WiredPort[];
  localVlans: Array<{ networkId: string; lvid: number; networkType: NetworkType; segmentationId?: number; physicalNetwork?: string; ports: number }>;
  tunnels: TunnelPort[];
  bridges: Array<{ name: string; cookie: string; flows: number }>;
  lastSync?: { at: string; durationMs: number; ports: number; ok: boolean };
  firstSyncDone: boolean;
  passes: number;
  /** Flow-mods sent since start (all bridges). */
  flowModsSent: number;
  ancillaryBridges: string[];
}

export interface AgentOptions {
  config: AgentConfig;
  controlPlane: ControlPlane;
  db: SwitchDatabase;
  /** Opens the OpenFlow channel to a bridge (called once per bridge; the channel reconnects by itself). */
  openFlowChannel: (bridge: string) => Promise<FlowChannel>;
  /** The security-group firewall (lib/firewall); its flows join each pass's br-int bundle. */
  firewall?: Firewall;
  logger?: Logger;
  /** Called after each pass (status, the demo, tests). */
  onPass?: (summary: PassSummary) => void;
  /**
   * `other_config:dp-desc` for the bridges the agent sets up. In controller
   * mode it is how the listener tells the real switch from a peer that only
   * claims its datapath id (lib/agent/ovs/controller-trust.ts).
   */
  switchDescription?: string;
  /**
   * How a lost or new OpenFlow session is noticed: `events` (the default), at
   * once from the channels' session events, with the periodic canary check
   * behind them; `poll`, by the canary check alone (benchmarks compare them).
   */
  restartDetection?: 'events' | 'poll';
}

export interface PassSummary {
  ok: boolean;
  durationMs: number;
  /** Wired by this pass (flows and tag confirmed) and handed to the report; ACTIVE once the control plane has it. */
  up: string[];
  /** Removed or dead, handed to the report. */
  down: string[];
  dead: string[];
  removed: string[];
  failed: string[];
  flowMods: number;
  /**
   * Where the pass spent its time (ms): control-plane lookup, computing flows, the firewall's flows,
   * the bundle to its barrier (`flows`), the OVSDB transaction with the tags (`tags`), handing
   * the ports to the report (`report`; the call itself runs behind the pass).
   */
  phases: { details: number; compute: number; firewall: number; flows: number; tags: number; report: number };
  error?: Error;
}

interface PortRecord extends WiredPort {
  /** performance.now() when the interface became ready: sub-millisecond wiring times. */
  readyPerf: number;
  /**
   * The tag this agent gives the Port row (its network's local VLAN, or 4095
   * dead), set before it is written: a tag anyone else sets is set back.
   */
  tag?: number;
}

/** Bridge external_ids marking an ancillary bridge (e.g. br-ex) whose VIFs are only reported (§3.6). */
const BRIDGE_ID_KEY = 'bridge-id';

export class OvsAgent {
  readonly config: AgentConfig;
  private readonly cp: ControlPlane;
  private readonly db: SwitchDatabase;
  private readonly log: Logger;
  private readonly vlans = new LocalVlanManager();
  private brInt!: IntegrationBridge;
  private brTun: TunnelBridge | undefined;
  private readonly brPhys = new Map<string, PhysicalBridge>(); // physnet → bridge
  private readonly channels = new Map<string, FlowChannel>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly ports = new Map<string, PortRecord>();
  /** Which interface carries which port id, on br-int and the ancillary bridges (vif-registry.ts). */
  private readonly vifs = new VifRegistry();
  /** Duplicate interfaces (vif-registry.ts) whose dead wiring the next pass puts in place or takes away. */
  private readonly pendingDuplicates = new Set<string>();
  /** Duplicate interfaces on br-int a pass has put on the dead VLAN with their drop flow. */
  private readonly deadInterfaces = new Set<string>();
  /** Duplicate interfaces whose row changed during the running pass: their tags are checked when it ends. */
  private readonly recheckDuplicates = new Set<string>();
  private readonly pending = new Set<string>();
  /** Ports the running pass is wiring (their tags are decided before they are written). */
  private readonly inPass = new Set<string>();
  /** Ports of the running pass whose row changed during it: their tags are checked when it ends. */
  private readonly recheckTags = new Set<string>();
  private readonly pendingRemoved = new Set<string>();
  /** Ports FAILED because every local VLAN was taken: tried again when a network gives its VLAN back. */
  private readonly awaitingVlan = new Set<string>();
  private readonly retries = new Map<string, { attempts: number; notBefore: number }>();
  private readonly tunnels = new Map<string, TunnelPort>();
  private readonly remoteIps = new Map<TunnelType, Set<string>>();
  private intPatchOfport = new Map<string, number>(); // physnet → int-br ofport
  private phyPatchOfport = new Map<string, number>(); // physnet → phy-br ofport
  private patchIntOfport: number | undefined;
  private ancillary: string[] = [];
  private readonly ancillaryUp = new Set<string>();
  private readonly ancillaryDown = new Set<string>();
  private passRunning = false;
  private passAgain = false;
  private passTimer: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private firstSyncDone = false;
  private warmUpResult: WarmUpResult | undefined;
  /** start() has noted the VIFs already on br-int: passes may run. */
  private started = false;
  private fullSyncPending = true;
  private tunnelSyncPending = true;
  private ovsState: AgentStatus['ovsState'] = 'NORMAL';
  /** A recovery (reconcile after a session change, re-setup after an OVS restart) running; passes wait for it. */
  private restartHandling: Promise<void> | undefined;
  /** Bridges whose OpenFlow session changed since their flows were last compared with the switch's. */
  private readonly sessionChanged = new Set<string>();
  private recoverAgain = false;
  private recoverRetryTimer: NodeJS.Timeout | undefined;
  /** The next retry's delay after failed recoveries in a row. */
  private recoverRetryMs = RETRY_BASE_MS;
  private readonly restartDetection: 'events' | 'poll';
  private readonly switchDescription: string | undefined;
  private startFlag = true;
  private passCount = 0;
  private flowModsSent = 0;
  private lastSync: AgentStatus['lastSync'];
  private readonly startedAt = new Date();
  private readonly host: string;
  private readonly agentId = randomUUID();
  private idle: Array<() => void> = [];
  private readonly onPass?: (s: PassSummary) => void;
  private readonly firewall?: Firewall;
  private l2pop: L2Population | undefined;
  private readonly openChannel: (bridge: string) => Promise<FlowChannel>;
  private readonly reporter: DeviceReporter;
  /** Ports wired and reported up, not yet confirmed: ACTIVE on the answer unless they went dead or away meanwhile. */
  private readonly awaitingUp = new Set<string>();
  /**
   * Ports whose lookup the control plane deferred (fetching their details): its `ports_updated` brings
   * them back. Until then the first sync is not done, nor the agent idle.
   */
  private readonly awaitingDetails = new Set<string>();

  constructor(opts: AgentOptions) {
    this.config = opts.config;
    this.cp = opts.controlPlane;
    this.db = opts.db;
    this.log = opts.logger ?? silentLogger;
    this.onPass = opts.onPass;
    this.firewall = opts.firewall;
    this.openChannel = opts.openFlowChannel;
    this.restartDetection = opts.restartDetection ?? 'events';
    this.switchDescription = opts.switchDescription;
    this.host = opts.config.DEFAULT.host || hostname();
    this.reporter = new DeviceReporter({
      send: (up, down) => this.cp.updateDeviceList(up, down),
      onReported: (batch) => this.onReported(batch),
      onFailed: (err, ports, retryInMs) => {
        this.log.warn('reporting ports to the control plane failed; retrying', { error: err.message, ports, retryInMs });
      },
      retryBaseMs: RETRY_BASE_MS,
      retryMaxMs: RETRY_MAX_MS,
    });
  }

  private get tunnelTypes(): TunnelType[] {
    return this.config.agent.tunnel_types;
  }

  // ---------------------------------------------------------------- start-up

  /** Start-up in Neutron's order (§4.1); resolves once bridges are set up and the first pass is scheduled. */
  async start(): Promise<void> {
    const t0 = Date.now();
    await this.db.ready();
    await this.setupIntegrationBridge();
    await this.setupPhysicalBridges();
    if (this.tunnelTypes.length) await this.setupTunnelBridge();
    await this.connectAndAdopt();
    this.restoreLocalVlanHints();
    await this.commitFlows('setup');

    this.unsubscribe.push(this.db.onChange((c) => this.onDbChange(c)));
    this.unsubscribe.push(this.cp.onEvent((e) => this.onControlPlaneEvent(e)));
    await this.cp.start({ host: this.host, agentId: this.agentId, binary: 'neutron-openvswitch-agent' });
    this.firewall?.updateSecurityGroupInfo(await this.cp.securityGroupInfo([]));

    this.ancillary = this.db.bridges()
      .filter((b) => b.externalIds[BRIDGE_ID_KEY] === b.name && !this.flowTables().some((t) => t.bridge === b.name))
      .map((b) => b.name);
    if (this.ancillary.length) this.log.info('ancillary bridges (ports reported, not wired)', { bridges: this.ancillary });
    // Everything on br-int now is "added" for the first pass (scan path, §4.4).
    for (const vif of startupOrder(this.db.vifs())) this.noteVif(vif);
    this.log.info('agent started', {
      integrationBridge: this.brInt.name, physicalBridges: [...this.brPhys.values()].map((b) => b.name),
      tunnelTypes: this.tunnelTypes, vifs: this.pending.size, ms: Date.now() - t0,
    });
    this.startTimers();
    this.started = true;
    if (this.sessionChanged.size) this.recover('OpenFlow sessions changed during start-up');
    this.schedulePass();
  }

  /** Neutron's columns for one of the agent's bridges (docs/agent.md, "Bridge settings"). */
  private bridgeSettings(name: string): BridgeSettings {
    const s: BridgeSettings = {
      datapathType: this.config.ovs.datapath_type, failMode: 'secure', protocols: [...BRIDGE_PROTOCOLS],
      otherConfig: { 'mac-table-size': String(this.config.ovs.bridge_mac_table_size) },
    };
    // The switch's proof of identity to our controller listener (lib/agent/ovs/controller-trust.ts).
    if (this.switchDescription) s.otherConfig['dp-desc'] = this.switchDescription;
    if (name !== this.config.ovs.integration_bridge) return s;
    const snooping = integrationBridgeSnooping(this.config.ovs.igmp_snooping_enable);
    return {
      ...s, protocols: [...(this.firewall?.driver === 'openvswitch' ? OVS_FIREWALL_PROTOCOLS : BRIDGE_PROTOCOLS)],
      otherConfig: { ...s.otherConfig, ...snooping.otherConfig }, mcastSnoopingEnable: snooping.mcastSnoopingEnable,
    };
  }

  /** Port other_config of br-int's patch ports to br-tun and the physical bridges. */
  private get patchPortConfig(): Record<string, string> {
    return patchPortSnooping(this.config.ovs.igmp_snooping_enable);
  }

  /** Our cookie for a bridge: the previous run's (so its flows are adopted unchanged), or a new one. */
  private async bridgeCookie(name: string): Promise<bigint> {
    const existing = parseCookie(this.db.bridge(name)?.externalIds[COOKIE_EXTERNAL_ID]);
    if (existing !== undefined) return existing;
    const cookie = randomCookie();
    await this.db.setBridgeExternalIds(name, { [COOKIE_EXTERNAL_ID]: formatCookie(cookie) });
    return cookie;
  }

  private async ensureAgentBridge(name: string): Promise<void> {
    await this.db.ensureBridge(name, this.bridgeSettings(name));
    if (this.config.ovs_agent.openflow_channel === 'controller') {
      const target = `tcp:${this.config.ovs.of_listen_address}:${this.config.ovs.of_listen_port}`;
      await this.db.setControllers(name, [target], {
        connectionMode: 'out-of-band', inactivityProbeMs: this.config.ovs.of_inactivity_probe * 1000,
      });
    }
  }

  private async setupIntegrationBridge(): Promise<void> {
    const name = this.config.ovs.integration_bridge;
    await this.ensureAgentBridge(name);
    this.brInt = new IntegrationBridge(name, await this.bridgeCookie(name));
    this.brInt.setupDefaultTableFlows();
    for (const change of this.firewall?.initialize() ?? []) this.applyExternalChange(this.brInt.flows, 'fw', change);
  }

  private async setupPhysicalBridges(): Promise<void> {
    for (const [physnet, bridge] of Object.entries(this.config.ovs.bridge_mappings)) {
      if (!this.db.bridge(bridge)) {
        // Neutron exits here; one missing bridge should not take every other network down.
        this.log.error(`physical bridge ${bridge} for ${physnet} does not exist; networks on ${physnet} cannot be wired`,
          { physnet, bridge });
        continue;
      }
      await this.ensureAgentBridge(bridge);
      const br = new PhysicalBridge(bridge, physnet, await this.bridgeCookie(bridge));
      this.brPhys.set(physnet, br);
      await this.wirePhysicalPatches(physnet, br);
    }
  }

  /** int-<br>/phy-<br>: created unpeered, drops installed on both sides, then peered (§3.5, §4.1 step 3). */
  private async wirePhysicalPatches(physnet: string, br: PhysicalBridge): Promise<void> {
    const intName = intPatchName(br.name);
    const phyName = physPatchName(br.name);
    const peered = this.db.vif(intName)?.ofport !== undefined && this.db.vif(phyName)?.ofport !== undefined;
    if (!peered) {
      await this.db.ensurePort(this.brInt.name, intName, { type: 'patch', options: { peer: NONEXISTENT_PEER }, portOtherConfig: this.patchPortConfig });
      await this.db.ensurePort(br.name, phyName, { type: 'patch', options: { peer: NONEXISTENT_PEER } });
    }
    const intOfport = await this.db.waitOfport(intName, OFPORT_TIMEOUT_MS);
    const phyOfport = await this.db.waitOfport(phyName, OFPORT_TIMEOUT_MS);
    this.intPatchOfport.set(physnet, intOfport);
    this.phyPatchOfport.set(physnet, phyOfport);
    br.setupDefaultTableFlows();
    br.dropFromIntPatch(phyOfport);
    this.brInt.dropFromPhysPatch(br.name, intOfport);
  }

  /** The drops are on the switch: now the patches may carry traffic. */
  private async peerPhysicalPatches(): Promise<void> {
    for (const br of this.brPhys.values()) {
      const intName = intPatchName(br.name);
      const phyName = physPatchName(br.name);
      await this.db.ensurePort(this.brInt.name, intName, { type: 'patch', options: { peer: phyName }, portOtherConfig: this.patchPortConfig });
      await this.db.ensurePort(br.name, phyName, { type: 'patch', options: { peer: intName } });
    }
  }

  private async setupTunnelBridge(): Promise<void> {
    const name = this.config.ovs.tunnel_bridge;
    await this.ensureAgentBridge(name);
    this.brTun ??= new TunnelBridge(name, await this.bridgeCookie(name));
    if (this.config.agent.l2_population && !this.l2pop) {
      this.l2pop = new L2Population({
        localIp: this.config.ovs.local_ip!, arpResponder: this.config.agent.arp_responder,
        onError: (err) => this.log.warn(`l2population: ${err.message}`),
      });
    }
    const intPeer = this.config.ovs.int_peer_patch_port;
    const tunPeer = this.config.ovs.tun_peer_patch_port;
    await this.db.ensurePort(this.brInt.name, intPeer, { type: 'patch', options: { peer: tunPeer }, portOtherConfig: this.patchPortConfig });
    await this.db.ensurePort(name, tunPeer, { type: 'patch', options: { peer: intPeer } });
    await this.db.waitOfport(intPeer, OFPORT_TIMEOUT_MS);
    this.patchIntOfport = await this.db.waitOfport(tunPeer, OFPORT_TIMEOUT_MS);
    this.brTun.setupDefaultTableFlows(this.patchIntOfport, {
      arpResponder: this.config.agent.arp_responder && this.config.agent.l2_population,
    });
  }

  private flowTables(): FlowTable[] {
    return [this.brInt.flows, ...(this.brTun ? [this.brTun.flows] : []), ...[...this.brPhys.values()].map((b) => b.flows)];
  }

  /** Opens a channel per bridge and adopts what the switch already has, deleting nothing yet. */
  private async connectAndAdopt(): Promise<void> {
    for (const table of this.flowTables()) {
      if (this.channels.has(table.bridge)) continue;
      const ch = await this.openChannel(table.bridge);
      this.channels.set(table.bridge, ch);
      this.unsubscribe.push(ch.onEvent((e) => this.onChannelEvent(table.bridge, e)));
      if (table.bridge === this.brInt.name && this.config.agent.drop_flows_on_start) {
        table.adoptInstalled(await this.dumpAll(ch), { deleteUnwanted: true });
      } else {
        table.adoptInstalled(await this.dumpAll(ch), { deleteUnwanted: false });
      }
    }
  }

  private async dumpAll(ch: FlowChannel): Promise<Array<{ flow: Flow; cookie: bigint }>> {
    return (await ch.dumpFlows()).map(({ flow, cookie }) => ({ flow, cookie }));
  }

  /** §4.6: Port rows keep tag + other_config:net_uuid/segmentation_id; reserve them so networks keep their ids. */
  private restoreLocalVlanHints(): void {
    for (const vif of this.db.vifs()) {
      if (vif.bridge !== this.brInt.name || vif.tag === undefined || vif.tag === DEAD_VLAN_TAG) continue;
      const net = vif.portOtherConfig.net_uuid;
      if (!net) continue;
      const seg = vif.portOtherConfig.segmentation_id;
      this.vlans.addHint(net, seg !== undefined && seg !== 'None' ? Number(seg) : undefined, vif.tag);
    }
  }

  private startTimers(): void {
    const pollMs = this.config.agent.polling_interval * 1000;
    this.pollTimer = setInterval(() => void this.checkCanary('poll'), pollMs);
    this.pollTimer.unref();
    const reportMs = this.config.agent.report_interval * 1000;
    if (reportMs > 0) {
      void this.reportState();
      this.reportTimer = setInterval(() => void this.reportState(), reportMs);
      this.reportTimer.unref();
    }
  }

  // ---------------------------------------------------------------- events

  /** Marks a VIF for the next pass when something the agent cares about changed. */
  private noteVif(vif: VifRow): void {
    const place = this.placeOf(vif);
    if (!place) {
      this.forgetVif(vif.name);
      return;
    }
    if (vif.ofport === undefined || vif.ofport <= 0) return; // not ready yet; its ofport event will come
    const events = this.vifs.note({ name: vif.name, portId: vif.ifaceId!, ofport: vif.ofport, mac: vif.attachedMac!, place });
    if (events.length) {
      this.applyVifEvents(events);
      return;
    }
    if (place !== 'int') return;
    if (this.vifs.isDuplicate(vif.name)) {
      if (this.passRunning) this.recheckDuplicates.add(vif.name);
      else this.checkDuplicateTag(vif);
      return;
    }
    // Neutron's check_changed_vlans: a wired port's tag changed behind our back (another tool, a typo in
    // ovs-vsctl) puts its VM on another network's VLAN; the next pass writes the tag back.
    // A port in the running pass has its new tag decided but maybe not written yet: checked when the pass ends.
    if (this.inPass.has(vif.ifaceId!)) this.recheckTags.add(vif.ifaceId!);
    else this.checkTag(vif.ifaceId!, vif);
  }

  /** br-int's VIFs are wired, ancillary bridges' only reported; anything else is not ours. */
  private placeOf(vif: VifRow): VifPlace | undefined {
    if (vif.ifaceId === undefined || vif.attachedMac === undefined || vif.bridge === undefined) return undefined;
    if (vif.bridge === this.brInt.name) return 'int';
    return this.ancillary.includes(vif.bridge) ? 'ancillary' : undefined;
  }

  /** What a change of carriers and duplicates means for the next pass and the reports. */
  private applyVifEvents(events: readonly VifEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'carrier':
          this.carrierChanged(e.portId, e.vif, e.previous);
          break;
        case 'gone':
          if (e.previous.place === 'int') {
            this.pending.delete(e.portId);
            this.pendingRemoved.add(e.portId);
          } else {
            this.ancillaryUp.delete(e.portId);
            this.ancillaryDown.add(e.portId);
          }
          break;
        case 'duplicate':
          this.log.error(`interfaces ${e.carrier.name} and ${e.vif.name} both have iface-id ${e.vif.portId}: ` +
            `${e.carrier.name} carries the port; ${e.vif.name} is ${e.vif.place === 'int' ? 'kept on the dead VLAN with its traffic dropped' : 'not reported'} ` +
            'until one of them goes or changes its iface-id',
          { port: e.vif.portId, interface: e.vif.name, carriedBy: e.carrier.name, ofport: e.vif.ofport });
          this.pendingDuplicates.add(e.vif.name);
          break;
        case 'duplicate-gone':
          this.log.info(`interface ${e.vif.name} no longer duplicates port ${e.vif.portId}`, { port: e.vif.portId, interface: e.vif.name });
          this.pendingDuplicates.add(e.vif.name);
          break;
      }
    }
  }

  private carrierChanged(portId: string, vif: TrackedVif, previous: TrackedVif | undefined): void {
    if (previous && previous.name !== vif.name) {
      this.log.warn(`port ${portId} is now carried by interface ${vif.name} instead of ${previous.name}`,
        { port: portId, interface: vif.name, previous: previous.name });
    }
    if (vif.place === 'ancillary') {
      if (previous?.place === 'int') {
        this.pending.delete(portId);
        this.pendingRemoved.add(portId);
      }
      this.ancillaryDown.delete(portId);
      this.ancillaryUp.add(portId);
      return;
    }
    if (previous?.place === 'ancillary') this.ancillaryUp.delete(portId);
    this.pending.add(portId);
    this.pendingRemoved.delete(portId);
    const p = this.ports.get(portId);
    if (!p) {
      this.ports.set(portId, { portId, name: vif.name, ofport: vif.ofport, mac: vif.mac, state: 'WAITING', readyAt: Date.now(), readyPerf: performance.now() });
    } else {
      p.ofport = vif.ofport;
      p.name = vif.name;
      p.readyAt = Date.now();
      p.readyPerf = performance.now();
    }
  }

  /** Marks a port whose Port tag is not the one this agent gave it for the next pass. */
  private checkTag(portId: string, vif: VifRow | undefined): void {
    const want = this.ports.get(portId)?.tag;
    if (want === undefined || vif === undefined || vif.tag === want || this.pending.has(portId)) return;
    this.log.warn('a port\'s VLAN tag was changed outside the agent: setting it back', { port: portId, name: vif.name, tag: vif.tag ?? null, want });
    this.pending.add(portId);
  }

  /** The same for a duplicate interface the agent put on the dead VLAN. */
  private checkDuplicateTag(vif: VifRow | undefined): void {
    if (!vif || !this.deadInterfaces.has(vif.name) || vif.tag === DEAD_VLAN_TAG || this.pendingDuplicates.has(vif.name)) return;
    this.log.warn('a duplicate interface\'s dead VLAN tag was changed outside the agent: setting it back',
      { interface: vif.name, port: vif.ifaceId, tag: vif.tag ?? null, want: DEAD_VLAN_TAG });
    this.pendingDuplicates.add(vif.name);
  }

  private forgetVif(name: string): void {
    this.applyVifEvents(this.vifs.forget(name));
  }

  private onDbChange(change: import('./switch.js').DbChange): void {
    if (this.stopped) return;
    if (change.kind === 'interface') {
      const vif = this.db.vif(change.name);
      if (vif) this.noteVif(vif);
      else this.forgetVif(change.name);
    } else if (change.kind === 'resync') {
      // ovsdb-server came back: compare what it has with what we know; only differences are re-wired.
      const present = new Set<string>();
      for (const vif of startupOrder(this.db.vifs())) {
        present.add(vif.name);
        this.noteVif(vif);
      }
      for (const name of [...this.vifs.names()]) if (!present.has(name)) this.forgetVif(name);
      this.log.info('OVSDB replica resynchronised', { pending: this.pending.size, removed: this.pendingRemoved.size });
    } else if (change.kind === 'bridge') {
      return;
    }
    if (this.pending.size || this.pendingRemoved.size || this.pendingDuplicates.size || this.ancillaryUp.size || this.ancillaryDown.size) {
      this.schedulePass();
    }
  }

  private onControlPlaneEvent(e: ControlPlaneEvent): void {
    if (this.stopped) return;
    switch (e.type) {
      case 'ports_updated':
        for (const id of e.portIds) {
          this.awaitingDetails.delete(id);
          if (this.isPresent(id)) this.pending.add(id);
        }
        break;
      case 'port_deleted':
        if (this.isPresent(e.portId)) this.pending.add(e.portId);
        break;
      case 'network_updated':
        for (const p of this.ports.values()) if (p.networkId === e.networkId) this.pending.add(p.portId);
        break;
      case 'tunnel_update':
        if (this.tunnelTypes.includes(e.tunnelType) && !this.config.agent.l2_population && e.tunnelIp !== this.config.ovs.local_ip) {
          this.remoteIpsOf(e.tunnelType).add(e.tunnelIp);
        }
        break;
      case 'tunnel_delete':
        this.remoteIpsOf(e.tunnelType).delete(e.tunnelIp);
        break;
      case 'resync':
        this.fullSyncPending = true;
        break;
      case 'fdb_add':
        if (!this.l2pop) return;
        this.applyL2pop(this.l2pop.fdbAdd(e.entries));
        break;
      case 'fdb_remove':
        if (!this.l2pop) return;
        this.applyL2pop(this.l2pop.fdbRemove(e.entries));
        break;
      case 'fdb_update':
        if (!this.l2pop) return;
        this.applyL2pop(this.l2pop.fdbUpdate(e.changes));
        break;
      case 'security_groups_updated':
        if (this.firewall) {
          void this.cp.securityGroupInfo([...this.ports.keys()]).then((info) => {
            this.firewall!.updateSecurityGroupInfo(info);
            for (const p of this.ports.values()) if (p.state === 'ACTIVE') this.pending.add(p.portId);
            this.schedulePass();
          }, (err: Error) => this.log.warn('security group refresh failed', { error: err.message }));
        }
        return;
      default:
        return;
    }
    this.schedulePass();
  }

  /** The port's record belongs to the interface that carries its id on br-int. */
  private isPresent(portId: string): boolean {
    const c = this.vifs.carrier(portId);
    return c !== undefined && c.place === 'int' && this.ports.get(portId)?.name === c.name;
  }

  private remoteIpsOf(type: TunnelType): Set<string> {
    let s = this.remoteIps.get(type);
    if (!s) this.remoteIps.set(type, (s = new Set()));
    return s;
  }

  // ---------------------------------------------------------------- passes

  /** Coalesces: events of the same tick, and those arriving during a pass, make one pass. */
  private schedulePass(): void {
    // Until start() has noted every VIF on br-int, a pass would find none and conclude the first sync,
    // deleting their flows as stale. Events meanwhile only mark work; start() schedules the first pass.
    if (this.stopped || !this.started) return;
    if (this.passRunning) {
      this.passAgain = true;
      return;
    }
    if (this.passTimer) return;
    // setImmediate, not setTimeout(0): the same coalescing (every event of this I/O turn joins the
    // pass) without the timer's extra millisecond.
    this.passTimer = setImmediate(() => {
      this.passTimer = undefined;
      void this.runPass();
    });
  }

  /** Resolves when no pass is running or scheduled and nothing is pending (tests, the demo). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private isIdle(): boolean {
    return !this.passRunning && !this.passTimer && !this.passAgain && this.pending.size === 0 && this.reporter.idle &&
      this.awaitingDetails.size === 0 &&
      this.ancillaryUp.size === 0 && this.ancillaryDown.size === 0 && this.pendingDuplicates.size === 0 &&
      this.pendingRemoved.size === 0 && !this.restartHandling;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  private async runPass(): Promise<void> {
    if (this.stopped) return;
    // A recovery may start while the pass waits for the previous one: wait for it too.
    while (this.restartHandling) await this.restartHandling;
    if (this.stopped) return;
    this.passRunning = true;
    const t0 = Date.now();
    const summary: PassSummary = {
      ok: true, durationMs: 0, up: [], down: [], dead: [], removed: [], failed: [], flowMods: 0,
      phases: { details: 0, compute: 0, firewall: 0, flows: 0, tags: 0, report: 0 },
    };
    const now = Date.now();
    const fullSync = this.fullSyncPending;
    this.fullSyncPending = false;
    if (fullSync) {
      for (const c of this.vifs.carriers()) if (c.place === 'int') this.pending.add(c.portId);
      for (const d of this.vifs.duplicates()) this.pendingDuplicates.add(d.name);
    }
    const ids = [...this.pending].filter((id) => {
      const r = this.retries.get(id);
      return !r || r.notBefore <= now;
    });
    for (const id of ids) this.pending.delete(id);
    const removed = [...this.pendingRemoved];
    this.pendingRemoved.clear();
    const duplicates = [...this.pendingDuplicates];
    this.pendingDuplicates.clear();
    for (const id of ids) this.inPass.add(id);
    const wiredBefore = new Set(ids.filter((id) => this.isWired(id)));
    const startPerf = performance.now();
    try {
      if (this.tunnelSyncPending && this.brTun) await this.tunnelSync();
      await this.syncTunnelPorts();
      await this.processPorts(ids, removed, duplicates, summary);
      await this.reportAncillary();
      // Provisioning may have asked for tunnels (l2pop entries waiting for their network).
      if (await this.syncTunnelPorts()) summary.flowMods += await this.commitFlows('tunnels');
      this.passCount++;
      if (!this.firstSyncDone && this.pending.size === 0 && this.awaitingDetails.size === 0) summary.flowMods += await this.afterFirstSync();
    } catch (err) {
      summary.ok = false;
      summary.error = err as Error;
      this.log.error('pass failed; its ports will be retried', { error: (err as Error).message, ports: ids.length });
      this.unwindUnwired(ids, wiredBefore);
      for (const id of ids) this.failDevice(id, err as Error, summary);
      for (const id of removed) this.pendingRemoved.add(id);
      for (const name of duplicates) this.pendingDuplicates.add(name);
    } finally {
      summary.durationMs = Date.now() - t0;
      if (ids.length || removed.length || !summary.ok) {
        this.lastSync = { at: new Date(t0).toISOString(), durationMs: summary.durationMs, ports: ids.length + removed.length, ok: summary.ok };
        // Diagnostics: how long the port seen first had waited for this pass.
        let oldest = startPerf;
        for (const id of ids) oldest = Math.min(oldest, this.ports.get(id)?.readyPerf ?? startPerf);
        const waitedMs = Math.round(startPerf - oldest);
        this.log.debug('pass done', { ms: summary.durationMs, up: summary.up.length, dead: summary.dead.length,
          removed: summary.removed.length, flowMods: summary.flowMods, ok: summary.ok, waitedMs,
          phasesMs: Object.fromEntries(Object.entries(summary.phases).map(([k, v]) => [k, Math.round(v)])) });
      }
      this.passRunning = false;
      this.inPass.clear();
      // The replica holds the pass's tag writes now: a port of the pass whose row changed meanwhile and whose
      // tag is not the one the pass gave it was changed by someone else.
      // Not after a failed pass: its tags may not be written, and its ports are retried anyway.
      if (summary.ok) {
        for (const id of this.recheckTags) {
          const p = this.ports.get(id);
          if (p && this.isPresent(id)) this.checkTag(id, this.db.vif(p.name));
        }
        for (const name of this.recheckDuplicates) if (this.vifs.isDuplicate(name)) this.checkDuplicateTag(this.db.vif(name));
      }
      this.recheckTags.clear();
      this.recheckDuplicates.clear();
      this.onPass?.(summary);
      if (this.passAgain || this.pending.size - this.waitingRetries() > 0 || this.pendingRemoved.size || this.pendingDuplicates.size) {
        this.passAgain = false;
        this.schedulePass();
      }
      this.scheduleRetries();
      this.notifyIdle();
    }
  }

  /** Flows and tag confirmed by an earlier pass (reported, or being reported). */
  private isWired(id: string): boolean {
    return this.ports.get(id)?.state === 'ACTIVE' || this.awaitingUp.has(id);
  }

  /**
   * A failed pass leaves nothing of the ports it was wiring for the first
   * time in the desired tables: their networks and filters are released, so
   * flows the switch refused are not sent again with every other port's
   * pass (one port's refused flows would stop all wiring); the retry binds
   * them afresh. Ports wired before keep what they had.
   */
  private unwindUnwired(ids: string[], wiredBefore: Set<string>): void {
    const fw = this.firewall && this.firewall.driver !== 'noop' ? this.firewall : undefined;
    const unwound: string[] = [];
    for (const id of ids) {
      const p = this.ports.get(id);
      if (!p || wiredBefore.has(id) || p.state === 'DEAD' || !p.networkId) continue;
      this.unbindPort(id, { keepRecord: true });
      p.tag = undefined;
      unwound.push(id);
    }
    if (!fw) return;
    const filtered = unwound.filter((id) => fw.isPortManaged(id));
    if (filtered.length) fw.removePortFilters(filtered);
    for (const change of fw.flush()) this.applyExternalChange(this.brInt.flows, 'fw', change);
  }

  private waitingRetries(): number {
    let n = 0;
    const now = Date.now();
    for (const id of this.pending) {
      const r = this.retries.get(id);
      if (r && r.notBefore > now) n++;
    }
    return n;
  }

  private scheduleRetries(): void {
    if (this.retryTimer || this.stopped) return;
    let next = Infinity;
    for (const id of this.pending) {
      const r = this.retries.get(id);
      if (r) next = Math.min(next, r.notBefore);
    }
    if (next === Infinity) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedulePass();
    }, Math.max(0, next - Date.now()));
  }

  private failDevice(id: string, err: Error, summary?: PassSummary): void {
    const r = this.retries.get(id) ?? { attempts: 0, notBefore: 0 };
    r.attempts++;
    const p = this.ports.get(id);
    if (r.attempts > MAX_DEVICE_RETRIES) {
      this.log.error(`giving up on port ${id} after ${MAX_DEVICE_RETRIES} retries`, { error: err.message });
      this.retries.delete(id);
      if (p) { p.state = 'FAILED'; p.error = err.message; }
      return;
    }
    r.notBefore = Date.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (r.attempts - 1));
    this.retries.set(id, r);
    summary?.failed.push(id);
    if (p) p.error = err.message;
    if (this.isPresent(id)) this.pending.add(id);
  }

  private async processPorts(ids: string[], removed: string[], duplicates: string[], summary: PassSummary): Promise<void> {
    const tags: import('./switch.js').PortTagUpdate[] = [];
    const up: string[] = [];
    const down: string[] = [];
    const fwSetup: FirewallPort[] = [];
    const fwRemove: string[] = [];

    for (const id of removed) {
      if (this.isPresent(id)) continue; // re-added under the same id
      this.unbindPort(id);
      fwRemove.push(id);
      down.push(id);
      summary.removed.push(id);
    }

    const ready = ids.filter((id) => this.isPresent(id));
    let lookups: DeviceLookup[] = [];
    let mark = performance.now();
    const phase = (name: keyof PassSummary['phases']) => {
      const now = performance.now();
      summary.phases[name] += now - mark;
      mark = now;
    };
    if (ready.length) {
      const reply = await this.cp.getDevicesDetails(ready);
      lookups = reply.devices;
      for (const id of reply.failed) this.failDevice(id, new Error('control plane could not look the port up'), summary);
      for (const id of reply.deferred ?? []) this.awaitingDetails.add(id);
    }

    phase('details');
    const deadTag = (p: PortRecord, vif: VifRow | undefined) => {
      p.tag = DEAD_VLAN_TAG;
      if (vif?.tag !== DEAD_VLAN_TAG) tags.push({ name: p.name, tag: DEAD_VLAN_TAG });
    };

    for (const lookup of lookups) {
      const id = lookup.kind === 'bound' ? lookup.details.portId : lookup.device;
      const p = this.ports.get(id);
      // Unplugged while the control plane was asked: the next pass unbinds it and reports it down.
      if (!p || !this.isPresent(id)) continue;
      const vif = this.db.vif(p.name);
      if (lookup.kind === 'no_active_binding') continue;
      if (lookup.kind === 'unknown') {
        this.portDead(p);
        deadTag(p, vif);
        fwRemove.push(id);
        summary.dead.push(id);
        continue;
      }
      const d = lookup.details;
      if (!d.adminStateUp) {
        this.portDead(p);
        deadTag(p, vif);
        fwRemove.push(id);
        down.push(id);
        summary.dead.push(id);
        continue;
      }
      let mapping: LocalVlanMapping;
      try {
        mapping = this.bindPort(p, d);
      } catch (err) {
        this.portDead(p);
        deadTag(p, vif);
        p.state = 'FAILED';
        p.error = (err as Error).message;
        if (err instanceof VlanPoolExhaustedError) this.awaitingVlan.add(id);
        this.log.error(`cannot wire port ${id}: ${(err as Error).message}`, { port: id, network: d.networkId });
        summary.dead.push(id);
        continue;
      }
      p.tag = mapping.lvid;
      if (vif?.tag !== mapping.lvid || vif.portOtherConfig.net_uuid !== d.networkId) {
        tags.push({
          name: p.name, tag: mapping.lvid, clearTrunks: true,
          otherConfig: {
            net_uuid: d.networkId, network_type: d.networkType,
            physical_network: d.physicalNetwork ?? 'None', tag: String(mapping.lvid),
            ...(d.segmentationId !== undefined ? { segmentation_id: String(d.segmentationId) } : {}),
          },
        });
      }
      // Ports without port security get the firewall's pass-through flows (§5.6), so they are set up too.
      fwSetup.push(firewallPortFrom(d, p.ofport, mapping.lvid));
      up.push(id);
    }
    const killed = this.wireDuplicates(duplicates, tags);

    phase('compute');
    if (this.firewall && this.firewall.driver !== 'noop') {
      const fw = this.firewall;
      const gone = fwRemove.filter((id) => fw.isPortManaged(id));
      if (gone.length) fw.removePortFilters(gone);
      if (fwSetup.length) {
        fw.updateSecurityGroupInfo(await this.cp.securityGroupInfo(fwSetup.map((f) => f.portId)));
        const fresh = fwSetup.filter((f) => !fw.isPortManaged(f.portId));
        const known = fwSetup.filter((f) => fw.isPortManaged(f.portId));
        if (fresh.length) fw.setupPortFilters(fresh);
        if (known.length) fw.updatePortFilters(known);
      }
      for (const change of fw.flush()) this.applyExternalChange(this.brInt.flows, 'fw', change);
      phase('firewall');
    }

    // Flows first, then tags: a tag change makes ovs-vswitchd reconfigure the bridge, which would
    // hold up the bundle if it arrived first; the OVSDB write itself is answered by ovsdb-server at once.
    summary.flowMods = await this.commitFlows('pass');
    phase('flows');
    if (tags.length) await this.db.setPortTags(tags);
    for (const name of killed) this.deadInterfaces.add(name);
    phase('tags');

    for (const id of up) {
      this.awaitingUp.add(id);
      this.reporter.report(id, 'up');
      summary.up.push(id);
    }
    for (const id of down) {
      const p = this.ports.get(id);
      if (p && p.state !== 'FAILED') p.state = summary.removed.includes(id) ? 'DOWN' : 'DEAD';
      if (summary.removed.includes(id)) this.ports.delete(id);
      this.retries.delete(id);
      this.reporter.report(id, 'down');
      summary.down.push(id);
    }
    for (const id of summary.dead) {
      const p = this.ports.get(id);
      if (p && p.state !== 'FAILED') p.state = 'DEAD';
      this.retries.delete(id);
    }
    phase('report');
  }

  /**
   * Duplicate interfaces (vif-registry.ts) on br-int go on the dead VLAN with
   * a drop flow keyed by their name; the others lose theirs. Returns the ones
   * put on the dead VLAN.
   */
  private wireDuplicates(names: readonly string[], tags: import('./switch.js').PortTagUpdate[]): string[] {
    const killed: string[] = [];
    for (const name of names) {
      const v = this.vifs.get(name);
      if (v?.place === 'int' && this.vifs.isDuplicate(name)) {
        this.brInt.installDeadInterfaceDrop(name, v.ofport);
        if (this.db.vif(name)?.tag !== DEAD_VLAN_TAG) tags.push({ name, tag: DEAD_VLAN_TAG });
        killed.push(name);
      } else {
        this.brInt.removeDeadInterfaceDrop(name);
        this.deadInterfaces.delete(name);
      }
    }
    return killed;
  }

  /** The control plane has a batch of statuses: wired ports become ACTIVE, refused ones are retried. */
  private onReported(batch: ReportedBatch): void {
    const refused = new Set([...batch.failedUp, ...batch.failedDown]);
    for (const id of refused) this.failDevice(id, new Error('control plane refused the status update'));
    const doneAt = performance.now();
    for (const id of batch.up) {
      const p = this.ports.get(id);
      // Gone, dead or unplugged since: a newer status is on its way and this one is stale.
      if (!this.awaitingUp.delete(id) || !p || refused.has(id) || !this.isPresent(id) || this.reporter.superseded(id, 'up')) continue;
      p.state = 'ACTIVE';
      p.error = undefined;
      p.wiredInMs = Math.round((doneAt - p.readyPerf) * 100) / 100;
      this.retries.delete(id);
    }
    if (refused.size) this.scheduleRetries();
    this.notifyIdle();
  }

  /** §4.3 i: ancillary bridges' VIFs are only reported up and down. */
  private async reportAncillary(): Promise<void> {
    if (!this.ancillaryUp.size && !this.ancillaryDown.size) return;
    const up = [...this.ancillaryUp];
    const down = [...this.ancillaryDown];
    this.ancillaryUp.clear();
    this.ancillaryDown.clear();
    try {
      await this.cp.updateDeviceList(up, down);
    } catch (err) {
      for (const id of up) this.ancillaryUp.add(id);
      for (const id of down) this.ancillaryDown.add(id);
      throw err;
    }
  }

  /** port_bound: provisions the network on first use and remembers the port on it. */
  private bindPort(p: PortRecord, d: PortDetails): LocalVlanMapping {
    if (p.networkId && p.networkId !== d.networkId) this.unbindPort(p.portId, { keepRecord: true });
    const existing = this.vlans.get(d.networkId);
    if (existing && (existing.segmentationId !== d.segmentationId || existing.networkType !== d.networkType ||
        existing.physicalNetwork !== d.physicalNetwork)) {
      // Segmentation change (§3.8): reclaim and provision again.
      this.reclaimNetwork(d.networkId);
    }
    const m = this.vlans.get(d.networkId) ?? this.provisionNetwork(d);
    m.ports.add(p.portId);
    this.awaitingVlan.delete(p.portId);
    this.brInt.removeDeadPortDrop(p.portId);
    p.networkId = d.networkId;
    p.networkType = d.networkType;
    p.lvid = m.lvid;
    p.mac = d.macAddress;
    return m;
  }

  private provisionNetwork(d: PortDetails): LocalVlanMapping {
    const type = d.networkType;
    if (type === 'flat' || type === 'vlan') {
      if (!d.physicalNetwork || !this.brPhys.has(d.physicalNetwork)) {
        throw new Error(`physical network ${d.physicalNetwork ?? '(none)'} of network ${d.networkId} is not in bridge_mappings`);
      }
      if (type === 'vlan' && d.segmentationId === undefined) throw new Error(`VLAN network ${d.networkId} has no segmentation id`);
    } else if (type !== 'local') {
      if (!this.brTun || !this.tunnelTypes.includes(type)) {
        throw new Error(`network ${d.networkId} is ${type} but tunnel_types does not include ${type}`);
      }
      if (d.segmentationId === undefined) throw new Error(`${type} network ${d.networkId} has no segmentation id`);
    }
    const m = this.vlans.provision(d.networkId, type, d.segmentationId, d.physicalNetwork);
    this.installNetworkFlows(m);
    return m;
  }

  /** provision_local_vlan's flows for an allocated local VLAN (also used to re-install after a switch restart). */
  private installNetworkFlows(m: LocalVlanMapping): void {
    const type = m.networkType;
    if (type === 'flat' || type === 'vlan') {
      const physnet = m.physicalNetwork!;
      this.brInt.provisionLocalVlan({ networkId: m.networkId, networkType: type, segmentationId: m.segmentationId, lvid: m.lvid,
        intPatchOfport: this.intPatchOfport.get(physnet)! });
      this.brPhys.get(physnet)!.provisionLocalVlan({ networkId: m.networkId, networkType: type, segmentationId: m.segmentationId,
        lvid: m.lvid, physPatchOfport: this.phyPatchOfport.get(physnet)! });
    } else if (type !== 'local' && this.brTun) {
      this.brTun.provisionLocalVlan({ networkId: m.networkId, networkType: type, segmentationId: m.segmentationId!, lvid: m.lvid });
      this.refreshFloodFlow(m);
      if (this.l2pop) {
        this.applyL2pop(this.l2pop.networkProvisioned({ networkId: m.networkId, lvid: m.lvid, segmentationId: m.segmentationId!, networkType: type }));
      }
    }
  }

  private reclaimNetwork(networkId: string): void {
    const m = this.vlans.reclaim(networkId);
    if (!m) return;
    this.brInt.reclaimLocalVlan(networkId);
    for (const br of this.brPhys.values()) br.reclaimLocalVlan(networkId);
    this.brTun?.reclaimLocalVlan(networkId);
    if (this.l2pop) this.applyL2pop(this.l2pop.networkReclaimed(networkId));
    this.log.info(`network ${networkId} reclaimed local VLAN ${m.lvid}`);
    // Neutron's agent retries such ports by resyncing every port each loop while the pool is empty; here
    // only they are tried again, in the next pass, now that a VLAN is free.
    if (this.awaitingVlan.size) {
      this.log.info(`local VLAN ${m.lvid} free again: retrying ${this.awaitingVlan.size} port(s) that found none`);
      for (const id of this.awaitingVlan) if (this.isPresent(id)) this.pending.add(id);
      this.awaitingVlan.clear();
      this.schedulePass();
    }
  }

  /** port_unbound: forgets the port's network, reclaiming it with its last port; removes its flows. */
  private unbindPort(id: string, opts: { keepRecord?: boolean } = {}): void {
    const p = this.ports.get(id);
    this.brInt.removeDeadPortDrop(id);
    this.awaitingUp.delete(id);
    this.awaitingVlan.delete(id);
    if (!p) return;
    if (p.networkId) {
      const m = this.vlans.get(p.networkId);
      m?.ports.delete(id);
      if (m && m.ports.size === 0) this.reclaimNetwork(p.networkId);
    }
    p.networkId = undefined;
    p.lvid = undefined;
    if (!opts.keepRecord) p.state = 'DOWN';
  }

  /** port_dead: VLAN 4095 and a drop flow (§3.6). */
  private portDead(p: PortRecord): void {
    this.awaitingUp.delete(p.portId);
    if (p.networkId) this.unbindPort(p.portId, { keepRecord: true });
    this.brInt.installDeadPortDrop(p.portId, p.ofport);
  }

  /** An extension's flow-mod into a desired table: its OpenFlow form if it built one, else its text parsed once here. */
  private applyExternalChange(table: FlowTable, owner: string, change: FlowChange): void {
    try {
      applyExtensionChange(table, owner, change);
    } catch (err) {
      this.log.warn(`ignoring unparsable flow from ${owner}: ${(err as Error).message}`, { flow: change.text });
    }
  }

  /** Sends every bridge's (or these tables') pending changes, one bundle per bridge, in parallel; returns the flow-mod count. */
  private async commitFlows(why: string, tables = this.flowTables()): Promise<number> {
    let count = 0;
    await Promise.all(tables.map(async (table) => {
      const changes = table.takeChanges();
      const n = changes.adds.length + changes.deletes.length;
      if (!n) return;
      const ch = this.channels.get(table.bridge);
      if (!ch) throw new Error(`no OpenFlow channel to ${table.bridge}`);
      await ch.commit(changes, table.cookie);
      table.commit(changes);
      count += n;
      this.flowModsSent += n;
      this.log.debug(`${table.bridge}: bundle of ${n} flow mods committed (${why})`);
    }));
    if (why === 'setup') await this.peerPhysicalPatches();
    return count;
  }

  /** After the first full sync: stale flows go, unused VLAN hints are released (§4.3 h). */
  private async afterFirstSync(): Promise<number> {
    this.firstSyncDone = true;
    this.vlans.releaseUnusedHints();
    const n = await this.cleanupStaleFlows();
    this.log.info('first full sync done', {
      ms: Date.now() - this.startedAt.getTime(), ports: this.portCounts(), flowModsSent: this.flowModsSent,
      flows: Object.fromEntries(this.flowTables().map((t) => [t.bridge, t.size])),
    });
    // Queued before any pass this one schedules on its way out: such a pass makes the agent busy, and the warm-up does not start.
    if (this.firewall?.driver === 'openvswitch') setImmediate(() => void this.warmUp());
    return n;
  }

  /**
   * The firewall's flow path run dry, while the agent has nothing to do
   * (warm-up.ts): a round at a time (~15–60 ms each), so that a port plugged
   * meanwhile waits for one round at most; the agent gone busy ends it.
   */
  private async warmUp(rounds = WARM_UP_ROUNDS): Promise<void> {
    let flows = 0;
    let ms = 0;
    for (let r = 0; r < rounds; r++) {
      if (r > 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.stopped || !this.isIdle()) {
        this.log.debug('flow path warm-up ended: the agent is busy', { rounds: r });
        break;
      }
      try {
        const round = warmUpFlowPath(WARM_UP_PORTS, 1);
        flows += round.flows;
        ms += round.ms;
      } catch (err) {
        // Only a bug could get here; the real path reports its own errors.
        this.log.warn(`flow path warm-up failed: ${(err as Error).message}`);
        return;
      }
    }
    if (flows === 0) return;
    this.warmUpResult = { flows, ms };
    this.log.debug('flow path warmed up', { flows, ms: Math.round(ms) });
  }

  /** What the start-up warm-up did, once it ran (tests, diagnostics). */
  get warmedUp(): WarmUpResult | undefined {
    return this.warmUpResult;
  }

  /**
   * Flows on our bridges that no part of the agent wants (old cookies, ports
   * gone while we were down): what the start-up dump found and nothing
   * claimed since. Deleted in one bundle per bridge.
   */
  async cleanupStaleFlows(): Promise<number> {
    for (const table of this.flowTables()) table.deleteUnclaimed();
    const n = await this.commitFlows('stale-flow cleanup');
    if (n) this.log.info(`removed or refreshed ${n} stale flows`);
    return n;
  }

  // ---------------------------------------------------------------- tunnels

  private async tunnelSync(): Promise<void> {
    const localIp = this.config.ovs.local_ip!;
    for (const type of this.tunnelTypes) {
      const endpoints = await this.cp.tunnelSync(localIp, type);
      if (this.config.agent.l2_population) continue;
      const set = this.remoteIpsOf(type);
      for (const ep of endpoints) if (ep.ipAddress !== localIp) set.add(ep.ipAddress);
    }
    this.tunnelSyncPending = false;
  }

  private tunnelOptions(remoteIp: string): Record<string, string> {
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

  /** Makes br-tun's tunnel ports match the remote endpoints; rewrites flood flows when the set changed. */
  private async syncTunnelPorts(): Promise<boolean> {
    if (!this.brTun) return false;
    let changed = false;
    const wanted = new Set<string>();
    for (const type of TUNNEL_TYPES) {
      for (const ip of this.remoteIps.get(type) ?? []) {
        const name = tunnelPortName(type, ip);
        wanted.add(name);
        const t = this.tunnels.get(name);
        if (t?.ofport !== undefined) continue;
        await this.db.ensurePort(this.brTun.name, name, { type, options: this.tunnelOptions(ip) });
        const ofport = await this.db.waitOfport(name, OFPORT_TIMEOUT_MS);
        this.tunnels.set(name, { name, type, remoteIp: ip, ofport });
        this.brTun.addTunnelPort(name, ofport, type);
        if (this.l2pop) this.applyL2pop(this.l2pop.tunnelPortReady(name, ofport));
        changed = true;
        this.log.info(`tunnel port ${name} to ${ip} ready`, { ofport });
      }
    }
    for (const [name] of this.tunnels) {
      if (wanted.has(name)) continue;
      this.tunnels.delete(name);
      this.brTun.removeTunnelPort(name);
      await this.db.deletePort(this.brTun.name, name);
      changed = true;
      this.log.info(`tunnel port ${name} deleted`);
    }
    if (changed) for (const m of this.vlans.mappings()) this.refreshFloodFlow(m);
    return changed;
  }

  /** l2pop's intentions: flows go to br-tun's desired table, tunnel ports to the next syncTunnelPorts. */
  private applyL2pop(actions: L2popAction[]): void {
    if (!this.brTun) return;
    for (const a of actions) {
      if (a.kind === 'add_tunnel') this.remoteIpsOf(a.tunnelType).add(a.remoteIp);
      else if (a.kind === 'remove_tunnel') this.remoteIpsOf(a.tunnelType).delete(a.remoteIp);
    }
    applyToTunnelBridge(this.brTun, actions);
  }

  private refreshFloodFlow(m: LocalVlanMapping): void {
    if (!this.brTun || !TUNNEL_TYPES.includes(m.networkType as TunnelType) || this.config.agent.l2_population) return;
    const ofports = [...this.tunnels.values()].filter((t) => t.type === m.networkType && t.ofport !== undefined).map((t) => t.ofport!);
    this.brTun.setFloodFlow(m.networkId, m.lvid, m.segmentationId!, ofports);
  }

  // ---------------------------------------------------------------- OVS restarts and reconnects

  /**
   * A channel's session events. A new session (never the one a channel was
   * opened with) means the switch may not hold what the agent believes: it
   * restarted with empty tables, or someone changed flows while the agent
   * was not looking. Its bridge is compared with the switch at once.
   */
  private onChannelEvent(bridge: string, e: FlowChannelEvent): void {
    if (e.kind === 'disconnected') {
      this.log.warn(`OpenFlow channel to ${bridge} lost`, { error: e.error?.message });
      return;
    }
    if (this.restartDetection === 'poll') return;
    this.sessionChanged.add(bridge);
    this.recover(`new OpenFlow session to ${bridge}`);
  }

  /**
   * The periodic check, behind the session events (alone with `restartDetection: 'poll'`): no flow in
   * br-int's canary table means ovs-vswitchd lost its tables (docs/agent.md, Recovery).
   */
  private async checkCanary(why: string): Promise<void> {
    if (this.stopped || this.restartHandling) return;
    const ch = this.channels.get(this.brInt.name);
    if (!ch) return;
    let flows;
    try {
      flows = await ch.dumpFlows(Table.CANARY);
    } catch (err) {
      if (this.ovsState !== 'DEAD') this.log.warn('cannot reach ovs-vswitchd', { error: (err as Error).message, why });
      this.ovsState = 'DEAD';
      return;
    }
    if (flows.length > 0) {
      this.ovsState = 'NORMAL';
      return;
    }
    for (const t of this.flowTables()) this.sessionChanged.add(t.bridge);
    this.recover(`canary flow gone (${why})`);
  }

  /**
   * Runs a recovery between passes (they wait for it), again while more
   * bridges' sessions changed meanwhile; retried after a failure.
   */
  private recover(why: string): void {
    // During start-up the bridges stay marked; start() recovers them once it is done.
    if (this.stopped || !this.started) return;
    if (this.restartHandling) {
      this.recoverAgain = true;
      return;
    }
    if (this.recoverRetryTimer) {
      clearTimeout(this.recoverRetryTimer);
      this.recoverRetryTimer = undefined;
    }
    let failed = false;
    this.restartHandling = (async () => {
      while (this.passRunning) await new Promise((r) => setTimeout(r, 1));
      do {
        this.recoverAgain = false;
        await this.reconcileChangedSessions(why);
      } while (this.recoverAgain && !this.stopped);
      this.recoverRetryMs = RETRY_BASE_MS;
    })().catch((err: Error) => {
      failed = true;
      this.log.warn('comparing the bridges with ovs-vswitchd failed; will retry', {
        error: err.message, why, bridges: [...this.sessionChanged], retryInMs: this.recoverRetryMs,
      });
    }).finally(() => {
      this.restartHandling = undefined;
      if (failed && !this.stopped && this.sessionChanged.size) {
        // A bridge whose session is down also comes back through its own reconnect event; this covers the rest.
        this.recoverRetryTimer = setTimeout(() => {
          this.recoverRetryTimer = undefined;
          this.recover(why);
        }, this.recoverRetryMs);
        this.recoverRetryMs = Math.min(RETRY_MAX_MS, this.recoverRetryMs * 2);
      }
      this.schedulePass();
      this.notifyIdle();
    });
  }

  /**
   * Dumps every bridge whose session changed and sends it the difference
   * with what the agent wants, one bundle per bridge: nothing when it holds
   * exactly that, every flow when it lost its tables. br-int without its
   * canary means ovs-vswitchd restarted: the bridges are also set up again
   * and every port is re-wired by the next pass (docs/agent.md, Recovery).
   */
  private async reconcileChangedSessions(why: string): Promise<void> {
    const tables = this.flowTables().filter((t) => this.sessionChanged.has(t.bridge));
    if (!tables.length) return;
    for (const t of tables) this.sessionChanged.delete(t.bridge);
    try {
      const dumps = await Promise.all(tables.map((t) => this.channels.get(t.bridge)!.dumpFlows()));
      const intDump = dumps[tables.indexOf(this.brInt.flows)];
      const restarted = intDump !== undefined && !intDump.some((f) => f.flow.table === Table.CANARY);
      if (restarted) {
        this.ovsState = 'RESTARTED';
        this.log.warn('ovs-vswitchd restarted (canary flow gone): setting bridges up again and re-wiring every port', { why });
        // Set first: should the rest fail, the ports are still re-wired once it succeeds.
        this.startFlag = true;
        this.fullSyncPending = true;
      }
      // Flows that expire by themselves (br-tun's learned MACs) are the switch's own: neither adopted nor deleted.
      tables.forEach((t, i) => t.adoptInstalled(dumps[i].filter((f) => !f.expires), { deleteUnwanted: this.firstSyncDone }));
      // Traffic first: the desired tables hold the whole pipeline, built with the ofports OVSDB has, which
      // ovs-vswitchd reuses when it comes back (and which the replica could not show changed any sooner).
      let n = await this.commitFlows('reconcile', tables);
      if (restarted) {
        await this.setUpBridgesAgain();
        n += await this.commitFlows('setup', tables);
      }
      this.ovsState = 'NORMAL';
      this.log.info(`compared ${tables.map((t) => t.bridge).join(', ')} with ovs-vswitchd: ${n} flow mods sent`, { why, restarted });
    } catch (err) {
      for (const t of tables) this.sessionChanged.add(t.bridge);
      throw err;
    }
  }

  /** After an ovs-vswitchd restart: bridges, patches and tunnels as at start-up (OVSDB), flows rebuilt with today's ofports. */
  private async setUpBridgesAgain(): Promise<void> {
    await this.ensureAgentBridge(this.brInt.name);
    for (const [physnet, br] of this.brPhys) {
      await this.ensureAgentBridge(br.name);
      await this.wirePhysicalPatches(physnet, br);
    }
    if (this.brTun) {
      await this.setupTunnelBridge();
      for (const t of this.tunnels.values()) t.ofport = undefined;
      this.tunnelSyncPending = true;
    }
    // Patch ofports may have changed: the same local VLANs, flows rebuilt with the current ofports.
    for (const m of this.vlans.mappings()) this.installNetworkFlows(m);
    for (const change of this.firewall?.initialize() ?? []) this.applyExternalChange(this.brInt.flows, 'fw', change);
  }

  // ---------------------------------------------------------------- state report

  private async reportState(): Promise<void> {
    if (this.stopped || this.ovsState === 'DEAD') return;
    const devices = [...this.ports.values()].filter((p) => p.state !== 'DOWN').length;
    try {
      const reply = await this.cp.reportState({ startFlag: this.startFlag, devices, configurations: this.configurations() });
      if (this.passCount > 0) this.startFlag = false;
      if (reply === 'revived') {
        this.log.info('control plane revived us: full resync');
        this.fullSyncPending = true;
        this.schedulePass();
      }
    } catch (err) {
      this.log.warn('state report failed; retrying next interval', { error: (err as Error).message });
    }
  }

  private configurations(): Record<string, unknown> {
    const c = this.config;
    return {
      bridge_mappings: c.ovs.bridge_mappings,
      integration_bridge: c.ovs.integration_bridge,
      tunnel_types: c.agent.tunnel_types,
      tunneling_ip: c.ovs.local_ip ?? null,
      l2_population: c.agent.l2_population,
      arp_responder_enabled: c.agent.arp_responder && c.agent.l2_population,
      enable_distributed_routing: false,
      log_agent_heartbeats: c.agent.log_agent_heartbeats,
      extensions: c.agent.extensions,
      datapath_type: c.ovs.datapath_type,
      vhostuser_socket_dir: c.ovs.vhostuser_socket_dir,
      ovs_hybrid_plug: false,
      baremetal_smartnic: false,
      in_distributed_mode: false,
    };
  }

  // ---------------------------------------------------------------- status, stop

  /** One port's state without building the whole status. */
  port(portId: string): WiredPort | undefined {
    const p = this.ports.get(portId);
    if (!p) return undefined;
    const { readyPerf: _r, ...rest } = p;
    return rest;
  }

  /** How many ports are in each state. */
  portCounts(): Record<PortState, number> {
    const c: Record<PortState, number> = { ACTIVE: 0, DEAD: 0, DOWN: 0, FAILED: 0, WAITING: 0 };
    for (const p of this.ports.values()) c[p.state]++;
    return c;
  }

  status(): AgentStatus {
    return {
      host: this.host,
      startedAt: this.startedAt.toISOString(),
      ovsState: this.ovsState,
      ports: [...this.ports.values()].map(({ readyPerf: _r, ...p }) => ({ ...p })),
      localVlans: [...this.vlans.mappings()].map((m) => ({
        networkId: m.networkId, lvid: m.lvid, networkType: m.networkType, segmentationId: m.segmentationId,
        physicalNetwork: m.physicalNetwork, ports: m.ports.size,
      })),
      tunnels: [...this.tunnels.values()].map((t) => ({ ...t })),
      bridges: this.flowTables().map((t) => ({ name: t.bridge, cookie: formatCookie(t.cookie), flows: t.size })),
      lastSync: this.lastSync,
      firstSyncDone: this.firstSyncDone,
      passes: this.passCount,
      flowModsSent: this.flowModsSent,
      ancillaryBridges: this.ancillary,
    };
  }

  /** Ends cleanly: timers and channels closed, flows left on the switch so traffic keeps flowing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.passTimer) clearImmediate(this.passTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.recoverRetryTimer) clearTimeout(this.recoverRetryTimer);
    for (const t of [this.pollTimer, this.reportTimer]) if (t) clearInterval(t);
    this.reporter.stop();
    for (const u of this.unsubscribe) u();
    while (this.passRunning || this.restartHandling) await new Promise((r) => setTimeout(r, 10));
    await this.cp.stop().catch(() => undefined);
    await Promise.all([...this.channels.values()].map((c) => c.close().catch(() => undefined)));
    this.channels.clear();
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }
}
