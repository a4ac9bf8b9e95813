/**
 * update_device_list: which devices are reported and how (docs/neutron.md,
 * "Calls the agent makes").
 *
 * A port is reported only when its status changes or the server asks: a
 * device is left out when this process last reported it with the same
 * status and the server has not changed it since, or, never reported by
 * this process (the agent's first pass after a restart), when the server's
 * port, as the cache has it, is bound here with that status. Re-wiring a
 * port (a security group change, an l2pop event) is not a status change.
 * The Python agent reports every port it processes again, costing the
 * server a provisioning round per port.
 */
import type { Logger } from './logger.js';
import type { PortObject } from './ovo.js';
import { ReportWindow } from './report-window.js';
import type { ResourceCache } from './resource-cache.js';
import { ControlPlaneError, type AgentIdentity, type UpdateDeviceListReply } from '../types.js';

export interface DeviceStatusOptions {
  cache: ResourceCache;
  /** `[DEFAULT] rpc_resources_processing_step`: devices per call. */
  step: number;
  /** `[agent] l2_population`: the first port per network asks for the full fdb tables. */
  l2Population: boolean;
  /** `[DEFAULT] rpc_response_timeout` (s): what the report window keeps each chunk within. */
  responseTimeout: number;
  logger: Logger;
  /** update_device_list (1.9) with its retries. */
  call: (args: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

export class DeviceStatusReports {
  /**
   * The status this process last reported for a device and the server took
   * (set when sent, dropped when refused or failed, or when the server
   * changes the port's status away from it): the agent's devices, bounded by
   * its ports (dropped on the port's delete).
   */
  private readonly sent = new Map<string, 'up' | 'down'>();
  /** Networks whose full l2pop fdb table was asked for since start or the last reconnect (Neutron: iter_num == 0). */
  private readonly refreshedNetworks = new Set<string>();
  /** update_device_list chunks out at the server (see report-window.ts). */
  private readonly window: ReportWindow;

  constructor(private readonly opts: DeviceStatusOptions) {
    this.window = new ReportWindow(opts.responseTimeout);
  }

  /**
   * Reports ports up and down in chunks of rpc_resources_processing_step, a
   * few chunks in flight; a chunk that fails even after retries counts all
   * its devices as failed. Devices whose status would not change are left
   * out (see the module comment). `refreshTunnels` asks the server (l2pop) for the full fdb
   * tables; by default (with l2_population) one port per network is sent
   * with it after start or a reconnect, as Neutron's iteration 0 does with
   * every port (the server sends the network's whole table per port asking).
   */
  async report(identity: AgentIdentity, up: string[], down: string[], options: { refreshTunnels?: boolean } = {}): Promise<UpdateDeviceListReply> {
    const { host, agentId } = identity;
    const step = this.opts.step;
    const sendUp = up.filter((id) => !this.unchanged(id, 'up', host));
    const sendDown = down.filter((id) => !this.unchanged(id, 'down', host));
    const chunks: Array<{ up: string[]; down: string[]; refresh: boolean }> = [];
    if (options.refreshTunnels === undefined && this.opts.l2Population) {
      // The first port reported up per network since start (or a reconnect), skipped or not, goes in a first
      // chunk that asks for the full fdb tables: l2pop sends a network's table per port asking, so one is enough.
      const reps = new Map<string, string>();
      for (const id of up) {
        const net = this.opts.cache.peek('Port', id)?.networkId;
        if (net !== undefined && !this.refreshedNetworks.has(net) && !reps.has(net)) reps.set(net, id);
      }
      const repIds = [...reps.values()];
      for (let i = 0; i < repIds.length; i += step) chunks.push({ up: repIds.slice(i, i + step), down: [], refresh: true });
      const rest = sendUp.filter((id) => !repIds.includes(id));
      sendUp.length = 0;
      sendUp.push(...rest);
    }
    const refresh = options.refreshTunnels ?? false;
    for (let i = 0; i < Math.max(sendUp.length, sendDown.length); i += step) {
      chunks.push({ up: sendUp.slice(i, i + step), down: sendDown.slice(i, i + step), refresh });
    }
    const reply: UpdateDeviceListReply = { failedUp: [], failedDown: [] };
    // Every chunk asks the window at once, so they go out in order as soon as the server can take them.
    // Skipped devices count as reported: the server has them right.
    for (const id of up) if (!sendUp.includes(id)) this.sent.set(id, 'up');
    for (const id of down) if (!sendDown.includes(id)) this.sent.set(id, 'down');
    await Promise.all(chunks.map(async (chunk) => {
      const ticket = await this.window.acquire(Math.max(chunk.up.length + chunk.down.length, 1));
      // Set when sent: a push of the status it sets, arriving before the answer, is then recognised as ours.
      for (const id of chunk.up) this.sent.set(id, 'up');
      for (const id of chunk.down) this.sent.set(id, 'down');
      let answered = false;
      try {
        const r = await this.opts.call({
          devices_up: chunk.up,
          devices_down: chunk.down,
          agent_id: agentId,
          host,
          refresh_tunnels: chunk.refresh,
        });
        answered = true;
        const failedUp = stringList(r?.failed_devices_up);
        const failedDown = stringList(r?.failed_devices_down);
        reply.failedUp.push(...failedUp);
        reply.failedDown.push(...failedDown);
        for (const id of [...chunk.up, ...chunk.down]) {
          if (failedUp.includes(id) || failedDown.includes(id)) {
            this.sent.delete(id);
            continue;
          }
          const net = chunk.refresh ? this.opts.cache.peek('Port', id)?.networkId : undefined;
          if (net !== undefined) this.refreshedNetworks.add(net);
        }
      } catch (err) {
        if (!(err instanceof ControlPlaneError) || !err.retriable) this.opts.logger.error(`update_device_list: ${(err as Error).message}`);
        for (const id of [...chunk.up, ...chunk.down]) this.sent.delete(id);
        reply.failedUp.push(...chunk.up);
        reply.failedDown.push(...chunk.down);
      } finally {
        this.window.release(ticket, answered);
      }
    }));
    return reply;
  }

  /**
   * True when reporting `status` would tell the server nothing: this process
   * last reported it so (and the server has not changed it since), or never
   * reported it and the server's port, as cached, is bound here with it.
   */
  private unchanged(device: string, status: 'up' | 'down', host: string): boolean {
    const last = this.sent.get(device);
    if (last !== undefined) return last === status;
    const port = this.opts.cache.peek('Port', device);
    return port !== undefined && port.status === serverStatus(status) && port.bindings.some((b) => b.status === 'ACTIVE' && b.host === host);
  }

  /**
   * A status-only change the server made to a port we last reported up,
   * away from ACTIVE (e.g. DOWN or BUILD), not our own report echoed back:
   * the status is then reported again (forgotten here).
   */
  serverMovedStatus(id: string, oldPort: PortObject, newPort: PortObject): boolean {
    const moved = this.sent.get(id) === 'up' && oldPort.status === 'ACTIVE' && newPort.status !== 'ACTIVE';
    if (moved) this.sent.delete(id);
    return moved;
  }

  /** The port is gone from the server. */
  forget(id: string): void {
    this.sent.delete(id);
  }

  /** After a reconnect l2pop's full tables are asked for again (Neutron: iteration 0). */
  reconnected(): void {
    this.refreshedNetworks.clear();
  }
}

function serverStatus(status: 'up' | 'down'): 'ACTIVE' | 'DOWN' {
  return status === 'up' ? 'ACTIVE' : 'DOWN';
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
