/**
 * A scripted neutron-server (scripted_neutron.py: Debian's oslo.messaging
 * serving q-plugin and q-reports-plugin on a real RabbitMQ) that answers
 * each method as the test scripts it: fail n times, then answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pidAlive } from '../../../testing/sandbox.js';

const SCRIPT = fileURLToPath(new URL('./scripted_neutron.py', import.meta.url));
/** Debian's python3 carries oslo.messaging and oslo.db; a pyenv python on PATH would not. */
const PYTHON = '/usr/bin/python3';

export type Outcome = 'ok' | 'DBDeadlock' | 'ValueError' | { hang: number };
export interface PeerCall {
  call: string;
  n: number;
  outcome: Outcome;
}

export class ScriptedNeutron {
  /** Calls received since the last script(), in order. */
  readonly calls: PeerCall[] = [];
  private readonly stderrTail: string[] = [];
  private acked: (() => void) | undefined;
  private ponged: (() => void) | undefined;

  private constructor(private readonly child: ChildProcess) {}

  static async start(transportUrl: string): Promise<ScriptedNeutron> {
    const child = spawn(PYTHON, [SCRIPT, transportUrl], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new ScriptedNeutron(child);
    // Drained always: oslo logs a traceback per failed call, and a full pipe would block the server.
    createInterface({ input: child.stderr! }).on('line', (l) => {
      peer.stderrTail.push(l);
      if (peer.stderrTail.length > 30) peer.stderrTail.shift();
    });
    const lines = createInterface({ input: child.stdout! });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`scripted neutron-server: not ready within 30 s\n${peer.stderrTail.join('\n')}`)), 30_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`scripted neutron-server exited with ${code}\n${peer.stderrTail.join('\n')}`));
        });
        lines.on('line', (l) => {
          const msg = JSON.parse(l) as { ready?: boolean; scripted?: boolean; pong?: boolean } & Partial<PeerCall>;
          if (msg.ready) {
            clearTimeout(timer);
            resolve();
          } else if (msg.scripted) {
            peer.acked?.();
          } else if (msg.pong) {
            peer.ponged?.();
          } else if (msg.call) {
            peer.calls.push(msg as PeerCall);
          }
        });
      });
    } catch (err) {
      await peer.stop();
      throw err;
    }
    return peer;
  }

  /** Replaces the script (the last outcome of a list repeats) and forgets the calls so far. */
  async script(methods: Record<string, Outcome[]>): Promise<void> {
    const acked = new Promise<void>((r) => (this.acked = r));
    this.child.stdin!.write(`${JSON.stringify({ script: methods })}\n`);
    await acked;
    this.acked = undefined;
    this.calls.length = 0;
  }

  /**
   * Calls of `method` received since the last script(). The server prints a
   * call's line before it answers, and the line can still be in the pipe when
   * the answer has come back over RabbitMQ: a ping's answer, printed after,
   * means every line before it has been read.
   */
  async count(method: string): Promise<number> {
    return (await this.callsOf(method)).length;
  }

  async callsOf(method: string): Promise<PeerCall[]> {
    const ponged = new Promise<void>((r) => (this.ponged = r));
    this.child.stdin!.write(`${JSON.stringify({ ping: true })}\n`);
    await ponged;
    this.ponged = undefined;
    return this.calls.filter((c) => c.call === method);
  }

  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (!pid || !pidAlive(pid)) return;
    this.child.stdin?.end();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && pidAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}
