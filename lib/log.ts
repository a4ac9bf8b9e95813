/**
 * The agent's logging, as oslo.log sets up neutron-openvswitch-agent's
 * (docs/logging.md): one logger per part, named as Python modules are
 * (lib/logging/names.ts), each with the level `[DEFAULT] debug` and
 * `default_log_levels` give it; lines formatted once, as oslo.log's text
 * line or its JSON (`use_json`), and written to the log file (`log_file`,
 * `log_dir`; reopened when logrotate moved it, and on SIGHUP), standard
 * output or error, syslog (`use_syslog`) and the journal (`use_journal`).
 * A line below its logger's level costs one comparison.
 */
import { hostname } from 'node:os';
import { LogFileError, ReopenableFile } from './log-file.js';
import { CRITICAL, DEBUG, ERROR, INFO, WARNING, levelName, parseLevel, syslogPriority } from './logging/levels.js';
import { JournalEncoder } from './logging/journal.js';
import { JsonFormatter } from './logging/json-format.js';
import { effectiveLevel, LOGGER_FILES, type LoggerName } from './logging/names.js';
import type { LogFields, LogRecord, ProcessInfo } from './logging/record.js';
import { DatagramSender, DatagramUnavailableError, type DatagramDestination, type DatagramEvent } from './logging/datagram.js';
import { SyslogEncoder } from './logging/syslog.js';
import { TextFormatter } from './logging/text-format.js';
import { CoalescedStream } from './logging/coalesced-stream.js';
import { agentVersion } from './version.js';

export type { LogFields } from './logging/record.js';
export type { LoggerName } from './logging/names.js';

/** What the parts log through. Fields are structured data (journald fields, use_json's `extra`); `port_id` names a port. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** The logger of a part; loggers without names (a test's collector) have none, and `named` gives them back. */
  child?(name: string): Logger;
}

/** The logger named `name` (names.ts) under `log`, or `log` itself when it has no named children. */
export function named(log: Logger, name: LoggerName): Logger {
  return log.child ? log.child(name) : log;
}

export const SYSLOG_SOCKET = '/dev/log';
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

export interface LoggerOptions {
  /** `[DEFAULT] debug`: the root level is DEBUG instead of INFO. */
  debug?: boolean;
  /** `[DEFAULT] use_json`: oslo.log's JSON object per line instead of its text line. */
  json?: boolean;
  /** Where lines go when no file nor journal takes them (oslo.log: standard output); tests give their own. */
  stream?: NodeJS.WritableStream;
  /** `[DEFAULT] log_file`/`log_dir`: log to this file. Throws LogFileError if it cannot be opened. */
  file?: string;
  /** `[DEFAULT] use_stderr`: also (or, without a file, instead of standard output) to standard error. */
  stderr?: boolean;
  /** `[DEFAULT] use_syslog`, with the facility code (syslog.ts). */
  syslog?: { facility: number; socket?: string };
  /** `[DEFAULT] use_journal`, with the facility code. */
  journal?: { facility: number; socket?: string };
  /** `[DEFAULT] default_log_levels`, as names.ts parsed them: logger → level ('' the root). */
  levels?: ReadonlyMap<string, number>;
  /** `[DEFAULT] log_date_format`. */
  dateFormat?: string;
  /** `[DEFAULT] logging_default_format_string`. */
  format?: string;
  /** `[DEFAULT] rate_limit_burst`/`rate_limit_interval`/`rate_limit_except_level` (both ≥ 1 to limit). */
  rateLimit?: { burst: number; intervalS: number; exceptLevel: number | undefined };
  /** SYSLOG_IDENTIFIER and the syslog tag (default ovs-agent). */
  identifier?: string;
  silent?: boolean;
}

interface Sink {
  /** Lines about a failing destination do not go to it. */
  readonly kind: 'stream' | 'file' | 'syslog' | 'journal';
  write(r: LogRecord, text: string): void;
}

/** oslo.log's rate limit (its rate_limit filter): at most `burst` lines per interval below the exempt level. */
class RateLimit {
  private count = 0;
  private end = 0;

  constructor(private readonly burst: number, private readonly intervalMs: number, private readonly exceptLevel: number | undefined) {}

  /** 'pass', 'drop', or 'first-drop' (the caller says that lines are being dropped). */
  check(levelno: number): 'pass' | 'drop' | 'first-drop' {
    if (this.exceptLevel !== undefined && levelno >= this.exceptLevel) return 'pass';
    const now = performance.now();
    if (now >= this.end) {
      this.end = now + this.intervalMs;
      this.count = 1;
      return 'pass';
    }
    this.count++;
    if (this.count <= this.burst) return 'pass';
    return this.count === this.burst + 1 ? 'first-drop' : 'drop';
  }
}

/** A named logger: its level is worked out once (and again when the root's changes), so a line below it costs one comparison. */
class NamedLogger implements Logger {
  private readonly root: LogRoot;

  /** `root` undefined: this is the root. */
  constructor(readonly name: string, root: LogRoot | undefined, readonly file: string | undefined, public threshold: number) {
    this.root = root ?? (this as unknown as LogRoot);
  }

  error(message: string, fields?: LogFields): void {
    if (ERROR >= this.threshold) this.root.emit(this, ERROR, message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    if (WARNING >= this.threshold) this.root.emit(this, WARNING, message, fields);
  }

  info(message: string, fields?: LogFields): void {
    if (INFO >= this.threshold) this.root.emit(this, INFO, message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    if (DEBUG >= this.threshold) this.root.emit(this, DEBUG, message, fields);
  }

  critical(message: string, fields?: LogFields): void {
    if (CRITICAL >= this.threshold) this.root.emit(this, CRITICAL, message, fields);
  }

  child(name: string): Logger {
    return this.root.child(name);
  }
}

/**
 * The process's logging: the `ovs_agent` logger itself, the root level
 * (`level`, which SIGHUP sets from `[DEFAULT] debug`), the named loggers,
 * and where lines go.
 */
export class LogRoot extends NamedLogger {
  private rootLevel: number;
  private readonly levels: ReadonlyMap<string, number>;
  private readonly children = new Map<string, NamedLogger>();
  private readonly format: (r: LogRecord) => string;
  private sinks: Sink[] = [];
  private readonly files: ReopenableFile[] = [];
  private readonly senders: DatagramSender[] = [];
  private readonly coalesced: CoalescedStream[] = [];
  private readonly limit: RateLimit | undefined;
  private readonly silent: boolean;

  constructor(opts: LoggerOptions = {}) {
    const levels = opts.levels ?? new Map<string, number>();
    const rootLevel = levels.get('') ?? (opts.debug ? DEBUG : INFO);
    super('ovs_agent', undefined, LOGGER_FILES.ovs_agent, effectiveLevel('ovs_agent', levels, rootLevel));
    this.levels = levels;
    this.rootLevel = rootLevel;
    this.silent = opts.silent ?? false;
    const info: ProcessInfo = { pid: process.pid, hostname: hostname(), project: 'ovs-agent', version: agentVersion(), startedAt: Date.now() - performance.now() };
    if (opts.json) {
      const f = new JsonFormatter(info, opts.dateFormat);
      this.format = (r) => f.format(r);
    } else {
      const f = new TextFormatter({ format: opts.format, dateFormat: opts.dateFormat, info });
      this.format = (r) => f.format(r);
    }
    this.limit = opts.rateLimit && opts.rateLimit.burst >= 1 && opts.rateLimit.intervalS >= 1
      ? new RateLimit(opts.rateLimit.burst, opts.rateLimit.intervalS * 1000, opts.rateLimit.exceptLevel)
      : undefined;
    this.children.set(this.name, this);
    if (this.silent) return;

    // oslo.log's handlers: the file; stderr with use_stderr; the journal; standard output when none of those; syslog besides.
    if (opts.file) {
      const file = new ReopenableFile(opts.file, (err) => this.internal(ERROR, `${err.message}; writing to the moved file meanwhile`));
      this.files.push(file);
      this.sinks.push({ kind: 'file', write: (_r, text) => file.write(`${text}\n`) });
    }
    if (opts.stderr) this.sinks.push(this.processSink(process.stderr));
    const identifier = opts.identifier ?? 'ovs-agent';
    try {
      if (opts.journal) {
        const enc = new JournalEncoder(identifier, opts.journal.facility);
        const sender = this.sender({ what: 'the journal', path: opts.journal.socket ?? JOURNAL_SOCKET, option: '[DEFAULT] use_journal' });
        this.sinks.push({ kind: 'journal', write: (r, text) => sender.send(enc.entry(r, text), () => enc.entry(r, truncated(text))) });
      }
      if (!opts.file && !opts.stderr && !opts.journal) this.sinks.push(opts.stream ? streamSink(opts.stream) : this.processSink(process.stdout));
      if (opts.syslog) {
        const enc = new SyslogEncoder(identifier, opts.syslog.facility);
        const sender = this.sender({ what: 'syslog', path: opts.syslog.socket ?? SYSLOG_SOCKET, option: '[DEFAULT] use_syslog' });
        this.sinks.push({ kind: 'syslog', write: (r, text) => sender.send(enc.datagram(syslogPriority(r.levelno), text, r.created)) });
      }
    } catch (err) {
      for (const f of this.files.splice(0)) f.close();
      for (const s of this.senders.splice(0)) s.close();
      throw err;
    }
  }

  /** Standard output or error: lines joined into one write per event-loop turn (coalesced-stream.ts). */
  private processSink(stream: NodeJS.WritableStream): Sink {
    const c = new CoalescedStream(stream);
    this.coalesced.push(c);
    return { kind: 'stream', write: (_r, text) => c.write(`${text}\n`) };
  }

  private sender(d: DatagramDestination): DatagramSender {
    let s: DatagramSender;
    try {
      s = new DatagramSender(d, (e) => this.datagramEvent(e));
    } catch (err) {
      throw new DatagramUnavailableError(`${d.option}: ${(err as Error).message}`);
    }
    this.senders.push(s);
    return s;
  }

  /** The level a logger goes by (names.ts). */
  levelOf(name: string): number {
    return effectiveLevel(name, this.levels, this.rootLevel);
  }

  /** The logger `name`, made once. */
  override child(name: string): Logger {
    let c = this.children.get(name);
    if (!c) {
      c = new NamedLogger(name, this, (LOGGER_FILES as Record<string, string>)[name], this.levelOf(name));
      this.children.set(name, c);
    }
    return c;
  }

  /** The root level's name in lower case ('debug', 'info'); set it to one (SIGHUP applies `[DEFAULT] debug` so). */
  get level(): string {
    return levelName(this.rootLevel).toLowerCase();
  }

  set level(name: string) {
    const n = parseLevel(name.toUpperCase());
    if (n === undefined) throw new Error(`unknown log level ${name}`);
    this.rootLevel = n;
    for (const c of this.children.values()) c.threshold = this.levelOf(c.name);
  }

  /** Writes a line of `from` (the caller checked its level). */
  emit(from: NamedLogger, levelno: number, message: string, fields: LogFields | undefined): void {
    if (this.silent) return;
    if (this.limit) {
      const verdict = this.limit.check(levelno);
      if (verdict !== 'pass') {
        if (verdict === 'first-drop') this.internal(ERROR, `Logging rate limit: drop after ${this.limitText()}`);
        return;
      }
    }
    this.write({ created: Date.now(), levelno, name: from.name, message, fields, file: from.file });
  }

  private limitText(): string {
    const l = this.limit as unknown as { burst: number; intervalMs: number };
    return `${l.burst} records/${l.intervalMs / 1000} sec`;
  }

  private write(r: LogRecord, skip?: Sink['kind']): void {
    const text = this.format(r);
    for (const s of this.sinks) if (s.kind !== skip) s.write(r, text);
  }

  /** A line about logging itself, from `ovs_agent.logging`, past the rate limit and not to `skip`. */
  private internal(levelno: number, message: string, skip?: Sink['kind']): void {
    if (this.silent) return;
    this.write({ created: Date.now(), levelno, name: 'ovs_agent.logging', message, fields: undefined, file: LOGGER_FILES['ovs_agent.logging'] }, skip);
  }

  private datagramEvent(e: DatagramEvent): void {
    const d = e.destination;
    const kind: Sink['kind'] = d.option.endsWith('use_journal') ? 'journal' : 'syslog';
    if (e.kind === 'failed') {
      this.internal(ERROR, `cannot send log lines to ${d.what} at ${d.path} (${d.option}): ${e.error}; `
        + 'its lines are lost until it takes them again', kind);
    } else {
      this.internal(WARNING, `${d.what} at ${d.path} takes log lines again; ${e.lost} line(s) were lost meanwhile`);
    }
  }

  /** Opens the log files again (SIGHUP): the paths reopened. Throws the first failure after trying all. */
  reopen(): string[] {
    const done: string[] = [];
    let failure: Error | undefined;
    for (const f of this.files) {
      try {
        f.reopen();
        done.push(f.path);
      } catch (err) {
        failure ??= err as Error;
      }
    }
    if (failure) throw failure;
    return done;
  }

  /** Closes the files and sockets. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const c of this.coalesced.splice(0)) c.close();
    for (const s of this.senders.splice(0)) s.close();
    for (const f of this.files.splice(0)) f.close();
  }
}

/** A journal entry's MESSAGE when the whole entry is too long for one datagram. */
const MAX_TRUNCATED = 8192;

function truncated(text: string): string {
  return `${text.slice(0, MAX_TRUNCATED)}... [${text.length - MAX_TRUNCATED} characters cut: too long for one journal datagram]`;
}

function streamSink(stream: NodeJS.WritableStream): Sink {
  return { kind: 'stream', write: (_r, text) => stream.write(`${text}\n`) };
}

export function createLogger(opts: LoggerOptions = {}): LogRoot {
  return new LogRoot(opts);
}

/** Reopens the logger's log files (SIGHUP, after logrotate moved them): the paths reopened. */
export function reopenLogFiles(logger: object): string[] {
  return logger instanceof LogRoot ? logger.reopen() : [];
}

export { LogFileError };

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
