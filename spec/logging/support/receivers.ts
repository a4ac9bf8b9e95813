/**
 * Real receivers for the logging specs: a unix datagram socket bound in a
 * temporary directory standing in for /dev/log or journald's socket, and
 * a parser of journald's native protocol (systemd.journal-fields(7),
 * "Native Journal Protocol") written from its description, not from the
 * agent's encoder.
 */
import { DgramSocket } from 'node-unix-socket';

export class DatagramReceiver {
  readonly datagrams: Buffer[] = [];
  private readonly socket = new DgramSocket();
  private readonly waiters = new Set<() => void>();

  constructor(readonly path: string) {
    this.socket.bind(path);
    this.socket.on('data', (buf: Buffer) => {
      this.datagrams.push(Buffer.from(buf));
      for (const w of [...this.waiters]) w();
    });
  }

  get texts(): string[] {
    return this.datagrams.map((d) => d.toString('utf8'));
  }

  /** Waits until `f` holds on what was received (bounded). */
  async until(what: string, f: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (f()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what} on ${this.path}; received:\n${this.texts.join('\n---\n')}`));
      }, timeoutMs);
      const check = (): void => {
        if (!f()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** One journal entry: each field's values (a field may repeat). */
export type JournalEntry = Map<string, string[]>;

/**
 * Parses one datagram of the native protocol: `NAME=value\n`, or `NAME\n`,
 * a 64-bit little-endian length, that many bytes of value, `\n`.
 * Throws on anything else (a malformed entry journald would drop).
 */
export function parseJournalEntry(buf: Buffer): JournalEntry {
  const entry: JournalEntry = new Map();
  let off = 0;
  while (off < buf.length) {
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0) throw new Error(`journal entry: field at ${off} has no end`);
    const line = buf.subarray(off, nl).toString('utf8');
    const eq = line.indexOf('=');
    let name: string;
    let value: string;
    if (eq >= 0) {
      name = line.slice(0, eq);
      value = line.slice(eq + 1);
      off = nl + 1;
    } else {
      name = line;
      const len = Number(buf.readBigUInt64LE(nl + 1));
      const start = nl + 9;
      value = buf.subarray(start, start + len).toString('utf8');
      if (buf[start + len] !== 0x0a) throw new Error(`journal entry: binary field ${name} not followed by a newline`);
      off = start + len + 1;
    }
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || name.length > 64) throw new Error(`journal entry: invalid field name ${JSON.stringify(name)}`);
    entry.set(name, [...(entry.get(name) ?? []), value]);
  }
  return entry;
}
