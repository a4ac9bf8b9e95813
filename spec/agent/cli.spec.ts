import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStatus } from '../../lib/agent/status-socket.js';
import { parseDumpLine, flowText } from '../support/dump-lines.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const BIN = join(process.cwd(), 'bin/ovs-agent.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
}

function output(p: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve) => p.once('exit', (code) => resolve({ code, out, err })));
}

describe('ovs-agent command line @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let dir: string;
  let agent: ChildProcess | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
  });
  after(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGKILL');
      await new Promise((r) => agent!.once('exit', r));
    }
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help reads like a man page', async () => {
    const r = await output(cli(['--help']));
    expect(r.code).to.equal(0);
    for (const heading of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'SIGNALS', 'EXIT STATUS', 'STATUS SOCKET', 'EXAMPLES', 'cleanup', 'status', '--config-file']) {
      expect(r.out).to.include(heading);
    }
  });

  it('rejects an invalid config naming option, file and line', async () => {
    const ini = join(dir, 'bad.ini');
    writeFileSync(ini, '[ovs]\nof_listen_port = many\n');
    const r = await output(cli(['run', '--config-file', ini]));
    expect(r.code, 'exit status 2: the configuration cannot work').to.equal(2);
    expect(r.err).to.include('of_listen_port').and.include(`${ini}:2`);
  });

  it('runs, wires ports over the real OpenFlow stack, answers status, and leaves flows in place on SIGTERM; cleanup removes VM ports', async () => {
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({
      networks: [{ id: 'net-v', type: 'vlan', segmentationId: 200, physicalNetwork: 'physnet1' }, { id: 'net-f', type: 'flat', physicalNetwork: 'physnet1' }],
      ports: [{ id: 'port-1', mac: 'fa:16:3e:00:00:01', network: 'net-v' }, { id: 'port-2', mac: 'fa:16:3e:00:00:02', network: 'net-f' }],
    }));
    const ini = join(dir, 'agent.ini');
    const socket = join(dir, 'status.sock');
    writeFileSync(ini, ['[ovs]', 'datapath_type = netdev', 'bridge_mappings = physnet1:br-eth1', `ovsdb_connection = ${sb.dbRemote}`,
      '[ovs_agent]', `state_file = ${state}`, `status_socket = ${socket}`, `ovs_rundir = ${sb.rundir}`, ''].join('\n'));
    agent = cli(['--config-file', ini]);
    const logs = output(agent);
    // br-int exists once the agent created it: keep plugging (idempotently) until both ports are ACTIVE.
    // Generous: under load, tsx compiling the agent at start-up alone can take several seconds.
    const deadline = Date.now() + 45_000;
    let status;
    for (;;) {
      try {
        await sb.vsctl('--', '--may-exist', 'add-port', 'br-int', 'tap1', '--', 'set', 'Interface', 'tap1',
          'external_ids:iface-id=port-1', 'external_ids:attached-mac=fa:16:3e:00:00:01');
        await sb.vsctl('--', '--may-exist', 'add-port', 'br-int', 'tap2', '--', 'set', 'Interface', 'tap2',
          'external_ids:iface-id=port-2', 'external_ids:attached-mac=fa:16:3e:00:00:02');
        status = await readStatus(socket, 1000);
        if (status.ports.filter((p) => p.state === 'ACTIVE').length === 2) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`agent did not wire the ports; log:\n${(await Promise.race([logs, sleep(10)]) as { err?: string })?.err ?? ''}`);
      await sleep(100);
    }
    expect(status!.localVlans.map((v) => v.networkId).sort()).to.deep.equal(['net-f', 'net-v']);

    const st = await output(cli(['status', '--status-socket', socket]));
    expect(st.code).to.equal(0);
    expect(st.out).to.include('PORTS').and.include('port-1').and.include('ACTIVE').and.include('LOCAL VLANS').and.include('net-v');
    const js = await output(cli(['status', '--status-socket', socket, '--json']));
    expect(JSON.parse(js.out).ports).to.have.length(2);

    const dump = async () => (await sb.ofctl('-O', 'OpenFlow13', '--no-names', 'dump-flows', 'br-int')).split('\n')
      .map((l) => parseDumpLine(l)).filter((d) => d !== undefined).map((d) => flowText(d.flow)).sort();
    const before = await dump();
    expect(before.some((t) => t.includes('dl_vlan=200'))).to.equal(true);
    agent.kill('SIGTERM');
    const ended = await logs;
    expect(ended.code, ended.err).to.equal(0);
    expect(await dump(), 'flows stay after the agent stopped').to.deep.equal(before);

    const down = await output(cli(['status', '--status-socket', socket]));
    expect(down.code).to.equal(1);
    expect(down.err).to.include('is ovs-agent running');

    await sb.vsctl('add-port', 'br-int', 'keep-me', '--', 'set', 'Interface', 'keep-me', 'external_ids:iface-id=x',
      'external_ids:attached-mac=fa:16:3e:00:00:09', 'external_ids:skip_cleanup=true');
    const clean = await output(cli(['cleanup', '--config-file', ini]));
    expect(clean.code, clean.err).to.equal(0);
    const ports = (await sb.vsctl('list-ports', 'br-int')).trim().split('\n').sort();
    expect(ports).to.deep.equal(['int-br-eth1', 'keep-me']);
  });
});
