/**
 * The replica (the OVS IDL's job): a typed in-memory copy of chosen tables
 * and columns of one database, kept current by a monitor, with row events,
 * indexes, optimistic transactions and reconnection.
 *
 * Monitor method: `monitor_cond_since` when the server has it (OVS ≥ 2.12),
 * else `monitor_cond`, else plain `monitor`. After any disconnect the replica
 * reconnects with backoff, re-reads the schema and re-monitors; with
 * `monitor_cond_since` it sends the last transaction id it saw, and a server
 * that still has it (`found`) sends only what changed, which is applied as
 * ordinary updates. Otherwise the fresh initial state is diffed against the
 * replica. Either way, row events describe exactly what changed while we
 * were away, and a `resync` event follows.
 *
 * Events are emitted after a whole notification is applied, so a handler
 * sees a consistent replica. Rows are immutable objects shared with the
 * replica: no copies are made for handlers.
 */
import { EventEmitter } from 'node:events';
import { OvsdbClient, connectWithBackoff } from '../client.js';
import type { ClientOptions, MonitorId } from '../client.js';
import type { ServerDatabaseState } from '../cluster.js';
import type { Uuid } from '../datum.js';
import { OvsdbConnectionError, OvsdbError, OvsdbErrorCode, OvsdbRpcError, OvsdbTransactionError } from '../errors.js';
import type { Condition } from '../operations.js';
import { getColumn, getTable } from '../schema.js';
import { splitRemotes } from '../transport.js';
import type { ColumnSchema, DatabaseSchema } from '../schema.js';
import type { MonitorCondChange, MonitorCondRequest } from '../updates.js';
import { abortable } from '../abort.js';
import { encodeCondition } from '../operations.js';
import type { ConditionOf } from '../typed.js';
import { ReplicaCache } from './cache.js';
import { eventIterator, type ChangesOptions } from './changes.js';
import type { ReplicaRow, RowEvent, TableCache } from './cache.js';
import type { IndexSpec } from './row-index.js';
import { RowIndex } from './row-index.js';
import { TransactionBuilder, TransactionResult } from './transaction.js';

/** What to replicate of one table. */
export interface TableSpec {
  /** Columns to replicate (default: all). */
  columns?: readonly string[];
  /** Conditions (ORed, as monitor_cond defines them); ignored by servers without monitor_cond. */
  where?: readonly (Condition | boolean)[];
}

/** The monitor method a replica uses, the best the server offers. */
export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';

/**
 * Options of `Replica.start`/`Replica.open`: the remote, the tables (and columns, conditions,
 * indexes) to replicate, the connection's options.
 */
export interface ReplicaOptions<T> extends ClientOptions {
  /**
   * `unix:PATH`, `tcp:HOST:PORT` or `ssl:HOST:PORT`, or a list of them (`unix:A,tcp:B:6641,...`),
   * the members of a cluster: the replica uses the first usable one, watches its state in `_Server`
   * and, when it is lost or becomes unusable, moves to another, resuming where it was.
   */
  remote: string;
  /**
   * Use only the leader of a clustered database (default false: any member connected to its
   * cluster); the replica then follows the leadership from member to member.
   */
  leaderOnly?: boolean;
  /** Default `Open_vSwitch`. */
  database?: string;
  /** The tables to replicate: `true` for all columns, or a spec. */
  tables: { [K in keyof T]?: TableSpec | true };
  /** Indexes to create before the first dump. More can be added with `index()` at any time. */
  indexes?: readonly IndexSpec[];
  /** Most capable method to try (default `monitor_cond_since`); falls back when the server lacks it. */
  method?: MonitorMethod;
  /** First reconnect delay (default 100 ms), doubling up to `maxBackoffMs` (default 8 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Emitted after every (re)connection, once the replica matches the server. */
export interface ResyncInfo {
  /** 0 for the first connection, then 1, 2, ... */
  readonly reconnects: number;
  readonly method: MonitorMethod;
  /** monitor_cond_since only: true when the server resumed from our last txn id (sent only the changes). */
  readonly found: boolean;
  /** Row events the resync caused. */
  readonly changes: number;
}

interface ReplicaEvents {
  resync: [info: ResyncInfo];
  /** The replica was closed (by `close()`, or by its `signal`). */
  close: [];
  connected: [client: OvsdbClient];
  disconnected: [err: OvsdbError];
  /** A failure the replica recovers from by itself (a bad update, a failed reconnect). */
  error: [err: Error];
}

/** Options of a replica transaction: attempts on conflict, per-attempt timeout, the wait after a conflict. */
export interface TransactOptions {
  /** Attempts before a conflict becomes an error (default 20). */
  maxAttempts?: number;
  /** Per-attempt request timeout. */
  timeoutMs?: number;
  /** Longest wait for the replica to move after a conflict before retrying anyway (default 2 s). */
  conflictWaitMs?: number;
  /** Aborting stops the transaction: a wait for the connection ends, a request in flight is canceled. */
  signal?: AbortSignal;
}

/**
 * New monitor conditions per replicated table (ORed, as monitor_cond defines them; `[true]`: every
 * row), for `Replica.changeConditions`.
 */
export type ConditionsChange<T> = { [K in keyof T]?: readonly (ConditionOf<T[K]> | boolean)[] };

type AnyRowHandler = (event: RowEvent) => void;

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

let monitorSeq = 0;

/** True for the error of a `wait` that found the rows changed: an optimistic-transaction conflict. */
export function isConflict(err: unknown): boolean {
  return err instanceof OvsdbTransactionError && err.op === 'wait' && err.error === 'timed out';
}

export class Replica<T extends { [K in keyof T]: { readonly _uuid: Uuid } } = Record<string, ReplicaRow>> extends EventEmitter<ReplicaEvents> {
  readonly database: string;
  private readonly options: ReplicaOptions<T>;
  /** Conditions set by `changeConditions`, which replace the options' `where` of their tables. */
  private readonly conditions = new Map<string, readonly (Condition | boolean)[]>();
  /** False after a condition change until the next full synchronization: see `changeConditions`. */
  private resumable = true;
  private cache: ReplicaCache | undefined;
  private client: OvsdbClient | undefined;
  private readonly handlers = new Map<string, Set<AnyRowHandler>>();
  private readonly allHandlers = new Set<AnyRowHandler>();
  private readonly indexSpecs: { spec: IndexSpec; index: RowIndex<ReplicaRow> }[] = [];
  private monitorId: MonitorId = null;
  private methodInUse: MonitorMethod | undefined;
  private lastId = ZERO_UUID;
  private reconnectCount = -1;
  private closedFlag = false;
  private readonly abort = new AbortController();
  /** Notifications that arrived while the monitor request was outstanding. */
  private held: (() => void)[] | undefined;
  private seq = 0;
  private readonly seqWaiters = new Set<() => void>();
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private connectedFlag = false;
  /** The remote list, the member last lost moved to its end, so that a reconnect tries the others first. */
  private remoteOrder: string[];
  /** The highest `_Server` log index any member showed us: a reconnection must not go back before it. */
  private seenIndex = 0;

  private constructor(options: ReplicaOptions<T>) {
    super();
    this.options = options;
    this.database = options.database ?? 'Open_vSwitch';
    this.remoteOrder = remoteList(options.remote);
    // An emitter without an `error` listener would throw: errors are informational here.
    this.on('error', () => {});
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.closedFlag = true;
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /**
   * Connects, monitors and resolves once the replica holds the initial
   * state. Keeps reconnecting after any disconnect until `close()`.
   */
  static async start<T extends { [K in keyof T]: { readonly _uuid: Uuid } } = Record<string, ReplicaRow>>(options: ReplicaOptions<T>): Promise<Replica<T>> {
    options.signal?.throwIfAborted();
    const r = Replica.open<T>(options);
    const first = r.whenReady();
    try {
      await first;
    } catch (err) {
      await r.close();
      if (options.signal?.aborted) throw options.signal.reason;
      throw err;
    }
    return r;
  }

  /**
   * Starts connecting in the background and returns at once, for a caller
   * that watches the wait: each failed attempt is an `error` event, and
   * `whenReady()` (call it now, not later: a replica that cannot start
   * closes itself) resolves once the replica holds the initial state or
   * rejects with why it never will. `close()` gives up.
   */
  static open<T extends { [K in keyof T]: { readonly _uuid: Uuid } } = Record<string, ReplicaRow>>(options: ReplicaOptions<T>): Replica<T> {
    const r = new Replica<T>(options);
    void r.run();
    return r;
  }

  // ------------------------------------------------------------ reading

  /** A replicated table. */
  table<K extends keyof T & string>(name: K): TableCache<T[K]> {
    const t = this.cache?.tables.get(name);
    if (!t) throw new OvsdbError(OvsdbErrorCode.UNKNOWN_TABLE, `table ${name} is not replicated`);
    return t as unknown as TableCache<T[K]>;
  }

  /** The replicated row of `table` with this uuid, if any. */
  get<K extends keyof T & string>(table: K, uuid: Uuid): T[K] | undefined {
    return this.table(table).get(uuid);
  }

  /** The schema the server reported at the last connection. */
  get schema(): DatabaseSchema {
    if (!this.cache) throw new OvsdbError(OvsdbErrorCode.CLOSED, 'replica has no schema yet');
    return this.cache.schema;
  }

  /** The connected client (for calls the replica does not wrap); undefined while reconnecting. */
  get connection(): OvsdbClient | undefined {
    return this.connectedFlag ? this.client : undefined;
  }

  /** Whether the replica's session is up. */
  get isConnected(): boolean {
    return this.connectedFlag;
  }

  /** The monitor method in use, once connected. */
  get method(): MonitorMethod | undefined {
    return this.methodInUse;
  }

  /** The id of the last transaction the replica has seen (monitor_cond_since only). */
  get lastTxnId(): string {
    return this.lastId;
  }

  /** Bumped on every applied notification: cheap change detection. */
  get seqno(): number {
    return this.seq;
  }

  /**
   * An index (created, and filled from the current rows, on first use).
   * Index by a column (`{table: 'Port', column: 'name'}`) or by one key of a
   * map column (`{table: 'Interface', column: 'external_ids', key: 'iface-id'}`).
   */
  index<K extends keyof T & string>(table: K, column: string, key?: string): RowIndex<T[K]> {
    const found = this.indexSpecs.find((i) => i.spec.table === table && i.spec.column === column && i.spec.key === key);
    if (found) return found.index as unknown as RowIndex<T[K]>;
    const spec: IndexSpec = key === undefined ? { table, column } : { table, column, key };
    const t = this.table(table);
    if (!t.columns.some((c) => c.name === column)) {
      throw new OvsdbError(OvsdbErrorCode.UNKNOWN_COLUMN, `cannot index ${table}.${column}: the column is not replicated`);
    }
    const index = (t as unknown as TableCache).addIndex(spec);
    this.indexSpecs.push({ spec, index });
    return index as unknown as RowIndex<T[K]>;
  }

  // ------------------------------------------------------------ events

  /** Calls `handler` for every insert/update/delete of a table's rows; returns an unsubscribe function. */
  watch<K extends keyof T & string>(table: K, handler: (event: RowEvent<T[K], K>) => void): () => void {
    let set = this.handlers.get(table);
    if (!set) this.handlers.set(table, (set = new Set()));
    const h = handler as unknown as AnyRowHandler;
    set.add(h);
    return () => set!.delete(h);
  }

  /** Calls `handler` for every row event of every table. */
  watchAll(handler: (event: RowEvent) => void): () => void {
    this.allHandlers.add(handler);
    return () => this.allHandlers.delete(handler);
  }

  /**
   * The row events of one table (or of every table) as an async iterator:
   * `for await (const e of replica.changes('Interface', {signal}))`. Events come in the order they
   * are applied; the loop ends when the replica closes or the signal aborts, and leaving it early
   * unsubscribes. A consumer more than `maxBuffered` events behind gets an `OVERFLOW` error.
   */
  changes<K extends keyof T & string>(table: K, options?: ChangesOptions): AsyncIterableIterator<RowEvent<T[K], K>>;
  /** The row events of every replicated table as an async iterator. */
  changes(options?: ChangesOptions): AsyncIterableIterator<RowEvent>;
  changes(tableOrOptions?: string | ChangesOptions, maybeOptions?: ChangesOptions): AsyncIterableIterator<RowEvent> {
    const table = typeof tableOrOptions === 'string' ? tableOrOptions : undefined;
    const options = typeof tableOrOptions === 'string' ? maybeOptions : tableOrOptions;
    return eventIterator<RowEvent>(
      (push) => (table === undefined ? this.watchAll(push) : this.watch(table as keyof T & string, push as never)),
      (end) => {
        if (this.closedFlag) {
          queueMicrotask(end);
          return () => {};
        }
        this.once('close', end);
        return () => this.off('close', end);
      },
      options,
    );
  }

  /**
   * Changes the monitor conditions of replicated tables on the live session (`monitor_cond_change`):
   * rows that stop matching are deleted from the replica and rows that start matching inserted, with
   * the usual row events, once the server has sent them (`waitFor` them). Later sessions monitor with
   * the new conditions. Refuses (changing nothing) a table not replicated, an unknown column, a
   * value of the wrong type, and a server with only plain `monitor` (no conditions).
   *
   * The next reconnection after a change resynchronizes in full (diffed, so events stay exact)
   * instead of resuming with `monitor_cond_since`: rows the change brought in may not have
   * arrived when the connection dropped.
   */
  async changeConditions(change: ConditionsChange<T>, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const schema = this.cache?.schema;
    const entries = Object.entries(change) as [string, readonly (Condition | boolean)[] | undefined][];
    for (const [table, where] of entries) {
      if (!this.options.tables[table as keyof T]) throw new OvsdbError(OvsdbErrorCode.UNKNOWN_TABLE, `changeConditions: table ${table} is not replicated`);
      if (!Array.isArray(where)) throw new OvsdbError(OvsdbErrorCode.VALIDATION, `changeConditions: the conditions of ${table} must be an array`);
      if (schema) for (const c of where) encodeCondition(getTable(schema, table), c);
    }
    if (this.methodInUse === 'monitor') throw new OvsdbError(OvsdbErrorCode.RPC, 'changeConditions: the server offers only plain monitor, which has no conditions');
    for (const [table, where] of entries) this.conditions.set(table, where!);
    this.resumable = false;
    this.lastId = ZERO_UUID;
    const client = this.connection;
    if (!client) return;
    const changes: Record<string, MonitorCondChange> = {};
    for (const [table, where] of entries) changes[table] = { where: where! };
    try {
      await client.monitorCondChange(this.monitorId, changes, this.monitorId, options);
    } catch (err) {
      // A session that ended meanwhile is replaced by one that monitors with the new conditions.
      if (err instanceof OvsdbConnectionError && !client.isConnected) return;
      throw err;
    }
  }

  private whereOf(table: string): readonly (Condition | boolean)[] | undefined {
    const changed = this.conditions.get(table);
    if (changed) return changed;
    const spec = this.options.tables[table as keyof T];
    return spec === true ? undefined : spec?.where;
  }

  /**
   * Resolves when `predicate` holds, checking now, after every applied
   * notification and after every (dis)connection; rejects after `timeoutMs` (default 10 s).
   */
  waitFor<V>(predicate: () => V | undefined | false | null, opts: { timeoutMs?: number; what?: string; signal?: AbortSignal } = {}): Promise<V> {
    const now = predicate();
    if (now !== undefined && now !== false && now !== null) return Promise.resolve(now);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<V>((resolve, reject) => {
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const check = (): void => {
        let v: V | undefined | false | null;
        try {
          v = predicate();
        } catch (err) {
          done();
          reject(err as Error);
          return;
        }
        if (v !== undefined && v !== false && v !== null) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new OvsdbConnectionError(OvsdbErrorCode.TIMEOUT, `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a replica condition'}`, this.options.remote));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.seqWaiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      this.seqWaiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ------------------------------------------------------------ transactions

  /**
   * Runs `build` against the replica and commits what it adds, as one
   * transaction. If the transaction fails because something `build` read
   * (and so verified) changed meanwhile, the replica waits for the change to
   * arrive and runs `build` again, up to `maxAttempts` times. Waits for the
   * connection if the replica is reconnecting.
   */
  async transact<V>(build: (txn: TransactionBuilder<T>) => V | Promise<V>, opts: TransactOptions = {}): Promise<TransactionResult<V>> {
    const maxAttempts = opts.maxAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted();
      if (!this.connectedFlag) await this.whenReady({ signal: opts.signal });
      const client = this.client!;
      const cache = this.cache!;
      const seqAtBuild = this.seq;
      const txn = new TransactionBuilder<T>(cache.schema, cache);
      const value = await build(txn);
      if (txn.ops.length === 0) return new TransactionResult(value, [], attempt, txn);
      try {
        const results = await client.transact(this.database, txn.ops, { timeoutMs: opts.timeoutMs, signal: opts.signal });
        return new TransactionResult(value, results as unknown[], attempt, txn);
      } catch (err) {
        if (!isConflict(err) || attempt >= maxAttempts) throw err;
        // The change that broke our `wait` is on its way (or already applied); rebuild on it.
        if (this.seq === seqAtBuild) await abortable(this.nextChange(opts.conflictWaitMs ?? 2000), opts.signal);
      }
    }
  }

  private nextChange(timeoutMs: number): Promise<void> {
    const start = this.seq;
    return this.waitFor(() => this.seq !== start || !this.connectedFlag, { timeoutMs }).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Resolves when connected and synchronized; an aborted `signal` stops waiting (the replica goes on). */
  whenReady(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.connectedFlag) return Promise.resolve();
    if (this.closedFlag) return Promise.reject(new OvsdbConnectionError(OvsdbErrorCode.CLOSED, 'replica closed', this.options.remote));
    return abortable(new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject })), options.signal);
  }

  /** Stops replicating and closes the connection. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.abort.abort(new OvsdbConnectionError(OvsdbErrorCode.CLOSED, 'replica closed', this.options.remote));
    const err = new OvsdbConnectionError(OvsdbErrorCode.CLOSED, 'replica closed', this.options.remote);
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    this.emit('close');
    await this.client?.close();
  }

  // ------------------------------------------------------------ session loop

  private noteIndex(state: ServerDatabaseState | undefined): void {
    if (state?.index != null && state.index > this.seenIndex) this.seenIndex = state.index;
  }

  private async run(): Promise<void> {
    const initialDelay = this.options.backoffMs ?? 100;
    let retryDelay = initialDelay;
    while (!this.closedFlag) {
      let client: OvsdbClient;
      try {
        client = await connectWithBackoff(this.remoteOrder.join(','), {
          ...this.options,
          database: this.database,
          ...(this.seenIndex > 0 ? { minIndex: this.seenIndex } : {}),
          initialDelayMs: this.options.backoffMs ?? 100,
          maxDelayMs: this.options.maxBackoffMs ?? 8000,
          signal: this.abort.signal,
          onRetry: (err) => this.emit('error', err),
        });
      } catch (err) {
        if (this.closedFlag) return;
        if (this.reconnectCount >= 0 && isTlsFailure(err)) {
          // Certificates that verified before may be being renewed: keep trying, as OVS does, saying why.
          this.emit('error', err as Error);
          retryDelay = Math.min(this.options.maxBackoffMs ?? 8000, retryDelay * 2);
          await delay(retryDelay);
          continue;
        }
        // A bad remote, or TLS refused at the first connection (files, certificates): nothing a retry fixes.
        for (const w of this.readyWaiters.splice(0)) w.reject(err as Error);
        this.emit('error', err as Error);
        return;
      }
      if (this.closedFlag) {
        await client.close();
        return;
      }
      this.client = client;
      this.noteIndex(client.serverState);
      client.on('serverState', (state) => this.noteIndex(state));
      try {
        await this.synchronize(client);
      } catch (err) {
        this.emit('error', err as Error);
        if (this.reconnectCount < 0 && (!(err instanceof OvsdbConnectionError) || isTlsFailure(err))) {
          // The first synchronization failed for a reason a retry will not fix (unknown table, our certificate refused...).
          for (const w of this.readyWaiters.splice(0)) w.reject(err as Error);
          await client.close();
          this.closedFlag = true;
          return;
        }
        await client.close();
      }
      const reason = await client.closed;
      if (this.remoteOrder.length > 1) this.remoteOrder = [...this.remoteOrder.filter((r) => r !== client.remote), client.remote];
      if (this.connectedFlag) {
        this.connectedFlag = false;
        this.emit('disconnected', reason);
        this.notifyWaiters();
        retryDelay = initialDelay;
      } else {
        // Connected but could not synchronize (e.g. the schema lost a table): back off too.
        retryDelay = Math.min(this.options.maxBackoffMs ?? 8000, retryDelay * 2);
      }
      if (!this.closedFlag) await delay(retryDelay);
    }
  }

  private async synchronize(client: OvsdbClient): Promise<void> {
    const schema = await client.getSchema(this.database);
    const monitored = this.monitoredColumns(schema);
    const first = this.cache === undefined;
    if (first || !sameColumns(this.cache!, monitored)) {
      // First connection, or the schema changed under us (OVS upgraded, database converted): a
      // replica of the new shape, holding the old rows, so the resync below reports only real changes.
      const old = this.cache;
      this.cache = new ReplicaCache(schema, monitored);
      for (const i of this.indexSpecs) {
        i.index.clear();
        this.cache.tables.get(i.spec.table)?.indexes.push(i.index);
      }
      if (old) {
        const gone = this.cache.adopt(old);
        if (gone.length) this.dispatch(gone);
      }
      this.lastId = ZERO_UUID;
      if (first) for (const s of this.options.indexes ?? []) this.index(s.table as keyof T & string, s.column, s.key);
    }
    const cache = this.cache!;
    const id = `replica-${++monitorSeq}`;
    this.monitorId = id;
    this.held = [];
    const onUpdate = (mid: MonitorId, tu: unknown): void => this.onNotification(mid, () => this.apply(cache.applyUpdate(tu)));
    const onUpdate2 = (mid: MonitorId, tu: unknown): void => this.onNotification(mid, () => this.apply(cache.applyUpdate2(tu)));
    const onUpdate3 = (mid: MonitorId, last: string, tu: unknown): void =>
      this.onNotification(mid, () => {
        this.apply(cache.applyUpdate2(tu));
        if (this.resumable) this.lastId = last;
      });
    client.on('update', onUpdate);
    client.on('update2', onUpdate2);
    client.on('update3', onUpdate3);
    client.on('protocolError', (err) => {
      // A dropped update would leave the replica behind: start over on a fresh connection.
      this.emit('error', err);
      void client.close();
    });

    const requests: Record<string, MonitorCondRequest> = {};
    for (const [name, cols] of monitored) {
      const where = this.whereOf(name);
      requests[name] = where === undefined ? { columns: cols.map((c) => c.name) } : { columns: cols.map((c) => c.name), where };
    }
    let method: MonitorMethod = this.methodInUse ?? this.options.method ?? 'monitor_cond_since';
    let found = false;
    const events: RowEvent[] = [];
    for (;;) {
      try {
        if (method === 'monitor_cond_since') {
          const r = await client.monitorCondSince(this.database, id, requests, this.lastId);
          found = r.found && !first;
          if (found) cache.applyUpdate2(r.updates, events);
          else cache.resync(r.updates, 'update2', events);
          this.lastId = r.lastTxnId;
          this.resumable = true;
        } else if (method === 'monitor_cond') {
          cache.resync(await client.monitorCond(this.database, id, requests), 'update2', events);
        } else {
          const plain: Record<string, { columns: string[] }> = {};
          for (const [n, r] of Object.entries(requests)) plain[n] = { columns: r.columns as string[] };
          cache.resync(await client.monitor(this.database, id, plain), 'update', events);
        }
        break;
      } catch (err) {
        if (err instanceof OvsdbRpcError && method !== 'monitor' && /unknown method|not supported/i.test(String(err.error))) {
          method = method === 'monitor_cond_since' ? 'monitor_cond' : 'monitor';
          continue;
        }
        throw err;
      }
    }
    this.methodInUse = method;
    this.reconnectCount++;
    this.connectedFlag = true;
    this.dispatch(events);
    const held = this.held;
    this.held = undefined;
    for (const h of held) this.runApply(h);
    this.emit('connected', client);
    this.emit('resync', { reconnects: this.reconnectCount, method, found, changes: events.length });
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    this.notifyWaiters();
  }

  private monitoredColumns(schema: DatabaseSchema): Map<string, ColumnSchema[]> {
    const out = new Map<string, ColumnSchema[]>();
    for (const [name, spec] of Object.entries(this.options.tables) as [string, TableSpec | true | undefined][]) {
      if (!spec) continue;
      const t = getTable(schema, name);
      const cols = spec === true || spec.columns === undefined ? [...t.columns.values()].filter((c) => !c.name.startsWith('_')) : spec.columns.map((c) => getColumn(t, c));
      out.set(name, cols);
    }
    return out;
  }

  private onNotification(mid: MonitorId, apply: () => void): void {
    if (mid !== this.monitorId) return;
    if (this.held) this.held.push(apply);
    else this.runApply(apply);
  }

  private runApply(apply: () => void): void {
    try {
      apply();
    } catch (err) {
      // The replica is unchanged (updates apply atomically) but now behind: resynchronize.
      this.emit('error', err as Error);
      void this.client?.close();
    }
  }

  private apply(events: RowEvent[]): void {
    this.dispatch(events);
  }

  private dispatch(events: RowEvent[]): void {
    this.seq++;
    if (this.handlers.size || this.allHandlers.size) {
      for (const e of events) {
        const set = this.handlers.get(e.table);
        if (set) for (const h of set) h(e);
        for (const h of this.allHandlers) h(e);
      }
    }
    this.notifyWaiters();
  }

  private notifyWaiters(): void {
    if (this.seqWaiters.size) for (const w of [...this.seqWaiters]) w();
  }
}

function sameColumns(cache: ReplicaCache, monitored: Map<string, ColumnSchema[]>): boolean {
  if (cache.tables.size !== monitored.size) return false;
  for (const [name, cols] of monitored) {
    const t = cache.tables.get(name);
    if (!t || t.columns.length !== cols.length) return false;
    for (let i = 0; i < cols.length; i++) {
      if (t.columns[i].name !== cols[i].name || JSON.stringify(t.columns[i].type) !== JSON.stringify(cols[i].type)) return false;
    }
  }
  return true;
}

/** The members of a remote list; a bad list is kept whole, to be refused with `BAD_REMOTE` by the first connect. */
function remoteList(remote: string): string[] {
  try {
    return splitRemotes(remote);
  } catch {
    return [remote];
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isTlsFailure(err: unknown): boolean {
  return err instanceof OvsdbConnectionError && err.code === OvsdbErrorCode.TLS;
}
