/**
 * Errors of OpenFlow connections. Each carries a stable string `code`, so
 * callers branch on `err.code` (or `instanceof`), never on message text.
 *
 * Two kinds: {@link OpenFlowConnectionError} for the transport and the session
 * (closed, timed out, dead peer, handshake), and {@link OpenFlowSwitchError}
 * for an OFPT_ERROR the switch sent, tied back to the request that caused it.
 */
import { OpenFlowBaseError } from '../errors.js';

/** The codes of OpenFlowConnectionError, by name: stable, for `err.code` comparisons. */
export const ConnectionErrorCode = {
  /** The address string (`tcp:HOST:PORT`, `unix:PATH`) could not be parsed. */
  BAD_ADDRESS: 'OF_CONN_BAD_ADDRESS',
  /** Connecting failed (refused, no such socket...). */
  CONNECT_FAILED: 'OF_CONN_CONNECT_FAILED',
  /** The connection dropped while the request was in flight. */
  DISCONNECTED: 'OF_CONN_DISCONNECTED',
  /** A request was made while no session was up (between reconnects). */
  NOT_CONNECTED: 'OF_CONN_NOT_CONNECTED',
  /** The connection was closed by its owner. */
  CLOSED: 'OF_CONN_CLOSED',
  /** A request got no reply within its timeout. */
  TIMEOUT: 'OF_CONN_TIMEOUT',
  /** The peer answered nothing, not even our echo request, for two probe intervals. */
  DEAD_PEER: 'OF_CONN_DEAD_PEER',
  /** HELLO or FEATURES exchange failed: no common version, wrong reply, timeout. */
  HANDSHAKE: 'OF_CONN_HANDSHAKE',
  /** The byte stream broke the framing rules (a header shorter than 8 bytes). */
  FRAMING: 'OF_CONN_FRAMING',
  /** The peer sent something that does not fit the protocol (undecodable, unexpected reply). */
  PROTOCOL: 'OF_CONN_PROTOCOL',
  /** More bytes are queued for the socket than the configured cap: await drain(). */
  OUTBOX_FULL: 'OF_CONN_OUTBOX_FULL',
  /** A bundle was used after commit or discard. */
  BUNDLE_STATE: 'OF_CONN_BUNDLE_STATE',
  /** The switch answered a request with OFPT_ERROR. */
  SWITCH_ERROR: 'OF_SWITCH_ERROR',
  /** The controller turned a connecting peer away (see SwitchClaimRefusedError's `reason`). */
  REFUSED: 'OF_CONN_REFUSED',
  /**
   * A flow monitor id already running on the session. Refused before sending:
   * Open vSwitch 3.1 answers it with an error that quotes xid 0, which no
   * request could be matched to.
   */
  MONITOR_EXISTS: 'OF_CONN_MONITOR_EXISTS',
  /**
   * A flow monitor's iteration (`FlowMonitor.updates()`) fell more than its `maxBuffered` updates
   * behind; the updates after them were not kept.
   */
  MONITOR_OVERFLOW: 'OF_CONN_MONITOR_OVERFLOW',
  /** The caller's AbortSignal fired before the reply came (the error's `cause` is the signal's reason). */
  ABORTED: 'OF_CONN_ABORTED',
} as const;

export type ConnectionErrorCode = (typeof ConnectionErrorCode)[keyof typeof ConnectionErrorCode];

/** The root of every error raised by `protocol/openflow/connection`; a kind of the codec's OpenFlowBaseError. */
export class OpenFlowConnectionError extends OpenFlowBaseError {
  override readonly name: string = 'OpenFlowConnectionError';
  readonly code: ConnectionErrorCode;

  constructor(code: ConnectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The OpenFlow versions by wire number, as people name them. */
const VERSION_NAMES: Readonly<Record<number, string>> = { 1: '1.0', 2: '1.1', 3: '1.2', 4: '1.3', 5: '1.4', 6: '1.5' };

/** "OpenFlow 1.3" for 4; "version 0x07" for a number OpenFlow does not define. */
export function openFlowVersionName(v: number): string {
  const name = VERSION_NAMES[v];
  return name ? `OpenFlow ${name}` : `version 0x${v.toString(16).padStart(2, '0')}`;
}

/**
 * The peer speaks no OpenFlow version we offered (an OpenFlow 1.0-only
 * switch, say), found in the HELLO exchange. Its `code` is `OF_CONN_HANDSHAKE`
 * like every handshake failure; `ours` and `theirs` list the versions (wire
 * numbers) each side offered.
 */
export class OpenFlowVersionError extends OpenFlowConnectionError {
  override readonly name = 'OpenFlowVersionError';

  constructor(
    /** The versions we offered (OFP_VERSION numbers). */
    readonly ours: readonly number[],
    /** The versions the peer offered: its HELLO's bitmap, or its header version alone (it and any below). */
    readonly theirs: readonly number[],
    peer: string,
  ) {
    super(ConnectionErrorCode.HANDSHAKE, `no common OpenFlow version with ${peer}: we support ${ours.join(',')} (${ours.map(openFlowVersionName).join(', ')}), `
      + `it offers ${theirs.map(openFlowVersionName).join(', ')}; this library speaks OpenFlow 1.3 and 1.4 only`);
  }
}

/** A framing rule broken by the peer's byte stream (code `OF_CONN_FRAMING`). */
export class FramingError extends OpenFlowConnectionError {
  override readonly name = 'FramingError';
  constructor(message: string) {
    super(ConnectionErrorCode.FRAMING, message);
  }
}

/**
 * Why the controller turned a peer away:
 * - `incumbent`: it claimed a datapath whose current session still answers;
 * - `claim`: the controller's `verifyClaim` hook did not accept it;
 * - `too_many_pending`: too many peers were between accept and verdict; it was the oldest;
 * - `too_many_switches`: the controller remembers as many datapaths as it may, all connected.
 */
export type ClaimRefusal = 'incumbent' | 'claim' | 'too_many_pending' | 'too_many_switches';

/** A peer the controller refused (its 'refused' event); the connection is closed. */
export class SwitchClaimRefusedError extends OpenFlowConnectionError {
  override readonly name = 'SwitchClaimRefusedError';

  constructor(
    readonly reason: ClaimRefusal,
    /** host:port of the peer. */
    readonly peer: string,
    /** The datapath id it claimed, once its handshake got that far. */
    readonly datapathId: bigint | undefined,
    message: string,
  ) {
    super(ConnectionErrorCode.REFUSED, message);
  }
}
