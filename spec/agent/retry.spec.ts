import { expect } from 'chai';
import { ControlPlaneError, type ControlPlane } from '../../lib/control-plane/types.js';
import type { LocalControlPlane } from '../../lib/control-plane/local/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

/** The local control plane, with its first `n` device lookups that name `port` failing as an RPC timeout would. */
function flaky(cp: LocalControlPlane, port: string, failures: { left: number; calls: number }): ControlPlane {
  return new Proxy(cp, {
    get(target, prop, receiver) {
      if (prop === 'getDevicesDetails') {
        return async (devices: string[]) => {
          if (devices.includes(port)) failures.calls++;
          if (failures.left > 0 && devices.includes(port)) {
            failures.left--;
            throw new ControlPlaneError('injected RPC timeout', 'ERR_TEST_TIMEOUT', true);
          }
          return target.getDevicesDetails(devices);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('agent retries a failed pass @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness | undefined;
  beforeEach(async () => { sb = await OvsSandbox.start(); });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await sb.stop();
  });

  it('puts the ports of a failed pass back with backoff and wires them once the control plane answers; other ports are wired meanwhile', async () => {
    const failures = { left: 3, calls: 0 };
    h = new AgentHarness(sb, { wrapControlPlane: (cp) => flaky(cp, 'p1', failures) });
    h.writeState({
      networks: [{ id: 'n1', type: 'local' }],
      ports: [{ id: 'p1', mac: 'fa:16:3e:00:00:01', network: 'n1' }, { id: 'p2', mac: 'fa:16:3e:00:00:02', network: 'n1' }],
    });
    await h.start();
    await h.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
    await h.until(() => failures.calls >= 1, 'the first failed lookup of p1');
    // p1 waits for its retry (200, 400, 800 ms): p2, plugged now, is wired in a pass of its own meanwhile.
    await h.plug('tap2', 'p2', 'fa:16:3e:00:00:02');
    await h.until(() => h!.portState('p2') === 'ACTIVE', 'p2 ACTIVE while p1 is being retried');
    expect(h.portState('p1'), 'p1 still waiting for its retry').to.equal('WAITING');
    expect(failures.left, 'p1 has failures left').to.be.greaterThan(0);
    await h.until(() => h!.portState('p1') === 'ACTIVE', 'p1 ACTIVE after retries');
    expect(failures.calls, 'three failed lookups, then the one that worked').to.equal(4);
    const failed = h.passes.filter((p) => !p.ok);
    expect(failed).to.have.length(3);
    expect(failed[0].error?.message).to.include('injected RPC timeout');
    expect(h.cp.portStatus('p1')).to.equal('ACTIVE');
    expect(h.cp.portStatus('p2')).to.equal('ACTIVE');
  });

  it('arms the retry again when its timer fires before the port is due by the wall clock', async () => {
    // libuv starts a timer from the loop's cached time, so it can fire a little before Date.now() reaches the
    // retry's time; here the wall clock is set back 100 ms after the failure, which makes that certain.
    const failures = { left: 1, calls: 0 };
    h = new AgentHarness(sb, { wrapControlPlane: (cp) => flaky(cp, 'p1', failures) });
    h.writeState({ networks: [{ id: 'n1', type: 'local' }], ports: [{ id: 'p1', mac: 'fa:16:3e:00:00:01', network: 'n1' }] });
    await h.start();
    const realNow = Date.now;
    try {
      await h.plug('tap1', 'p1', 'fa:16:3e:00:00:01');
      await h.until(() => h!.passes.some((p) => !p.ok), 'the failed pass');
      Date.now = () => realNow() - 100;
      await h.until(() => h!.portState('p1') === 'ACTIVE', 'p1 ACTIVE after its retry', 5_000);
    } finally {
      Date.now = realNow;
    }
    expect(failures.calls).to.equal(2);
  });
});
