/**
 * The agent's log file, as oslo.log writes Neutron's: appended to, and
 * reopened on SIGHUP, so that logrotate can move it away without
 * `copytruncate` (the moved file keeps what was written until the signal,
 * the new one gets the rest).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

/**
 * oslo.log's rule for where the log goes: `log_file`, relative to `log_dir`
 * when both are set; `log_dir` alone means `<log_dir>/ovs-agent.log`;
 * neither means no file (stderr).
 */
export function logFilePath(opts: { log_file?: string; log_dir?: string }): string | undefined {
  const { log_file: file, log_dir: dir } = opts;
  if (file && dir) return join(dir, file);
  if (file) return file;
  if (dir) return join(dir, 'ovs-agent.log');
  return undefined;
}

export class LogFileError extends Error {
  override readonly name = 'LogFileError';
  readonly code = 'LOG_FILE_UNUSABLE';
}

/**
 * A file opened for appending whose descriptor can be swapped for a fresh
 * one on the same path. Writes are synchronous appends of whole lines: a
 * line is never split between two files, nor lost at exit.
 */
export class ReopenableFile extends Writable {
  private fd: number;

  constructor(readonly path: string) {
    super({ decodeStrings: true });
    this.fd = ReopenableFile.open(path);
  }

  private static open(path: string): number {
    try {
      return openSync(path, 'a', 0o640);
    } catch (err) {
      throw new LogFileError(`cannot open the log file ${path} ([DEFAULT] log_file, log_dir; --log-file): ${(err as Error).message}`);
    }
  }

  /** Opens the path again (it may have been moved away) and writes there from now on; the old descriptor is closed. */
  reopen(): void {
    const fd = ReopenableFile.open(this.path);
    const old = this.fd;
    this.fd = fd;
    closeSync(old);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    try {
      closeSync(this.fd);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
