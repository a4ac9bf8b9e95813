/**
 * Runs the netfilter tools (iptables-restore, ipset, conntrack) with their
 * input on stdin; a failure is a typed error naming the command, its exit
 * status and what it printed.
 */
import { spawn } from 'node:child_process';

export class NetfilterCommandError extends Error {
  override readonly name = 'NetfilterCommandError';
  readonly code = 'FW_NETFILTER_COMMAND';
  constructor(readonly command: string[], readonly status: number | null, readonly stderr: string) {
    super(`${command.join(' ')} failed (exit ${status ?? 'signal'}): ${stderr.trim().slice(0, 2000)}`);
  }
}

/** Runs a command; `prefix` (e.g. `ip netns exec NS`) runs it elsewhere (tests). Resolves stdout. */
export type Runner = (argv: string[], input?: string, okStatus?: readonly number[]) => Promise<string>;

export function commandRunner(prefix: readonly string[] = []): Runner {
  return (argv, input, okStatus = [0]) => new Promise((resolve, reject) => {
    const full = [...prefix, ...argv];
    const child = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new NetfilterCommandError(full, null, e.message)));
    child.on('close', (status) => {
      if (status !== null && okStatus.includes(status)) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new NetfilterCommandError(full, status, Buffer.concat(err).toString('utf8')));
    });
    child.stdin.on('error', () => {}); // a command that exits early: its status says why
    child.stdin.end(input ?? '');
  });
}
