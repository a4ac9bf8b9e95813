/**
 * What the agent asks of a firewall driver (`[securitygroup]
 * firewall_driver`), its options, and the `noop` driver.
 */
import type { SecurityGroupInfo } from '../model/index.js';
import type { FlowTable } from '../flows/flow-table.js';
import type { FirewallPort } from './port.js';

import type { FirewallDriverName } from './drivers.js';

export type { FirewallDriverName } from './drivers.js';

export interface FirewallOptions {
  /** br-int's flow table, which the firewall's flows go into. Default: a table of the firewall's own (tests, benchmarks). */
  flows?: FlowTable;
  /** The cookie of that own table. */
  cookie?: bigint;
  /** `[securitygroup] permitted_ethertypes` (hex strings such as `0x4008`). */
  permittedEthertypes?: string[];
  /** The highest conj_id already on the bridge (agent restart), so new ids never collide with live ones. */
  highestConjId?: number;
  /** iptables_hybrid: how it writes its rules (`[ovs_agent] hybrid_backend`; default iptables). */
  hybridBackend?: 'iptables' | 'nftables';
  /** iptables_hybrid: a prefix for the commands it runs (tests: `ip netns exec NS`, where the qbr bridges are). */
  netfilterPrefix?: readonly string[];
  /** Told about rules and ports that could not be turned into flows (they are skipped / the port is blocked). */
  onError?: (error: Error, context: { securityGroupId?: string; portId?: string }) => void;
}

export type FirewallErrorHandler = NonNullable<FirewallOptions['onError']>;

/** What the agent calls; `NoopFirewall` implements it too. */
export interface Firewall {
  readonly driver: FirewallDriverName;
  /**
   * Whether the driver keeps a port from claiming others' addresses itself;
   * when it does not, the agent installs br-int's ARP/ND/MAC anti-spoofing
   * flows (Neutron's `provides_arp_spoofing_protection`).
   */
  readonly providesArpSpoofingProtection: boolean;
  /**
   * The bridge-wide flows, once at start, into br-int's table: from then on
   * every flush writes there (the table keeps them across switch restarts).
   */
  initialize(flows?: FlowTable): void;
  updateSecurityGroupInfo(info: SecurityGroupInfo): void;
  setupPortFilters(ports: readonly FirewallPort[]): void;
  updatePortFilters(ports: readonly FirewallPort[]): void;
  removePortFilters(portIds: readonly string[]): void;
  isPortManaged(portId: string): boolean;
  /** Writes everything changed since the last flush into the table. */
  flush(): void;
  /**
   * Optional: drivers that filter outside br-int (iptables_hybrid) send what
   * changed here, after flush(); the pass waits for it before any port goes
   * on its network.
   */
  apply?(): Promise<unknown>;
  /** Optional: the agent's first full sync ended (iptables_hybrid then drops the rules of ports no pass named). */
  firstSyncDone?(): void;
  /** True when nova must plug ports through a Linux bridge (the state report's `ovs_hybrid_plug`). */
  readonly ovsHybridPlug?: boolean;
  /** Optional: the security-group rule a flow (by key) of a port's filter comes from, for people (`ovs-agent trace`). */
  ruleOrigin?(portId: string, key: string): string | undefined;
}

export class FirewallConfigError extends Error {
  override readonly name = 'FirewallConfigError';
  readonly code = 'FW_BAD_DRIVER';
}

/**
 * `[securitygroup] firewall_driver = noop`: no filtering; the agent applies
 * its own ARP/ND/MAC anti-spoofing. Also what runs when
 * `enable_security_group = false`: then the named driver still decides
 * whether anti-spoofing is the agent's (`providesArpSpoofingProtection`),
 * as Neutron loads that driver and asks it.
 */
export class NoopFirewall implements Firewall {
  readonly driver = 'noop';
  readonly providesArpSpoofingProtection: boolean;
  private readonly managed = new Set<string>();
  constructor(opts: { providesArpSpoofingProtection?: boolean } = {}) {
    this.providesArpSpoofingProtection = opts.providesArpSpoofingProtection ?? false;
  }
  initialize(): void {}
  updateSecurityGroupInfo(): void {}
  setupPortFilters(ports: readonly FirewallPort[]): void {
    for (const p of ports) this.managed.add(p.portId);
  }
  updatePortFilters(ports: readonly FirewallPort[]): void {
    this.setupPortFilters(ports);
  }
  removePortFilters(portIds: readonly string[]): void {
    for (const id of portIds) this.managed.delete(id);
  }
  isPortManaged(portId: string): boolean {
    return this.managed.has(portId);
  }
  flush(): void {}
}
