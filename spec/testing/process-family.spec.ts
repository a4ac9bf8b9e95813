import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants } from '../../testing/neutron-env.js';
import { pidAlive } from '../../testing/sandbox.js';
import { stopFamily } from '../../testing/process-family.js';

const holder = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hold-family.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 150 && pidAlive(pid); i++) await sleep(20);
  return !pidAlive(pid);
}

async function grandchildOf(pid: number): Promise<number> {
  for (let i = 0; i < 250; i++) {
    const [g] = descendants(pid);
    if (g) return g;
    await sleep(20);
  }
  throw new Error(`no child of ${pid} appeared`);
}

describe('testing/process-family: a started process and what it forked, stopped by pid', function () {
  this.timeout(20_000);

  it('stopFamily: SIGTERM to the process and its descendants, SIGKILL to those that ignore it', async () => {
    // sh ignores SIGTERM and so does the sleep it forks (an ignored signal stays ignored across exec).
    const child = spawn('sh', ['-c', 'trap "" TERM; sleep 300 & wait'], { stdio: 'ignore' });
    const grandchild = await grandchildOf(child.pid!);
    await stopFamily(child.pid, 300);
    expect(pidAlive(child.pid!), 'sh').to.equal(false);
    expect(pidAlive(grandchild), 'its sleep').to.equal(false);
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`FamilyOf.track: the family is stopped when its owner gets ${sig}`, async () => {
      const owner = spawn(process.execPath, ['--import', 'tsx', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<void>((r) => owner.once('exit', () => r()));
      const held = await new Promise<{ child: number; grandchild: number }>((resolve, reject) => {
        let out = '';
        owner.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as { child: number; grandchild: number });
        });
        owner.once('exit', (code, s) => reject(new Error(`holder exited early (${code ?? s})`)));
      });
      try {
        owner.kill(sig);
        await exited;
        expect(await gone(held.child), 'its child (sh)').to.equal(true);
        expect(await gone(held.grandchild), 'its grandchild (sleep)').to.equal(true);
      } finally {
        for (const p of [held.child, held.grandchild]) if (pidAlive(p)) process.kill(p, 'SIGKILL');
      }
    });
  }
});
