/**
 * The os-ken peer of bench/openflow.ts: runs bench/peers/osken_install.py
 * under Debian's os-ken (`osken-manager`, system Python) as an OpenFlow 1.3
 * controller the bridge connects to, and asks it to install the bench's flows.
 *
 * The flows reach Python as JSON converted from the very FlowMods the bench
 * installs itself (os-ken's field names), so both sides send the same
 * matches and actions; os-ken builds its OFPFlowMod objects from them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Action, FlowMod, Instruction } from '@ovs-agent/openflow';
import { pidAlive } from '../../testing/sandbox.js';

const PYTHON = '/usr/bin/python3';
const MANAGER = '/usr/bin/osken-manager';
const APP = fileURLToPath(new URL('./osken_install.py', import.meta.url));

/** Our field names where os-ken's differ (it uses the OpenFlow spec's). */
const OSKEN_FIELD: Readonly<Record<string, string>> = { ip_src: 'ipv4_src', ip_dst: 'ipv4_dst' };

type Json = number | string | Json[] | { [k: string]: Json };

function jsonValue(v: unknown, where: string): Json {
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (typeof v === 'object' && v !== null && 'value' in v && 'mask' in v) {
    return [jsonValue(v.value, where), jsonValue(v.mask, where)];
  }
  throw new Error(`os-ken peer: cannot pass ${where} = ${String(v)}`);
}

function actionJson(a: Action): Json {
  switch (a.type) {
    case 'output': return { type: 'output', port: a.port, max_len: a.maxLen };
    case 'push_vlan': return { type: 'push_vlan', ethertype: a.ethertype };
    case 'pop_vlan': return { type: 'pop_vlan' };
    case 'set_field':
      if (a.mask !== undefined) throw new Error('os-ken peer: masked set_field is not mapped');
      return { type: 'set_field', field: OSKEN_FIELD[a.field] ?? a.field, value: jsonValue(a.value, a.field) };
    default: throw new Error(`os-ken peer: action ${a.type} is not mapped`);
  }
}

function instructionJson(i: Instruction): Json {
  switch (i.type) {
    case 'apply_actions': return { type: 'apply_actions', actions: i.actions.map(actionJson) };
    case 'goto_table': return { type: 'goto_table', table_id: i.tableId };
    default: throw new Error(`os-ken peer: instruction ${i.type} is not mapped`);
  }
}

/** The flows as osken_install.py reads them; only adds, the shapes the bench uses (anything else throws). */
export function writeOskenFlows(path: string, flows: readonly FlowMod[]): void {
  const specs = flows.map((f): Json => {
    if (f.command !== 'add') throw new Error(`os-ken peer: only adds are mapped, not ${f.command}`);
    const match: Record<string, Json> = {};
    for (const [k, v] of Object.entries(f.match)) match[OSKEN_FIELD[k] ?? k] = jsonValue(v, k);
    return {
      cookie: f.cookie.toString(), table_id: f.tableId, priority: f.priority, flags: f.flags,
      match, instructions: f.instructions.map(instructionJson),
    };
  });
  writeFileSync(path, JSON.stringify(specs));
}

/** A free TCP port on loopback (bound and released: the peer binds it next). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
  await new Promise((r) => probe.close(r));
  return port;
}

export interface OskenInstall {
  /** From just before os-ken's first send to its barrier reply, as timed inside the app. */
  seconds: number;
}

interface Event {
  event: string;
  [k: string]: unknown;
}

export class OskenPeer {
  private readonly lines: Event[] = [];
  private waiter: ((e: Event | Error) => void) | undefined;
  private stderr = '';
  private exited: Error | undefined;

  private constructor(private readonly child: ChildProcess, readonly port: number) {
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        this.push(JSON.parse(line) as Event);
      }
    });
    // Kept short: os-ken logs every connection; the tail explains a failure.
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr = (this.stderr + chunk).slice(-4000); });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`os-ken exited (${signal ?? code}); stderr: ${this.stderr.trim()}`);
      this.waiter?.(this.exited);
    });
  }

  /** Starts osken-manager on a free loopback port with the flows file; the bridge must then be pointed at `tcp:127.0.0.1:port`. */
  static async start(flowsFile: string): Promise<OskenPeer> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, OSKEN_BENCH_FLOWS: flowsFile };
    delete env.PYTHONPATH;
    delete env.PYTHONHOME;
    const child = spawn(PYTHON, [MANAGER, '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), APP],
      { env, stdio: ['pipe', 'pipe', 'pipe'] });
    await new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', fail);
    });
    return new OskenPeer(child, port);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private push(e: Event): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(e);
    } else {
      this.lines.push(e);
    }
  }

  private next(timeoutMs: number, what: string): Promise<Event> {
    const queued = this.lines.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        fail(new Error(`os-ken: no ${what} within ${timeoutMs / 1000} s; stderr: ${this.stderr.trim()}`));
      }, timeoutMs);
      this.waiter = (e) => {
        clearTimeout(timer);
        if (e instanceof Error) fail(e);
        else ok(e);
      };
    });
  }

  private async expect(event: string, timeoutMs: number): Promise<Event> {
    const e = await this.next(timeoutMs, event);
    if (e.event !== event) throw new Error(`os-ken: expected ${event}, got ${JSON.stringify(e)}`);
    return e;
  }

  /** Waits until the bridge has connected and the app has built its flow-mods; returns the build time in seconds. */
  async ready(timeoutMs = 180_000): Promise<{ flows: number; buildSeconds: number }> {
    const e = await this.expect('ready', timeoutMs);
    return { flows: Number(e.flows), buildSeconds: Number(e.build_seconds) };
  }

  /** One install of every flow, ending with the barrier reply; throws if the switch sent errors. */
  async install(timeoutMs = 600_000): Promise<OskenInstall> {
    this.child.stdin!.write('run\n');
    const e = await this.expect('done', timeoutMs);
    if (Number(e.errors) > 0) throw new Error(`os-ken: the switch sent ${String(e.errors)} errors, first ${JSON.stringify(e.first_error)}`);
    return { seconds: Number(e.seconds) };
  }

  /** Stops the process by pid: SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    this.child.stdin?.destroy();
    if (pid === undefined || this.exited) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 30 && pidAlive(pid) && !this.exited; i++) await new Promise((r) => setTimeout(r, 100));
    if (!this.exited && pidAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
