/**
 * Puts the bridges' flow tables on the switch (ovn-controller's ofctrl):
 * everything a pass changed on a bridge goes out as ONE ordered, atomic
 * bundle, adds and replacements first and deletes last (in one atomic bundle
 * the order changes nothing for traffic, but a table never holds fewer flows
 * mid-bundle than before or after it), and counts as installed only once the
 * switch committed it. A bundle the switch rejects leaves the table as it
 * was: the same changes are taken again next time.
 *
 * Reading the switch back is here too: adoption at start (flows the switch
 * already holds are not sent again), and reconciliation after a session
 * change (whatever differs from what is wanted is put right, in one bundle).
 */
import type { FlowMod, FlowStats } from '@ovs-agent/openflow';
import { addOf, deleteOf } from './flow.js';
import type { FlowChanges, FlowTable } from './flow-table.js';

/** One bridge's OpenFlow session, as far as flows go. */
export interface FlowSession {
  /** Sends the flow-mods as one ordered atomic bundle; resolves once the switch committed it. */
  sendBundle(mods: Iterable<FlowMod>): Promise<void>;
  /** Every flow of the bridge (or of one table). */
  dumpFlows(table?: number): Promise<FlowStats[]>;
}

export interface FlushResult {
  /** Flow-mods sent, all bridges. */
  flowMods: number;
  /** The bridges a bundle went to, one entry per bundle. */
  bridges: string[];
  /** Each bundle's time from sent to committed (its barrier answered), in seconds, in the order of `bridges`. */
  commitSeconds: number[];
  /** Each bundle's flow-mods, in the order of `bridges`. */
  bundleMods: number[];
}

/** The flow-mods of a table's changes: adds (with the table's cookie) before deletes. */
export function* flowModsOf(changes: FlowChanges, cookie: bigint): Generator<FlowMod> {
  for (const f of changes.adds) yield addOf(f, cookie);
  for (const key of changes.deletes) yield deleteOf(key);
}

export class FlowInstaller {
  constructor(private readonly session: (bridge: string) => FlowSession | undefined) {}

  /** Sends every table's pending changes, one bundle per bridge, the bridges in parallel. */
  async flush(tables: Iterable<FlowTable>): Promise<FlushResult> {
    const result: FlushResult = { flowMods: 0, bridges: [], commitSeconds: [], bundleMods: [] };
    await Promise.all([...tables].map(async (table) => {
      const changes = table.takeChanges();
      const n = changes.adds.length + changes.deletes.length;
      if (n === 0) return;
      const s = this.session(table.bridge);
      if (!s) throw new FlowInstallError(`no OpenFlow session to ${table.bridge}`);
      const t0 = performance.now();
      await s.sendBundle(flowModsOf(changes, table.cookie));
      const seconds = (performance.now() - t0) / 1000;
      table.commit(changes);
      result.flowMods += n;
      result.bridges.push(table.bridge);
      result.commitSeconds.push(seconds);
      result.bundleMods.push(n);
    }));
    return result;
  }

  /**
   * Reads what the switch holds into the table: identical flows are kept as
   * they are, the others will be sent by the next flush; flows nobody wants
   * are deleted by it too when `deleteUnwanted`, else once the table is told
   * (after the first full sync).
   */
  async adopt(table: FlowTable, opts: { deleteUnwanted: boolean }): Promise<void> {
    const s = this.session(table.bridge);
    if (!s) throw new FlowInstallError(`no OpenFlow session to ${table.bridge}`);
    table.adopt(await s.dumpFlows(), opts);
  }
}

export class FlowInstallError extends Error {
  override readonly name = 'FlowInstallError';
  readonly code = 'FLOW_NO_SESSION';
}
