/**
 * Errors of the Neutron control plane. All are ControlPlaneErrors, so the
 * agent branches on `code` and `retriable` without knowing about AMQP.
 */
import { ControlPlaneError } from '../types.js';

export const NeutronErrorCode = {
  /** transport_url (or another option) can't be used. */
  BAD_CONFIG: 'ERR_NEUTRON_BAD_CONFIG',
  /** No reply within the call's timeout (oslo's MessagingTimeout). */
  RPC_TIMEOUT: 'ERR_NEUTRON_RPC_TIMEOUT',
  /** No broker connection could carry the request in time. */
  NOT_CONNECTED: 'ERR_NEUTRON_NOT_CONNECTED',
  /** The broker had no queue for the request (the server's queue is not declared yet): handed back, not delivered. */
  UNROUTABLE: 'ERR_NEUTRON_UNROUTABLE',
  /** The call's reply queue was lost with the broker while the call was out: no reply can come. */
  REPLY_LOST: 'ERR_NEUTRON_REPLY_LOST',
  /** The server ran the method and it raised: `failure` of the reply. */
  REMOTE_ERROR: 'ERR_NEUTRON_REMOTE_ERROR',
  /** A message or reply could not be decoded. */
  DECODE: 'ERR_NEUTRON_DECODE',
  /** The control plane was stopped while the request was pending. */
  STOPPED: 'ERR_NEUTRON_STOPPED',
} as const;

export type NeutronErrorCode = (typeof NeutronErrorCode)[keyof typeof NeutronErrorCode];

/** The server-side exception carried by a reply's `failure` (oslo `serialize_remote_exception`). */
export interface RemoteFailure {
  className: string;
  module: string;
  message: string;
  traceback: string[];
}

export class RemoteError extends ControlPlaneError {
  constructor(
    readonly method: string,
    readonly failure: RemoteFailure,
  ) {
    super(
      `${method}: the server raised ${failure.module ? `${failure.module}.` : ''}${failure.className}: ${failure.message}`,
      NeutronErrorCode.REMOTE_ERROR,
      // The server's own transient failures (DB deadlocks, its RPC timeouts) are worth retrying; bad requests are not.
      /Timeout|DBDeadlock|DBConnectionError|RetryRequest|ServiceUnavailable/.test(failure.className),
    );
  }
}

export function timeoutError(method: string, topic: string, timeoutS: number, why?: string): ControlPlaneError {
  return new ControlPlaneError(
    `${method} on ${topic}: no reply within ${timeoutS} s${why ? ` (${why})` : ''}`,
    NeutronErrorCode.RPC_TIMEOUT,
    true,
  );
}

export function notConnectedError(what: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError(`${what}: no connection to RabbitMQ`, NeutronErrorCode.NOT_CONNECTED, true, { cause });
}

export function unroutableError(what: string, exchange: string, routingKey: string): ControlPlaneError {
  return new ControlPlaneError(`${what}: no queue on exchange ${exchange} takes routing key ${routingKey} (its server is not consuming)`, NeutronErrorCode.UNROUTABLE, true);
}

export function replyLostError(method: string, replyQueue: string): ControlPlaneError {
  return new ControlPlaneError(`${method}: reply queue ${replyQueue} was lost with the broker connection`, NeutronErrorCode.REPLY_LOST, true);
}

export function stoppedError(what: string): ControlPlaneError {
  return new ControlPlaneError(`${what}: the Neutron control plane is stopped`, NeutronErrorCode.STOPPED, false);
}

export function configError(message: string): ControlPlaneError {
  return new ControlPlaneError(message, NeutronErrorCode.BAD_CONFIG, false);
}

export function decodeError(message: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError(message, NeutronErrorCode.DECODE, false, { cause });
}
