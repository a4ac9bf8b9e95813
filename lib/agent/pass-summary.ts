/** What one pass did and where its time went: the status, the log, metrics and tests read it. */
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
  /** The bridges an OpenFlow bundle went to, one entry per bundle: each bridge at most once. */
  bundles: string[];
  /** For each port in `up`: ms from its interface seen ready to its flows and tag confirmed. */
  wiredMs: number[];
  /**
   * Where the pass spent its time (ms): control-plane lookup, computing flows, the firewall's flows,
   * the bundles to their barriers (`flows`), the OVSDB transaction with the tags (`tags`), handing
   * the ports to the report (`report`; the call itself runs behind the pass).
   */
  phases: { details: number; compute: number; firewall: number; flows: number; tags: number; report: number };
  error?: Error;
}

export function newSummary(): PassSummary {
  return {
    ok: true, durationMs: 0, up: [], down: [], dead: [], removed: [], failed: [], flowMods: 0, bundles: [], wiredMs: [],
    phases: { details: 0, compute: 0, firewall: 0, flows: 0, tags: 0, report: 0 },
  };
}
