/** One log line before it is formatted: what every format and destination is made from. */

/** Structured fields of a line (journald fields, use_json's `extra`); `port_id` names the Neutron port a line is about. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface LogRecord {
  /** Milliseconds since the epoch. */
  created: number;
  levelno: number;
  /** The logger's dotted name (names.ts). */
  name: string;
  message: string;
  fields: LogFields | undefined;
  /** The source file the logger stands for, when it is one file. */
  file: string | undefined;
}

/** What the formats say about the process, fixed at start. */
export interface ProcessInfo {
  pid: number;
  hostname: string;
  /** `%(project)s`: oslo.log's product name (Neutron's agent says "neutron"). */
  project: string;
  version: string;
  /** Date.now() when the process started, for `relativeCreated`. */
  startedAt: number;
}

/**
 * The fields as one JSON object (bigints as strings, errors as their
 * message): what the text format appends to the message.
 */
export function fieldsJson(fields: LogFields): string {
  return JSON.stringify(fields, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return v.message;
    return v;
  });
}

/** Whether a line has fields to show. */
export function hasFields(fields: LogFields | undefined): fields is LogFields {
  if (!fields) return false;
  for (const k in fields) if (fields[k] !== undefined) return true;
  return false;
}
