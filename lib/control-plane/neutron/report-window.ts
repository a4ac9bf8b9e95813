/**
 * How many devices' `update_device_list` chunks may be out at neutron-server
 * at once.
 *
 * neutron-server answers update_device_list about one device at a time
 * (~0.1 s a port with neutron-server 21 on this class of machine), however
 * many calls are queued. Publishing every chunk at once hands the server all
 * the news immediately (the agent's part is done), but the last chunk's
 * answer then comes after the server has worked through everything ahead of
 * it, and a chunk answered after `rpc_response_timeout` is retried: the
 * server does its work twice. A fixed number of calls in flight avoids that
 * but holds ports back even when the server would answer them in time. So
 * the window admits as many devices as the server is seen to answer within
 * half the timeout: each answer teaches it the server's time per device
 * (the call's latency over the devices that were out when it was sent, its
 * own included), so a server slowed by other agents gets fewer at once.
 */

/** A chunk admitted to the window; hand it back to `release`. */
export interface WindowTicket {
  readonly devices: number;
  /** Devices out at the server when this chunk was sent, its own included. */
  readonly ahead: number;
  readonly sentAt: number;
}

/** The server's time per device assumed before its first answer (s). */
const INITIAL_SECONDS_PER_DEVICE = 0.1;
/** The weight of the newest answer in the learnt time per device. */
const SMOOTHING = 0.3;
/** Share of the RPC timeout the window may fill. */
const TIMEOUT_SHARE = 0.5;

export class ReportWindow {
  private out = 0;
  private secondsPerDevice = INITIAL_SECONDS_PER_DEVICE;
  private readonly waiting: Array<{ devices: number; admit: () => void }> = [];

  /** `timeoutS`: the call's RPC timeout in seconds. */
  constructor(private readonly timeoutS: number) {}

  /** Devices the window holds at most (never below one chunk: a lone chunk always goes). */
  get limit(): number {
    return Math.max(1, Math.floor((this.timeoutS * TIMEOUT_SHARE) / this.secondsPerDevice));
  }

  /** Devices out at the server now. */
  get inFlight(): number {
    return this.out;
  }

  /** Resolves when a chunk of `devices` may be sent; chunks are admitted in the order they asked. */
  acquire(devices: number): Promise<WindowTicket> {
    if (this.waiting.length === 0 && this.fits(devices)) return Promise.resolve(this.admit(devices));
    return new Promise((resolve) => this.waiting.push({ devices, admit: () => resolve(this.admit(devices)) }));
  }

  /** The chunk's answer (or failure) came; `answered` false leaves the learnt time alone. */
  release(ticket: WindowTicket, answered: boolean, now = performance.now()): void {
    this.out -= ticket.devices;
    if (answered && ticket.ahead > 0) {
      const sample = (now - ticket.sentAt) / 1000 / ticket.ahead;
      this.secondsPerDevice = (1 - SMOOTHING) * this.secondsPerDevice + SMOOTHING * Math.max(sample, 1e-4);
    }
    while (this.waiting.length && this.fits(this.waiting[0].devices)) this.waiting.shift()!.admit();
  }

  private fits(devices: number): boolean {
    return this.out === 0 || this.out + devices <= this.limit;
  }

  private admit(devices: number): WindowTicket {
    this.out += devices;
    return { devices, ahead: this.out, sentAt: performance.now() };
  }
}
