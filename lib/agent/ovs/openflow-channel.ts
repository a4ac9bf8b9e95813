/**
 * FlowChannel over protocol/openflow: one reconnecting OpenFlow 1.3 session
 * per bridge (its management socket, or a TCP target), flows written as
 * ovs-ofctl text and turned into FlowMods by the text codec, each pass's
 * changes sent as one ordered atomic bundle closed by a barrier.
 */
import { OpenFlowSwitch } from '../../../protocol/openflow/connection/index.js';
import { formatFlow, parseFlow } from '../../../protocol/openflow/text/index.js';
import type { FlowMod } from '../../../protocol/openflow/types.js';
import { flowMatchText, flowModText, flowText, parseDumpLine, type Flow, type FlowChanges } from '../../bridges/index.js';
import type { FlowChannel, FlowChannelEvent } from '../switch.js';

/** Parsed FlowMods by flow text (`flowText`), shared by every channel. Bounded so 10k ports don't pin memory. */
const PARSE_CACHE_MAX = 100_000;
const addCache = new Map<string, FlowMod>();

function remember(cache: Map<string, FlowMod>, key: string, fm: FlowMod): FlowMod {
  if (cache.size >= PARSE_CACHE_MAX) cache.clear();
  cache.set(key, fm);
  return fm;
}

export class OpenFlowBridgeChannel implements FlowChannel {
  private readonly listeners = new Set<(e: FlowChannelEvent) => void>();
  private readonly delCache = new Map<string, FlowMod>();

  private constructor(readonly bridge: string, private readonly sw: OpenFlowSwitch) {
    sw.on('connect', () => this.emit({ kind: 'connected' }));
    sw.on('disconnect', (error: Error) => this.emit({ kind: 'disconnected', error }));
  }

  /** A switch that connected to our controller listener (Neutron's way: the bridge's Controller row points at us). */
  static fromSwitch(bridge: string, sw: OpenFlowSwitch): OpenFlowBridgeChannel {
    return new OpenFlowBridgeChannel(bridge, sw);
  }

  /** Connects to `unix:<rundir>/<bridge>.mgmt` or `tcp:HOST:PORT`; reconnects by itself afterwards. */
  static async connect(bridge: string, address: string, opts: { timeoutMs?: number } = {}): Promise<OpenFlowBridgeChannel> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    // ovs-vswitchd creates the management socket shortly after the bridge row appears.
    for (;;) {
      try {
        const sw = await OpenFlowSwitch.connect(address, { reconnect: { initialDelayMs: 50, maxDelayMs: 2000 } });
        return new OpenFlowBridgeChannel(bridge, sw);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private emit(e: FlowChannelEvent): void {
    for (const l of this.listeners) l(e);
  }

  private cached(cache: Map<string, FlowMod>, key: string, make: () => FlowMod): FlowMod {
    return cache.get(key) ?? remember(cache, key, make());
  }

  async commit(changes: FlowChanges, cookie: bigint): Promise<void> {
    const bundle = this.sw.bundle({ atomic: true, ordered: true });
    for (const f of changes.deletes) {
      bundle.add(this.cached(this.delCache, flowMatchText(f), () => parseFlow(flowMatchText(f), { command: 'delete_strict' })));
    }
    for (const f of changes.adds) {
      const key = flowText(f);
      const fm = this.cached(addCache, key, () => parseFlow(flowModText(f, 0n)));
      // A flow is sent once per change: no need to keep its parse around.
      addCache.delete(key);
      bundle.add({ ...fm, cookie });
    }
    await bundle.commit();
  }

  async dumpFlows(table?: number): Promise<Array<{ flow: Flow; cookie: bigint; durationSec?: number }>> {
    const stats = await this.sw.dumpFlows(table === undefined ? {} : { tableId: table });
    const out: Array<{ flow: Flow; cookie: bigint; durationSec?: number }> = [];
    for (const s of stats) {
      const d = parseDumpLine(formatFlow(s));
      if (d) out.push({ flow: d.flow, cookie: s.cookie, durationSec: s.durationSec });
    }
    return out;
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

/**
 * An extension's flow (any ovs-ofctl spelling) in the canonical form the
 * switch dumps; the parse is kept for the commit that sends it, so each flow
 * is parsed once.
 */
export function canonicalFlow(text: string): Flow | undefined {
  const fm = parseFlow(text);
  const d = parseDumpLine(formatFlow(fm));
  if (!d) return undefined;
  remember(addCache, flowText(d.flow), { ...fm, cookie: 0n });
  return d.flow;
}

/** Canonical dump-flows text of a flow written in any ovs-ofctl spelling. */
export function canonicalFlowText(text: string): string {
  return formatFlow(parseFlow(text));
}
