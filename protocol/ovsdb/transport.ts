/**
 * OVSDB remotes in OVS syntax and the sockets they open:
 * `unix:PATH`, `tcp:HOST[:PORT]`, `ssl:HOST[:PORT]` (port 6640 by default,
 * IPv6 hosts in brackets: `tcp:[::1]:6640`).
 *
 * `ssl:` follows OVS (tls.ts): our key and certificate, the server's
 * certificate checked against the CA certificate, not against the host name.
 */
import net from 'node:net';
import { OvsdbConnectionError, OvsdbErrorCode } from './errors.js';
import { tlsConnectOptions, tlsFailure, type SslOptions } from './tls.js';

export type { SslOptions } from './tls.js';

/** The IANA-assigned OVSDB port, used by `tcp:` and `ssl:` remotes that name none. */
export const DEFAULT_OVSDB_PORT = 6640;

/** A parsed remote: a unix socket, or a TCP host and port, with or without TLS. */
export type Remote =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp' | 'ssl'; readonly host: string; readonly port: number };

/** Options of the transport: TLS files (for `ssl:` remotes) and the connect timeout. */
export interface ConnectOptions {
  /** Key, certificate and CA certificate, required by `ssl:` remotes (see tls.ts for what is checked). */
  ssl?: SslOptions;
  /** Give up connecting after this long (default 10 s; 0 = the OS's own timeout). */
  connectTimeoutMs?: number;
  /** Aborting stops connecting: the socket is destroyed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Splits a remote list as OVS tools take a cluster (`unix:A,tcp:B:6641,ssl:C`):
 * comma-separated, blanks around members ignored. Each member is parsed (and
 * refused with `BAD_REMOTE`) by {@link parseRemote}; an empty list is refused too.
 */
export function splitRemotes(remotes: string): string[] {
  const list = remotes.split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (list.length === 0) throw badRemote(remotes, 'no remote given');
  for (const r of list) parseRemote(r);
  return list;
}

/** Parses an OVS remote string; throws `BAD_REMOTE` with the reason. */
export function parseRemote(remote: string): Remote {
  const colon = remote.indexOf(':');
  const kind = colon < 0 ? '' : remote.slice(0, colon);
  const rest = remote.slice(colon + 1);
  if (kind === 'unix') {
    if (rest.length === 0) throw badRemote(remote, 'unix: needs a socket path');
    return Object.freeze({ kind, path: rest });
  }
  if (kind === 'tcp' || kind === 'ssl') {
    let host: string;
    let portText: string | undefined;
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0) throw badRemote(remote, 'unterminated [IPv6 address]');
      host = rest.slice(1, close);
      const after = rest.slice(close + 1);
      if (after !== '' && !after.startsWith(':')) throw badRemote(remote, 'expected :PORT after ]');
      portText = after === '' ? undefined : after.slice(1);
    } else {
      const parts = rest.split(':');
      if (parts.length > 2) throw badRemote(remote, 'put an IPv6 address in brackets: tcp:[::1]:6640');
      host = parts[0];
      portText = parts[1];
    }
    if (host === '') throw badRemote(remote, 'missing host');
    const port = portText === undefined || portText === '' ? DEFAULT_OVSDB_PORT : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw badRemote(remote, `bad port ${JSON.stringify(portText)}`);
    return Object.freeze({ kind, host, port });
  }
  throw badRemote(remote, 'expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT');
}

function badRemote(remote: string, why: string): OvsdbConnectionError {
  return new OvsdbConnectionError(OvsdbErrorCode.BAD_REMOTE, `bad OVSDB remote ${JSON.stringify(remote)}: ${why}`, remote);
}

/**
 * Opens a connected socket to a remote. Rejects with `CONNECT_FAILED`
 * naming the remote and the reason (e.g. ECONNREFUSED, ENOENT), or with
 * `TLS` for a TLS failure (unreadable files, a certificate refused either way).
 */
export async function openSocket(remoteText: string, options: ConnectOptions = {}): Promise<net.Socket> {
  const remote = parseRemote(remoteText);
  // node:tls (OpenSSL's context) is loaded only for ssl remotes: it adds about
  // 1.2 MiB to the RSS of a process that talks to the local unix socket (measured).
  const tls = remote.kind === 'ssl' ? (await import('node:tls')).default : undefined;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const signal = options.signal;
  signal?.throwIfAborted();
  return new Promise<net.Socket>((resolve, reject) => {
    let socket: net.Socket;
    const readyEvent = remote.kind === 'ssl' ? 'secureConnect' : 'connect';
    try {
      if (remote.kind === 'unix') {
        socket = net.connect({ path: remote.path });
      } else if (remote.kind === 'tcp') {
        socket = net.connect({ host: remote.host, port: remote.port });
      } else {
        const ssl = options.ssl;
        if (!ssl || !tls) {
          throw new OvsdbConnectionError(OvsdbErrorCode.BAD_REMOTE, `ssl remote ${remoteText} needs ssl options (privateKey, certificate, caCert)`, remoteText);
        }
        socket = tls.connect(tlsConnectOptions(tls, remote.host, remote.port, ssl, remoteText));
      }
    } catch (err) {
      reject(err);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal?.reason);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(
        (options.ssl && tlsFailure(err, remoteText, options.ssl))
          ?? new OvsdbConnectionError(OvsdbErrorCode.CONNECT_FAILED, `cannot connect to OVSDB at ${remoteText}: ${err.message}`, remoteText, {
            cause: err,
          }),
      );
    };
    const onReady = () => {
      cleanup();
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => onError(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    }
  });
}

/**
 * For a session on an `ssl:` remote: the `TLS` error a socket error stands
 * for (a server that refuses our certificate says so after the TLS 1.3
 * handshake, on the first read), or undefined for an ordinary disconnect.
 */
export function sessionErrorMapper(remote: string, options: ConnectOptions): ((err: Error) => OvsdbConnectionError | undefined) | undefined {
  const ssl = options.ssl;
  if (!ssl || !remote.startsWith('ssl:')) return undefined;
  return (err) => tlsFailure(err, remote, ssl);
}
