import { expect } from 'chai';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from '../agent/support/harness.js';
import { portQos } from './support.js';

/**
 * A port is never reported up before its QoS is on the switch (docs/qos.md,
 * "When it is applied"): while writing its rows fails, the port is retried
 * and stays off ACTIVE; once the write goes through it is reported up with
 * its rows in place.
 */
const POLICY = 'e0000000-0000-4000-8000-000000000001';
const PORT = 'e0000000-0000-4000-8000-0000000000a1';
const MAC = 'fa:16:3e:00:03:01';

describe('qos extension: fail closed @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness;
  let failures = 0;
  /** The port's state each time a QoS write was refused. */
  const statesWhenRefused: Array<string | undefined> = [];

  before(async () => {
    sb = await OvsSandbox.start();
    h = new AgentHarness(sb, {
      overrides: { 'agent.extensions': 'qos' },
      wrapDb: (db) => {
        const write = db.applyQos.bind(db);
        db.applyQos = async (writes, keep) => {
          if (writes.some((w) => w.settings?.egress) && failures < 2) {
            failures++;
            statesWhenRefused.push(h.portState(PORT));
            throw new Error('injected: the QoS transaction failed');
          }
          return write(writes, keep);
        };
        return db;
      },
    });
    h.writeState({
      networks: [{ id: 'net-f', type: 'local' }],
      ports: [{ id: PORT, mac: MAC, network: 'net-f', qosPolicyId: POLICY }],
      qosPolicies: [{ id: POLICY, rules: [{ type: 'bandwidth_limit', maxKbps: 3000, maxBurstKbps: 300, direction: 'egress' }] }],
    });
    await h.start();
  });
  after(async () => {
    await h?.stop();
    await sb?.stop();
  });

  it('keeps the port off ACTIVE while its QoS cannot be written, then reports it up with its rows', async () => {
    await h.plug('tapf1', PORT, MAC);
    await h.until(() => failures >= 2, 'two refused QoS writes');
    expect(statesWhenRefused).to.not.include('ACTIVE');
    expect(h.portState(PORT)).to.not.equal('ACTIVE');
    expect(h.cp.portStatus(PORT)).to.equal(undefined);
    await h.until(() => h.portState(PORT) === 'ACTIVE', 'the port ACTIVE once the write goes through', 30_000);
    expect((await portQos(sb, 'tapf1')).policing).to.deep.equal({ rate: 3000, burst: 300 });
    expect(h.cp.portStatus(PORT)).to.equal('ACTIVE');
  });
});
