/**
 * The oslo.config command-line flags Debian's init script and operators
 * pass to neutron-openvswitch-agent are accepted by ovs-agent (issue 16,
 * item 2): --config-dir (read where it stands), --nodebug, --use-syslog,
 * --nouse-syslog, --log-file, --log-dir. The configuration refuses
 * `[agent] extensions = log`, so the agent exits 2 at once, before touching
 * anything, and its message shows the flags were read: it names the file of
 * the --config-dir, not "Unknown arguments".
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../lib/agent/exit-codes.js';
import { AgentProcess } from '../agent/support/agent-process.js';

describe('oslo.config command-line flags', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-flags-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts --config-dir, --nodebug, --use-syslog, --nouse-syslog, --log-file and --log-dir as oslo.config does', async () => {
    const main = join(dir, 'agent.ini');
    writeFileSync(main, '[agent]\nextensions =\n');
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', '10-log.conf'), '[AGENT]\nextensions = log\n');
    const a = AgentProcess.spawn(['--config-file', main, '--config-dir', join(dir, 'conf.d'), '--nodebug', '--use-syslog', '--nouse-syslog',
      '--log-file', join(dir, 'agent.log'), `--log-dir=${dir}`]);
    try {
      const exit = await a.waitForExit(40_000);
      expect(a.stderr).to.not.include('Unknown argument');
      expect(exit.code, a.stderr).to.equal(ExitCode.CONFIG);
      expect(a.stderr).to.include('[agent] extensions').and.include(`${join(dir, 'conf.d', '10-log.conf')}:2`);
    } finally {
      await a.kill();
    }
  });

  it("reads, with no --config-file, what Debian's init script passes neutron-openvswitch-agent, in its order", async () => {
    const a = AgentProcess.spawn(['--ovsdb-connection', `unix:${join(dir, 'no-ovsdb.sock')}`, '--status-socket', join(dir, 'status.sock')]);
    try {
      const line = await a.waitForLog((l) => /^ovs-agent \S+ starting$/.test(String(l.message)), 30_000, 'the start line');
      const expected = [
        '/etc/neutron/plugins/ml2/openvswitch_agent.ini', { dir: '/etc/neutron/agent.conf.d' }, '/etc/neutron/neutron.conf',
      ].filter((f) => existsSync(typeof f === 'string' ? f : f.dir));
      expect(expected.length, 'Debian\'s neutron-openvswitch-agent package is installed').to.equal(3);
      expect(line.configFiles).to.deep.equal(expected);
    } finally {
      await a.kill();
    }
  });
});
