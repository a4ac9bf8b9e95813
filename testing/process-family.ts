/**
 * A process a test or benchmark started and everything it forked (its
 * family: descendants found in /proc by parent pid), stopped together and by
 * pid. neutron-openvswitch-agent forks privsep daemons that do not all end
 * with it, and ours its sd_notify relay: signalling only the top pid can
 * leave them running.
 *
 * `FamilyOf.track(child)` also stops the family, at once with SIGKILL, when
 * the process that started it exits or gets SIGINT/SIGTERM (then re-raised,
 * so its exit status tells the truth), as OvsSandbox and NeutronEnv do for
 * their daemons: an interrupted benchmark leaves no agent behind.
 */
import type { ChildProcess } from 'node:child_process';
import { descendants } from './neutron-env.js';
import { pidAlive } from './sandbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long the family gets to exit after SIGTERM before SIGKILL. */
export const FAMILY_GRACE_MS = 15_000;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** The pid and its descendants, as they are now. */
export function familyOf(pid: number): number[] {
  return [pid, ...descendants(pid)];
}

/**
 * SIGTERM to the process and to what it forked, SIGKILL to whatever is left
 * after `graceMs`; resolves once all are gone (a zombie counts as gone).
 */
export async function stopFamily(pid: number | undefined, graceMs = FAMILY_GRACE_MS): Promise<void> {
  if (!pid) return;
  const family = familyOf(pid);
  for (const p of family) if (pidAlive(p)) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && family.some(pidAlive)) await sleep(50);
  for (const p of family) if (pidAlive(p)) signal(p, 'SIGKILL');
  while (family.some(pidAlive)) await sleep(20);
}

/** SIGKILL to the process and what it forked, now (exit hooks cannot wait). */
export function killFamilySync(pid: number): void {
  for (const p of familyOf(pid)) signal(p, 'SIGKILL');
}

const live = new Set<FamilyOf>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const f of live) f.killSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const f of live) f.killSync();
      process.kill(process.pid, sig);
    });
  }
}

/** A started child whose family is stopped with it, and on this process's exit or interruption. */
export class FamilyOf {
  private constructor(readonly pid: number) {}

  static track(child: ChildProcess): FamilyOf {
    if (child.pid === undefined) throw new Error('the process did not start');
    const f = new FamilyOf(child.pid);
    live.add(f);
    installHooks();
    return f;
  }

  /** SIGTERM to all, SIGKILL after `graceMs` (stopFamily); no longer tracked once gone. */
  async stop(graceMs = FAMILY_GRACE_MS): Promise<void> {
    try {
      await stopFamily(this.pid, graceMs);
    } finally {
      live.delete(this);
    }
  }

  killSync(): void {
    killFamilySync(this.pid);
  }
}
