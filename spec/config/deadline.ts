/**
 * Runs one exported function of a TypeScript module in a worker thread and
 * ends the worker if it has not answered within `ms`. A test of code that
 * could spin (a backtracking regex, a quadratic loop) cannot be stopped by
 * mocha's timeout, which only fires between turns of the event loop: the
 * worker can be, so such a test fails instead of hanging the suite.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

export type WorkerOutcome = { returned: unknown } | { threw: { name: string; message: string; code?: unknown; source?: unknown } };

export async function callWithDeadline(modulePath: string, fn: string, args: unknown[], ms: number): Promise<WorkerOutcome> {
  const url = pathToFileURL(modulePath).href;
  const code = `
    const { parentPort, workerData } = await import('node:worker_threads');
    const { register } = await import('tsx/esm/api');
    register();
    const mod = await import(${JSON.stringify(url)});
    try {
      parentPort.postMessage({ returned: mod[${JSON.stringify(fn)}](...workerData) });
    } catch (e) {
      parentPort.postMessage({ threw: { name: e.name, message: e.message, code: e.code, source: e.source } });
    }`;
  const worker = new Worker(code, { eval: true, workerData: args, type: 'module' } as ConstructorParameters<typeof Worker>[1]);
  try {
    return await new Promise<WorkerOutcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${fn}() did not return within ${ms} ms`)), ms);
      worker.once('message', (m: WorkerOutcome) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    await worker.terminate();
  }
}
