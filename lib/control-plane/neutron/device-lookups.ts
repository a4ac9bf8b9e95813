/**
 * Device lookups that never wait for the server (docs/neutron.md, "Device
 * details"): devices whose details (port, network, security group data) are
 * cached are answered at once, the others are returned `deferred`, pulled in
 * the background, and announced with `ports_updated` once they can be
 * answered. So one slow or lost bulk_pull holds only the ports that need it.
 * What a port bound here will need is also pulled as soon as the server
 * pushes the port (`warm`), before it is plugged.
 */
import type { Logger } from './logger.js';
import type { PortObject } from './ovo.js';
import { deviceLookup, qosPolicyIdOf } from './port-details.js';
import type { ResourceCache } from './resource-cache.js';
import { unansweredGroups, warmSecurityGroups } from './security-groups.js';
import type { DeviceLookup, DevicesDetailsReply } from '../types.js';

/** A deferred lookup still waiting this long is logged (with what it waits for). */
const WAIT_LOG_MS = 5000;

export interface DeviceLookupOptions {
  cache: ResourceCache;
  logger: Logger;
  /** Devices that can be answered now (ports_updated to the agent). */
  announce: (portIds: string[]) => void;
  /** The control plane is running (nothing is announced or logged after its stop). */
  running: () => boolean;
  /** The qos extension runs: a port's policy is part of its details (pulled like its network). */
  qos?: boolean;
}

export class DeviceLookups {
  /** Devices whose details are being pulled for a deferred lookup. */
  private readonly preparing = new Set<string>();
  /** Devices whose background lookup failed: the agent's next lookup gets them as failed (once). */
  private readonly lookupFailed = new Set<string>();
  /** Devices whose deferred lookup can be answered now, announced together on the next turn. */
  private readonly readyToAnnounce = new Set<string>();

  constructor(private readonly opts: DeviceLookupOptions) {}

  /** The port is gone from the server. */
  forget(id: string): void {
    this.lookupFailed.delete(id);
  }

  /**
   * Answers from the cache at once. A device whose port, network or security
   * group data was never pulled is returned in `deferred`: it is pulled in
   * the background and announced with `ports_updated` when it can be
   * answered (or when its pull failed: it is then `failed` once).
   */
  lookup(devices: string[], host: string): DevicesDetailsReply {
    const reply: DevicesDetailsReply = { devices: [], failed: [], deferred: [] };
    const answers = new Map<string, DeviceLookup>();
    const bound: Array<{ device: string; port: PortObject }> = [];
    const waiting: string[] = [];
    for (const device of devices) {
      if (this.lookupFailed.delete(device)) reply.failed.push(device);
      else if (this.preparing.has(device) || !this.opts.cache.answered('Port', 'id', device)) waiting.push(device);
      else {
        const port = this.opts.cache.peek('Port', device);
        const lookup = deviceLookup(device, port, undefined, host);
        if (lookup.kind === 'bound') bound.push({ device, port: port! });
        else answers.set(device, lookup);
      }
    }
    const ports = bound.map((b) => b.port);
    const unanswered = unansweredGroups(this.opts.cache, [...new Set(ports.flatMap((p) => p.securityGroupIds))]);
    const cache = this.opts.cache;
    for (const { device, port } of bound) {
      const network = cache.peek('Network', port.networkId);
      const policy = this.opts.qos && network ? qosPolicyIdOf(port, network) : undefined;
      if (!cache.answered('Network', 'id', port.networkId) || port.securityGroupIds.some((g) => unanswered.has(g))) waiting.push(device);
      else if (policy !== undefined && !cache.answered('QosPolicy', 'id', policy)) waiting.push(device);
      else answers.set(device, deviceLookup(device, port, network, host, policy === undefined ? undefined : cache.peek('QosPolicy', policy)));
    }
    for (const device of devices) {
      const lookup = answers.get(device);
      if (lookup) reply.devices.push(lookup);
    }
    // What a reconnect left stale is asked again (not waited for); what is missing is pulled for the deferred ones.
    const quiet = (err: Error) => this.opts.logger.debug(`refresh: ${err.message}`);
    if (ports.length > 0) this.opts.cache.getMany('Port', ports.map((p) => p.id)).catch(quiet);
    this.warm(ports, host);
    if (waiting.length > 0) {
      reply.deferred!.push(...waiting);
      this.prepare(waiting, host);
    }
    return reply;
  }

  /** Pulls what deferred devices need, each announced as soon as its own data is in. */
  private prepare(devices: string[], host: string): void {
    const todo = devices.filter((d) => !this.preparing.has(d));
    if (todo.length === 0) return;
    for (const d of todo) this.preparing.add(d);
    const waitLog = setTimeout(() => {
      const left = todo.filter((d) => this.preparing.has(d)).length;
      if (left > 0) this.opts.logger.warn(`waiting for neutron-server: ${left} port(s) wait for their details (bulk_pull on q-plugin); the other ports are wired meanwhile`);
    }, WAIT_LOG_MS);
    waitLog.unref();
    const failures: Error[] = [];
    void Promise.all(todo.map(async (device) => {
      try {
        const port = (await this.opts.cache.getMany('Port', [device])).get(device);
        if (port && deviceLookup(device, port, undefined, host).kind === 'bound') {
          const [networks] = await Promise.all([this.opts.cache.getMany('Network', [port.networkId]), warmSecurityGroups(this.opts.cache, port.securityGroupIds)]);
          const policy = this.opts.qos ? qosPolicyIdOf(port, networks.get(port.networkId)) : undefined;
          if (policy !== undefined) await this.opts.cache.getMany('QosPolicy', [policy]);
        }
      } catch (err) {
        failures.push(err as Error);
        this.lookupFailed.add(device);
      } finally {
        this.preparing.delete(device);
        this.announceReady(device);
      }
    })).then(() => {
      clearTimeout(waitLog);
      if (failures.length > 0 && this.opts.running()) this.opts.logger.warn(`device details: ${failures.length} device(s) failed: ${failures[0].message}`);
    });
  }

  private announceReady(device: string): void {
    if (this.readyToAnnounce.size === 0) {
      // Devices answered by one pull are announced together: the agent wires them in one pass.
      setImmediate(() => {
        const portIds = [...this.readyToAnnounce];
        this.readyToAnnounce.clear();
        if (this.opts.running()) this.opts.announce(portIds);
      });
    }
    this.readyToAnnounce.add(device);
  }

  /** Starts pulling (not awaited) the networks and security group data these ports will need. */
  warm(ports: PortObject[], host: string): void {
    const mine = ports.filter((p) => p.bindings.some((b) => b.status === 'ACTIVE' && b.host === host));
    if (mine.length === 0) return;
    const networks = [...new Set(mine.filter((p) => p.segment).map((p) => p.networkId))];
    const groups = [...new Set(mine.flatMap((p) => p.securityGroupIds))];
    const quiet = (err: Error) => this.opts.logger.debug(`prefetch: ${err.message}`);
    if (networks.length) this.opts.cache.getMany('Network', networks).catch(quiet);
    const policies = this.opts.qos ? [...new Set(mine.flatMap((p) => (p.qosPolicyId ? [p.qosPolicyId] : [])))] : [];
    if (policies.length) this.opts.cache.getMany('QosPolicy', policies).catch(quiet);
    if (groups.length) warmSecurityGroups(this.opts.cache, groups).catch(quiet);
  }
}
