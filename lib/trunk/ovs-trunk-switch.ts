/**
 * The trunk extension's reads and writes on OVSDB (docs/trunk.md, "What is
 * written on the switch") over the agent's replica: the trunk bridges'
 * ports, the patch pairs between br-int and a trunk bridge as Neutron's
 * trunk manager makes them (both ends `type=patch` with the other's name as
 * `options:peer`, `external_ids:iface-id` and `attached-mac` on both, the
 * subport's VLAN as the trunk-bridge end's `tag`), each change one
 * optimistic transaction.
 */
import type { Bridge, Interface, OpenVSwitchTables, Port, Replica, RowIndex, TransactionBuilder } from '@ovs-agent/ovsdb';
import type { PatchPair, TrunkBridgePort, TrunkSwitch } from './types.js';

type Tables = Pick<OpenVSwitchTables, 'Open_vSwitch' | 'Bridge' | 'Port' | 'Interface'>;

export class TrunkSwitchError extends Error {
  override readonly name = 'TrunkSwitchError';
  constructor(message: string, readonly code: 'NO_BRIDGE' | 'NO_ROOT_ROW') {
    super(message);
  }
}

export class OvsTrunkSwitch implements TrunkSwitch {
  private readonly ifaceByName: RowIndex<Interface>;
  private readonly portByName: RowIndex<Port>;
  private readonly bridgeByName: RowIndex<Bridge>;

  constructor(private readonly replica: Replica<Tables>, private readonly timeoutMs: number) {
    this.ifaceByName = replica.index('Interface', 'name');
    this.portByName = replica.index('Port', 'name');
    this.bridgeByName = replica.index('Bridge', 'name');
  }

  bridgesNamed(prefix: string): string[] {
    return [...this.replica.table('Bridge').values()].map((b) => b.name).filter((n) => n.startsWith(prefix));
  }

  bridgePorts(bridge: string): TrunkBridgePort[] | undefined {
    const b = this.bridgeByName.get(bridge);
    if (!b) return undefined;
    const out: TrunkBridgePort[] = [];
    for (const pu of b.ports) {
      for (const iu of this.replica.get('Port', pu)?.interfaces ?? []) {
        const i = this.replica.get('Interface', iu);
        if (i) out.push({ name: i.name, type: i.type, externalIds: Object.fromEntries(i.external_ids), peer: i.options.get('peer') });
      }
    }
    return out;
  }

  async plugPairs(brInt: string, trunkBridge: string, pairs: readonly PatchPair[]): Promise<void> {
    if (!pairs.length) return;
    await this.replica.transact((txn) => {
      const bi = txn.lookup(this.bridgeByName, brInt);
      const bt = txn.lookup(this.bridgeByName, trunkBridge);
      if (!bi) throw new TrunkSwitchError(`bridge ${brInt} does not exist`, 'NO_BRIDGE');
      if (!bt) throw new TrunkSwitchError(`trunk bridge ${trunkBridge} does not exist (deleted meanwhile?)`, 'NO_BRIDGE');
      for (const p of pairs) {
        const ids = { 'iface-id': p.portId, 'attached-mac': p.mac };
        this.ensurePatch(txn, bi._uuid, p.intName, p.trunkName, ids, undefined);
        this.ensurePatch(txn, bt._uuid, p.trunkName, p.intName, ids, p.tag);
      }
    }, { timeoutMs: this.timeoutMs });
  }

  private ensurePatch(txn: TransactionBuilder<Tables>, bridge: string, name: string, peer: string, ids: Record<string, string>, tag: number | undefined): void {
    const port = txn.lookup(this.portByName, name);
    const iface = this.ifaceByName.get(name);
    if (!port || !iface) {
      const i = txn.insert('Interface', { name, type: 'patch', options: { peer }, external_ids: ids });
      const p = txn.insert('Port', { name, interfaces: [i], ...(tag !== undefined ? { tag } : {}) });
      txn.addToSet('Bridge', bridge, 'ports', [p]);
      return;
    }
    if (iface.type !== 'patch' || iface.options.get('peer') !== peer) txn.update('Interface', iface._uuid, { type: 'patch', options: { peer } });
    if (Object.entries(ids).some(([k, v]) => iface.external_ids.get(k) !== v)) txn.setKeys('Interface', iface._uuid, 'external_ids', ids);
    if (tag !== undefined && port.tag !== tag) txn.update('Port', port._uuid, { tag });
  }

  async unplug(brInt: string, intNames: readonly string[], trunk?: { bridge: string; names: readonly string[]; deleteBridge?: boolean }): Promise<void> {
    await this.replica.transact((txn) => {
      const remove = (bridge: string, names: readonly string[]): void => {
        const b = txn.lookup(this.bridgeByName, bridge);
        if (!b) return;
        const uuids = names.map((n) => this.portByName.get(n)?._uuid).filter((u): u is string => u !== undefined && b.ports.includes(u));
        if (uuids.length) txn.removeFromSet('Bridge', b._uuid, 'ports', uuids);
      };
      remove(brInt, intNames);
      if (!trunk) return;
      const tb = txn.lookup(this.bridgeByName, trunk.bridge);
      if (trunk.deleteBridge && tb) {
        const root = [...this.replica.table('Open_vSwitch').values()][0];
        if (!root) throw new TrunkSwitchError('the Open_vSwitch table has no row', 'NO_ROOT_ROW');
        txn.removeFromSet('Open_vSwitch', root._uuid, 'bridges', [tb._uuid]);
      } else {
        remove(trunk.bridge, trunk.names);
      }
    }, { timeoutMs: this.timeoutMs });
  }

  async setInterfaceExternalIds(name: string, ids: Record<string, string>): Promise<void> {
    await this.replica.transact((txn) => {
      const i = txn.lookup(this.ifaceByName, name);
      if (i) txn.setKeys('Interface', i._uuid, 'external_ids', ids);
    }, { timeoutMs: this.timeoutMs });
  }

  orphanPatches(brInt: string, prefixes: readonly string[]): string[] {
    return (this.bridgePorts(brInt) ?? [])
      .filter((p) => p.type === 'patch' && prefixes.some((x) => p.name.startsWith(x)) && (p.peer === undefined || !this.ifaceByName.get(p.peer)))
      .map((p) => p.name);
  }
}
