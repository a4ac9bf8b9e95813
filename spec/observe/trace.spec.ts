/**
 * `ovs-agent trace` against a real Open vSwitch: ovs-vswitchd's own
 * ofproto/trace, asked over its control socket by the running agent, each
 * flow the packet crossed annotated with what it is for. Two ports on one
 * network, a security group letting TCP 22 in: a packet to port 22 of the
 * other port is delivered through its filter, one to port 80 dropped.
 */
import { expect } from 'chai';
import type { TraceAnswer } from '../../lib/agent/flows-command.js';
import type { RunningAgent } from '../../lib/agent/run.js';
import { askAgent } from '../../lib/agent/status-socket.js';
import { cli, twoPortAgent, type TwoPorts } from './support/two-ports.js';

describe('ovs-agent trace @integration', function () {
  this.timeout(90_000);
  let running: RunningAgent;
  let socket: string;
  let fixture: TwoPorts | undefined;

  before(async () => {
    fixture = await twoPortAgent();
    ({ running, socket } = fixture);
  });
  after(async () => {
    await fixture?.stop();
  });

  const trace = (flow: string) => askAgent<TraceAnswer>(socket, { command: 'trace', port: 'tap1', flow }, 30_000);
  const tcpTo = (port: number) => `tcp,dl_dst=fa:16:3e:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=${port}`;

  it('allowed by the security group: delivered to the other port through its filter, each flow said what it is for', async () => {
    const t = await trace(tcpTo(22));
    expect(t.traced).to.contain('in_port=').and.contain('dl_src=fa:16:3e:00:00:01');
    expect(t.trace).to.contain('# firewall: security-group filter of port port-1 [fw|p|port-1]');
    expect(t.trace).to.contain('# firewall: security-group filter of port port-2 [fw|p|port-2]');
    expect(t.trace).not.to.contain('not in the agent\'s flow table');
    const ofport2 = running.agent.port('port-2')!.ofport;
    expect(t.trace).to.match(new RegExp(`output:${ofport2}\\b`));
  });

  it('denied by the security group: dropped', async () => {
    const t = await trace(tcpTo(80));
    expect(t.trace).to.match(/Datapath actions: drop/);
    // The verdict's flow: the firewall's drop table, reached from port-2's ingress filter.
    expect(t.trace).to.match(/93\. priority 0, cookie 0x[0-9a-f]+\n {4}# firewall: the firewall's base flows \[fw\|init\]\n {4}drop/);
    expect(t.trace).to.contain('# firewall: security-group filter of port port-2 [fw|p|port-2]');
  });

  it('the command as a user runs it: the trace annotated; an unknown port named', async () => {
    const shown = await cli('trace', 'port-1', tcpTo(22), '--status-socket', socket);
    expect(shown.code, shown.err).to.equal(0);
    expect(shown.out).to.contain('ofproto/trace br-int tcp,dl_dst=fa:16:3e:00:00:02');
    expect(shown.out).to.contain('# firewall: security-group filter of port port-2 [fw|p|port-2]');
    expect(shown.out).to.match(/Datapath actions: ct\(commit,zone=\d+\),\d+/);
    const unknown = await cli('trace', 'nope', '--status-socket', socket);
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain('no port nope on this host');
  });
});
