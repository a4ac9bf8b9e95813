/**
 * The switch's own account of the flow-mods it applied: `ovs-ofctl monitor
 * BRIDGE watch:!initial`, a process of its own on the bridge's management
 * socket, prints one line per flow added, modified or deleted, whoever sent
 * it and however (bundles included). Tests count the agent's flow-mods with
 * it instead of trusting the agent's own count.
 *
 * `sync()` is a fence: a flow with a cookie of our own is added and deleted
 * with ovs-ofctl, and the call returns when the monitor has printed that
 * deletion; the switch reports changes in order, so every change made before
 * the call has been seen by then. Fence flows are left out of `changes()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { pidAlive } from '../../../testing/sandbox.js';

/** Cookies of the fence flows: high bits no agent cookie in these tests is expected to have. */
const FENCE_COOKIE_BASE = 0xfe7ce0000000000n;
/** The table the fences go to: one the agents here never use. */
const FENCE_TABLE = 250;

export interface FlowEvent {
  event: 'ADDED' | 'DELETED' | 'MODIFIED' | 'ABBREV';
  table: number;
  cookie: bigint;
  /** The line as ovs-ofctl printed it, without its leading space. */
  line: string;
}

export class FlowMonitor {
  private readonly all: FlowEvent[] = [];
  /** Per stream: ovs-ofctl prints the reply to its request on stdout, the switch's reports on stderr. */
  private readonly bufs = { out: '', err: '' };
  private from = 0;
  private fences = 0;
  private paused = false;
  private ready = false;
  private exited: string | undefined;
  /** The end of stderr, for the message when the monitor exits. */
  private stderr = '';

  private constructor(private readonly sb: OvsSandbox, readonly bridge: string, private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => this.onData('out', d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      this.stderr = (this.stderr + text).slice(-2000);
      this.onData('err', text);
    });
    child.on('exit', (code, signal) => {
      this.exited = `exited (${code ?? signal}): ${this.stderr.trim()}`;
    });
  }

  /** Starts the monitor and returns once the switch has it registered. */
  static async start(sb: OvsSandbox, bridge: string): Promise<FlowMonitor> {
    const child = spawn('ovs-ofctl', ['--no-names', 'monitor', `unix:${sb.mgmtSocket(bridge)}`, 'watch:!initial'], {
      // Its unixctl socket goes to the sandbox's run dir, not the system's.
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVS_RUNDIR: sb.rundir },
    });
    const m = new FlowMonitor(sb, bridge, child);
    try {
      await m.waitFor(() => m.ready, 'its request answered');
      await m.sync();
    } catch (err) {
      m.stop();
      throw err;
    }
    m.from = m.all.length;
    return m;
  }

  private onData(stream: 'out' | 'err', text: string): void {
    this.bufs[stream] += text;
    let nl: number;
    while ((nl = this.bufs[stream].indexOf('\n')) >= 0) {
      const line = this.bufs[stream].slice(0, nl).trim();
      this.bufs[stream] = this.bufs[stream].slice(nl + 1);
      if (line.startsWith('NXST_FLOW_MONITOR reply')) this.ready = true;
      if (/PAUSED/.test(line)) this.paused = true;
      const m = /^event=(ADDED|DELETED|MODIFIED|ABBREV)\b/.exec(line);
      if (!m) continue;
      this.all.push({
        event: m[1] as FlowEvent['event'],
        table: Number(/\btable=(\d+)/.exec(line)?.[1] ?? 0),
        cookie: BigInt(/\bcookie=(0x[0-9a-f]+)/.exec(line)?.[1] ?? '0'),
        line,
      });
    }
  }

  private async waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.exited) throw new Error(`flow monitor on ${this.bridge} ${this.exited} while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`flow monitor on ${this.bridge}: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** A fence flow added and deleted; returns once the monitor printed its deletion. */
  private async fence(timeoutMs: number): Promise<void> {
    const cookie = FENCE_COOKIE_BASE + BigInt(++this.fences);
    const hex = `0x${cookie.toString(16)}`;
    await this.sb.ofctl('add-flow', this.bridge, `cookie=${hex},table=${FENCE_TABLE},priority=1,actions=drop`);
    await this.sb.ofctl('del-flows', this.bridge, `cookie=${hex}/-1`);
    await this.waitFor(() => this.all.some((e) => e.event === 'DELETED' && e.cookie === cookie), `fence ${hex}`, timeoutMs);
    if (this.paused) throw new Error(`flow monitor on ${this.bridge} was paused by the switch: events were lost`);
  }

  /** Returns once the monitor has seen every change the switch applied before this call. */
  async sync(): Promise<void> {
    await this.fence(10_000);
  }

  /** What the switch applied since start (or the last `reset()`), fences left out. Call `sync()` first. */
  changes(): FlowEvent[] {
    return this.all.slice(this.from).filter((e) => !(e.table === FENCE_TABLE && e.cookie > FENCE_COOKIE_BASE && e.cookie <= FENCE_COOKIE_BASE + BigInt(this.fences)));
  }

  /** Forgets what was seen so far (after a `sync()`). */
  reset(): void {
    this.from = this.all.length;
  }

  stop(): void {
    const pid = this.child.pid;
    if (pid !== undefined && pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

/** One monitor per bridge, synced and read together. */
export class FlowMonitors {
  private constructor(readonly byBridge: Map<string, FlowMonitor>) {}

  static async start(sb: OvsSandbox, bridges: string[]): Promise<FlowMonitors> {
    const started = new Map<string, FlowMonitor>();
    try {
      for (const br of bridges) started.set(br, await FlowMonitor.start(sb, br));
    } catch (err) {
      for (const m of started.values()) m.stop();
      throw err;
    }
    return new FlowMonitors(started);
  }

  async sync(): Promise<void> {
    await Promise.all([...this.byBridge.values()].map((m) => m.sync()));
  }

  /** Every change on every bridge, each line prefixed with its bridge. */
  changes(): string[] {
    return [...this.byBridge].flatMap(([br, m]) => m.changes().map((e) => `${br} ${e.line}`));
  }

  reset(): void {
    for (const m of this.byBridge.values()) m.reset();
  }

  stop(): void {
    for (const m of this.byBridge.values()) m.stop();
  }
}
