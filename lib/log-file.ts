/**
 * The agent's log file, as oslo.log writes Neutron's (Python's
 * WatchedFileHandler): appended to (O_APPEND), and before each write the
 * path is looked at: when the file there is not the one open (logrotate
 * moved it and created a new one, or it was deleted), it is opened again.
 * SIGHUP reopens it too. logrotate's `copytruncate` needs nothing: every
 * write appends at the file's current end, so after the truncation lines
 * start again at its beginning, with no hole (docs/logging.md, "Rotation").
 */
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * oslo.log's rule for where the log goes: `log_file`, relative to `log_dir`
 * when both are set; `log_dir` alone means `<log_dir>/<binary>.log`;
 * neither means no file.
 */
export function logFilePath(opts: { log_file?: string; log_dir?: string }, binary = 'ovs-agent'): string | undefined {
  const { log_file: file, log_dir: dir } = opts;
  if (file && dir) return join(dir, file);
  if (file) return file;
  if (dir) return join(dir, `${binary}.log`);
  return undefined;
}

export class LogFileError extends Error {
  override readonly name = 'LogFileError';
  readonly code = 'LOG_FILE_UNUSABLE';
}

/** How often a path that could not be opened again is tried, at most. */
const RETRY_MS = 1000;

/**
 * A file opened for appending, reopened when its path no longer leads to
 * it. Writes are synchronous appends of whole lines: a line is never split
 * between two files, nor lost at exit.
 */
export class ReopenableFile {
  private fd: number;
  private dev = 0;
  private ino = 0;
  private retryAt = 0;
  /** Times the file was found moved or deleted and opened again (tests, diagnostics). */
  reopened = 0;

  /** `onError`: the path could not be opened again (the old file is written meanwhile); told once until it works again. */
  constructor(readonly path: string, private readonly onError?: (err: LogFileError) => void) {
    this.fd = this.open();
  }

  private open(): number {
    let fd: number;
    try {
      fd = openSync(this.path, 'a', 0o640);
    } catch (err) {
      throw new LogFileError(`cannot open the log file ${this.path} ([DEFAULT] log_file, log_dir; --log-file): ${(err as Error).message}`);
    }
    const st = fstatSync(fd);
    this.dev = st.dev;
    this.ino = st.ino;
    return fd;
  }

  /** Opens the path again and writes there from now on; the old descriptor is closed. Throws LogFileError. */
  reopen(): void {
    const old = this.fd;
    this.fd = this.open();
    this.retryAt = 0;
    closeSync(old);
  }

  /** WatchedFileHandler's check: the path leads to another file, or to none. */
  private moved(): boolean {
    const st = statSync(this.path, { throwIfNoEntry: false });
    return !st || st.dev !== this.dev || st.ino !== this.ino;
  }

  /** Appends `text` (whole lines), to a fresh file if the old one was moved away. */
  write(text: string | Buffer): void {
    if (Date.now() >= this.retryAt && this.moved()) {
      try {
        this.reopen();
        this.reopened++;
      } catch (err) {
        if (this.retryAt === 0) this.onError?.(err as LogFileError);
        this.retryAt = Date.now() + RETRY_MS;
      }
    }
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
  }

  close(): void {
    closeSync(this.fd);
  }
}
