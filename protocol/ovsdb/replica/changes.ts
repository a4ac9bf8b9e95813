/**
 * Row events as an async iterator (`for await (const e of replica.changes())`):
 * a bounded queue between the replica's synchronous event dispatch and a
 * consumer that awaits. The iterator ends (`done`) when the replica closes
 * or the signal aborts, and unsubscribes when the loop exits early (break,
 * return, throw). A consumer that falls behind by more than `maxBuffered`
 * events gets an `OVERFLOW` error instead of a growing queue or a silent gap.
 */
import { OvsdbError, OvsdbErrorCode } from '../errors.js';

/** Options of `Replica.changes`. */
export interface ChangesOptions {
  /** Aborting ends the iteration: the pending `next()` resolves `done`. */
  signal?: AbortSignal;
  /** Events queued for a slow consumer before the iterator fails with `OVERFLOW` (default 100,000). */
  maxBuffered?: number;
}

/**
 * An async iterator over what `subscribe` pushes, until `onEnd` fires, the signal aborts or the
 * consumer stops. `subscribe` and `onEnd` return their unsubscribe functions.
 */
export function eventIterator<E>(
  subscribe: (push: (e: E) => void) => () => void,
  onEnd: (end: () => void) => () => void,
  options: ChangesOptions = {},
): AsyncIterableIterator<E> {
  const max = options.maxBuffered ?? 100_000;
  const queue: E[] = [];
  let head = 0;
  let waiter: ((r: IteratorResult<E>) => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  const signal = options.signal;

  const finish = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    stopEnd();
    signal?.removeEventListener('abort', finish);
    const w = waiter;
    waiter = undefined;
    w?.({ value: undefined, done: true });
  };
  const push = (e: E): void => {
    if (ended || failure) return;
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w({ value: e, done: false });
      return;
    }
    if (queue.length - head >= max) {
      failure = new OvsdbError(OvsdbErrorCode.OVERFLOW, `changes(): more than ${max} events queued for a consumer that does not keep up`);
      return;
    }
    queue.push(e);
  };
  const unsubscribe = subscribe(push);
  const stopEnd = onEnd(finish);
  if (signal?.aborted) finish();
  else signal?.addEventListener('abort', finish, { once: true });

  const iterator: AsyncIterableIterator<E> = {
    next(): Promise<IteratorResult<E>> {
      if (head < queue.length) {
        const value = queue[head++];
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (failure) {
        // Thrown once: like a generator that threw, the iterator is done afterwards.
        const err = failure;
        failure = undefined;
        finish();
        return Promise.reject(err);
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise<IteratorResult<E>>((resolve) => {
        waiter = resolve;
      });
    },
    return(): Promise<IteratorResult<E>> {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
