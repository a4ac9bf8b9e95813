/**
 * oslo.log's options as the agent applies them (docs/logging.md), each
 * against a real receiver: a stream, a log file moved and truncated as
 * logrotate does, a unix datagram socket bound in a temporary directory in
 * place of /dev/log, and one in place of journald's socket, parsed as
 * journald parses its native protocol.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError, loadConfig } from '../../lib/config/index.js';
import { INVENTORY } from '../../lib/config/inventory.js';
import { loggingFromConfig } from '../../lib/log-config.js';
import { createLogger, type LoggerOptions, type LogRoot } from '../../lib/log.js';
import { DatagramReceiver, parseJournalEntry } from './support/receivers.js';

/** oslo.log's default line: date, time with ms, pid, level, logger, [-], message. */
const LINE = (level: string, logger: string, message: string): RegExp =>
  new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${process.pid} ${level} ${logger.replace(/\./g, '\\.')} \\[-\\] ${message}`);

function collect(opts: LoggerOptions = {}): { log: LogRoot; lines: () => string[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => { text += d.toString(); });
  const log = createLogger({ ...opts, stream });
  return { log, lines: () => text.split('\n').filter(Boolean) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('logging: oslo.log options', () => {
  let dir: string;
  const roots: LogRoot[] = [];
  const receivers: DatagramReceiver[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ovs-agent-log-'));
  });
  afterEach(async () => {
    for (const r of roots.splice(0)) await r.close();
    for (const r of receivers.splice(0)) r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function logger(opts: LoggerOptions): LogRoot {
    const log = createLogger(opts);
    roots.push(log);
    return log;
  }

  function receiver(name: string): DatagramReceiver {
    const r = new DatagramReceiver(join(dir, name));
    receivers.push(r);
    return r;
  }

  function config(lines: string[]) {
    const ini = join(dir, 'neutron.conf');
    writeFileSync(ini, ['[DEFAULT]', ...lines, ''].join('\n'));
    return loadConfig({ files: [ini] }).config;
  }

  describe('the text line', () => {
    it("is Neutron's default layout: date, time with ms, pid, level, logger, [-], the message, the port id in the line", () => {
      const { log, lines } = collect();
      roots.push(log);
      log.child!('ovs_agent.agent.pass').info('port p-1 bound: network n-1', { port_id: 'p-1' });
      log.warn('careful');
      expect(lines()[0]).to.match(LINE('INFO', 'ovs_agent.agent.pass', 'port p-1 bound: network n-1 \\{"port_id":"p-1"\\}$'));
      expect(lines()[1]).to.match(LINE('WARNING', 'ovs_agent', 'careful$'));
    });

    it('writes a message of several lines as several lines with the same prefix', () => {
      const { log, lines } = collect();
      roots.push(log);
      log.error('first\nsecond');
      expect(lines()).to.have.length(2);
      expect(lines()[1]).to.match(LINE('ERROR', 'ovs_agent', 'second$'));
    });

    it('follows log_date_format and logging_default_format_string; refuses a key Python records do not have', () => {
      const setup = loggingFromConfig(config(['log_date_format = %H:%M', 'logging_default_format_string = %(levelname)s|%(name)s|%(message)s']));
      const { log, lines } = collect(setup.options);
      roots.push(log);
      log.info('hello');
      expect(lines()).to.deep.equal(['INFO|ovs_agent|hello']);
      expect(() => loggingFromConfig(config(['logging_default_format_string = %(nosuchkey)s %(message)s'])))
        .to.throw(ConfigError, /logging_default_format_string/);
    });
  });

  describe('levels', () => {
    it('debug: DEBUG lines only with [DEFAULT] debug = true', () => {
      const quiet = collect(loggingFromConfig(config(['debug = false'])).options);
      const loud = collect(loggingFromConfig(config(['debug = true'])).options);
      roots.push(quiet.log, loud.log);
      for (const { log } of [quiet, loud]) log.child!('ovs_agent.agent.flow_sync').debug('bundle committed');
      expect(quiet.lines()).to.deep.equal([]);
      expect(loud.lines()[0]).to.match(LINE('DEBUG', 'ovs_agent.agent.flow_sync', 'bundle committed$'));
    });

    it("default_log_levels: the agent's loggers by name, Python's names mapped onto them, the nearest ancestor's level", () => {
      const setup = loggingFromConfig(config(['debug = true',
        'default_log_levels = ovs_agent.agent=WARN,oslo.messaging=ERROR,amqp=WARN,nosuch.lib=INFO']));
      expect(setup.warnings.join('\n')).to.include('nosuch.lib=INFO').and.not.include('amqp');
      const { log, lines } = collect(setup.options);
      roots.push(log);
      log.child!('ovs_agent.agent.pass').info('pass line');
      log.child!('ovs_agent.agent.pass').warn('pass warning');
      log.child!('ovs_agent.control_plane.neutron.rpc_client').warn('rpc warning');
      log.child!('ovs_agent.control_plane.neutron.rpc_client').error('rpc error');
      log.child!('ovs_agent.firewall').debug('firewall debug');
      expect(lines().map((l) => l.replace(/^.* \[-\] /, ''))).to.deep.equal(['pass warning', 'rpc error', 'firewall debug']);
      expect(() => loggingFromConfig(config(['default_log_levels = ovs_agent=LOUD']))).to.throw(ConfigError, /default_log_levels/);
    });
  });

  it("use_json: one object per line with oslo.log's JSONFormatter keys, the line's fields under extra", () => {
    const { log, lines } = collect(loggingFromConfig(config(['use_json = true'])).options);
    roots.push(log);
    log.child!('ovs_agent.agent.report').info('port p-2 is ACTIVE', { port_id: 'p-2' });
    const j = JSON.parse(lines()[0]) as Record<string, unknown>;
    expect(j).to.include({ message: 'port p-2 is ACTIVE', name: 'ovs_agent.agent.report', levelname: 'INFO', levelno: 20, process: process.pid });
    expect(j.extra).to.deep.equal({ port_id: 'p-2' });
    expect(j.asctime).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  describe('log_file (WatchedFileHandler)', () => {
    it('after logrotate renames the file, the next line goes to a new file at the same path; the moved one keeps the earlier lines', () => {
      const path = join(dir, 'agent.log');
      const log = logger({ file: path });
      log.info('before rotation');
      renameSync(path, `${path}.1`);
      log.info('after rotation');
      expect(readFileSync(`${path}.1`, 'utf8')).to.include('before rotation').and.not.include('after rotation');
      expect(readFileSync(path, 'utf8')).to.include('after rotation').and.not.include('before rotation');
    });

    it('a deleted file is created again; with copytruncate the lines start again at the beginning (no hole)', () => {
      const path = join(dir, 'agent.log');
      const log = logger({ file: path });
      log.info('one');
      unlinkSync(path);
      log.info('two');
      expect(readFileSync(path, 'utf8')).to.match(/ two\n$/).and.not.include(' one');
      truncateSync(path, 0);
      log.info('three');
      const text = readFileSync(path, 'utf8');
      expect(text.charCodeAt(0)).to.not.equal(0);
      expect(text.trimEnd()).to.match(LINE('INFO', 'ovs_agent', 'three$'));
    });

    it('log_dir alone: <log_dir>/ovs-agent.log; use_stderr besides the file; nothing on standard output then', () => {
      const setup = loggingFromConfig(config([`log_dir = ${dir}`, 'use_stderr = true']));
      expect(setup.options.file).to.equal(join(dir, 'ovs-agent.log'));
      expect(setup.options.stderr).to.equal(true);
    });
  });

  describe('use_syslog: datagrams to /dev/log (a socket in a temporary directory here)', () => {
    it("sends what glibc's syslog(3) sends: <facility*8+priority>Mmm dd hh:mm:ss ovs-agent: the line", async () => {
      const rx = receiver('log');
      const setup = loggingFromConfig(config(['use_syslog = true', 'syslog_log_facility = local3']));
      const log = logger({ ...setup.options, stream: new PassThrough(), syslog: { ...setup.options.syslog!, socket: rx.path } });
      log.child!('ovs_agent.agent.pass').info('port p-3 bound', { port_id: 'p-3' });
      log.error('trouble');
      await rx.until('two datagrams', () => rx.datagrams.length === 2);
      // LOG_LOCAL3 = 19: INFO 19*8+6, ERROR 19*8+3.
      expect(rx.texts[0]).to.match(/^<158>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ovs-agent: /);
      expect(rx.texts[0]).to.match(new RegExp(`ovs-agent: \\d{4}-\\d\\d-\\d\\d \\S+ ${process.pid} INFO ovs_agent.agent.pass \\[-\\] port p-3 bound`));
      expect(rx.texts[1]).to.match(/^<155>.* ERROR ovs_agent \[-\] trouble$/);
    });

    it('refuses an unknown syslog_log_facility at start, naming the option', () => {
      expect(() => loggingFromConfig(config(['use_syslog = true', 'syslog_log_facility = LOG_NOSUCH'])))
        .to.throw(ConfigError, /syslog_log_facility.*LOG_LOCAL0/);
    });

    it('no syslog daemon: said once on the other destinations, lines lost; when one binds, said again with the count lost', async () => {
      const path = join(dir, 'late.sock');
      const { log, lines } = collect({ syslog: { facility: 1, socket: path } });
      roots.push(log);
      log.info('a');
      log.info('b');
      await tick();
      const failures = lines().filter((l) => l.includes('cannot send log lines to syslog'));
      expect(failures).to.have.length(1);
      expect(failures[0]).to.include(path).and.include('use_syslog');
      const rx = receiver('late.sock');
      log.info('c');
      await rx.until('the line after the daemon came', () => rx.texts.some((t) => t.endsWith('[-] c')));
      expect(lines().some((l) => l.includes('takes log lines again; 2 line(s) were lost'))).to.equal(true);
    });
  });

  describe("use_journal: journald's native protocol (a socket in a temporary directory here)", () => {
    it('one entry per line: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, SYSLOG_FACILITY, LOGGER_NAME, PORT_ID; a multi-line MESSAGE in the binary form', async () => {
      const rx = receiver('journal.sock');
      const setup = loggingFromConfig(config(['use_journal = true', 'syslog_log_facility = LOG_DAEMON']));
      const out = new PassThrough();
      let stdout = '';
      out.on('data', (d: Buffer) => { stdout += d.toString(); });
      const log = logger({ ...setup.options, stream: out, journal: { ...setup.options.journal!, socket: rx.path } });
      log.child!('ovs_agent.agent.report').info('port p-4 is ACTIVE', { port_id: 'p-4', interface: 'tap-4' });
      log.warn('line one\nline two');
      await rx.until('two entries', () => rx.datagrams.length === 2);
      const e = parseJournalEntry(rx.datagrams[0]);
      expect(e.get('MESSAGE')![0]).to.match(LINE('INFO', 'ovs_agent.agent.report', 'port p-4 is ACTIVE'));
      expect(e.get('PRIORITY')).to.deep.equal(['6']);
      expect(e.get('SYSLOG_IDENTIFIER')).to.deep.equal(['ovs-agent']);
      expect(e.get('SYSLOG_FACILITY')).to.deep.equal(['3']);
      expect(e.get('LOGGER_NAME')).to.deep.equal(['ovs_agent.agent.report']);
      expect(e.get('PORT_ID')).to.deep.equal(['p-4']);
      expect(e.get('INTERFACE')).to.deep.equal(['tap-4']);
      const multi = parseJournalEntry(rx.datagrams[1]);
      expect(multi.get('MESSAGE')![0].split('\n')).to.have.length(2);
      expect(multi.get('PRIORITY')).to.deep.equal(['4']);
      // oslo.log: the journal replaces standard output.
      expect(stdout).to.equal('');
    });

    it('an entry too long for one datagram goes with its MESSAGE cut, said in the entry', async () => {
      const rx = receiver('journal.sock');
      const log = logger({ journal: { facility: 1, socket: rx.path } });
      log.info(`big ${'x'.repeat(4 << 20)}`);
      await rx.until('the cut entry', () => rx.datagrams.length === 1);
      const msg = parseJournalEntry(rx.datagrams[0]).get('MESSAGE')![0];
      expect(msg).to.match(/too long for one journal datagram\]$/);
      expect(msg.length).to.be.lessThan(10_000);
    });
  });

  it('refuses what oslo.log refuses and warns about what it would do that the agent does not', () => {
    expect(() => loggingFromConfig(config(['use_eventlog = true']))).to.throw(ConfigError, /use_eventlog/);
    // Every option docs/configuration.md calls "honoured in part, warned", each set to a value it does not support.
    const unsupported: Record<string, string> = {
      log_config_append: '/etc/neutron/logging.conf', log_rotation_type: 'size', publish_errors: 'true', logging_debug_format_suffix: '%(funcName)s',
    };
    expect(Object.keys(unsupported).sort()).to.deep.equal(INVENTORY.filter((e) => e.status === 'partial').map((e) => e.name).sort());
    for (const [name, value] of Object.entries(unsupported)) {
      expect(loggingFromConfig(config([`${name} = ${value}`])).warnings.join('\n'), name).to.include(name);
    }
  });

  it('a log file that cannot be opened stops the logger at once, naming the path and the option', () => {
    expect(() => createLogger({ file: join(dir, 'no', 'such', 'dir', 'a.log') })).to.throw(/no\/such\/dir\/a\.log.*log_file/);
    expect(existsSync(join(dir, 'no'))).to.equal(false);
  });
});
