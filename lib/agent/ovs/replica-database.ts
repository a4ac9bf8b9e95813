/**
 * SwitchDatabase over protocol/ovsdb's replica: the Interface, Port and
 * Bridge rows the agent reads (only the columns it reads, so statistics
 * updates never reach it), and its writes as optimistic transactions.
 */
import { Replica, type ReplicaOptions } from '@ovs-agent/ovsdb';
import type { Bridge, Interface, OpenVSwitchTables, Port } from '@ovs-agent/ovsdb';
import type { RowIndex } from '@ovs-agent/ovsdb';
import type { BridgeRow, BridgeSettings, DbChange, PortSpec, PortTagUpdate, SwitchDatabase, VifRow } from '../switch.js';
import { OvsdbSchemaError } from '@ovs-agent/ovsdb';
import type { Wait, WaitReporter } from '../../waits.js';
import type { SslOptions } from '@ovs-agent/ovsdb';

type Tables = Pick<OpenVSwitchTables, 'Open_vSwitch' | 'Bridge' | 'Port' | 'Interface' | 'Controller'>;

const TABLES: ReplicaOptions<Tables>['tables'] = {
  Open_vSwitch: { columns: ['bridges'] },
  Bridge: {
    columns: ['name', 'ports', 'datapath_id', 'datapath_type', 'external_ids', 'fail_mode', 'protocols', 'controller', 'other_config',
      'mcast_snooping_enable'],
  },
  Port: { columns: ['name', 'interfaces', 'tag', 'vlan_mode', 'trunks', 'other_config'] },
  Interface: { columns: ['name', 'type', 'ofport', 'external_ids', 'options'] },
  Controller: { columns: ['target', 'connection_mode', 'inactivity_probe'] },
};

function record(m: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries(m);
}

export class SwitchDatabaseError extends Error {
  override readonly name = 'SwitchDatabaseError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export class ReplicaDatabase implements SwitchDatabase {
  private readonly ifaceByName: RowIndex<Interface>;
  private readonly portByName: RowIndex<Port>;
  private readonly portByIface: RowIndex<Port>;
  private readonly bridgeByName: RowIndex<Bridge>;
  private readonly bridgeByPort: RowIndex<Bridge>;
  private readonly listeners = new Set<(c: DbChange) => void>();
  private readonly unwatch: Array<() => void> = [];

  private constructor(readonly replica: Replica<Tables>, private readonly timeoutMs: number) {
    this.ifaceByName = replica.index('Interface', 'name');
    this.portByName = replica.index('Port', 'name');
    this.portByIface = replica.index('Port', 'interfaces');
    this.bridgeByName = replica.index('Bridge', 'name');
    this.bridgeByPort = replica.index('Bridge', 'ports');
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

  async ensureBridge(name: string, s: BridgeSettings): Promise<void> {
    await this.replica.transact((txn) => {
      const b = txn.lookup(this.bridgeByName, name);
      if (!b) {
        const ovs = [...this.replica.table('Open_vSwitch').values()][0];
        if (!ovs) throw new SwitchDatabaseError('the Open_vSwitch table has no row', 'NO_ROOT_ROW');
        const iface = txn.insert('Interface', { name, type: 'internal' });
        const port = txn.insert('Port', { name, interfaces: [iface] });
        const br = txn.insert('Bridge', {
          name, ports: [port], datapath_type: s.datapathType, fail_mode: s.failMode, protocols: s.protocols,
          other_config: s.otherConfig, external_ids: s.externalIds ?? {},
          ...(s.mcastSnoopingEnable !== undefined ? { mcast_snooping_enable: s.mcastSnoopingEnable } : {}),
        });
        txn.addToSet('Open_vSwitch', ovs._uuid, 'bridges', [br]);
        return;
      }
      if (b.fail_mode !== s.failMode || b.datapath_type !== s.datapathType) {
        txn.update('Bridge', b._uuid, { fail_mode: s.failMode, datapath_type: s.datapathType });
      }
      if (s.mcastSnoopingEnable !== undefined && b.mcast_snooping_enable !== s.mcastSnoopingEnable) {
        txn.update('Bridge', b._uuid, { mcast_snooping_enable: s.mcastSnoopingEnable });
      }
      const missing = s.protocols.filter((p) => !(b.protocols as readonly string[]).includes(p));
      txn.addToSet('Bridge', b._uuid, 'protocols', missing);
      const cfg = Object.entries(s.otherConfig).filter(([k, v]) => b.other_config.get(k) !== v);
      if (cfg.length) txn.setKeys('Bridge', b._uuid, 'other_config', Object.fromEntries(cfg));
      const ids = Object.entries(s.externalIds ?? {}).filter(([k, v]) => b.external_ids.get(k) !== v);
      if (ids.length) txn.setKeys('Bridge', b._uuid, 'external_ids', Object.fromEntries(ids));
    }, { timeoutMs: this.timeoutMs });
  }

  async setBridgeExternalIds(name: string, ids: Record<string, string>): Promise<void> {
    await this.replica.transact((txn) => {
      const b = txn.lookup(this.bridgeByName, name);
      if (!b) throw new SwitchDatabaseError(`bridge ${name} does not exist`, 'NO_BRIDGE');
      txn.setKeys('Bridge', b._uuid, 'external_ids', ids);
    }, { timeoutMs: this.timeoutMs });
  }

  async setControllers(bridge: string, targets: string[], opts: { connectionMode: string; inactivityProbeMs: number }): Promise<void> {
    await this.replica.transact((txn) => {
      const b = txn.lookup(this.bridgeByName, bridge, 'controller');
      if (!b) throw new SwitchDatabaseError(`bridge ${bridge} does not exist`, 'NO_BRIDGE');
      const current = b.controller.map((u) => this.replica.get('Controller', u)).filter((c) => c !== undefined);
      const same = current.length === targets.length && current.every((c) => targets.includes(c.target));
      if (same) {
        for (const c of current) {
          txn.update('Controller', c._uuid, { connection_mode: opts.connectionMode, inactivity_probe: opts.inactivityProbeMs });
        }
        return;
      }
      const refs = targets.map((target) => txn.insert('Controller', {
        target, connection_mode: opts.connectionMode, inactivity_probe: opts.inactivityProbeMs,
      }));
      txn.update('Bridge', b._uuid, { controller: refs });
    }, { timeoutMs: this.timeoutMs });
  }

  async ensurePort(bridge: string, name: string, spec: PortSpec): Promise<void> {
    await this.replica.transact((txn) => {
      const port = txn.lookup(this.portByName, name);
      if (!port) {
        const b = txn.lookup(this.bridgeByName, bridge);
        if (!b) throw new SwitchDatabaseError(`bridge ${bridge} does not exist`, 'NO_BRIDGE');
        const i = txn.insert('Interface', { name, type: spec.type, options: spec.options ?? {} });
        const p = txn.insert('Port', { name, interfaces: [i], other_config: spec.portOtherConfig ?? {} });
        txn.addToSet('Bridge', b._uuid, 'ports', [p]);
        return;
      }
      const cfg = Object.entries(spec.portOtherConfig ?? {}).filter(([k, v]) => port.other_config.get(k) !== v);
      if (cfg.length) txn.setKeys('Port', port._uuid, 'other_config', Object.fromEntries(cfg));
      const row = this.ifaceByName.get(name);
      if (!row) return;
      if (row.type !== spec.type) txn.update('Interface', row._uuid, { type: spec.type });
      const opts = Object.entries(spec.options ?? {}).filter(([k, v]) => row.options.get(k) !== v);
      if (opts.length) txn.setKeys('Interface', row._uuid, 'options', Object.fromEntries(opts));
    }, { timeoutMs: this.timeoutMs });
  }

  async deletePort(bridge: string, name: string): Promise<void> {
    await this.replica.transact((txn) => {
      const port = txn.lookup(this.portByName, name);
      const b = txn.lookup(this.bridgeByName, bridge);
      if (!port || !b) return;
      txn.removeFromSet('Bridge', b._uuid, 'ports', [port._uuid]);
    }, { timeoutMs: this.timeoutMs });
  }

  /** Removes these ports from the bridge in one transaction; returns how many were there. */
  async deletePorts(bridge: string, names: string[]): Promise<number> {
    const res = await this.replica.transact((txn) => {
      const b = txn.lookup(this.bridgeByName, bridge);
      if (!b) return 0;
      const uuids = names.map((n) => this.portByName.get(n)?._uuid).filter((u): u is string => u !== undefined && b.ports.includes(u));
      txn.removeFromSet('Bridge', b._uuid, 'ports', uuids);
      return uuids.length;
    }, { timeoutMs: this.timeoutMs });
    return res.value;
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

  async setPortTags(updates: PortTagUpdate[]): Promise<void> {
    if (!updates.length) return;
    await this.replica.transact((txn) => {
      for (const u of updates) {
        const p = this.portByName.get(u.name);
        if (!p) continue; // unplugged meanwhile: nothing to tag
        txn.update('Port', p._uuid, u.clearTrunks ? { tag: u.tag, vlan_mode: [], trunks: [] } : { tag: u.tag });
        if (u.otherConfig) txn.setKeys('Port', p._uuid, 'other_config', u.otherConfig);
      }
    }, { timeoutMs: this.timeoutMs });
  }

  async close(): Promise<void> {
    for (const u of this.unwatch) u();
    await this.replica.close();
  }
}
