/**
 * The controller side: listen on a TCP address and accept the bridges whose
 * Controller row points at us (`ovs-vsctl set-controller br0 tcp:127.0.0.1:6633`).
 * Each is identified by the datapath id of its FEATURES_REPLY and surfaces
 * as one OpenFlowSwitch for its whole life: when the bridge reconnects (after
 * an ovs-vswitchd restart, say) the new session goes to the same object.
 *
 * A datapath id is only a claim: any process that reaches the listener can
 * announce any id. So a session is admitted in steps, each bounded:
 *
 * 1. the handshake (HELLO, FEATURES), within `connection.handshakeTimeoutMs`;
 * 2. a datapath that already has a session keeps it while that session
 *    answers an echo within `incumbentProbeMs`: the newcomer is refused, it
 *    never displaces a healthy switch (a real switch reconnecting has lost
 *    its old session first, or that session is dead and does not answer);
 * 3. the caller's `verifyClaim` hook, if any, within `verifyTimeoutMs`: the
 *    caller checks the claim against what it trusts (the agent: OVSDB);
 * 4. only then does the session become the switch's.
 *
 * At most `maxPending` peers are between accept and verdict (past that the
 * oldest is dropped, so a flood of silent connections cannot lock a
 * reconnecting switch out), and at most `maxSwitches` datapaths are
 * remembered (past that the least recently connected disconnected one is
 * forgotten and its OpenFlowSwitch closed).
 *
 * Events: 'switch' (OpenFlowSwitch) the first time a datapath connects,
 * 'reconnect' (OpenFlowSwitch) when a known one comes back, 'refused'
 * (SwitchClaimRefusedError) for a peer turned away, and 'handshakeError'
 * (Error) for peers that connect but fail the handshake (not 'error': a
 * stray client must not crash a process without a listener).
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseListenAddress } from './address.js';
import { checkVersions, OpenFlowConnection, type ConnectionOptions } from './connection.js';
import { ConnectionErrorCode, OpenFlowConnectionError, SwitchClaimRefusedError, type ClaimRefusal } from './errors.js';
import { formatDatapathId, OpenFlowSwitch } from './switch.js';

/** A peer's claim to be a datapath: its handshake is done, its session not yet used for anything. */
export interface SwitchClaim {
  /** The datapath id of its FEATURES_REPLY. */
  readonly datapathId: bigint;
  /** The new session: ask it what you need (`desc()`, `portDesc()`) before answering. */
  readonly connection: OpenFlowConnection;
  /** host:port of the peer. */
  readonly peer: string;
}

/** `verifyClaim`'s answer; a refusal's reason goes into the 'refused' event. */
export type ClaimVerdict = { accept: true } | { accept: false; reason: string };

export interface ControllerOptions {
  /** `ptcp:PORT[:HOST]`. Default `ptcp:6633:127.0.0.1`, where Neutron's native driver listens. */
  address?: string;
  /** Options of each accepted session; `handshakeTimeoutMs` defaults to 5000 here. */
  connection?: ConnectionOptions;
  /** Checks a claim before its session is admitted (a rejection or a throw refuses it). Default: every claim accepted. */
  verifyClaim?: (claim: SwitchClaim) => ClaimVerdict | Promise<ClaimVerdict>;
  /** How long `verifyClaim` may take. Default 5000 ms. */
  verifyTimeoutMs?: number;
  /** How long a datapath's current session has to answer an echo before a newcomer may replace it. Default 1000 ms. */
  incumbentProbeMs?: number;
  /** Peers between accept and verdict at once. Default 64. */
  maxPending?: number;
  /** Datapaths remembered. Default 256. */
  maxSwitches?: number;
}

const DEFAULTS = { handshakeTimeoutMs: 5000, verifyTimeoutMs: 5000, incumbentProbeMs: 1000, maxPending: 64, maxSwitches: 256 };

export class OpenFlowController extends EventEmitter {
  private readonly server: Server;
  /** Datapaths by id, least recently connected first (an attach moves its switch to the end). */
  private readonly byDpid = new Map<bigint, OpenFlowSwitch>();
  /** Peers between accept and verdict, oldest first. */
  private readonly pending = new Set<Socket>();
  /** Those of them past their handshake, being checked. */
  private readonly claims = new Map<Socket, OpenFlowConnection>();
  private readonly options: ControllerOptions;
  private readonly limits: typeof DEFAULTS;
  private bound: AddressInfo | undefined;
  private closing = false;

  constructor(options: ControllerOptions = {}) {
    super();
    checkVersions(options.connection?.versions);
    this.options = options;
    this.limits = {
      handshakeTimeoutMs: options.connection?.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      verifyTimeoutMs: options.verifyTimeoutMs ?? DEFAULTS.verifyTimeoutMs,
      incumbentProbeMs: options.incumbentProbeMs ?? DEFAULTS.incumbentProbeMs,
      maxPending: options.maxPending ?? DEFAULTS.maxPending,
      maxSwitches: options.maxSwitches ?? DEFAULTS.maxSwitches,
    };
    if (this.limits.maxPending < 1 || this.limits.maxSwitches < 1) throw new RangeError('maxPending and maxSwitches must be at least 1');
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound host and port (useful with port 0). */
  listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseListenAddress(this.options.address ?? 'ptcp:6633:127.0.0.1');
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new OpenFlowConnectionError(ConnectionErrorCode.CONNECT_FAILED,
        `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.bound = this.server.address() as AddressInfo;
        resolve({ host: this.bound.address, port: this.bound.port });
      });
    });
  }

  /** The bound port (after listen). */
  get port(): number {
    if (!this.bound) throw new OpenFlowConnectionError(ConnectionErrorCode.NOT_CONNECTED, 'controller is not listening');
    return this.bound.port;
  }

  /** Peers between accept and verdict right now. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Every datapath remembered, connected or not. */
  switches(): OpenFlowSwitch[] {
    return [...this.byDpid.values()];
  }

  /** The switch with this datapath id, if it has connected. */
  switch(datapathId: bigint): OpenFlowSwitch | undefined {
    return this.byDpid.get(datapathId);
  }

  /**
   * Resolves with the switch of `datapathId` once it is connected (any
   * switch when omitted), at once when it already is.
   */
  waitForSwitch(datapathId?: bigint, timeoutMs = 30_000): Promise<OpenFlowSwitch> {
    const match = (sw: OpenFlowSwitch): boolean => sw.connected && (datapathId === undefined || sw.datapathId === datapathId);
    const known = this.switches().find(match);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const onSwitch = (sw: OpenFlowSwitch): void => {
        if (!match(sw)) return;
        cleanup();
        resolve(sw);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('switch', onSwitch);
        this.off('reconnect', onSwitch);
      };
      const timer = setTimeout(() => {
        cleanup();
        const which = datapathId === undefined ? 'any switch' : `switch ${formatDatapathId(datapathId)}`;
        reject(new OpenFlowConnectionError(ConnectionErrorCode.TIMEOUT, `${which} did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('switch', onSwitch);
      this.on('reconnect', onSwitch);
    });
  }

  /** Stops listening and closes every session. */
  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.pending) s.destroy();
    this.pending.clear();
    this.claims.clear();
    await Promise.all(this.switches().map((sw) => sw.close()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.limits.maxPending) {
      const oldest = this.pending.values().next().value!;
      this.pending.delete(oldest);
      this.claims.delete(oldest);
      oldest.destroy();
      this.refused('too_many_pending', `${oldest.remoteAddress}:${oldest.remotePort}`, undefined,
        `more than ${this.limits.maxPending} peers between connecting and being admitted: dropped the one waiting longest`);
    }
    this.pending.add(socket);
    OpenFlowConnection.establish(socket, { ...this.options.connection, handshakeTimeoutMs: this.limits.handshakeTimeoutMs }).then(
      (conn) => this.admit(socket, conn).catch((err: Error) => {
        // Only a bug gets here (every step catches its own); the peer must not stay half-admitted.
        this.pending.delete(socket);
        this.claims.delete(socket);
        conn.destroy(err);
        this.emit('handshakeError', err);
      }),
      (err: Error) => {
        // A peer dropped as the oldest pending one was reported then.
        if (!this.pending.delete(socket)) return;
        socket.destroy();
        this.emit('handshakeError', err);
      },
    );
  }

  private async admit(socket: Socket, conn: OpenFlowConnection): Promise<void> {
    const dpid = conn.datapathId;
    const name = formatDatapathId(dpid);
    const current = (): OpenFlowSwitch | undefined => this.byDpid.get(dpid);
    const stillPending = (): boolean => this.pending.has(socket) && conn.isOpen;
    this.claims.set(socket, conn);
    const incumbent = current()?.connection;
    if (incumbent && await answers(incumbent, this.limits.incumbentProbeMs)) {
      this.refuse(socket, conn, 'incumbent', `claims datapath ${name}, which has a session that answers (from ${incumbent.peer}): kept that one`);
      return;
    }
    if (!stillPending()) return;
    const verify = this.options.verifyClaim;
    if (verify) {
      const verdict = await withTimeout(Promise.resolve().then(() => verify({ datapathId: dpid, connection: conn, peer: conn.peer })),
        this.limits.verifyTimeoutMs).catch((err: Error): ClaimVerdict => ({ accept: false, reason: `its check failed: ${err.message}` }));
      if (!stillPending()) return;
      if (!verdict.accept) {
        this.refuse(socket, conn, 'claim', `claims datapath ${name}: ${verdict.reason}`);
        return;
      }
    }
    const known = current();
    if (!known && this.byDpid.size >= this.limits.maxSwitches && !this.forgetOneDisconnected()) {
      this.refuse(socket, conn, 'too_many_switches', `claims datapath ${name}, but ${this.limits.maxSwitches} datapaths are connected already`);
      return;
    }
    this.pending.delete(socket);
    this.claims.delete(socket);
    const sw = known ?? new OpenFlowSwitch();
    // Most recently connected last: forgetOneDisconnected() looks from the front.
    this.byDpid.delete(dpid);
    this.byDpid.set(dpid, sw);
    sw.attach(conn);
    this.emit(known ? 'reconnect' : 'switch', sw);
    // Other claims to this datapath still being checked end now: it has its session.
    for (const [other, claim] of this.claims) {
      if (claim.datapathId === dpid) this.refuse(other, claim, 'incumbent', `claims datapath ${name}, which got a session (from ${conn.peer}) meanwhile`);
    }
  }

  /** Forgets the least recently connected datapath that is down; false when every one is connected. */
  private forgetOneDisconnected(): boolean {
    for (const [dpid, sw] of this.byDpid) {
      if (sw.connected) continue;
      this.byDpid.delete(dpid);
      void sw.close();
      return true;
    }
    return false;
  }

  private refuse(socket: Socket, conn: OpenFlowConnection, reason: ClaimRefusal, message: string): void {
    this.pending.delete(socket);
    this.claims.delete(socket);
    conn.destroy(new OpenFlowConnectionError(ConnectionErrorCode.REFUSED, `refused: ${message}`));
    this.refused(reason, conn.peer, conn.datapathId, message);
  }

  private refused(reason: ClaimRefusal, peer: string, datapathId: bigint | undefined, message: string): void {
    this.emit('refused', new SwitchClaimRefusedError(reason, peer, datapathId, `OpenFlow peer ${peer} refused: ${message}`));
  }
}

/** Whether the session answers an echo within `ms`. */
async function answers(conn: OpenFlowConnection, ms: number): Promise<boolean> {
  if (!conn.isOpen) return false;
  return withTimeout(conn.echo(), ms).then(() => true, () => false);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OpenFlowConnectionError(ConnectionErrorCode.TIMEOUT, `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
