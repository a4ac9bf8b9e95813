import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OvsSandbox, pidAlive } from '../../testing/sandbox.js';

const holder = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hold-sandbox.ts');

interface Held {
  dir: string;
  pids: { ovsdbServer: number; ovsVswitchd: number };
}

/** Runs the holder in a child process and resolves once its sandbox is up. */
function holdSandbox(): Promise<{ held: Held; child: ReturnType<typeof spawn>; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ held: JSON.parse(out.slice(0, nl)) as Held, child, exited });
    });
    child.once('exit', (code, sig) => reject(new Error(`holder exited early (${code ?? sig})`)));
  });
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !pidAlive(pid);
}

describe('OvsSandbox cleanup when its process is interrupted @integration', function () {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops the daemons and removes the dir on ${sig}`, async () => {
      const { held, child, exited } = await holdSandbox();
      expect(pidAlive(held.pids.ovsdbServer)).to.equal(true);
      expect(pidAlive(held.pids.ovsVswitchd)).to.equal(true);
      child.kill(sig);
      await exited;
      expect(await gone(held.pids.ovsdbServer), 'ovsdb-server stopped').to.equal(true);
      expect(await gone(held.pids.ovsVswitchd), 'ovs-vswitchd stopped').to.equal(true);
      expect(existsSync(held.dir), 'dir removed').to.equal(false);
    });
  }

  it('reaps the daemons of a sandbox whose owner was SIGKILLed', async () => {
    const { held, child, exited } = await holdSandbox();
    child.kill('SIGKILL');
    await exited;
    // No exit hook ran: the daemons are orphaned but still ours, recorded in the dir.
    expect(pidAlive(held.pids.ovsVswitchd)).to.equal(true);
    OvsSandbox.reapStale();
    expect(await gone(held.pids.ovsdbServer)).to.equal(true);
    expect(await gone(held.pids.ovsVswitchd)).to.equal(true);
    expect(existsSync(held.dir)).to.equal(false);
  });
});
