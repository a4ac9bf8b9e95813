/**
 * The agent's writes of bridges and ports on OVSDB (docs/design.md, "OVSDB:
 * what is read and written"), each one optimistic transaction over the replica: a
 * bridge and its settings, its controllers, a port with its interface, the
 * ports' local VLAN tags. Split from replica-database.ts, which reads and
 * watches the rows; both share the replica's indexes.
 */
import type { Bridge, Controller, Interface, OpenVSwitchTables, Port } from '@ovs-agent/ovsdb';
import type { Replica, RowIndex } from '@ovs-agent/ovsdb';
import type { BridgeSettings, PortSpec, PortTagUpdate } from '../switch.js';

type Tables = Pick<OpenVSwitchTables, 'Open_vSwitch' | 'Bridge' | 'Port' | 'Interface' | 'Controller'>;

export class SwitchDatabaseError extends Error {
  override readonly name = 'SwitchDatabaseError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** The replica's indexes the writes look rows up in. */
export interface SwitchIndexes {
  ifaceByName: RowIndex<Interface>;
  portByName: RowIndex<Port>;
  bridgeByName: RowIndex<Bridge>;
}

export class SwitchWrites {
  constructor(
    private readonly replica: Replica<Tables>,
    private readonly idx: SwitchIndexes,
    private readonly timeoutMs: number,
  ) {}

  async ensureBridge(name: string, s: BridgeSettings): Promise<void> {
    await this.replica.transact((txn) => {
      const b = txn.lookup(this.idx.bridgeByName, name);
      if (!b) {
        const ovs = [...this.replica.table('Open_vSwitch').values()][0];
        if (!ovs) throw new SwitchDatabaseError('the Open_vSwitch table has no row', 'NO_ROOT_ROW');
        const iface = txn.insert('Interface', { name, type: 'internal' });
        const port = txn.insert('Port', { name, interfaces: [iface] });
        const br = txn.insert('Bridge', {
          name, ports: [port], datapath_type: s.datapathType, fail_mode: s.failMode, protocols: s.protocols as Bridge['protocols'],
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
      const missing = (s.protocols as Bridge['protocols']).filter((p) => !b.protocols.includes(p));
      txn.addToSet('Bridge', b._uuid, 'protocols', missing);
      const cfg = Object.entries(s.otherConfig).filter(([k, v]) => b.other_config.get(k) !== v);
      if (cfg.length) txn.setKeys('Bridge', b._uuid, 'other_config', Object.fromEntries(cfg));
      const ids = Object.entries(s.externalIds ?? {}).filter(([k, v]) => b.external_ids.get(k) !== v);
      if (ids.length) txn.setKeys('Bridge', b._uuid, 'external_ids', Object.fromEntries(ids));
    }, { timeoutMs: this.timeoutMs });
  }

  async setBridgeExternalIds(name: string, ids: Record<string, string>): Promise<void> {
    await this.replica.transact((txn) => {
      const b = txn.lookup(this.idx.bridgeByName, name);
      if (!b) throw new SwitchDatabaseError(`bridge ${name} does not exist`, 'NO_BRIDGE');
      txn.setKeys('Bridge', b._uuid, 'external_ids', ids);
    }, { timeoutMs: this.timeoutMs });
  }

  async setControllers(bridge: string, targets: string[], opts: { connectionMode: string; inactivityProbeMs: number }): Promise<void> {
    await this.replica.transact((txn) => {
      const b = txn.lookup(this.idx.bridgeByName, bridge, 'controller');
      if (!b) throw new SwitchDatabaseError(`bridge ${bridge} does not exist`, 'NO_BRIDGE');
      const current = b.controller.map((u) => this.replica.get('Controller', u)).filter((c) => c !== undefined);
      // Validated against the schema's enum when the transaction is encoded.
      const mode = opts.connectionMode as Controller['connection_mode'];
      const same = current.length === targets.length && current.every((c) => targets.includes(c.target));
      if (same) {
        for (const c of current) {
          txn.update('Controller', c._uuid, { connection_mode: mode, inactivity_probe: opts.inactivityProbeMs });
        }
        return;
      }
      const refs = targets.map((target) => txn.insert('Controller', {
        target, connection_mode: mode, inactivity_probe: opts.inactivityProbeMs,
      }));
      txn.update('Bridge', b._uuid, { controller: refs });
    }, { timeoutMs: this.timeoutMs });
  }

  async ensurePort(bridge: string, name: string, spec: PortSpec): Promise<void> {
    await this.replica.transact((txn) => {
      const port = txn.lookup(this.idx.portByName, name);
      if (!port) {
        const b = txn.lookup(this.idx.bridgeByName, bridge);
        if (!b) throw new SwitchDatabaseError(`bridge ${bridge} does not exist`, 'NO_BRIDGE');
        const i = txn.insert('Interface', { name, type: spec.type, options: spec.options ?? {} });
        const p = txn.insert('Port', { name, interfaces: [i], other_config: spec.portOtherConfig ?? {} });
        txn.addToSet('Bridge', b._uuid, 'ports', [p]);
        return;
      }
      const cfg = Object.entries(spec.portOtherConfig ?? {}).filter(([k, v]) => port.other_config.get(k) !== v);
      if (cfg.length) txn.setKeys('Port', port._uuid, 'other_config', Object.fromEntries(cfg));
      const row = this.idx.ifaceByName.get(name);
      if (!row) return;
      if (row.type !== spec.type) txn.update('Interface', row._uuid, { type: spec.type });
      const opts = Object.entries(spec.options ?? {}).filter(([k, v]) => row.options.get(k) !== v);
      if (opts.length) txn.setKeys('Interface', row._uuid, 'options', Object.fromEntries(opts));
    }, { timeoutMs: this.timeoutMs });
  }

  async deletePort(bridge: string, name: string): Promise<void> {
    await this.replica.transact((txn) => {
      const port = txn.lookup(this.idx.portByName, name);
      const b = txn.lookup(this.idx.bridgeByName, bridge);
      if (!port || !b) return;
      txn.removeFromSet('Bridge', b._uuid, 'ports', [port._uuid]);
    }, { timeoutMs: this.timeoutMs });
  }

  /** Removes these ports from the bridge in one transaction; returns how many were there. */
  async deletePorts(bridge: string, names: string[]): Promise<number> {
    const res = await this.replica.transact((txn) => {
      const b = txn.lookup(this.idx.bridgeByName, bridge);
      if (!b) return 0;
      const uuids = names.map((n) => this.idx.portByName.get(n)?._uuid).filter((u): u is string => u !== undefined && b.ports.includes(u));
      txn.removeFromSet('Bridge', b._uuid, 'ports', uuids);
      return uuids.length;
    }, { timeoutMs: this.timeoutMs });
    return res.value;
  }

  async setPortTags(updates: PortTagUpdate[]): Promise<void> {
    if (!updates.length) return;
    await this.replica.transact((txn) => {
      for (const u of updates) {
        const p = this.idx.portByName.get(u.name);
        if (!p) continue; // unplugged meanwhile: nothing to tag
        txn.update('Port', p._uuid, u.clearTrunks ? { tag: u.tag, vlan_mode: [], trunks: [] } : { tag: u.tag });
        if (u.otherConfig) txn.setKeys('Port', p._uuid, 'other_config', u.otherConfig);
      }
    }, { timeoutMs: this.timeoutMs });
  }
}
