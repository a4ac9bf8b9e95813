/**
 * What an L2 agent asks of the Open_vSwitch database, as ovsdbapp's
 * commands offer it, each one transaction built on the replica: bridges,
 * ports with their interface, controllers, `db_set`-style field updates,
 * ofport reads, and optionally ovs-vsctl's `next_cfg`/`cur_cfg` handshake
 * with ovs-vswitchd.
 *
 * Every command also exists as `...In(txn, ...)`, adding its operations to a
 * transaction the caller builds, so many commands can commit as one
 * (`cmds.batch(txn => { cmds.addPortIn(txn, ...); ... })`).
 *
 * Reads go through verified lookups, so a command that raced with another
 * client (say, two agents adding the same bridge) is rerun on the new state
 * instead of failing: "add" commands have add-if-missing semantics.
 */
import type { Atom, NamedUuid, RowInput, Uuid, ValueInput } from '../datum.js';
import { OvsdbError, OvsdbErrorCode } from '../errors.js';
import type { Bridge, Controller, Interface, OpenVSwitch, OpenVSwitchTables, Port } from '../models/index.js';
import type { Replica, TableSpec } from '../replica/replica.js';
import type { TransactionBuilder } from '../replica/transaction.js';

/** The tables (all columns) the commands need replicated. */
export const VSWITCH_COMMAND_TABLES: { [K in keyof OpenVSwitchTables]?: TableSpec | true } = {
  Open_vSwitch: true,
  Bridge: true,
  Port: true,
  Interface: true,
  Controller: true,
};

/** A string-to-string map column (external_ids, other_config, options), as a Map or a plain object. */
export type StringMap = ReadonlyMap<string, string> | Readonly<Record<string, string>>;
type Txn = TransactionBuilder<OpenVSwitchTables>;

/** An error of a command (e.g. a port already on another bridge); `code` is VALIDATION. */
export class OvsdbCommandError extends OvsdbError {
  override readonly name = 'OvsdbCommandError';
  constructor(message: string) {
    super(OvsdbErrorCode.VALIDATION, message);
  }
}

/** Options every command takes: whether and how long to wait for ovs-vswitchd to apply it. */
export interface CommandOptions {
  /**
   * ovs-vsctl's default: bump `next_cfg` in the same transaction and wait
   * until ovs-vswitchd reports `cur_cfg` caught up (it has applied the
   * change). Default false (ovs-vsctl --no-wait).
   */
  waitForVswitchd?: boolean;
  /** How long to wait for ovs-vswitchd (default 10 s). */
  timeoutMs?: number;
  /** Aborting stops the command: before it is sent nothing is written; in flight the transaction is canceled; the wait for ovs-vswitchd ends (the change may then be in). */
  signal?: AbortSignal;
}

/** The Bridge columns `addBridge` sets (on an existing bridge too, unless `mayExist` is false). */
export interface BridgeOptions {
  datapathType?: string;
  failMode?: 'secure' | 'standalone' | null;
  protocols?: readonly string[];
  otherConfig?: StringMap;
  externalIds?: StringMap;
  /** Default true: an existing bridge gets the given fields instead of an error. */
  mayExist?: boolean;
}

/** The Interface and Port columns `addPort` sets (on an existing port of the same bridge too). */
export interface PortOptions {
  /** Interface type: '' (system), 'internal', 'patch', 'vxlan', ... */
  type?: string;
  /** Interface options (e.g. `{peer: 'patch-int'}`, `{remote_ip: ...}`). */
  options?: StringMap;
  /** Interface external_ids (Neutron: iface-id, attached-mac, iface-status, vm-uuid). */
  externalIds?: StringMap;
  /** Interface other_config. */
  otherConfig?: StringMap;
  ofportRequest?: number;
  mtuRequest?: number;
  /** Port VLAN tag (access port); null clears it. */
  tag?: number | null;
  trunks?: readonly number[];
  vlanMode?: 'access' | 'dot1q-tunnel' | 'native-tagged' | 'native-untagged' | 'trunk' | null;
  portExternalIds?: StringMap;
  portOtherConfig?: StringMap;
  /** Default true: an existing port on the same bridge gets the given fields instead of an error. */
  mayExist?: boolean;
}

/** One Controller row of a bridge, as `setControllers` writes it. */
export interface ControllerSpec {
  /** e.g. `tcp:127.0.0.1:6633`, `unix:/path`. */
  target: string;
  connectionMode?: 'in-band' | 'out-of-band';
  /** Milliseconds. */
  inactivityProbe?: number;
  maxBackoff?: number;
  otherConfig?: StringMap;
}

function toMap(m: StringMap | undefined): Map<string, string> | undefined {
  if (m === undefined) return undefined;
  return m instanceof Map ? new Map(m) : new Map(Object.entries(m));
}

function defined<O extends Record<string, unknown>>(o: O): RowInput {
  const out: Record<string, ValueInput> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v as ValueInput;
  return out;
}

function isMapValue(v: unknown): boolean {
  return v instanceof Map || (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Set) && !('namedUuid' in (v as object)));
}

/**
 * ovsdbapp-like commands on the Open_vSwitch database, each one transaction on a replica;
 * `openVswitch(remote)` makes one. Reads are verified, so a command racing another client is rerun,
 * not failed.
 */
export class VswitchCommands {
  readonly replica: Replica<OpenVSwitchTables>;

  constructor(replica: Replica<OpenVSwitchTables>) {
    this.replica = replica;
    for (const t of Object.keys(VSWITCH_COMMAND_TABLES) as (keyof OpenVSwitchTables)[]) {
      // Fail early, with a clear message, if the replica lacks what the commands read.
      replica.table(t);
    }
  }

  private get bridgesByName() {
    return this.replica.index('Bridge', 'name');
  }

  private get portsByName() {
    return this.replica.index('Port', 'name');
  }

  private get ifacesByName() {
    return this.replica.index('Interface', 'name');
  }

  private get bridgesByPort() {
    return this.replica.index('Bridge', 'ports');
  }

  private root(txn: Txn): OpenVSwitch {
    for (const r of this.replica.table('Open_vSwitch').values()) return r;
    // Verify the absence, so a concurrent `ovs-vsctl init` reruns us rather than failing later.
    txn.verifyAll('Open_vSwitch', []);
    throw new OvsdbCommandError('the Open_vSwitch table has no row (run ovs-vsctl init)');
  }

  /**
   * Runs several commands' `...In` variants as one transaction (rerun as a
   * whole on conflict), then waits for ovs-vswitchd if asked.
   */
  async batch<V>(build: (txn: Txn) => V, opts: CommandOptions = {}): Promise<V> {
    let cfg: ReturnType<Txn['select']> | undefined;
    const res = await this.replica.transact((txn) => {
      const v = build(txn);
      if (opts.waitForVswitchd && txn.ops.length) {
        const root = this.root(txn);
        txn.mutate('Open_vSwitch', root._uuid, [['next_cfg', '+=', 1]]);
        cfg = txn.select('Open_vSwitch', [['_uuid', '==', root._uuid]], ['next_cfg']);
      }
      return v;
    }, { signal: opts.signal });
    if (cfg) {
      const next = res.rows(cfg)[0]?.next_cfg as number;
      await this.replica.waitFor(
        () => {
          for (const r of this.replica.table('Open_vSwitch').values()) if (r.cur_cfg >= next || r.cur_cfg < 0) return true;
          return undefined;
        },
        { timeoutMs: opts.timeoutMs ?? 10_000, what: `ovs-vswitchd to reach cur_cfg ${next}`, signal: opts.signal },
      );
    }
    return res.value;
  }

  // ------------------------------------------------------------ bridges

  /** ovs-vsctl add-br (with its internal port), add-if-missing. */
  async addBridge(name: string, opts: BridgeOptions & CommandOptions = {}): Promise<void> {
    await this.batch((txn) => this.addBridgeIn(txn, name, opts), opts);
  }

  /**
   * `addBridge` as part of the transaction `txn` (several commands, one transaction: `batch`);
   * returns the bridge's uuid or named uuid.
   */
  addBridgeIn(txn: Txn, name: string, opts: BridgeOptions = {}): Uuid | NamedUuid {
    const existing = txn.lookup(this.bridgesByName, name, 'name');
    const fields = defined({
      datapath_type: opts.datapathType,
      fail_mode: opts.failMode,
      protocols: opts.protocols,
    });
    if (existing) {
      if (opts.mayExist === false) throw new OvsdbCommandError(`bridge ${name} already exists`);
      txn.update('Bridge', existing._uuid, fields);
      if (opts.otherConfig) txn.setKeys('Bridge', existing._uuid, 'other_config', toMap(opts.otherConfig)!);
      if (opts.externalIds) txn.setKeys('Bridge', existing._uuid, 'external_ids', toMap(opts.externalIds)!);
      return existing._uuid;
    }
    const root = this.root(txn);
    const iface = txn.insert('Interface', { name, type: 'internal' });
    const port = txn.insert('Port', { name, interfaces: [iface] });
    const br = txn.insert('Bridge', {
      ...fields,
      name,
      ports: [port],
      other_config: toMap(opts.otherConfig),
      external_ids: toMap(opts.externalIds),
    });
    txn.addToSet('Open_vSwitch', root._uuid, 'bridges', [br]);
    return br;
  }

  /** ovs-vsctl del-br: the bridge, its ports and interfaces go (garbage-collected once unreferenced). */
  async deleteBridge(name: string, opts: { ifExists?: boolean } & CommandOptions = {}): Promise<void> {
    await this.batch((txn) => this.deleteBridgeIn(txn, name, opts), opts);
  }

  /** `deleteBridge` as part of the transaction `txn`. */
  deleteBridgeIn(txn: Txn, name: string, opts: { ifExists?: boolean } = {}): void {
    const br = txn.lookup(this.bridgesByName, name, 'name');
    if (!br) {
      if (opts.ifExists === false) throw new OvsdbCommandError(`no bridge named ${name}`);
      return;
    }
    const root = this.root(txn);
    txn.removeFromSet('Open_vSwitch', root._uuid, 'bridges', [br._uuid]);
    txn.delete('Bridge', br._uuid);
  }

  /** Names of a bridge's ports, sorted, without the bridge's own internal port (as ovs-vsctl list-ports). */
  listPorts(bridge: string): string[] {
    const br = this.bridgesByName.get(bridge);
    if (!br) throw new OvsdbCommandError(`no bridge named ${bridge}`);
    const ports = this.replica.table('Port');
    const out: string[] = [];
    for (const u of br.ports) {
      const p = ports.get(u);
      if (p && p.name !== bridge) out.push(p.name);
    }
    return out.sort();
  }

  /** Names of all bridges, sorted. */
  listBridges(): string[] {
    return [...this.replica.table('Bridge').values()].map((b) => b.name).sort();
  }

  // ------------------------------------------------------------ ports

  /** ovs-vsctl add-port with its interface, may-exist by default. */
  async addPort(bridge: string, name: string, opts: PortOptions & CommandOptions = {}): Promise<void> {
    await this.batch((txn) => this.addPortIn(txn, bridge, name, opts), opts);
  }

  /** `addPort` as part of the transaction `txn`. */
  addPortIn(txn: Txn, bridge: string, name: string, opts: PortOptions = {}): void {
    const br = txn.lookup(this.bridgesByName, bridge, 'name');
    if (!br) throw new OvsdbCommandError(`cannot add port ${name}: no bridge named ${bridge}`);
    const ifaceFields = defined({
      type: opts.type,
      ofport_request: opts.ofportRequest,
      mtu_request: opts.mtuRequest,
    });
    const portFields = defined({ tag: opts.tag, trunks: opts.trunks, vlan_mode: opts.vlanMode });
    const existing = txn.lookup(this.portsByName, name, 'name', 'interfaces');
    if (existing) {
      if (opts.mayExist === false) throw new OvsdbCommandError(`port ${name} already exists`);
      const owner = txn.lookup(this.bridgesByPort, existing._uuid, 'name');
      if (owner && owner._uuid !== br._uuid) throw new OvsdbCommandError(`port ${name} already exists on bridge ${owner.name}, not ${bridge}`);
      if (!owner) txn.addToSet('Bridge', br._uuid, 'ports', [existing._uuid]);
      txn.update('Port', existing._uuid, portFields);
      if (opts.portExternalIds) txn.setKeys('Port', existing._uuid, 'external_ids', toMap(opts.portExternalIds)!);
      if (opts.portOtherConfig) txn.setKeys('Port', existing._uuid, 'other_config', toMap(opts.portOtherConfig)!);
      for (const iu of existing.interfaces) {
        txn.update('Interface', iu, ifaceFields);
        if (opts.options) txn.setKeys('Interface', iu, 'options', toMap(opts.options)!);
        if (opts.externalIds) txn.setKeys('Interface', iu, 'external_ids', toMap(opts.externalIds)!);
        if (opts.otherConfig) txn.setKeys('Interface', iu, 'other_config', toMap(opts.otherConfig)!);
      }
      return;
    }
    // Interface names are unique too: one held by another port's interface would fail the commit.
    if (txn.lookup(this.ifacesByName, name, 'name')) throw new OvsdbCommandError(`interface ${name} already exists on another port`);
    const iface = txn.insert('Interface', {
      ...ifaceFields,
      name,
      options: toMap(opts.options),
      external_ids: toMap(opts.externalIds),
      other_config: toMap(opts.otherConfig),
    });
    const port = txn.insert('Port', {
      ...portFields,
      name,
      interfaces: [iface],
      external_ids: toMap(opts.portExternalIds),
      other_config: toMap(opts.portOtherConfig),
    });
    txn.addToSet('Bridge', br._uuid, 'ports', [port]);
  }

  /** ovs-vsctl del-port: removes the port from its bridge (the port and its interfaces are garbage-collected). */
  async deletePort(name: string, opts: { bridge?: string; ifExists?: boolean } & CommandOptions = {}): Promise<void> {
    await this.batch((txn) => this.deletePortIn(txn, name, opts), opts);
  }

  /** `deletePort` as part of the transaction `txn`. */
  deletePortIn(txn: Txn, name: string, opts: { bridge?: string; ifExists?: boolean } = {}): void {
    const port = txn.lookup(this.portsByName, name, 'name');
    if (!port) {
      if (opts.ifExists === false) throw new OvsdbCommandError(`no port named ${name}`);
      return;
    }
    const owners = this.bridgesByPort.getAll(port._uuid);
    if (opts.bridge !== undefined && !owners.some((b) => b.name === opts.bridge)) {
      throw new OvsdbCommandError(`port ${name} is not on bridge ${opts.bridge}`);
    }
    for (const b of owners) {
      txn.verify('Bridge', b._uuid, 'ports');
      txn.removeFromSet('Bridge', b._uuid, 'ports', [port._uuid]);
    }
    txn.delete('Port', port._uuid);
  }

  // ------------------------------------------------------------ controllers

  /**
   * ovs-vsctl set-controller: the bridge's controllers become exactly these
   * (old Controller rows are garbage-collected). A no-op when the bridge
   * already has exactly these targets with these options, so an agent can
   * call it on every start without making the switch reconnect.
   */
  async setControllers(bridge: string, controllers: readonly (ControllerSpec | string)[], opts: CommandOptions = {}): Promise<void> {
    await this.batch((txn) => this.setControllersIn(txn, bridge, controllers), opts);
  }

  /** `setControllers` as part of the transaction `txn`. */
  setControllersIn(txn: Txn, bridge: string, controllers: readonly (ControllerSpec | string)[]): void {
    const br = txn.lookup(this.bridgesByName, bridge, 'name', 'controller');
    if (!br) throw new OvsdbCommandError(`cannot set controllers: no bridge named ${bridge}`);
    const specs = controllers.map((c) => (typeof c === 'string' ? { target: c } : c));
    const rows = specs.map((s) =>
      defined({
        target: s.target,
        connection_mode: s.connectionMode,
        inactivity_probe: s.inactivityProbe,
        max_backoff: s.maxBackoff,
        other_config: toMap(s.otherConfig),
      }),
    );
    const current = br.controller.map((u) => this.replica.get('Controller', u)).filter((c): c is Controller => c !== undefined);
    if (current.length === rows.length && current.length === br.controller.length && rows.every((r, i) => controllerMatches(current[i], r))) return;
    const refs = rows.map((r) => txn.insert('Controller', r));
    txn.update('Bridge', br._uuid, { controller: refs });
  }

  /** ovs-vsctl del-controller. */
  async deleteControllers(bridge: string, opts: CommandOptions = {}): Promise<void> {
    await this.setControllers(bridge, [], opts);
  }

  // ------------------------------------------------------------ db_set

  /**
   * ovsdbapp's db_set on a Bridge/Port/Interface found by name: map columns
   * are merged (given keys set, others kept), other columns replaced.
   */
  async set(table: 'Bridge' | 'Port' | 'Interface', name: string, fields: RowInput, opts: CommandOptions = {}): Promise<void> {
    await this.batch((txn) => this.setIn(txn, table, name, fields), opts);
  }

  /** `set` as part of the transaction `txn`. */
  setIn(txn: Txn, table: 'Bridge' | 'Port' | 'Interface', name: string, fields: RowInput): void {
    const row = txn.lookup(this.replica.index(table, 'name'), name, 'name');
    if (!row) throw new OvsdbCommandError(`no ${table} named ${name}`);
    const schema = this.replica.schema.tables.get(table)!;
    const whole: Record<string, ValueInput> = {};
    for (const [col, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      if (schema.columns.get(col)?.type.value !== undefined && isMapValue(v)) {
        // The column is the caller's (a string): the untyped builder, checked against the schema at run time.
        (txn as unknown as TransactionBuilder).setKeys(table, row._uuid, col, (v instanceof Map ? v : new Map(Object.entries(v as object))) as Map<Atom, Atom>);
      } else whole[col] = v;
    }
    txn.update(table, row._uuid, whole);
  }

  /** Removes keys of a map column of a Bridge/Port/Interface found by name (ovsdbapp db_remove). */
  async removeKeys(table: 'Bridge' | 'Port' | 'Interface', name: string, column: string, keys: readonly string[], opts: CommandOptions = {}): Promise<void> {
    await this.batch((txn) => {
      const row = txn.lookup(this.replica.index(table, 'name'), name, 'name');
      if (!row) throw new OvsdbCommandError(`no ${table} named ${name}`);
      (txn as unknown as TransactionBuilder).deleteKeys(table, row._uuid, column, keys);
    }, opts);
  }

  // ------------------------------------------------------------ reads

  /** The replica's Bridge row named `name`, if any. */
  bridge(name: string): Bridge | undefined {
    return this.bridgesByName.get(name);
  }

  /** The replica's Port row named `name`, if any. */
  port(name: string): Port | undefined {
    return this.portsByName.get(name);
  }

  /** The replica's Interface row named `name`, if any. */
  iface(name: string): Interface | undefined {
    return this.ifacesByName.get(name);
  }

  /** The interface whose external_ids:iface-id is `id` (Neutron's port id). */
  ifaceById(ifaceId: string): Interface | undefined {
    return this.replica.index('Interface', 'external_ids', 'iface-id').get(ifaceId);
  }

  /**
   * An interface's OpenFlow port number, waiting until ovs-vswitchd has
   * assigned it (ofport > 0). Rejects after `timeoutMs` (default 10 s) with
   * the interface's `error` column in the message when it has one; aborting
   * `signal` ends the wait with its reason.
   */
  async ofport(name: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    try {
      return await this.replica.waitFor(
        () => {
          const i = this.ifacesByName.get(name);
          return i && typeof i.ofport === 'number' && i.ofport > 0 ? i.ofport : undefined;
        },
        { timeoutMs: opts.timeoutMs ?? 10_000, what: `an ofport for interface ${name}`, signal: opts.signal },
      );
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const i = this.ifacesByName.get(name);
      if (i?.error) throw new OvsdbCommandError(`interface ${name} got no ofport (ofport ${i.ofport}): ${i.error}`);
      throw err;
    }
  }
}

function controllerMatches(c: Controller, want: RowInput): boolean {
  if (c.target !== want.target) return false;
  if ((want.connection_mode ?? null) !== c.connection_mode) return false;
  if ((want.inactivity_probe ?? null) !== c.inactivity_probe) return false;
  if ((want.max_backoff ?? null) !== c.max_backoff) return false;
  const oc = (want.other_config as Map<string, string> | undefined) ?? new Map<string, string>();
  if (oc.size !== c.other_config.size) return false;
  for (const [k, v] of oc) if (c.other_config.get(k) !== v) return false;
  return true;
}
