/**
 * `ovs-agent flows` against a real Open vSwitch: the running agent's flows
 * for a port, by intention, compared with the switch. A flow deleted, one
 * changed and a foreign one added with ovs-ofctl (the oracle) behind the
 * agent's back are reported; --repair puts the switch back as the agent
 * wants it, which ovs-ofctl then shows.
 */
import { expect } from 'chai';
import { askAgent } from '../../lib/agent/status-socket.js';
import type { FlowReport, ReportedFlow } from '../../lib/observe/flow-report.js';
import type { OvsSandbox } from '../../testing/sandbox.js';
import { cli, twoPortAgent, type TwoPorts } from './support/two-ports.js';
import { flowText, parseDumpLine } from '../support/dump-lines.js';

describe('ovs-agent flows @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;
  let socket: string;
  let fixture: TwoPorts | undefined;

  before(async () => {
    fixture = await twoPortAgent();
    ({ sb, socket } = fixture);
  });
  after(async () => {
    await fixture?.stop();
  });

  const flows = (req: { port?: string; repair?: boolean } = {}) => askAgent<FlowReport>(socket, { command: 'flows', ...req }, 30_000);
  const dumpTexts = async (bridge: string) => (await sb.ofctl('-O', 'OpenFlow13', '--no-names', 'dump-flows', bridge)).split('\n')
    .flatMap((l) => { const d = parseDumpLine(l); return d ? [flowText(d.flow)] : []; });
  const owned = (r: FlowReport, owner: string): ReportedFlow[] =>
    r.bridges.flatMap((b) => b.owners).find((o) => o.owner === owner)?.flows ?? [];

  it('lists a port\'s flows by intention, all installed, and every flow of the agent\'s bridges with no drift', async () => {
    const r = await flows({ port: 'tap1' });
    expect(r.port).to.include({ portId: 'port-1', name: 'tap1', state: 'ACTIVE', networkId: 'net-a' });
    expect(r.drift).to.deep.equal({ missing: 0, changed: 0, unexpected: 0 });
    const owners = r.bridges.flatMap((b) => b.owners.map((o) => `${b.bridge} ${o.owner} ${o.intention.group}`));
    expect(owners).to.include.members(['br-int fw|p|port-1 firewall', 'br-int net:net-a network', 'br-eth1 net:net-a network']);
    expect(owners.join('\n')).not.to.contain('port-2');
    const fw = owned(r, 'fw|p|port-1');
    expect(fw.length).to.be.greaterThan(5);
    expect(fw.every((f) => f.state === 'installed')).to.equal(true);
    // What the agent says is installed is what ovs-ofctl dumps.
    const held = new Set(await dumpTexts('br-int'));
    for (const f of fw) expect(held.has(f.flow), f.flow).to.equal(true);

    const all = await flows();
    expect(all.drift).to.deep.equal({ missing: 0, changed: 0, unexpected: 0 });
    expect(all.bridges.find((b) => b.bridge === 'br-int')!.owners.map((o) => o.owner)).to.include.members(['fw|p|port-1', 'fw|p|port-2', 'setup', 'canary']);
  });

  it('reports a flow deleted, one changed and one added behind its back; --repair puts the switch back', async () => {
    const fw = owned(await flows({ port: 'port-1' }), 'fw|p|port-1');
    const gone = fw[0].flow;
    const changed = fw[1].flow;
    const strict = (text: string) => text.slice(0, text.indexOf(' actions=')).replace(', ', ',');
    await sb.ofctl('-O', 'OpenFlow13', '--strict', 'del-flows', 'br-int', strict(gone));
    await sb.ofctl('-O', 'OpenFlow13', '--strict', 'mod-flows', 'br-int', `${strict(changed)},actions=drop`);
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br-int', 'table=0,priority=4242,in_port=4242,actions=drop');

    const r = await flows({ port: 'port-1' });
    expect(r.drift).to.deep.equal({ missing: 1, changed: 1, unexpected: 0 });
    const states = owned(r, 'fw|p|port-1');
    expect(states.find((f) => f.flow === gone)?.state).to.equal('missing');
    const c = states.find((f) => f.flow === changed)!;
    expect(c.state).to.equal('changed');
    expect(c.installed).to.match(/actions=drop/);
    // All flows: the foreign one too.
    const all = await flows();
    expect(all.drift).to.deep.equal({ missing: 1, changed: 1, unexpected: 1 });
    expect(all.bridges.find((b) => b.bridge === 'br-int')!.unexpected.join('\n')).to.contain('priority=4242');

    // The command as a user runs it: the drift shown, exit 1.
    const shown = await cli('flows', 'tap1', '--status-socket', socket);
    expect(shown.code, shown.err).to.equal(1);
    expect(shown.out).to.contain('DRIFT: 1 missing, 1 changed, 0 unexpected');
    expect(shown.out).to.contain(`- ${gone}  (MISSING)`);
    expect(shown.out).to.contain('security-group filter of port port-1 [fw|p|port-1]');

    const repaired = await cli('flows', '--repair', '--status-socket', socket);
    expect(repaired.code, repaired.err + repaired.out).to.equal(0);
    expect(repaired.out).to.contain('repaired: 1 missing and 1 changed flows put back, 1 unexpected removed');
    expect(repaired.out).to.contain('no drift');
    const held = await dumpTexts('br-int');
    expect(held).to.include.members([gone, changed]);
    expect(held.join('\n')).not.to.contain('priority=4242');
    expect((await flows()).drift).to.deep.equal({ missing: 0, changed: 0, unexpected: 0 });
  });

  it('an unknown port is an error naming it', async () => {
    const err = await flows({ port: 'no-such-port' }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.contain('no port no-such-port on this host');
    const shown = await cli('flows', 'no-such-port', '--status-socket', socket);
    expect(shown.code).to.equal(1);
    expect(shown.err).to.contain('no port no-such-port on this host');
  });
});
