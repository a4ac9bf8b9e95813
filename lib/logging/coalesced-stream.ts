/**
 * Lines for the process's standard output or error, joined into one write
 * per turn of the event loop. Node writes to a pipe synchronously on Linux,
 * so one write per line made a pass that logs each port's transitions
 * (10,000 ports: 20,000 lines) do 20,000 blocking system calls, each
 * waiting on the reader once the pipe is full. The lines and their order
 * are unchanged; they leave at the next check phase (setImmediate), once
 * 64 KiB are waiting, or when the process exits.
 */
const FLUSH_BYTES = 64 * 1024;

/** The open ones, flushed by one exit listener (a listener each would trip Node's MaxListeners warning in tests). */
const open = new Set<CoalescedStream>();
let exitHooked = false;

export class CoalescedStream {
  private pending: string[] = [];
  private bytes = 0;
  private scheduled = false;
  constructor(private readonly stream: NodeJS.WritableStream) {
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => { for (const c of open) c.flush(); });
    }
  }

  /** Queues `text` (a whole line with its newline). */
  write(text: string): void {
    this.pending.push(text);
    this.bytes += text.length;
    if (this.bytes >= FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is waiting, as one chunk. */
  flush(): void {
    if (!this.pending.length) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.bytes = 0;
    this.stream.write(chunk);
  }

  /** Flushes; the process's exit no longer flushes it. */
  close(): void {
    this.flush();
    open.delete(this);
  }
}
