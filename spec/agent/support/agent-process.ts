/**
 * Runs the real `ovs-agent` command (bin/ovs-agent.ts through tsx, as
 * spec/agent/cli.spec.ts does) as a child process and reads its log from
 * stderr as JSON lines (`--use-json`, `use_stderr`: oslo.log's JSON keys,
 * read back as level/message/timestamp and the line's fields), for the
 * specs about the process itself: exit codes, signals, waits, the status socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const BIN = join(process.cwd(), 'bin/ovs-agent.ts');

export interface LogLine {
  level: string;
  message: string;
  timestamp: string;
  [meta: string]: unknown;
}

/** The keys of oslo.log's JSONFormatter read here (lib/logging/json-format.ts). */
interface OsloJsonLine {
  levelname: string;
  message: string;
  asctime: string;
  extra: Record<string, unknown>;
}

function logLine(j: OsloJsonLine): LogLine {
  const level = j.levelname === 'WARNING' ? 'warn' : j.levelname.toLowerCase();
  return { ...j.extra, level, message: j.message, timestamp: j.asctime };
}

/** Added to every command line: the log as JSON on stderr, as the specs read it. */
const LOG_ARGS = ['--use-json', '--set', 'DEFAULT.use_stderr=true'];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class AgentProcess {
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stderr += text;
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const p of parts) {
        try {
          this.lines.push(logLine(JSON.parse(p) as OsloJsonLine));
        } catch {
          // not a log line (e.g. `ovs-agent: ...` before the logger exists)
        }
      }
      this.wake();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      this.wake();
      resolve(this.exit);
    }));
  }

  /** `ovs-agent ARGS`; `umask` runs it under that umask (through sh). */
  static spawn(args: string[], opts: { env?: NodeJS.ProcessEnv; umask?: string } = {}): AgentProcess {
    const env = { ...process.env, ...opts.env };
    const argv = [process.execPath, '--import', 'tsx', BIN, ...args, ...LOG_ARGS];
    const child = opts.umask === undefined
      ? spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn('sh', ['-c', `umask ${opts.umask} && exec "$@"`, 'sh', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
    return new AgentProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The first log line matching, waiting up to `timeoutMs` for it; rejects with the log so far. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs: number, what = 'a log line'): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.find(match);
        if (found) {
          done();
          resolve(found);
        } else if (this.exit) {
          done();
          reject(new Error(`ovs-agent exited (${JSON.stringify(this.exit)}) before ${what}; stderr:\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; stderr so far:\n${this.stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves with the exit, or rejects if the process still runs after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    const r = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (!r) throw new Error(`ovs-agent still running ${timeoutMs} ms later; stderr:\n${this.stderr}`);
    return r;
  }

  /** Open file descriptors of the agent process. */
  fdCount(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** SIGKILL if still running; waits for the exit. */
  async kill(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Milliseconds between two log lines' timestamps. */
export function msBetween(a: LogLine, b: LogLine): number {
  return Date.parse(b.timestamp) - Date.parse(a.timestamp);
}
