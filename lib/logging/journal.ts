/**
 * `[DEFAULT] use_journal`: journald's native protocol
 * (systemd.journal-fields(7), "Native Journal Protocol"): one datagram per
 * entry to /run/systemd/journal/socket, each field `NAME=value\n`, or, when
 * the value holds a newline, `NAME\n` + its length (64-bit little endian) +
 * the value + `\n`. The fields are oslo.log's OSJournalHandler's that mean
 * something here (MESSAGE: the formatted line; PRIORITY; SYSLOG_IDENTIFIER;
 * SYSLOG_FACILITY; LOGGER_NAME; LOGGER_LEVEL; CODE_FILE where the logger is
 * one file) plus each of the line's fields in upper case (`port_id` →
 * PORT_ID), so `journalctl PORT_ID=…` finds a port's history.
 */
import { levelName, syslogPriority } from './levels.js';
import type { LogRecord } from './record.js';

/** Fields the entry sets itself (and journald's own): a line's field of the same name is sent as OVS_AGENT_<NAME>. */
const RESERVED = new Set([
  'MESSAGE', 'MESSAGE_ID', 'PRIORITY', 'SYSLOG_IDENTIFIER', 'SYSLOG_FACILITY', 'SYSLOG_PID', 'SYSLOG_TIMESTAMP', 'SYSLOG_RAW',
  'LOGGER_NAME', 'LOGGER_LEVEL', 'CODE_FILE', 'CODE_LINE', 'CODE_FUNC', 'ERRNO', 'INVOCATION_ID', 'USER_INVOCATION_ID',
  'DOCUMENTATION', 'TID', 'UNIT', 'USER_UNIT', 'COREDUMP_UNIT', 'COREDUMP_USER_UNIT', 'OBJECT_PID',
]);
const MAX_NAME = 64;

/** A line's field name as a journal field name: upper case, [A-Z0-9_], not starting with _ or a digit, at most 64 characters. */
export function journalFieldName(key: string): string {
  let name = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().replace(/[^A-Z0-9_]/g, '_').replace(/^[_0-9]+/, '');
  if (!name) name = 'FIELD';
  if (RESERVED.has(name)) name = `OVS_AGENT_${name}`;
  return name.slice(0, MAX_NAME);
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Error) return v.message;
  return JSON.stringify(v);
}

export class JournalEncoder {
  constructor(private readonly identifier: string, private readonly facility: number) {}

  /** The entry for a record whose formatted text is `message`. */
  entry(r: LogRecord, message: string): Buffer {
    const parts: Buffer[] = [];
    const add = (name: string, value: string): void => {
      if (!value.includes('\n')) {
        parts.push(Buffer.from(`${name}=${value}\n`));
        return;
      }
      const v = Buffer.from(value);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(v.length));
      parts.push(Buffer.from(`${name}\n`), len, v, Buffer.from('\n'));
    };
    add('MESSAGE', message);
    add('PRIORITY', String(syslogPriority(r.levelno)));
    add('SYSLOG_IDENTIFIER', this.identifier);
    add('SYSLOG_FACILITY', String(this.facility));
    add('LOGGER_NAME', r.name);
    add('LOGGER_LEVEL', levelName(r.levelno));
    if (r.file) add('CODE_FILE', r.file);
    if (r.fields) {
      for (const [k, v] of Object.entries(r.fields)) {
        if (v === undefined || v === null) continue;
        add(journalFieldName(k), valueText(v));
      }
    }
    return Buffer.concat(parts);
  }
}
