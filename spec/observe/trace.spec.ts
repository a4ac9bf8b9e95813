/**
 * `ovs-agent trace` against a real Open vSwitch: ovs-vswitchd's own
 * ofproto/trace, asked over its control socket by the running agent, each
 * flow the packet crossed annotated with what it is for (down to the
 * security-group rule and its group), and the verdict. The agent
 * (support/two-ports.ts, `wide`): port-1 and port-2 on VLAN network net-a
 * with a group letting TCP 22 in (rule-ssh) and everything out (rule-out),
 * port-3 on VLAN network net-b, port-4 on VXLAN network net-t whose other
 * port l2pop puts behind host 192.0.2.2, port-6 dead (admin down). The
 * oracle for each verdict is ovs-appctl's own trace of the same packet
 * (its datapath actions) and OVSDB (ofports, tags).
 */
import { expect } from 'chai';
import type { TraceAnswer } from '../../lib/agent/trace-command.js';
import type { RunningAgent } from '../../lib/agent/run.js';
import { askAgent } from '../../lib/agent/status-socket.js';
import type { OvsSandbox } from '../../testing/sandbox.js';
import { cli, twoPortAgent, type TwoPorts } from './support/two-ports.js';

describe('ovs-agent trace @integration', function () {
  this.timeout(90_000);
  let running: RunningAgent;
  let sb: OvsSandbox;
  let socket: string;
  let fixture: TwoPorts | undefined;

  before(async () => {
    fixture = await twoPortAgent({ wide: true });
    ({ running, socket, sb } = fixture);
  });
  after(async () => {
    await fixture?.stop();
  });

  const trace = (flow: string, port = 'tap1') => askAgent<TraceAnswer>(socket, { command: 'trace', port, flow }, 30_000);
  const tcp = (from: number, to: number, port: number) =>
    `tcp,dl_dst=fa:16:3e:00:00:0${to},nw_src=10.0.0.${from},nw_dst=10.0.0.${to},tp_dst=${port}`;
  const ofport = async (tap: string) => Number((await sb.vsctl('get', 'Interface', tap, 'ofport')).trim());
  /** ovs-appctl's trace of the same packet (the oracle): its last datapath actions. */
  const oracle = async (t: TraceAnswer) => {
    const [, bridge, flow] = /^ofproto\/trace (\S+) (\S+)$/.exec(t.traced)!;
    const text = await sb.appctl('ovs-vswitchd', 'ofproto/trace', bridge, flow);
    return [...text.matchAll(/^Datapath actions: (.*)$/gm)].pop()![1];
  };
  const odpOf = async (name: string) => Number(new RegExp(`^\\s+${name} \\d+/(\\d+):`, 'm').exec(await sb.appctl('ovs-vswitchd', 'dpif/show'))![1]);

  it('same network, allowed by security-group rule X of group Y: delivered to the other port, each flow said what it is for', async () => {
    const t = await trace(tcp(1, 2, 22));
    expect(t.traced).to.contain('in_port=').and.contain('dl_src=fa:16:3e:00:00:01');
    expect(t.trace).to.contain('# firewall: security-group filter of port port-1 [fw|p|port-1]');
    expect(t.trace).to.contain('# firewall: security-group rule rule-out of group sg-1 (egress IPv4 any protocol), in the security-group filter of port port-1 [fw|p|port-1]');
    expect(t.trace).to.contain('# firewall: security-group rule rule-ssh of group sg-1 (ingress IPv4 tcp 22), in the security-group filter of port port-2 [fw|p|port-2]');
    expect(t.trace).not.to.contain('not in the agent\'s flow table');
    const of2 = await ofport('tap2');
    expect(t.trace).to.match(new RegExp(`output:${of2}\\b`));
    expect(t.verdict).to.have.length(1);
    expect(t.verdict[0]).to.match(new RegExp(`^delivered to port port-2 \\(tap2, ofport ${of2}\\), by br-int table 82 priority 77 .*: firewall: security-group rule rule-ssh of group sg-1`));
    expect(await oracle(t)).to.match(new RegExp(`,${await odpOf('tap2')}$`));
  });

  it('denied by the security group: dropped by the firewall\'s drop flow, reached from the other port\'s filter', async () => {
    const t = await trace(tcp(1, 2, 80));
    expect(t.trace).to.match(/Datapath actions: drop/);
    expect(t.trace).to.match(/93\. priority 0, cookie 0x[0-9a-f]+\n {4}# firewall: the firewall's base flows \[fw\|init\]\n {4}drop/);
    expect(t.verdict[0]).to.equal('dropped by br-int table 93 priority 0: firewall: the firewall\'s base flows [fw|init]');
    expect(t.verdict[1]).to.match(/^ {2}reached from br-int table 82 priority \d+ \(.*reg5=0x[0-9a-f]+.*\): firewall: security-group filter of port port-2 \[fw\|p\|port-2\]$/);
    expect(t.verdict[2]).to.equal('not delivered to port port-2 (tap2), whose MAC is the destination: same network as the source (ACTIVE, network net-a (local VLAN 1))');
    expect(await oracle(t)).to.equal('drop');
  });

  it('other network: not delivered to the destination\'s port, and the verdict says which network each is on', async () => {
    const t = await trace(tcp(1, 3, 22));
    const lvid = (id: string) => running.agent.port(id)!.lvid;
    expect(lvid('port-1')).to.not.equal(lvid('port-3'));
    expect(t.verdict.join('\n')).not.to.match(/^delivered to port port-3 /m);
    expect(t.verdict).to.include(`not delivered to port port-3 (tap3), whose MAC is the destination: it is ACTIVE, network net-b (local VLAN ${lvid('port-3')}); `
      + `the packet comes from port port-1, ACTIVE, network net-a (local VLAN ${lvid('port-1')})`);
    // Flooded on its own network (the destination MAC unknown there): port-2 gets it, by NORMAL switching.
    expect(t.verdict).to.satisfy((v: string[]) => v.some((l) => /^delivered to port port-2 \(tap2, ofport \d+\), by br-int table 94 .*\(NORMAL switching\)$/.test(l)));
    // Through the patch into br-eth1 (a nested bridge in the trace): the agent's own flow there, said so.
    expect(t.trace).to.match(/\n {4}bridge\("br-eth1"\)\n[^]*?\n {9}0\. in_port=\d+,dl_vlan=\d+, priority 4, cookie 0x[0-9a-f]+\n {12}# network: local VLAN of network net-a \[net:net-a\]\n/);
    expect(t.trace).not.to.contain('NOT THE AGENT\'S FLOW');
    const dp = await oracle(t);
    expect(dp.split(',')).to.include(String(await odpOf('tap2'))).and.not.include(String(await odpOf('tap3')));
  });

  it('across a tunnel: sent to the VXLAN tunnel of the remote host by l2pop\'s unicast flow', async () => {
    const t = await trace(tcp(4, 5, 22), 'port-4');
    expect(t.trace).to.contain('bridge("br-tun")');
    expect(t.trace).to.contain('# l2pop: l2pop unicast to fa:16:3e:00:00:05 on network net-t [ucast:net-t:fa:16:3e:00:00:05]');
    expect(t.verdict).to.satisfy((v: string[]) => v.some((l) => l.startsWith(
      'sent to tunnel vxlan-c0000202 (vxlan, remote 192.0.2.2) on br-tun, by br-tun table 20 priority 2 (')
      && l.endsWith('): l2pop: l2pop unicast to fa:16:3e:00:00:05 on network net-t [ucast:net-t:fa:16:3e:00:00:05]')));
    expect((await sb.vsctl('get', 'Interface', 'vxlan-c0000202', 'options:remote_ip')).trim()).to.equal('"192.0.2.2"');
    expect((await oracle(t)).split(',')).to.include(String(await odpOf('vxlan-c0000202')));
  });

  it('a dead port: dropped by its dead-port flow', async () => {
    expect(running.agent.port('port-6')!.state).to.equal('DEAD');
    expect((await sb.vsctl('get', 'Port', 'tap6', 'tag')).trim()).to.equal('4095');
    const t = await trace(tcp(6, 1, 22), 'tap6');
    expect(t.verdict[0]).to.equal(`dropped by br-int table 0 priority 2 (in_port=${await ofport('tap6')}): port: port port-6 is dead: its traffic dropped [dead:port-6]`);
    expect(await oracle(t)).to.equal('drop');
  });

  it('the command as a user runs it: the trace annotated and its verdict; an unknown port named', async () => {
    const shown = await cli('trace', 'port-1', tcp(1, 2, 22), '--status-socket', socket);
    expect(shown.code, shown.err).to.equal(0);
    expect(shown.out).to.contain('ofproto/trace br-int tcp,dl_dst=fa:16:3e:00:00:02');
    expect(shown.out).to.contain('# firewall: security-group filter of port port-2 [fw|p|port-2]');
    expect(shown.out).to.match(/Datapath actions: ct\(commit,zone=\d+\),\d+/);
    expect(shown.out).to.match(/\nverdict:\n {2}delivered to port port-2 \(tap2, ofport \d+\), by br-int table 82/);
    const unknown = await cli('trace', 'nope', '--status-socket', socket);
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain('no port nope on this host');
  });
});
