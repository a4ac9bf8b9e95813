/**
 * The agent run as an operator runs it (`ovs-agent --config-file …`, the
 * logging options in `[DEFAULT]`) on a sandboxed Open vSwitch with the
 * local control plane: a port's life (bound, ACTIVE, removed, reported
 * down) is told at INFO, naming the port, to the log file, to syslog and
 * to the journal at once; logrotate's rename needs no signal. Syslog and
 * the journal are unix datagram sockets this test binds in a temporary
 * directory (OVS_AGENT_TEST_SYSLOG_SOCKET / OVS_AGENT_TEST_JOURNAL_SOCKET,
 * for tests only), read as the daemons read them.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { DatagramReceiver, parseJournalEntry } from './support/receivers.js';

const BIN = join(process.cwd(), 'bin/ovs-agent.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => boolean, show: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; so far:\n${show()}`);
    await sleep(50);
  }
}

describe('logging of the running agent @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;
  let dir: string;
  let agent: ChildProcess | undefined;
  let syslog: DatagramReceiver;
  let journal: DatagramReceiver;

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-logging-'));
    syslog = new DatagramReceiver(join(dir, 'dev-log'));
    journal = new DatagramReceiver(join(dir, 'journal.sock'));
  });
  after(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill('SIGKILL');
      await new Promise((r) => agent!.once('exit', r));
    }
    syslog.close();
    journal.close();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells each port transition at INFO, naming the port, to log_file, syslog and the journal; a renamed log file is followed', async () => {
    const log = join(dir, 'ovs-agent.log');
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({ networks: [{ id: 'net-a', type: 'local' }], ports: [] }));
    const conf = join(dir, 'neutron.conf');
    writeFileSync(conf, ['[DEFAULT]', `log_dir = ${dir}`, 'use_syslog = true', 'syslog_log_facility = LOG_LOCAL3', 'use_journal = true',
      'default_log_levels = amqp=WARN,ovs_agent.agent.flow_sync=WARN', 'transport_url = rabbit://neutron:s3cr3t-pw@127.0.0.1:5672/', ''].join('\n'));
    const ini = join(dir, 'openvswitch_agent.ini');
    writeFileSync(ini, ['[ovs]', 'datapath_type = netdev', `ovsdb_connection = ${sb.dbRemote}`,
      '[ovs_agent]', `state_file = ${state}`, `status_socket = ${join(dir, 'status.sock')}`, `ovs_rundir = ${sb.rundir}`, ''].join('\n'));
    agent = spawn(process.execPath, ['--import', 'tsx', BIN, '--config-file', conf, '--config-file', ini], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OVS_AGENT_TEST_SYSLOG_SOCKET: syslog.path, OVS_AGENT_TEST_JOURNAL_SOCKET: journal.path },
    });
    let out = '';
    agent.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    agent.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const file = (p = log): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
    const show = (): string => `${file()}\n--- stdout/stderr:\n${out}`;
    await until('the first full sync', () => file().includes('first full sync done'), show);

    writeFileSync(state, JSON.stringify({ networks: [{ id: 'net-a', type: 'local' }], ports: [{ id: 'port-a1', mac: 'fa:16:3e:00:0a:01', network: 'net-a' }] }));
    await sb.vsctl('add-port', 'br-int', 'tap-a1', '--', 'set', 'Interface', 'tap-a1', 'external_ids:iface-id=port-a1',
      'external_ids:attached-mac=fa:16:3e:00:0a:01');
    await until('port-a1 ACTIVE', () => file().includes('port port-a1 is ACTIVE'), show);

    const lines = file().split('\n');
    const bound = lines.find((l) => l.includes('port port-a1 bound'));
    expect(bound, show()).to.match(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${agent.pid} INFO ovs_agent\\.agent\\.pass \\[-\\] `
      + 'port port-a1 bound: network net-a \\(local\\) on local VLAN \\d+, interface tap-a1'));
    expect(lines.find((l) => l.includes('port port-a1 is ACTIVE'))).to.match(/ INFO ovs_agent\.agent\.report \[-\] port port-a1 is ACTIVE \{"port_id":"port-a1"/);
    // default_log_levels: flow_sync at WARN, so none of its INFO lines.
    expect(lines.some((l) => / INFO ovs_agent\.agent\.flow_sync /.test(l))).to.equal(false);

    // The same lines in syslog (LOG_LOCAL3, INFO: <158>) and in the journal (PORT_ID).
    await syslog.until('port-a1 ACTIVE in syslog', () => syslog.texts.some((t) => t.includes('port port-a1 is ACTIVE')));
    expect(syslog.texts.find((t) => t.includes('port port-a1 bound'))).to.match(/^<158>\w{3} [ \d]\d \d\d:\d\d:\d\d ovs-agent: \S+ \S+ \d+ INFO ovs_agent\.agent\.pass /);
    await journal.until('port-a1 ACTIVE in the journal', () => journal.datagrams.some((d) => d.includes('port port-a1 is ACTIVE')));
    const entries = journal.datagrams.map(parseJournalEntry);
    const portEntries = entries.filter((e) => e.get('PORT_ID')?.[0] === 'port-a1');
    expect(portEntries.map((e) => e.get('MESSAGE')![0].replace(/^.* \[-\] /, '').replace(/[:{].*$/, '').trim()))
      .to.include.members(['port port-a1 bound', 'port port-a1 is ACTIVE']);
    expect(portEntries.every((e) => e.get('PRIORITY')![0] === '6' && e.get('SYSLOG_FACILITY')![0] === '19')).to.equal(true);
    // oslo.log: with a log file and the journal, nothing on standard output or error.
    expect(out).to.equal('');

    // logrotate without copytruncate and without a signal: the next lines go to a new file.
    renameSync(log, `${log}.1`);
    await sb.vsctl('del-port', 'br-int', 'tap-a1');
    await until('port-a1 reported down in the new file', () => file().includes('port port-a1 reported down'), show);
    expect(file()).to.match(/ INFO ovs_agent\.agent\.pass \[-\] port port-a1 removed: its interface tap-a1 left the integration bridge/);
    expect(file(`${log}.1`)).to.include('port port-a1 is ACTIVE').and.not.include('port port-a1 removed');
    await journal.until('the removal in the journal', () => journal.datagrams.some((d) => d.includes('port port-a1 reported down')));

    agent.kill('SIGTERM');
    expect(await new Promise((r) => agent!.once('exit', (code) => r(code)))).to.equal(0);
    for (const text of [file(), file(`${log}.1`), out, ...syslog.texts, ...journal.texts]) expect(text).to.not.include('s3cr3t-pw');
  });

  it('refuses to start when use_syslog cannot be honoured at all: an unknown facility, naming the option', async () => {
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, ['[DEFAULT]', 'use_syslog = true', 'syslog_log_facility = LOG_NOPE', ''].join('\n'));
    const p = spawn(process.execPath, ['--import', 'tsx', BIN, '--config-file', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    expect(await new Promise((r) => p.once('exit', (code) => r(code)))).to.equal(2);
    expect(err).to.include('syslog_log_facility').and.include('LOG_NOPE');
  });
});
