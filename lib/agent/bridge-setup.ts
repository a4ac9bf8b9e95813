/**
 * The agent's bridges as Neutron's agent sets them up
 * (docs/design.md#the-pipeline): br-int, one physical bridge per
 * bridge_mappings entry patched to br-int, and br-tun with tunnel_types;
 * their OVSDB settings, Controller rows, cookies and patch ports. The only
 * owner of the bridge objects (and so of their flow tables) and of the
 * patch ports' ofports.
 */
import {
  BRIDGE_PROTOCOLS, COOKIE_EXTERNAL_ID, IntegrationBridge, NONEXISTENT_PEER, OVS_FIREWALL_PROTOCOLS, PhysicalBridge,
  TunnelBridge, formatCookie, intPatchName, integrationBridgeSnooping, parseCookie, patchPortSnooping, physPatchName,
  randomCookie,
} from '../bridges/index.js';
import type { AgentConfig } from '../config/index.js';
import type { FlowTable } from '../flows/flow-table.js';
import { named, type Logger } from '../log.js';
import type { BridgeSettings, SwitchDatabase } from './switch.js';

const OFPORT_TIMEOUT_MS = 10_000;

export interface BridgeSetupOptions {
  config: AgentConfig;
  db: SwitchDatabase;
  log: Logger;
  /** br-int gets OpenFlow 1.1 and 1.2 too with the openvswitch firewall, as Neutron's driver adds them. */
  ovsFirewall: boolean;
  /** `other_config:dp-desc`: the switch's proof of identity to our controller listener (ovs/controller-trust.ts). */
  switchDescription?: string;
}

export class BridgeSetup {
  brInt!: IntegrationBridge;
  brTun: TunnelBridge | undefined;
  /** physnet → its bridge (only those that exist). */
  readonly brPhys = new Map<string, PhysicalBridge>();
  /** physnet → ofport of `int-<bridge>` on br-int and of `phy-<bridge>` on the physical bridge. */
  readonly intPatchOfport = new Map<string, number>();
  readonly phyPatchOfport = new Map<string, number>();
  private readonly config: AgentConfig;
  private readonly db: SwitchDatabase;
  private readonly log: Logger;

  constructor(private readonly opts: BridgeSetupOptions) {
    this.config = opts.config;
    this.db = opts.db;
    this.log = named(opts.log, 'ovs_agent.agent.bridge_setup');
  }

  /** Every bridge, in Neutron's order: br-int, the physical bridges (patched, peered later), br-tun. */
  async setUp(): Promise<void> {
    const name = this.config.ovs.integration_bridge;
    await this.ensureBridge(name);
    this.brInt = new IntegrationBridge(name, await this.cookie(name));
    this.brInt.setupDefaultTableFlows();
    for (const [physnet, bridge] of Object.entries(this.config.ovs.bridge_mappings)) {
      if (!this.db.bridge(bridge)) {
        // Neutron exits here; one missing bridge should not take every other network down.
        this.log.error(`physical bridge ${bridge} for ${physnet} does not exist; networks on ${physnet} cannot be wired`,
          { physnet, bridge });
        continue;
      }
      await this.ensureBridge(bridge);
      const br = new PhysicalBridge(bridge, physnet, await this.cookie(bridge));
      this.brPhys.set(physnet, br);
      await this.patchPhysical(physnet, br);
    }
    if (this.config.agent.tunnel_types.length) await this.setUpTunnelBridge();
  }

  /** After an ovs-vswitchd restart: the same, over the bridges already known (their flows are rebuilt by their owners). */
  async setUpAgain(): Promise<void> {
    await this.ensureBridge(this.brInt.name);
    for (const [physnet, br] of this.brPhys) {
      await this.ensureBridge(br.name);
      await this.patchPhysical(physnet, br);
    }
    if (this.brTun) await this.setUpTunnelBridge();
  }

  /** The flow tables, br-int first. */
  tables(): FlowTable[] {
    return [this.brInt.flows, ...(this.brTun ? [this.brTun.flows] : []), ...[...this.brPhys.values()].map((b) => b.flows)];
  }

  /** The drops on both sides of each physical patch are on the switch: now the patches may carry traffic. */
  async peerPhysicalPatches(): Promise<void> {
    for (const br of this.brPhys.values()) {
      const intName = intPatchName(br.name);
      const phyName = physPatchName(br.name);
      await this.db.ensurePort(this.brInt.name, intName, { type: 'patch', options: { peer: phyName }, portOtherConfig: this.patchPortConfig });
      await this.db.ensurePort(br.name, phyName, { type: 'patch', options: { peer: intName } });
    }
  }

  /** `int-<br>`/`phy-<br>`: created unpeered, with drops on both sides; peered once those are on the switch. */
  private async patchPhysical(physnet: string, br: PhysicalBridge): Promise<void> {
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

  private async setUpTunnelBridge(): Promise<void> {
    const name = this.config.ovs.tunnel_bridge;
    await this.ensureBridge(name);
    this.brTun ??= new TunnelBridge(name, await this.cookie(name));
    const intPeer = this.config.ovs.int_peer_patch_port;
    const tunPeer = this.config.ovs.tun_peer_patch_port;
    await this.db.ensurePort(this.brInt.name, intPeer, { type: 'patch', options: { peer: tunPeer }, portOtherConfig: this.patchPortConfig });
    await this.db.ensurePort(name, tunPeer, { type: 'patch', options: { peer: intPeer } });
    await this.db.waitOfport(intPeer, OFPORT_TIMEOUT_MS);
    const patchIntOfport = await this.db.waitOfport(tunPeer, OFPORT_TIMEOUT_MS);
    this.brTun.setupDefaultTableFlows(patchIntOfport, {
      arpResponder: this.config.agent.arp_responder && this.config.agent.l2_population,
    });
  }

  /** Neutron's columns for one of the agent's bridges (docs/design.md#ovsdb-what-is-read-and-written), and its Controller. */
  private async ensureBridge(name: string): Promise<void> {
    await this.db.ensureBridge(name, this.settings(name));
    if (this.config.ovs_agent.openflow_channel === 'controller') {
      const target = `tcp:${this.config.ovs.of_listen_address}:${this.config.ovs.of_listen_port}`;
      await this.db.setControllers(name, [target], {
        connectionMode: 'out-of-band', inactivityProbeMs: this.config.ovs.of_inactivity_probe * 1000,
      });
    }
  }

  private settings(name: string): BridgeSettings {
    const s: BridgeSettings = {
      datapathType: this.config.ovs.datapath_type, failMode: 'secure', protocols: [...BRIDGE_PROTOCOLS],
      otherConfig: { 'mac-table-size': String(this.config.ovs.bridge_mac_table_size) },
    };
    if (this.opts.switchDescription) s.otherConfig['dp-desc'] = this.opts.switchDescription;
    if (name !== this.config.ovs.integration_bridge) return s;
    const snooping = integrationBridgeSnooping(this.config.ovs.igmp_snooping_enable);
    return {
      ...s, protocols: [...(this.opts.ovsFirewall ? OVS_FIREWALL_PROTOCOLS : BRIDGE_PROTOCOLS)],
      otherConfig: { ...s.otherConfig, ...snooping.otherConfig }, mcastSnoopingEnable: snooping.mcastSnoopingEnable,
    };
  }

  /** Port other_config of br-int's patch ports to br-tun and the physical bridges. */
  private get patchPortConfig(): Record<string, string> {
    return patchPortSnooping(this.config.ovs.igmp_snooping_enable);
  }

  /** Our cookie for a bridge: the previous run's (so its flows are adopted unchanged), or a new one. */
  private async cookie(name: string): Promise<bigint> {
    const existing = parseCookie(this.db.bridge(name)?.externalIds[COOKIE_EXTERNAL_ID]);
    if (existing !== undefined) return existing;
    const cookie = randomCookie();
    await this.db.setBridgeExternalIds(name, { [COOKIE_EXTERNAL_ID]: formatCookie(cookie) });
    return cookie;
  }
}
