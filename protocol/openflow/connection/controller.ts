/**
 * The controller side: listen on a TCP address and accept the bridges whose
 * Controller row points at us (`ovs-vsctl set-controller br0 tcp:127.0.0.1:6633`).
 * Each is identified by the datapath id of its FEATURES_REPLY and surfaces
 * as one OpenFlowSwitch for its whole life: when the bridge reconnects (after
 * an ovs-vswitchd restart, say) the new session goes to the same object.
 *
 * Events: 'switch' (OpenFlowSwitch) the first time a datapath connects,
 * 'reconnect' (OpenFlowSwitch) when a known one comes back, and
 * 'handshakeError' (Error) for peers that connect but fail the handshake
 * (not 'error': a stray client must not crash a process without a listener).
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseListenAddress } from './address.js';
import { OpenFlowConnection, type ConnectionOptions } from './connection.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';
import { formatDatapathId, OpenFlowSwitch } from './switch.js';

export interface ControllerOptions {
  /** `ptcp:PORT[:HOST]`. Default `ptcp:6633:127.0.0.1`, where Neutron's native driver listens. */
  address?: string;
  /** Options of each accepted session. */
  connection?: ConnectionOptions;
}

export class OpenFlowController extends EventEmitter {
  private readonly server: Server;
  private readonly byDpid = new Map<bigint, OpenFlowSwitch>();
  private readonly handshaking = new Set<Socket>();
  private readonly options: ControllerOptions;
  private bound: AddressInfo | undefined;

  constructor(options: ControllerOptions = {}) {
    super();
    this.options = options;
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

  /** Every datapath seen so far, connected or not. */
  switches(): OpenFlowSwitch[] {
    return [...this.byDpid.values()];
  }

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
    for (const s of this.handshaking) s.destroy();
    await Promise.all(this.switches().map((sw) => sw.close()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.handshaking.add(socket);
    OpenFlowConnection.establish(socket, this.options.connection).then(
      (conn) => {
        this.handshaking.delete(socket);
        const dpid = conn.datapathId;
        const known = this.byDpid.get(dpid);
        if (known) {
          known.attach(conn);
          this.emit('reconnect', known);
          return;
        }
        const sw = new OpenFlowSwitch();
        this.byDpid.set(dpid, sw);
        sw.attach(conn);
        this.emit('switch', sw);
      },
      (err: Error) => {
        this.handshaking.delete(socket);
        socket.destroy();
        this.emit('handshakeError', err);
      },
    );
  }
}
