/**
 * A FlowChannel that drives ovs-ofctl, for tests only: an independent
 * implementation of "one atomic bundle per commit" (ovs-ofctl --bundle)
 * against which the agent's logic can be checked on the real switch. The
 * agent itself uses lib/agent/ovs/openflow-channel.ts.
 */
import { flowMatchText, flowModText, parseDumpLine } from '../../../lib/bridges/index.js';
import type { FlowChanges } from '../../../lib/bridges/index.js';
import type { FlowChannel, FlowChannelEvent } from '../../../lib/agent/switch.js';
import type { OvsSandbox } from '../../../testing/sandbox.js';

export class OfctlChannel implements FlowChannel {
  private readonly listeners = new Set<(e: FlowChannelEvent) => void>();
  commits = 0;

  constructor(private readonly sb: OvsSandbox, readonly bridge: string) {}

  async commit(changes: FlowChanges, cookie: bigint): Promise<void> {
    const lines = [
      ...changes.deletes.map((f) => `delete_strict ${flowMatchText(f)}`),
      ...changes.adds.map((f) => `add ${flowModText(f, cookie)}`),
    ];
    await this.sb.run('ovs-ofctl', ['-O', 'OpenFlow14', '--bundle', 'add-flows', this.bridge, '-'], { input: `${lines.join('\n')}\n` });
    this.commits++;
  }

  async dumpFlows(table?: number) {
    const args = ['-O', 'OpenFlow13', '--no-names', 'dump-flows', this.bridge];
    if (table !== undefined) args.push(`table=${table}`);
    const out = await this.sb.run('ovs-ofctl', args);
    return out.split('\n').map((l) => parseDumpLine(l)).filter((d) => d !== undefined)
      .map((d) => ({ flow: d.flow, cookie: d.cookie }));
  }

  onEvent(listener: (e: FlowChannelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tests call this after restarting ovs-vswitchd, as a reconnecting channel would notice. */
  reconnected(): void {
    for (const l of this.listeners) l({ kind: 'connected' });
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
