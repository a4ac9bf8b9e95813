/**
 * A FlowMonitor's updates as an async iterator: a bounded queue between the
 * monitor's synchronous delivery (one socket read hands out hundreds of
 * updates at once) and a consumer that awaits.
 *
 * A consumer that falls behind by more than `maxBuffered` updates gets an
 * `OF_CONN_MONITOR_OVERFLOW` error rather than a queue that grows without
 * bound. Pausing the socket instead was rejected: the monitor shares its
 * session with every other request (a barrier behind unread updates would
 * stall, an unanswered echo request gets the session dropped), and the
 * switch's own answer to a reader that stalls is to pause the monitor and
 * later report only the flows as they are then, so changes in between (a
 * flow added and deleted) would vanish without a word. An error with a
 * stable code says that changes were lost; the caller restarts the monitor
 * (with `initial`) or raises `maxBuffered`.
 */
import type { FlowUpdate } from '../types.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';

/** Options of `FlowMonitor.updates()`. */
export interface FlowUpdatesOptions {
  /** Aborting ends this iteration: the pending `next()` resolves `done` (the monitor itself keeps running). */
  signal?: AbortSignal;
  /**
   * Updates queued for a consumer that does not keep up before the iteration fails with
   * `OF_CONN_MONITOR_OVERFLOW` (default 100,000). A positive integer: anything else is refused
   * with a RangeError when the iteration is made.
   */
  maxBuffered?: number;
}

/** Default of {@link FlowUpdatesOptions.maxBuffered}. */
export const DEFAULT_MAX_BUFFERED_UPDATES = 100_000;

/** What the iterator needs of its monitor: a feed of updates, and its end. */
export interface UpdateSource {
  /** Calls `push` with each update from now on; returns the unsubscribe function. */
  subscribe(push: (u: FlowUpdate) => void): () => void;
  /** Calls `end` once when the monitor ends (at once if it has); returns the unsubscribe function. */
  onEnd(end: (err: Error | undefined) => void): () => void;
}

/**
 * Iterates the updates `source` delivers until it ends, the signal aborts or the consumer leaves
 * the loop. Updates queued before the end are still yielded; an end with an error then throws it.
 */
export function updateIterator(source: UpdateSource, options: FlowUpdatesOptions = {}): AsyncIterableIterator<FlowUpdate> {
  const max = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_UPDATES;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBuffered must be a positive integer, got ${max}`);
  const signal = options.signal;
  // A ring would save the occasional compaction; an array with a moving head is enough and simpler.
  let queue: FlowUpdate[] = [];
  let head = 0;
  let waiter: { resolve(r: IteratorResult<FlowUpdate>): void; reject(e: Error): void } | undefined;
  /** Set when the feed stopped: after the queue drains, done (undefined) or this error. */
  let ended = false;
  let failure: Error | undefined;

  const detach = (): void => {
    unsubscribe();
    stopEnd();
    signal?.removeEventListener('abort', onAbort);
  };
  /** Stops the feed; a waiting `next()` settles now (the queue is empty whenever one waits). */
  const end = (err: Error | undefined): void => {
    if (ended) return;
    ended = true;
    failure = err;
    detach();
    const w = waiter;
    waiter = undefined;
    if (!w) return;
    if (err) {
      failure = undefined;
      w.reject(err);
    } else w.resolve({ value: undefined, done: true });
  };
  const onAbort = (): void => {
    // The caller asked to stop: what is still queued is dropped, as is any error.
    queue = [];
    head = 0;
    end(undefined);
    failure = undefined;
  };
  const push = (u: FlowUpdate): void => {
    if (ended) return;
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve({ value: u, done: false });
      return;
    }
    if (queue.length - head >= max) {
      end(new OpenFlowConnectionError(ConnectionErrorCode.MONITOR_OVERFLOW,
        `flow monitor: more than ${max} updates queued for a consumer that does not keep up; changes after them were not kept `
        + '(restart the monitor with initial flows, or raise maxBuffered)'));
      return;
    }
    queue.push(u);
  };
  const unsubscribe = source.subscribe(push);
  const stopEnd = source.onEnd((err) => end(err));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  const iterator: AsyncIterableIterator<FlowUpdate> = {
    next(): Promise<IteratorResult<FlowUpdate>> {
      if (head < queue.length) {
        const value = queue[head++];
        if (head === queue.length) {
          queue = [];
          head = 0;
        } else if (head > 4096 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (failure) {
        const err = failure;
        failure = undefined;
        return Promise.reject(err);
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return(): Promise<IteratorResult<FlowUpdate>> {
      queue = [];
      head = 0;
      end(undefined);
      failure = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
