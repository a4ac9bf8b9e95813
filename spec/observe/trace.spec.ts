/**
 * `ovs-agent trace` against a real Open vSwitch: ovs-vswitchd's own
 * ofproto/trace, asked over its control socket by the running agent, each
 * flow the packet crossed annotated with what it is for. Two ports on one
 * network, a security group letting TCP 22 in: a packet to port 22 of the
 * other port is delivered through its filter, one to port 80 dropped.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceAnswer } from '../../lib/agent/flows-command.js';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { askAgent } from '../../lib/agent/status-socket.js';
import { loadConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIN = join(import.meta.dirname, '../../bin/ovs-agent.ts');
const state = {
  networks: [{ id: 'net-a', type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
  ports: ['1', '2'].map((i) => ({
    id: `port-${i}`, mac: `fa:16:3e:00:00:0${i}`, network: 'net-a', securityGroups: ['sg-1'], portSecurityEnabled: true,
    fixedIps: [{ ipAddress: `10.0.0.${i}` }],
  })),
  securityGroups: { 'sg-1': { rules: [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }, { direction: 'egress', ethertype: 'IPv4' }] } },
};

function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('ovs-agent trace @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;
  let dir: string;
  let running: RunningAgent;
  let socket: string;

  before(async () => {
    sb = await OvsSandbox.start();
    for (const br of ['br-eth1', 'br-int']) await sb.vsctl('--may-exist', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
    dir = mkdtempSync(join(tmpdir(), 'trace-spec-'));
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    socket = join(dir, 'status.sock');
    const config = loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
      'ovs_agent.state_file': join(dir, 'state.json'), 'ovs_agent.ovs_rundir': sb.rundir, 'ovs_agent.status_socket': socket,
      'agent.report_interval': 0, 'agent.polling_interval': 3600, 'securitygroup.firewall_driver': 'openvswitch', 'DEFAULT.host': 'test-host',
    } }).config;
    running = await runAgent({ config, logger: silentLogger });
    for (const i of ['1', '2']) {
      await sb.vsctl('--', 'add-port', 'br-int', `tap${i}`, '--', 'set', 'Interface', `tap${i}`,
        `external_ids:iface-id=port-${i}`, `external_ids:attached-mac=fa:16:3e:00:00:0${i}`);
    }
    const deadline = Date.now() + 20_000;
    while (!['port-1', 'port-2'].every((id) => running.agent.port(id)?.state === 'ACTIVE')) {
      if (Date.now() > deadline) throw new Error('ports not ACTIVE within 20 s');
      await sleep(20);
    }
    await running.agent.whenIdle();
  });
  after(async () => {
    await running?.stop();
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
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
