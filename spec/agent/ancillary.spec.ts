import { expect } from 'chai';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

describe('agent ancillary bridges @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let h: AgentHarness | undefined;
  before(async () => { sb = await OvsSandbox.start(); });
  after(async () => {
    await h?.stop();
    await sb.stop();
  });

  it("reports a VIF on an ancillary bridge (external_ids:bridge-id = its name) up and down without wiring it", async () => {
    await sb.vsctl('add-br', 'br-ex', '--', 'set', 'bridge', 'br-ex', 'datapath_type=netdev', 'external_ids:bridge-id=br-ex');
    h = new AgentHarness(sb);
    h.writeState({ networks: [], ports: [] });
    await h.start();
    expect(h.agent.status().ancillaryBridges).to.deep.equal(['br-ex']);
    await h.plug('qg-1', 'router-gw-port', 'fa:16:3e:00:00:0e', 'br-ex');
    await h.until(() => h!.cp.portStatus('router-gw-port') === 'ACTIVE', 'reported up');
    expect(h.agent.port('router-gw-port'), 'not wired as a br-int port').to.equal(undefined);
    expect((await sb.vsctl('get', 'Port', 'qg-1', 'tag')).trim()).to.equal('[]');
    await h.unplug('qg-1', 'br-ex');
    await h.until(() => h!.cp.portStatus('router-gw-port') === 'DOWN', 'reported down');
  });
});
