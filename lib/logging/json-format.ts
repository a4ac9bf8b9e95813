/**
 * `[DEFAULT] use_json`: one JSON object per line with the keys of oslo.log's
 * JSONFormatter (message, asctime, name, levelname, levelno, process,
 * hostname, …, `extra` with the line's fields), so what parses Neutron's
 * JSON logs parses these. Keys whose Python value the agent has no
 * counterpart for keep their type: `lineno` 0, `funcname` "", `args` [].
 */
import { basename } from 'node:path';
import { compileDateFormat } from './date-format.js';
import { levelName } from './levels.js';
import type { LogFields, LogRecord, ProcessInfo } from './record.js';
import { DEFAULT_DATE_FORMAT } from './text-format.js';

function extra(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!fields) return out;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v;
  }
  return out;
}

export class JsonFormatter {
  private readonly asctime: (ms: number) => string;

  constructor(private readonly info: ProcessInfo, dateFormat = DEFAULT_DATE_FORMAT) {
    this.asctime = compileDateFormat(dateFormat);
  }

  format(r: LogRecord): string {
    const file = r.file ?? '';
    return JSON.stringify({
      message: r.message,
      asctime: this.asctime(r.created),
      name: r.name,
      msg: r.message,
      args: [],
      levelname: levelName(r.levelno),
      levelno: r.levelno,
      pathname: file,
      filename: file && basename(file),
      module: file && basename(file).replace(/\.[^.]*$/, ''),
      lineno: 0,
      funcname: '',
      created: r.created / 1000,
      msecs: r.created % 1000,
      relative_created: r.created - this.info.startedAt,
      thread: this.info.pid,
      thread_name: 'MainThread',
      process_name: 'MainProcess',
      process: this.info.pid,
      traceback: null,
      hostname: this.info.hostname,
      error_summary: '',
      context: {},
      extra: extra(r.fields),
    });
  }
}
