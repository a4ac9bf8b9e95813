/**
 * SwitchDatabase over protocol/ovsdb's replica: the Interface, Port and
 * Bridge rows the agent reads (only the columns it reads, so statistics
 * updates never reach it), and its writes as optimistic transactions.
 */
import { Replica, type ReplicaOptions } from '@ovs-agent/ovsdb';
import type { Bridge, Interface, OpenVSwitchTables, Port } from '@ovs-agent/ovsdb';
import type { RowIndex } from '@ovs-agent/ovsdb';
import type { BridgeRow, BridgeSettings, DbChange, PortSpec, PortTagUpdate, QosWrite, SwitchDatabase, VifRow } from '../switch.js';
import { QosRowWriter } from './qos-rows.js';
import { OvsTrunkSwitch } from '../../trunk/ovs-trunk-switch.js';
import type { TrunkSwitch } from '../../trunk/types.js';
import { SwitchDatabaseError, SwitchWrites } from './switch-writes.js';
import { OvsdbSchemaError } from '@ovs-agent/ovsdb';
import type { Wait, WaitReporter } from '../../waits.js';
import type { SslOptions } from '@ovs-agent/ovsdb';

export { SwitchDatabaseError };

type Tables = Pick<OpenVSwitchTables, 'Open_vSwitch' | 'Bridge' | 'Port' | 'Interface' | 'Controller' | 'QoS' | 'Queue'>;

const TABLES: ReplicaOptions<Tables>['tables'] = {
  Open_vSwitch: { columns: ['bridges'] },
  Bridge: {
    columns: ['name', 'ports', 'datapath_id', 'datapath_type', 'external_ids', 'fail_mode', 'protocols', 'controller', 'other_config',
      'mcast_snooping_enable'],
  },
  Port: { columns: ['name', 'interfaces', 'tag', 'vlan_mode', 'trunks', 'other_config', 'qos'] },
  Interface: { columns: ['name', 'type', 'ofport', 'external_ids', 'options', 'ingress_policing_rate', 'ingress_policing_burst'] },
  Controller: { columns: ['target', 'connection_mode', 'inactivity_probe'] },
  // The qos extension's rows (lib/agent/ovs/qos-rows.ts).
  QoS: { columns: ['type', 'other_config', 'external_ids', 'queues'] },
  Queue: { columns: ['other_config', 'external_ids'] },
};

function record(m: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries(m);
}

export class ReplicaDatabase implements SwitchDatabase {
  private readonly ifaceByName: RowIndex<Interface>;
  private readonly portByName: RowIndex<Port>;
  private readonly portByIface: RowIndex<Port>;
  private readonly bridgeByName: RowIndex<Bridge>;
  private readonly bridgeByPort: RowIndex<Bridge>;
  private readonly writes: SwitchWrites;
  private readonly listeners = new Set<(c: DbChange) => void>();
  private readonly unwatch: Array<() => void> = [];

  private constructor(readonly replica: Replica<Tables>, private readonly timeoutMs: number) {
    this.ifaceByName = replica.index('Interface', 'name');
    this.portByName = replica.index('Port', 'name');
    this.portByIface = replica.index('Port', 'interfaces');
    this.bridgeByName = replica.index('Bridge', 'name');
    this.bridgeByPort = replica.index('Bridge', 'ports');
    this.writes = new SwitchWrites(replica, { ifaceByName: this.ifaceByName, portByName: this.portByName, bridgeByName: this.bridgeByName }, timeoutMs);
    this.unwatch.push(replica.watch('Interface', (e) => {
      this.emit({ kind: 'interface', name: e.row.name });
      if (e.kind === 'update' && e.old.name !== e.row.name) this.emit({ kind: 'interface', name: e.old.name });
    }));
    this.unwatch.push(replica.watch('Port', (e) => {
      const uuids = new Set(e.row.interfaces);
      if (e.kind === 'update') {
        if (e.old.tag === e.row.tag && e.old.interfaces === e.row.interfaces && e.old.other_config === e.row.other_config) return;
        for (const u of e.old.interfaces) uuids.add(u);
      }
      this.emitIfaces(uuids);
    }));
    this.unwatch.push(replica.watch('Bridge', (e) => {
      this.emit({ kind: 'bridge', name: e.row.name });
      if (e.kind !== 'update' || e.old.ports === e.row.ports) return;
      const before = new Set(e.old.ports);
      const after = new Set(e.row.ports);
      for (const p of [...before].filter((u) => !after.has(u)).concat([...after].filter((u) => !before.has(u)))) {
        const port = replica.get('Port', p);
        if (port) this.emitIfaces(port.interfaces);
      }
    }));
    replica.on('resync', (info) => {
      if (info.reconnects > 0) this.emit({ kind: 'resync' });
    });
  }

  /**
   * Connects and replicates; waits as long as it takes (or until `signal` aborts), the wait
   * reported to `waits`. Rejects at once with an OvsdbSchemaError when the database lacks a
   * table or column the agent reads. `ssl`: key, certificate and CA files for an `ssl:` remote
   * (ovsdb-ssl.ts makes them from the config).
   */
  static async connect(remote: string,
    opts: { timeoutMs?: number; waits?: WaitReporter; signal?: AbortSignal; ssl?: SslOptions } = {}): Promise<ReplicaDatabase> {
    opts.signal?.throwIfAborted();
    const replica = Replica.open<Tables>({ remote, tables: TABLES, ssl: opts.ssl });
    const ready = replica.whenReady();
    const wait = opts.waits?.begin('OVSDB', remote, '[ovs] ovsdb_connection');
    const onError = (err: Error): void => wait?.note(err);
    replica.on('error', onError);
    const abort = (): void => void replica.close();
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      await ready;
      wait?.done();
    } catch (err) {
      wait?.cancel();
      await replica.close();
      throw opts.signal?.aborted ? opts.signal.reason : err;
    } finally {
      replica.off('error', onError);
      opts.signal?.removeEventListener('abort', abort);
    }
    const db = new ReplicaDatabase(replica, opts.timeoutMs ?? 10_000);
    if (opts.waits) db.reportReconnects(remote, opts.waits);
    return db;
  }

  /**
   * Errors after which this database cannot serve the agent: the server's schema lost a table
   * or column the agent reads (converted under us). The replica would retry forever.
   */
  onFatal(listener: (err: OvsdbSchemaError) => void): () => void {
    const l = (err: Error): void => {
      if (err instanceof OvsdbSchemaError) listener(err);
    };
    this.replica.on('error', l);
    return () => this.replica.off('error', l);
  }

  /** Down when the connection drops, up once the replica resynchronised on the new one. */
  onSession(listener: (up: boolean, error?: Error) => void): () => void {
    const down = (err: Error): void => listener(false, err);
    const up = (): void => listener(true);
    this.replica.on('disconnected', down);
    this.replica.on('resync', up);
    return () => {
      this.replica.off('disconnected', down);
      this.replica.off('resync', up);
    };
  }

  /** A lost connection is a wait like the first one: said out loud until the replica is back. */
  private reportReconnects(remote: string, waits: WaitReporter): void {
    let wait: Wait | undefined;
    const onDown = (err: Error): void => {
      wait ??= waits.begin('OVSDB', remote, 'reconnecting');
      wait.note(err);
    };
    const onError = (err: Error): void => wait?.note(err);
    const onUp = (): void => {
      wait?.done();
      wait = undefined;
    };
    this.replica.on('disconnected', onDown);
    this.replica.on('error', onError);
    this.replica.on('resync', onUp);
    this.unwatch.push(() => {
      this.replica.off('disconnected', onDown);
      this.replica.off('error', onError);
      this.replica.off('resync', onUp);
      wait?.cancel();
    });
  }

  private emit(c: DbChange): void {
    for (const l of this.listeners) l(c);
  }

  private emitIfaces(uuids: Iterable<string>): void {
    for (const u of uuids) {
      const i = this.replica.get('Interface', u);
      if (i) this.emit({ kind: 'interface', name: i.name });
    }
  }

  ready(): Promise<void> {
    return this.replica.whenReady();
  }

  onChange(listener: (change: DbChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private toVif(i: Interface): VifRow {
    const port = this.portByIface.get(i._uuid);
    const bridge = port ? this.bridgeByPort.get(port._uuid) : undefined;
    return {
      name: i.name,
      ofport: i.ofport === null ? undefined : i.ofport,
      ifaceId: i.external_ids.get('iface-id'),
      attachedMac: i.external_ids.get('attached-mac'),
      bridge: bridge?.name,
      tag: port?.tag ?? undefined,
      portOtherConfig: port ? record(port.other_config) : {},
      externalIds: record(i.external_ids),
    };
  }

  *vifs(): Iterable<VifRow> {
    for (const i of this.replica.table('Interface').values()) {
      if (i.external_ids.has('iface-id') && i.external_ids.has('attached-mac')) yield this.toVif(i);
    }
  }

  vif(name: string): VifRow | undefined {
    const i = this.ifaceByName.get(name);
    return i ? this.toVif(i) : undefined;
  }

  private toBridge(b: Bridge): BridgeRow {
    return {
      name: b.name,
      datapathId: b.datapath_id ?? undefined,
      externalIds: record(b.external_ids),
      ports: b.ports.map((p) => this.replica.get('Port', p)?.name).filter((n): n is string => n !== undefined),
    };
  }

  bridge(name: string): BridgeRow | undefined {
    const b = this.bridgeByName.get(name);
    return b ? this.toBridge(b) : undefined;
  }

  bridges(): BridgeRow[] {
    return [...this.replica.table('Bridge').values()].map((b) => this.toBridge(b));
  }

  ensureBridge(name: string, s: BridgeSettings): Promise<void> {
    return this.writes.ensureBridge(name, s);
  }

  setBridgeExternalIds(name: string, ids: Record<string, string>): Promise<void> {
    return this.writes.setBridgeExternalIds(name, ids);
  }

  setControllers(bridge: string, targets: string[], opts: { connectionMode: string; inactivityProbeMs: number }): Promise<void> {
    return this.writes.setControllers(bridge, targets, opts);
  }

  ensurePort(bridge: string, name: string, spec: PortSpec): Promise<void> {
    return this.writes.ensurePort(bridge, name, spec);
  }

  deletePort(bridge: string, name: string): Promise<void> {
    return this.writes.deletePort(bridge, name);
  }

  /** Removes these ports from the bridge in one transaction; returns how many were there. */
  deletePorts(bridge: string, names: string[]): Promise<number> {
    return this.writes.deletePorts(bridge, names);
  }

  /** Ports of a bridge with their interfaces' external_ids (for neutron-ovs-cleanup). */
  portsOf(bridge: string): Array<{ name: string; interfaces: Array<{ name: string; type: string; externalIds: Record<string, string> }> }> {
    const b = this.bridgeByName.get(bridge);
    if (!b) return [];
    return b.ports.flatMap((u) => {
      const p = this.replica.get('Port', u);
      if (!p) return [];
      const interfaces = p.interfaces.map((i) => this.replica.get('Interface', i)).filter((i) => i !== undefined)
        .map((i) => ({ name: i.name, type: i.type, externalIds: record(i.external_ids) }));
      return [{ name: p.name, interfaces }];
    });
  }

  waitOfport(name: string, timeoutMs: number): Promise<number> {
    return this.replica.waitFor(() => {
      const i = this.ifaceByName.get(name);
      if (i?.ofport === -1) throw new SwitchDatabaseError(`ovs-vswitchd could not add interface ${name} (ofport -1)`, 'OFPORT_FAILED');
      return i && i.ofport !== null && i.ofport > 0 ? i.ofport : undefined;
    }, { timeoutMs, what: `the ofport of ${name}` });
  }

  setPortTags(updates: PortTagUpdate[]): Promise<void> {
    return this.writes.setPortTags(updates);
  }

  async applyQos(writes: readonly QosWrite[], keep?: ReadonlySet<string>): Promise<void> {
    const writer = new QosRowWriter(this.replica, this.portByName, this.ifaceByName);
    await this.replica.transact((txn) => void writer.write(txn, writes, keep), { timeoutMs: this.timeoutMs });
  }

  trunkSwitch(): TrunkSwitch {
    return new OvsTrunkSwitch(this.replica, this.timeoutMs);
  }

  async close(): Promise<void> {
    for (const u of this.unwatch) u();
    await this.replica.close();
  }
}
