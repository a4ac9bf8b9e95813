/**
 * What the agent tells an observer (the metrics) as it works: calls made
 * where the agent already records the thing (the pass's summary, the
 * report's answer), so observing costs a few additions per pass and none
 * per flow.
 */
import type { ResourceCacheStats } from '../control-plane/types.js';

/** What a pass's summary tells an observer (lib/agent/pass.ts PassSummary has it). */
export interface PassFacts {
  ok: boolean;
  durationMs: number;
  /** ms per phase. */
  phases: Readonly<Record<string, number>>;
  /** For each port wired: ms from its interface seen ready to its flows and tag confirmed. */
  wiredMs: readonly number[];
}

export interface AgentObserver {
  /** A pass ended (its summary: duration, phases, ports wired, flow-mods, bundles). */
  pass(summary: PassFacts): void;
  /** A port became ACTIVE: `ms` since its interface was seen ready in OVSDB. */
  portActive(ms: number): void;
  /** An RPC to the control plane ended. */
  rpc(method: string, seconds: number, outcome: RpcOutcome): void;
  /** A bundle of flow-mods was committed by the switch, `seconds` after it was sent. */
  bundle(bridge: string, seconds: number): void;
}

export type RpcOutcome = 'ok' | 'timeout' | 'error';

/** What a scrape reads from the agent (cheap: counts it keeps anyway). */
export interface ObservedFacts {
  /** Ports by state (ACTIVE, WAITING, DEAD, DOWN, FAILED). */
  ports: Readonly<Record<string, number>>;
  localVlans: number;
  /** Flows the agent holds per bridge (what it wants installed), by owner (lib/flows/flow-table.ts flowCounts). */
  flows: Array<{ bridge: string; byOwner: Iterable<[string, number]> }>;
  /** Flow-mods sent since start, all bridges. */
  flowModsSent: number;
  /** Bundles committed since start, per bridge. */
  bundlesSent: ReadonlyMap<string, number>;
  /** Flow-mods sent since start, per bridge, to put right drift a comparison with the switch found. */
  driftRepaired: ReadonlyMap<string, number>;
  /** The control plane's resource cache (Neutron's: objects per type and pulls asked), if it has one. */
  resourceCache?: ResourceCacheStats;
}

