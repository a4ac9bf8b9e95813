/**
 * A port's wiring is timed once per time its interface becomes ready in
 * OVSDB (port-record.ts readyPerf): to its flows confirmed, and to the
 * control plane taking its status up. A port wired again later without a
 * new OVSDB event (a port update from the control plane, a resync) is not
 * timed again: measured from the old event, its "latency" would be the
 * port's age and would swamp the metrics' wiring histograms
 * (docs/operations.md) and `ovs-agent status`'s wiring time.
 */
import type { PortRecord } from './port-record.js';

export type WiringStage = 'flows' | 'up';

/** Keyed by the record itself: gone with it. */
const timed = new WeakMap<PortRecord, { from: number; stages: Set<WiringStage> }>();

/** Whether this stage of the port's current wiring is yet to be timed (and so timed now). */
export function firstTiming(p: PortRecord, stage: WiringStage): boolean {
  let t = timed.get(p);
  if (!t || t.from !== p.readyPerf) timed.set(p, (t = { from: p.readyPerf, stages: new Set() }));
  if (t.stages.has(stage)) return false;
  t.stages.add(stage);
  return true;
}
