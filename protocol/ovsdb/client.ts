/**
 * `OvsdbClient`: every RFC 7047 method and the OVS extensions over one
 * JSON-RPC session.
 *
 * One client is one connection: when it drops, the client emits
 * `disconnected` once, every request in flight rejects, and the client is
 * done. Reconnecting is the owner's choice (see {@link connectWithBackoff}):
 * the replica reconnects and resumes its monitor with `monitor_cond_since`.
 */
import { EventEmitter } from 'node:events';
import { abortable, sleep } from './abort.js';
import {
  applyServerUpdate,
  CLUSTER_MONITOR_ID,
  memberProblem,
  SERVER_DATABASE,
  SERVER_DATABASE_COLUMNS,
  type ServerDatabaseState,
} from './cluster.js';
import { OvsdbConnectionError, OvsdbError, OvsdbErrorCode, OvsdbProtocolError, preview } from './errors.js';
import { JsonRpcSession, type SessionOptions } from './jsonrpc.js';
import {
  checkTransactResult,
  decodeResults,
  encodeOperations,
  type Operation,
  type TransactionResults,
  type WireOperation,
} from './operations.js';
import { parseSchema, type DatabaseSchema } from './schema.js';
import { openSocket, sessionErrorMapper, splitRemotes, type ConnectOptions } from './transport.js';
import {
  checkTableUpdates,
  checkTableUpdates2,
  encodeMonitorCondChanges,
  encodeMonitorRequests,
  type MonitorCondChange,
  type MonitorCondRequest,
  type MonitorRequest,
  type TableUpdates,
  type TableUpdates2,
} from './updates.js';

/** Any JSON value the caller picks to name a monitor. */
export type MonitorId = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown };

/**
 * Options of `OvsdbClient.connect`: the transport's (TLS files, connect timeout, AbortSignal), the
 * session's (inactivity probe, request timeout, message size), and what makes a member of a
 * clustered database usable.
 */
export interface ClientOptions extends ConnectOptions, SessionOptions {
  /**
   * The database this client is for. Given with a remote list or `leaderOnly`, the client reads
   * that database's state in `_Server` on connecting, skips a member cut off from its cluster (or,
   * with `leaderOnly`, not its leader), and keeps watching: a member that becomes unusable is left
   * (the client closes with `CLUSTER_MEMBER`; reconnect, or let a `Replica` do it).
   */
  database?: string;
  /** Use only the leader of a clustered `database` (the OVS IDL's `leader_only`); needs `database`. */
  leaderOnly?: boolean;
  /**
   * Skip a member of a clustered `database` whose log ends below this index (its `_Server` `index`):
   * pass the highest {@link ServerDatabaseState.index} seen on earlier connections so that a
   * reconnection never lands on a follower older than what was already read (the OVS IDL's
   * `min_index`; a `Replica` does this itself). Needs `database`.
   */
  minIndex?: number;
}

/** Options of a call: an AbortSignal (the call rejects with its reason) and a timeout. */
export interface CallOptions {
  /** Aborting rejects the call with the signal's reason; a reply that comes later is dropped. */
  signal?: AbortSignal;
  /** Overrides the client's request timeout for this call. */
  timeoutMs?: number;
}

/** Options of one `transact`: an AbortSignal (sends `cancel`) and a timeout. */
export interface TransactOptions {
  /**
   * Aborting sends `cancel` (RFC 7047 §4.1.4: the server drops the transaction, unless it already
   * committed) and rejects at once with the signal's reason.
   */
  signal?: AbortSignal;
  /** Overrides the client's request timeout for this call. */
  timeoutMs?: number;
}

/**
 * The answer to `monitorCondSince`: whether the server could resume from `lastTxnId`, its latest
 * transaction id, and the updates.
 */
export interface MonitorCondSinceResult {
  /** True when the server still had `lastTxnId` and `updates` holds only what changed since. */
  readonly found: boolean;
  /** The id of the last transaction the updates include; keep it for the next resume. */
  readonly lastTxnId: string;
  readonly updates: TableUpdates2;
}

/** Events; updates are wire-shaped (checked) and carry the monitor id and its database. */
export interface OvsdbClientEvents {
  update: [monitorId: MonitorId, updates: TableUpdates, db: string];
  update2: [monitorId: MonitorId, updates: TableUpdates2, db: string];
  update3: [monitorId: MonitorId, lastTxnId: string, updates: TableUpdates2, db: string];
  /** The server canceled a monitor (its database was removed or converted). */
  monitorCanceled: [monitorId: MonitorId, db: string | undefined];
  /** A lock requested with `lock` was granted later. */
  locked: [lock: string];
  /** Another client stole a lock we held. */
  stolen: [lock: string];
  /** `_Server`'s row for the client's database changed (only with `database` and a remote list or `leaderOnly`). */
  serverState: [state: ServerDatabaseState | undefined];
  /** Any other notification from the server. */
  notification: [method: string, params: unknown[]];
  /** A non-fatal violation by the server (reply to an unknown id, ill-shaped update); the connection stays up. */
  protocolError: [err: OvsdbProtocolError];
  /** One of our listeners for update/update2/update3/locked/stolen/notification threw; the session goes on. */
  listenerError: [err: unknown];
  /** The connection ended; `err.code` says why (DISCONNECTED, CLOSED, INACTIVITY, PROTOCOL). Emitted once. */
  disconnected: [err: OvsdbError];
}

interface MonitorEntry {
  db: string;
}

function monitorKey(id: unknown): string {
  return JSON.stringify(id);
}

/**
 * One JSON-RPC session with an ovsdb-server: every RFC 7047 method and the Open vSwitch extensions,
 * operations checked against the schema, typed errors. `OvsdbClient.connect(remote)` makes one.
 */
export class OvsdbClient extends EventEmitter<OvsdbClientEvents> {
  /** The member this client is connected to (one `unix:`/`tcp:`/`ssl:` remote). */
  readonly remote: string;
  /** Every member of the remote list it was given (one element for a single remote). */
  readonly remotes: readonly string[];
  private clusterWatch: { db: string; leaderOnly: boolean; state: ServerDatabaseState | undefined; held: TableUpdates[] | undefined } | undefined;
  private readonly session: JsonRpcSession;
  private readonly schemas = new Map<string, DatabaseSchema>();
  private readonly schemaRequests = new Map<string, Promise<DatabaseSchema>>();
  private readonly monitors = new Map<string, MonitorEntry>();
  private disconnectError: OvsdbError | undefined;
  private readonly onClosed: (err: OvsdbError) => void;
  /** Resolves when the connection ends, with the reason. */
  readonly closed: Promise<OvsdbError>;

  private constructor(remote: string, remotes: readonly string[], session: (c: OvsdbClient) => JsonRpcSession) {
    super();
    this.remote = remote;
    this.remotes = remotes;
    let onClosed!: (err: OvsdbError) => void;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.onClosed = (err) => {
      this.disconnectError = err;
      onClosed(err);
      this.safeEmit('disconnected', err);
    };
    this.session = session(this);
  }

  /**
   * Connects to `unix:PATH`, `tcp:HOST:PORT` or `ssl:HOST:PORT`, or to the first usable member of a
   * list of them (`unix:A,tcp:B:6641,...`, the members of a cluster, tried in order). Rejects with
   * `CONNECT_FAILED`, `TLS`, `BAD_REMOTE`, `CLUSTER_MEMBER` (no member usable: see
   * {@link ClientOptions.leaderOnly}), or the signal's reason when `options.signal` aborts.
   */
  static async connect(remote: string, options: ClientOptions = {}): Promise<OvsdbClient> {
    const members = splitRemotes(remote);
    if ((options.leaderOnly || options.minIndex !== undefined) && options.database === undefined) {
      const what = options.leaderOnly ? 'leaderOnly needs the database whose leader to find' : 'minIndex needs the database whose log index to check';
      throw new OvsdbConnectionError(OvsdbErrorCode.BAD_REMOTE, `${what} (options.database) for ${remote}`, remote);
    }
    const watch = options.database !== undefined && (options.leaderOnly === true || options.minIndex !== undefined || members.length > 1);
    const failures: OvsdbError[] = [];
    for (const member of members) {
      options.signal?.throwIfAborted();
      let client: OvsdbClient;
      try {
        client = await OvsdbClient.connectMember(member, members, options);
      } catch (err) {
        if (members.length === 1 || !isRetriable(err)) throw err;
        failures.push(err);
        continue;
      }
      if (!watch) return client;
      try {
        const problem = await client.watchCluster(options.database!, options.leaderOnly === true, options.minIndex ?? 0, options.signal);
        if (problem === undefined) return client;
        failures.push(new OvsdbConnectionError(OvsdbErrorCode.CLUSTER_MEMBER, `${member} ${problem}`, member));
      } catch (err) {
        if (!isRetriable(err)) {
          await client.close();
          throw err;
        }
        failures.push(err);
      }
      await client.close();
    }
    if (failures.length === 1) throw failures[0];
    const code = failures.some((f) => f.code === OvsdbErrorCode.CLUSTER_MEMBER) ? OvsdbErrorCode.CLUSTER_MEMBER : OvsdbErrorCode.CONNECT_FAILED;
    throw new OvsdbConnectionError(code, `no usable OVSDB member in ${remote}: ${failures.map((f) => f.message).join('; ')}`, remote);
  }

  private static async connectMember(remote: string, remotes: readonly string[], options: ClientOptions): Promise<OvsdbClient> {
    const socket = await openSocket(remote, options);
    return new OvsdbClient(
      remote,
      remotes,
      (client) =>
        new JsonRpcSession(
          socket,
          remote,
          {
            notification: (method, params) => client.dispatch(method, params),
            protocolError: (err) => client.safeEmit('protocolError', err),
            closed: (err) => client.onClosed(err),
          },
          options,
          sessionErrorMapper(remote, options),
        ),
    );
  }

  /**
   * The client's database as its member reported it last in `_Server` (with `database` and a
   * remote list or `leaderOnly`; undefined otherwise).
   */
  get serverState(): ServerDatabaseState | undefined {
    return this.clusterWatch?.state;
  }

  /** True until the connection ends. */
  get isConnected(): boolean {
    return this.disconnectError === undefined && this.session.isOpen;
  }

  /** Requests awaiting a reply. */
  get inFlight(): number {
    return this.session.inFlight;
  }

  /** Closes the connection; requests in flight reject with `CLOSED`. */
  close(): Promise<void> {
    this.session.close();
    return this.closed.then(() => undefined);
  }

  /** A raw JSON-RPC call, for methods this client does not wrap. */
  call(method: string, params: unknown[], options: CallOptions = {}): Promise<unknown> {
    return this.session.request(method, params, options);
  }

  /**
   * Reads `_Server`'s row for `db` and monitors it; returns why this member must not be used, or
   * undefined. Updates that arrive before the initial state is applied are held, then applied in order.
   */
  private async watchCluster(db: string, leaderOnly: boolean, minIndex: number, signal: AbortSignal | undefined): Promise<string | undefined> {
    const schema = await this.getSchema(SERVER_DATABASE, { signal });
    const table = schema.tables.get('Database');
    const columns = SERVER_DATABASE_COLUMNS.filter((c) => table?.columns.has(c));
    this.clusterWatch = { db, leaderOnly, state: undefined, held: [] };
    const initial = await this.monitor(SERVER_DATABASE, CLUSTER_MONITOR_ID, { Database: { columns } }, { signal });
    const watch = this.clusterWatch;
    watch.state = applyServerUpdate(schema, initial, db) ?? undefined;
    const held = watch.held ?? [];
    watch.held = undefined;
    for (const u of held) this.onServerUpdate(u);
    // minIndex is for choosing a member: once chosen, its index only grows.
    return memberProblem(watch.state, db, leaderOnly, minIndex);
  }

  private onServerUpdate(updates: TableUpdates): void {
    const watch = this.clusterWatch;
    if (!watch) return;
    if (watch.held) {
      watch.held.push(updates);
      return;
    }
    const next = applyServerUpdate(this.schemas.get(SERVER_DATABASE)!, updates, watch.db);
    if (next === undefined) return;
    watch.state = next ?? undefined;
    this.safeEmit('serverState', watch.state);
    const problem = memberProblem(watch.state, watch.db, watch.leaderOnly);
    if (problem !== undefined) {
      // What the OVS IDL does too: leave the member and let the owner reconnect to a usable one.
      this.session.close(new OvsdbConnectionError(OvsdbErrorCode.CLUSTER_MEMBER, `${this.remote} ${problem}: connection closed`, this.remote));
    }
  }

  // ------------------------------------------------------------ RFC 7047 §4.1

  /** `list_dbs`: the databases the server serves. */
  async listDbs(options: CallOptions = {}): Promise<string[]> {
    const r = await this.call('list_dbs', [], options);
    if (!Array.isArray(r) || !r.every((d) => typeof d === 'string')) throw this.bad(`list_dbs result is not an array of strings: ${preview(r)}`);
    return r;
  }

  /**
   * `get_schema`, parsed; cached per database until `refresh`. Unknown database → code
   * `UNKNOWN_DATABASE`. An aborted `signal` rejects this call only: the request goes on for the others
   * waiting on it.
   */
  getSchema(db: string, options: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<DatabaseSchema> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (!options.refresh) {
      const cached = this.schemas.get(db);
      if (cached) return Promise.resolve(cached);
      const inflight = this.schemaRequests.get(db);
      if (inflight) return abortable(inflight, options.signal);
    }
    const p = this.call('get_schema', [db]).then(
      (json) => {
        this.schemaRequests.delete(db);
        const schema = parseSchema(json);
        this.schemas.set(db, schema);
        return schema;
      },
      (err) => {
        this.schemaRequests.delete(db);
        throw err;
      },
    );
    this.schemaRequests.set(db, p);
    return abortable(p, options.signal);
  }

  /** The cached schema of a database, if `getSchema` ran. */
  schema(db: string): DatabaseSchema | undefined {
    return this.schemas.get(db);
  }

  /** Uses a known schema for `db` instead of fetching it (e.g. a checked-in model's). */
  useSchema(db: string, schema: DatabaseSchema): void {
    this.schemas.set(db, schema);
  }

  /**
   * `transact`: validates and encodes the operations against the database's
   * schema, sends them, and returns one typed result per operation. A failed
   * operation, or the commit, rejects with `OvsdbTransactionError` (its index).
   */
  async transact<const T extends readonly Operation[]>(db: string, ops: T, options: TransactOptions = {}): Promise<TransactionResults<T>> {
    const schema = await this.getSchema(db, { signal: options.signal });
    const wire = encodeOperations(schema, ops);
    const raw = await this.transactWire(db, wire, options);
    return decodeResults(schema, ops, raw) as TransactionResults<T>;
  }

  /**
   * `transact` with operations already in wire form (no schema validation);
   * resolves with the raw results, rejects on the first error like `transact`.
   */
  async transactWire(db: string, ops: readonly WireOperation[], options: TransactOptions = {}): Promise<unknown[]> {
    const raw = await this.session.request('transact', [db, ...ops], {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      // RFC 7047 §4.1.4: cancel is a notification naming the transact's id; the server answers the transact with "canceled".
      onAbort: (id) => this.session.notify('cancel', [id]),
    });
    return checkTransactResult(raw, ops);
  }

  /** `monitor` (RFC 7047 §4.1.5): returns the initial contents; later changes arrive as `update` events. */
  async monitor(db: string, monitorId: MonitorId, requests: Record<string, MonitorRequest | readonly MonitorRequest[]>, options: CallOptions = {}): Promise<TableUpdates> {
    const schema = await this.getSchema(db, options);
    const params = encodeMonitorRequests(schema, requests, false);
    const r = await this.startMonitor('monitor', [db, monitorId, params], monitorId, db, options);
    return checkTableUpdates(schema, r);
  }

  /**
   * Sends a monitor request under a reserved id. If the caller aborts, the server may still create
   * the monitor: the id stays reserved (its updates are not taken for a protocol error) and a
   * `monitor_cancel` follows, which the server handles after the request.
   */
  private async startMonitor(method: string, params: unknown[], monitorId: MonitorId, db: string, options: CallOptions): Promise<unknown> {
    const key = this.reserveMonitor(monitorId, db);
    try {
      return await this.call(method, params, options);
    } catch (err) {
      if (options.signal?.aborted && this.isConnected) {
        this.call('monitor_cancel', [monitorId]).then(
          () => this.monitors.delete(key),
          () => this.monitors.delete(key),
        );
      } else {
        this.monitors.delete(key);
      }
      throw err;
    }
  }

  /** `monitor_cond` (OVS): like monitor with conditions; changes arrive as `update2` events. */
  async monitorCond(
    db: string,
    monitorId: MonitorId,
    requests: Record<string, MonitorCondRequest | readonly MonitorCondRequest[]>,
    options: CallOptions = {},
  ): Promise<TableUpdates2> {
    const schema = await this.getSchema(db, options);
    const params = encodeMonitorRequests(schema, requests, true);
    const r = await this.startMonitor('monitor_cond', [db, monitorId, params], monitorId, db, options);
    return checkTableUpdates2(schema, r);
  }

  /**
   * `monitor_cond_since` (OVS): resumes from `lastTxnId` (or starts fresh when
   * omitted); changes arrive as `update3` events carrying the new last txn id.
   */
  async monitorCondSince(
    db: string,
    monitorId: MonitorId,
    requests: Record<string, MonitorCondRequest | readonly MonitorCondRequest[]>,
    lastTxnId?: string,
    options: CallOptions = {},
  ): Promise<MonitorCondSinceResult> {
    const schema = await this.getSchema(db, options);
    const params = encodeMonitorRequests(schema, requests, true);
    const r = await this.startMonitor('monitor_cond_since', [db, monitorId, params, lastTxnId ?? ZERO_UUID], monitorId, db, options);
    if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'boolean' || typeof r[1] !== 'string') {
      this.monitors.delete(monitorKey(monitorId));
      throw this.bad(`monitor_cond_since result is not [found, last-txn-id, updates]: ${preview(r)}`);
    }
    return { found: r[0], lastTxnId: r[1], updates: checkTableUpdates2(schema, r[2]) };
  }

  /**
   * `monitor_cond_change` (OVS): changes the columns/conditions of a
   * `monitor_cond`/`monitor_cond_since` monitor, optionally renaming it;
   * the resulting changes arrive as update2/update3 events under the new id.
   */
  async monitorCondChange(
    monitorId: MonitorId,
    changes: Record<string, MonitorCondChange | readonly MonitorCondChange[]>,
    newMonitorId: MonitorId = monitorId,
    options: CallOptions = {},
  ): Promise<void> {
    const entry = this.monitors.get(monitorKey(monitorId));
    if (!entry) throw new OvsdbProtocolError(`monitor_cond_change: no monitor ${preview(monitorId)} on this connection`);
    const schema = await this.getSchema(entry.db, options);
    const params = encodeMonitorCondChanges(schema, changes);
    const renamed = monitorKey(newMonitorId) !== monitorKey(monitorId);
    // Reserved before sending: the server's first update under the new id may come before its reply.
    if (renamed) this.reserveMonitor(newMonitorId, entry.db);
    try {
      await this.call('monitor_cond_change', [monitorId, newMonitorId, params], options);
    } catch (err) {
      if (renamed) this.monitors.delete(monitorKey(newMonitorId));
      throw err;
    }
    if (renamed) this.monitors.delete(monitorKey(monitorId));
  }

  /** `monitor_cancel`. */
  async monitorCancel(monitorId: MonitorId, options: CallOptions = {}): Promise<void> {
    await this.call('monitor_cancel', [monitorId], options);
    this.monitors.delete(monitorKey(monitorId));
  }

  /** `lock`: true if granted now; otherwise a `locked` event follows when it is. */
  async lock(name: string, options: CallOptions = {}): Promise<boolean> {
    const r = (await this.call('lock', [name], options)) as { locked?: unknown } | null;
    if (!r || typeof r.locked !== 'boolean') throw this.bad(`lock result has no "locked": ${preview(r)}`);
    return r.locked;
  }

  /** `steal`: takes the lock now; its former owner gets `stolen`. */
  async steal(name: string, options: CallOptions = {}): Promise<void> {
    const r = (await this.call('steal', [name], options)) as { locked?: unknown } | null;
    if (!r || r.locked !== true) throw this.bad(`steal result is not {"locked": true}: ${preview(r)}`);
  }

  /** `unlock`: releases (or stops waiting for) a lock. */
  async unlock(name: string, options: CallOptions = {}): Promise<void> {
    await this.call('unlock', [name], options);
  }

  /** Waits for the `locked` notification of a lock requested earlier; an aborted `signal` stops waiting. */
  waitLocked(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const done = () => {
        this.off('locked', onLocked);
        this.off('disconnected', onGone);
        signal?.removeEventListener('abort', onAbort);
      };
      const onLocked = (lock: string) => {
        if (lock !== name) return;
        done();
        resolve();
      };
      const onGone = (err: OvsdbError) => {
        done();
        reject(err);
      };
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      this.on('locked', onLocked);
      this.once('disconnected', onGone);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `echo`: the server returns the params. */
  echo(...params: unknown[]): Promise<unknown[]> {
    return this.echoWith(params);
  }

  /** `echo` with call options (an AbortSignal, a timeout). */
  async echoWith(params: readonly unknown[], options: CallOptions = {}): Promise<unknown[]> {
    const r = await this.call('echo', [...params], options);
    if (!Array.isArray(r)) throw this.bad(`echo result is not an array: ${preview(r)}`);
    return r;
  }

  /** `set_db_change_aware` (OVS): keep the session open across database changes, with `monitor_canceled`. */
  async setDbChangeAware(aware = true, options: CallOptions = {}): Promise<void> {
    await this.call('set_db_change_aware', [aware], options);
  }

  // ------------------------------------------------------------ notifications

  private reserveMonitor(monitorId: MonitorId, db: string): string {
    const key = monitorKey(monitorId);
    if (this.monitors.has(key)) throw new OvsdbProtocolError(`monitor id ${key} is already in use on this connection`);
    this.monitors.set(key, { db });
    return key;
  }

  private dispatch(method: string, params: unknown[]): void {
    try {
      switch (method) {
        case 'update':
        case 'update2': {
          if (params.length !== 2) throw this.bad(`${method} notification needs [monitor-id, table-updates], got ${preview(params)}`);
          const [id, tu] = params as [MonitorId, unknown];
          const db = this.monitorDb(method, id);
          const schema = this.schemas.get(db);
          if (method === 'update' && id === CLUSTER_MONITOR_ID && this.clusterWatch) {
            this.onServerUpdate(checkTableUpdates(schema, tu));
            return;
          }
          if (method === 'update') this.emit('update', id, checkTableUpdates(schema, tu), db);
          else this.emit('update2', id, checkTableUpdates2(schema, tu), db);
          return;
        }
        case 'update3': {
          if (params.length !== 3 || typeof params[1] !== 'string') {
            throw this.bad(`update3 notification needs [monitor-id, last-txn-id, table-updates2], got ${preview(params)}`);
          }
          const [id, txn, tu] = params as [MonitorId, string, unknown];
          const db = this.monitorDb(method, id);
          this.emit('update3', id, txn, checkTableUpdates2(this.schemas.get(db), tu), db);
          return;
        }
        case 'monitor_canceled': {
          const id = params[0] as MonitorId;
          const entry = this.monitors.get(monitorKey(id));
          this.monitors.delete(monitorKey(id));
          this.emit('monitorCanceled', id, entry?.db);
          return;
        }
        case 'locked':
        case 'stolen': {
          if (typeof params[0] !== 'string') throw this.bad(`${method} notification without a lock name: ${preview(params)}`);
          if (method === 'locked') this.emit('locked', params[0]);
          else this.emit('stolen', params[0]);
          return;
        }
        default:
          this.emit('notification', method, params);
      }
    } catch (err) {
      if (err instanceof OvsdbProtocolError) this.safeEmit('protocolError', err);
      else this.listenerFailed(err);
    }
  }

  /** Emits from inside the session's I/O callbacks, where a throwing listener must not escape. */
  private safeEmit<K extends 'protocolError' | 'disconnected' | 'serverState'>(event: K, ...args: OvsdbClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: OvsdbClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.listenerFailed(err);
    }
  }

  /**
   * An event listener threw. The session must go on (the bytes after this
   * message are fine), so the error is handed to `listenerError` listeners,
   * or reported as a process warning, instead of tearing the connection down.
   */
  private listenerFailed(err: unknown): void {
    if (this.listenerCount('listenerError') > 0) {
      try {
        this.emit('listenerError', err);
        return;
      } catch {
        // Fall through to the warning.
      }
    }
    process.emitWarning(`OvsdbClient (${this.remote}): an event listener threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }

  private monitorDb(method: string, id: unknown): string {
    const entry = this.monitors.get(monitorKey(id));
    if (!entry) throw this.bad(`${method} for unknown monitor ${preview(id)}`);
    return entry.db;
  }

  private bad(message: string): OvsdbProtocolError {
    return new OvsdbProtocolError(`${this.remote}: ${message}`);
  }
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * How `connectWithBackoff` retries a refused connection: jittered exponential backoff, a cap on
 * attempts, an AbortSignal.
 */
export interface BackoffOptions {
  /** First retry delay (default 100 ms); doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  /** Largest delay (default 8 s, OVS's reconnect default max backoff). */
  maxDelayMs?: number;
  /** Give up after this many attempts (default: never). */
  maxAttempts?: number;
  /** Stops retrying; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told of each failed attempt and the delay before the next. */
  onRetry?: (err: OvsdbError, attempt: number, delayMs: number) => void;
}

/**
 * Connects, retrying with exponential backoff (with jitter) while the
 * connection fails. Only connection failures (`CONNECT_FAILED`) and unusable
 * cluster members (`CLUSTER_MEMBER`: an election may be under way) are
 * retried; a bad remote or a TLS failure (`TLS`: files, certificates)
 * rejects at once. Each attempt tries every member of a remote list.
 */
export async function connectWithBackoff(remote: string, options: ClientOptions & BackoffOptions = {}): Promise<OvsdbClient> {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 8000;
  let delay = initial;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    try {
      return await OvsdbClient.connect(remote, options);
    } catch (err) {
      if (!isRetriable(err)) throw err;
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) throw err;
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      options.onRetry?.(err, attempt, wait);
      await sleep(wait, options.signal);
      delay = Math.min(max, delay * 2);
    }
  }
}

/** Failures another attempt (another member, or later) may not meet: a refused connection, an unusable member, a dropped session. */
function isRetriable(err: unknown): err is OvsdbError {
  return (
    err instanceof OvsdbConnectionError
    && (err.code === OvsdbErrorCode.CONNECT_FAILED || err.code === OvsdbErrorCode.CLUSTER_MEMBER || err.code === OvsdbErrorCode.DISCONNECTED || err.code === OvsdbErrorCode.TIMEOUT)
  );
}
