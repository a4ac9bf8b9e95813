/**
 * FlowChannel over protocol/openflow: one reconnecting OpenFlow 1.3 session
 * per bridge (its management socket, or a switch that connected to our
 * controller listener), each flush's flow-mods sent as one ordered atomic
 * bundle closed by a barrier, dumps handed over as the codec decodes them.
 */
import { OpenFlowSwitch } from '@ovs-agent/openflow';
import type { FlowMod, FlowStats } from '@ovs-agent/openflow';
import type { FlowChannel, FlowChannelEvent } from '../switch.js';
import { sleep, WaitTimeoutError, type WaitReporter } from '../../waits.js';

/** First-session retries: 50 ms doubling to 2 s. */
const CONNECT_FIRST_RETRY_MS = 50;
const CONNECT_MAX_RETRY_MS = 2000;

export class OpenFlowBridgeChannel implements FlowChannel {
  private readonly listeners = new Set<(e: FlowChannelEvent) => void>();

  private constructor(readonly bridge: string, private readonly sw: OpenFlowSwitch) {
    sw.on('connect', () => this.emit({ kind: 'connected' }));
    sw.on('disconnect', (error: Error) => this.emit({ kind: 'disconnected', error }));
  }

  /** A switch that connected to our controller listener (Neutron's way: the bridge's Controller row points at us). */
  static fromSwitch(bridge: string, sw: OpenFlowSwitch): OpenFlowBridgeChannel {
    return new OpenFlowBridgeChannel(bridge, sw);
  }

  /**
   * Connects to `unix:<rundir>/<bridge>.mgmt` or `tcp:HOST:PORT`; reconnects by itself afterwards.
   * Until the first session, retries with backoff (the wait reported to `waits`) and gives up
   * after `timeoutMs` with a WaitTimeoutError, or when `signal` aborts.
   */
  static async connect(bridge: string, address: string,
    opts: { timeoutMs?: number; waits?: WaitReporter; hint?: string; signal?: AbortSignal } = {}): Promise<OpenFlowBridgeChannel> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const wait = opts.waits?.begin(`the OpenFlow session of ${bridge}`, address, opts.hint);
    // ovs-vswitchd creates the management socket shortly after the bridge row appears: retry soon
    // at first, then back off (a socket that is not there at all is not worth 20 connects a second).
    let delayMs = CONNECT_FIRST_RETRY_MS;
    try {
      for (;;) {
        opts.signal?.throwIfAborted();
        let sw: OpenFlowSwitch;
        try {
          sw = await OpenFlowSwitch.connect(address, { reconnect: { initialDelayMs: 50, maxDelayMs: 2000 } });
        } catch (err) {
          wait?.note(err as Error);
          if (Date.now() > deadline) {
            throw new WaitTimeoutError(`gave up waiting for the OpenFlow session of ${bridge} at ${address} after ${timeoutMs / 1000} s: ${(err as Error).message}`,
              { cause: err });
          }
          await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())), opts.signal);
          delayMs = Math.min(delayMs * 2, CONNECT_MAX_RETRY_MS);
          continue;
        }
        if (opts.signal?.aborted) {
          await sw.close();
          throw opts.signal.reason;
        }
        wait?.done();
        return new OpenFlowBridgeChannel(bridge, sw);
      }
    } catch (err) {
      wait?.cancel();
      throw err;
    }
  }

  /** The switch underneath, one object across its sessions (diagnostics, tests). */
  get switch(): OpenFlowSwitch {
    return this.sw;
  }

  private emit(e: FlowChannelEvent): void {
    for (const l of this.listeners) l(e);
  }

  async sendBundle(mods: Iterable<FlowMod>): Promise<void> {
    const bundle = this.sw.bundle({ atomic: true, ordered: true });
    // addAll yields while the socket is congested, so a big bundle keeps flowing to ovs-vswitchd
    // (which drops a bundle left idle for bundle-idle-timeout) instead of piling up in our buffers.
    await bundle.addAll(mods);
    await bundle.commit();
  }

  dumpFlows(table?: number): Promise<FlowStats[]> {
    return this.sw.dumpFlows(table === undefined ? {} : { tableId: table });
  }

  onEvent(listener: (e: FlowChannelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.sw.close();
  }
}
