/**
 * What bundles and the channel helpers need of one live OpenFlow session:
 * sending, request/reply by xid, back-pressure, and the ids a session hands
 * out. OpenFlowConnection is the implementation; naming the need here keeps
 * bundle.ts and channel.ts from importing connection.ts, which builds on
 * them.
 */
import type { OpenFlowMessage } from '../types.js';


/** Options of one request: an AbortSignal that gives up waiting for the reply. */
export interface RequestOptions {
  /**
   * Aborting rejects the request at once with `OF_CONN_ABORTED` (the signal's
   * reason as `cause`); its reply, when it comes, is dropped. The switch may
   * still have carried the request out: an abort stops the waiting, not the
   * switch.
   */
  signal?: AbortSignal;
}

/**
 * What bundles and the channel helpers need of one live session: sending, requests matched by xid,
 * back-pressure, ids.
 */
export interface OpenFlowSession {
  /** Queues a message; returns its xid. */
  send(msg: OpenFlowMessage): number;
  /** Sends a request and resolves with its reply (rejects with the switch's error). */
  request<R extends OpenFlowMessage = OpenFlowMessage>(msg: OpenFlowMessage, options?: RequestOptions): Promise<R>;
  /** Resolves once the switch has processed everything sent before it. */
  barrier(options?: RequestOptions): Promise<void>;
  /** The socket's buffer is over its high-water mark: wait for `drained()` before sending more. */
  readonly needsDrain: boolean;
  /** Resolves once the socket's buffer is back under its high-water mark. */
  drained(): Promise<void>;
  /** A fresh transaction id for a message of this session. */
  allocateXid(): number;
  /** A fresh bundle id for this session. */
  allocateBundleId(): number;
}
