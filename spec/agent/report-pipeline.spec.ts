import { expect } from 'chai';
import { ControlPlaneError, type ControlPlane, type UpdateDeviceListReply } from '../../lib/control-plane/types.js';
import type { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

interface Call { up: string[]; down: string[] }

/**
 * The local control plane with update_device_list held until the test
 * releases it, as a busy neutron-server would hold it, or failing once.
 */
class SlowReports {
  readonly calls: Call[] = [];
  private gates: Array<() => void> = [];
  hold = true;
  failNext = false;

  wrap(cp: LocalControlPlane): ControlPlane {
    return new Proxy(cp, {
      get: (target, prop, receiver) => {
        if (prop === 'updateDeviceList') {
          return async (up: string[], down: string[]): Promise<UpdateDeviceListReply> => {
            this.calls.push({ up: [...up].sort(), down: [...down].sort() });
            if (this.hold) await new Promise<void>((r) => this.gates.push(r));
            if (this.failNext) {
              this.failNext = false;
              throw new ControlPlaneError('injected RPC timeout', 'ERR_TEST_TIMEOUT', true);
            }
            return target.updateDeviceList(up, down);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  release(): void {
    this.hold = false;
    for (const g of this.gates.splice(0)) g();
  }
}

const MAC = (n: number) => `fa:16:3e:00:00:0${n}`;

describe('agent reports ports behind the wiring @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness | undefined;
  let slow: SlowReports;

  beforeEach(async () => {
    sb = await OvsSandbox.start();
    slow = new SlowReports();
    h = new AgentHarness(sb, { wrapControlPlane: (cp) => slow.wrap(cp) });
    h.writeState({
      networks: [{ id: 'n1', type: 'local' }],
      ports: [1, 2, 3].map((n) => ({ id: `p${n}`, mac: MAC(n), network: 'n1' })),
    });
  });
  afterEach(async () => {
    slow.release();
    await h?.stop();
    h = undefined;
    await sb.stop();
  });

  const wiredBy = (id: string) => h!.passes.some((p) => p.up.includes(id));

  it('wires a port plugged while the server is still answering for another, and reports it at once in a call of its own', async () => {
    await h!.start();
    await h!.plug('tap1', 'p1', MAC(1));
    await h!.until(() => slow.calls.length === 1, 'the first report');
    expect(slow.calls[0]).to.deep.equal({ up: ['p1'], down: [] });

    // The first call is still out: p2 is wired all the same (a pass ends with its tag in OVSDB).
    await h!.plug('tap2', 'p2', MAC(2));
    await h!.until(() => wiredBy('p2'), 'p2 wired while p1 is being reported');
    const tag = (await sb.vsctl('get', 'Port', 'tap2', 'tag')).trim();
    expect(Number(tag)).to.be.within(1, 4094);
    // Sent at once, next to the call still out: the agent's part ends when the server has the news.
    await h!.until(() => slow.calls.length === 2, 'the second report');
    expect(slow.calls[1]).to.deep.equal({ up: ['p2'], down: [] });
    expect(h!.portState('p1')).to.equal('WAITING');
    expect(h!.portState('p2')).to.equal('WAITING');

    slow.release();
    await h!.until(() => h!.portState('p1') === 'ACTIVE' && h!.portState('p2') === 'ACTIVE', 'both ACTIVE');
    expect(slow.calls).to.deep.equal([{ up: ['p1'], down: [] }, { up: ['p2'], down: [] }]);
    expect(h!.cp.portStatus('p1')).to.equal('ACTIVE');
    expect(h!.cp.portStatus('p2')).to.equal('ACTIVE');
  });

  it('keeps a port\'s statuses in order: its down waits for the answer to its up', async () => {
    await h!.start();
    await h!.plug('tap1', 'p1', MAC(1));
    await h!.until(() => slow.calls.length === 1, 'the first report');
    await h!.plug('tap3', 'p3', MAC(3));
    await h!.until(() => wiredBy('p3'), 'p3 wired');
    await h!.unplug('tap3');
    await h!.until(() => h!.passes.some((p) => p.removed.includes('p3')), 'p3 removed');
    // The pass hands its statuses to the reporter, which sends them in a microtask: done by the time `until` saw the pass.
    expect(slow.calls, 'p3 down held back while its up is out').to.deep.equal([{ up: ['p1'], down: [] }, { up: ['p3'], down: [] }]);

    slow.release();
    await h!.agent.whenIdle();
    expect(slow.calls).to.deep.equal([{ up: ['p1'], down: [] }, { up: ['p3'], down: [] }, { up: [], down: ['p3'] }]);
    expect(h!.portState('p1')).to.equal('ACTIVE');
    expect(h!.portState('p3')).to.equal(undefined);
    expect(h!.cp.portStatus('p3')).to.not.equal('ACTIVE');
  });

  it('retries a report that failed as a whole, without re-wiring the port', async () => {
    slow.hold = false;
    slow.failNext = true;
    await h!.start();
    await h!.plug('tap1', 'p1', MAC(1));
    await h!.until(() => h!.portState('p1') === 'ACTIVE', 'p1 ACTIVE after the retried report', 20_000);
    expect(slow.calls).to.deep.equal([{ up: ['p1'], down: [] }, { up: ['p1'], down: [] }]);
    expect(h!.passes.filter((p) => p.up.includes('p1')), 'wired in one pass').to.have.length(1);
    expect(h!.passes.filter((p) => !p.ok), 'no pass failed: only the report was retried').to.have.length(0);
  });
});
