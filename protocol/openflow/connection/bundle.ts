/**
 * Bundles as transactions: open, add messages, commit; all or nothing.
 *
 *     const txn = sw.bundle();          // atomic and ordered by default
 *     for (const fm of flows) txn.add(fm);
 *     await txn.commit();               // or txn.discard()
 *
 * The open goes out at once and adds stream behind it (no round trip per
 * message, nothing buffered here). In OpenFlow 1.3 the messages are the ONF
 * extension OVS accepts; with 1.4 negotiated, the standard ones (the codec
 * picks by version).
 *
 * Why commit() sends a barrier first: OVS validates each message when it is
 * added and, when one fails, reports the error and leaves the bundle open
 * without it; committing then would apply the others. So commit waits for
 * the barrier behind the adds, discards the bundle if any add failed, and
 * only then commits. Errors OVS finds at commit time quote the offending
 * message's xid and come before the commit's own error, so a barrier behind
 * the commit collects them; the rejection names the offending message first.
 */
import { OFPBF } from '../constants.js';
import type { BundleAddMessage, BundleControl, BundleCtrlType, OpenFlowMessage } from '../types.js';
import type { OpenFlowSession, RequestOptions } from './session.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';
import { OpenFlowSwitchError } from './switch-error.js';

/** The flags of a bundle: atomic (all or nothing) and ordered (applied in the order added). */
export interface BundleOptions {
  /** All or nothing (OFPBF_ATOMIC). Default true. */
  atomic?: boolean;
  /** Apply in the order added (OFPBF_ORDERED). Default true. */
  ordered?: boolean;
}

type BundleState = 'open' | 'committing' | 'committed' | 'discarded' | 'failed';

/**
 * An OpenFlow bundle as a transaction: messages added, then committed all at once or discarded;
 * from `bundle()` of a switch or connection.
 */
export class BundleTransaction {
  readonly bundleId: number;
  readonly flags: number;
  private state: BundleState = 'open';
  private readonly opened: Promise<BundleControl>;
  /**
   * What was added, by xid: errors found at commit time quote an add's xid
   * after the session's own record of it was released by the barrier.
   */
  private readonly added: BundleAddMessage[] = [];

  constructor(private readonly conn: OpenFlowSession, options: BundleOptions = {}) {
    this.bundleId = conn.allocateBundleId();
    this.flags = ((options.atomic ?? true) ? OFPBF.ATOMIC : 0) | ((options.ordered ?? true) ? OFPBF.ORDERED : 0);
    this.opened = this.control('open_request');
    // Reported by commit() or discard(); never an unhandled rejection in between.
    this.opened.catch(() => undefined);
  }

  /** Where the bundle is: open, committing, committed, discarded or failed. */
  get status(): BundleState {
    return this.state;
  }

  /** Messages added so far. */
  get size(): number {
    return this.added.length;
  }

  /** Adds a message (a flow-mod, group-mod...) to the bundle; returns its xid. */
  add(message: OpenFlowMessage): number {
    this.assertOpen('add to');
    const xid = this.conn.allocateXid();
    const add: BundleAddMessage = { type: 'bundle_add_message', xid, bundleId: this.bundleId, flags: this.flags, message };
    this.conn.send(add);
    this.added.push(add);
    return xid;
  }

  /** `add`, first waiting for the socket to drain when it is congested. */
  async addAsync(message: OpenFlowMessage): Promise<number> {
    if (this.conn.needsDrain) await this.conn.drained();
    return this.add(message);
  }

  /**
   * Adds every message, pausing whenever the socket is congested; returns how
   * many. Prefer it to `add()` in a loop for big bundles: ovs-vswitchd drops a
   * bundle that hears nothing for bundle-idle-timeout (10 s), and a long
   * synchronous loop keeps the bytes here until it yields.
   */
  async addAll(messages: Iterable<OpenFlowMessage>): Promise<number> {
    let n = 0;
    for (const m of messages) {
      if (this.conn.needsDrain) await this.conn.drained();
      this.add(m);
      n++;
    }
    return n;
  }

  /**
   * Applies every added message, or none. Rejects with an OpenFlowSwitchError
   * naming the first offending message (all errors in its `errors`); the
   * switch then holds nothing of the bundle.
   *
   * `signal` can abort the commit until the commit request is sent (while
   * the adds are being checked): the bundle is then discarded and the commit
   * rejects with `OF_CONN_ABORTED`. Once the commit is sent its outcome is
   * awaited whatever the signal says: it is atomic and known within a round
   * trip, and a caller told "aborted" must be able to trust that nothing was applied.
   */
  async commit(options?: RequestOptions): Promise<void> {
    this.assertOpen('commit');
    this.state = 'committing';
    const signal = options?.signal;
    try {
      if (signal?.aborted) throw this.aborted(signal);
      await this.opened;
      await this.conn.barrier({ signal });
      if (signal?.aborted) throw this.aborted(signal);
    } catch (err) {
      const abortedHere = err instanceof OpenFlowConnectionError && err.code === ConnectionErrorCode.ABORTED;
      if (err instanceof OpenFlowSwitchError || abortedHere) await this.control('discard_request').catch(() => undefined);
      this.state = abortedHere ? 'discarded' : 'failed';
      throw err;
    }
    const commit = this.control('commit_request');
    const after = this.conn.barrier();
    const [c, b] = await Promise.allSettled([commit, after]);
    if (c.status === 'fulfilled') {
      this.state = 'committed';
      return;
    }
    // OVS has dropped the bundle whatever the outcome.
    this.state = 'failed';
    if (!(c.reason instanceof OpenFlowSwitchError)) throw c.reason;
    const errors = b.status === 'rejected' && b.reason instanceof OpenFlowSwitchError
      ? b.reason.errors.map((e) => (e.request ? e : new OpenFlowSwitchError(e.error, this.added.find((a) => a.xid === e.xid))))
      : [];
    errors.push(c.reason);
    const first = errors[0];
    first.errors = errors;
    throw first;
  }

  /** Drops the bundle on the switch; nothing of it is applied. */
  async discard(): Promise<void> {
    this.assertOpen('discard');
    this.state = 'discarded';
    await this.opened;
    await this.control('discard_request');
  }

  private aborted(signal: AbortSignal): OpenFlowConnectionError {
    return new OpenFlowConnectionError(ConnectionErrorCode.ABORTED, `commit of bundle ${this.bundleId} aborted by the caller: discarded`, { cause: signal.reason });
  }

  private control(ctrlType: BundleCtrlType): Promise<BundleControl> {
    return this.conn.request<BundleControl>({ type: 'bundle_control', bundleId: this.bundleId, ctrlType, flags: this.flags });
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') {
      throw new OpenFlowConnectionError(ConnectionErrorCode.BUNDLE_STATE, `cannot ${what} bundle ${this.bundleId}: it is ${this.state}`);
    }
  }
}
