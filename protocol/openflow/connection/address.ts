/**
 * OpenFlow addresses in OVS syntax: `tcp:HOST:PORT` and `unix:PATH` to connect
 * to, `ptcp:PORT[:HOST]` to listen on (ovs-vswitchd's ovs-vswitchd.conf.db(5)
 * spelling). IPv6 hosts go in brackets: `tcp:[::1]:6653`.
 */
import { connect, type Socket } from 'node:net';
import { OFP_OLD_TCP_PORT, OFP_TCP_PORT } from '../constants.js';
import { ConnectionErrorCode, OpenFlowConnectionError } from './errors.js';

/** The pre-IANA port that Neutron's native driver still listens on. */
export const NEUTRON_OF_LISTEN_PORT = OFP_OLD_TCP_PORT;

export type ConnectAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };
export type ListenAddress = { kind: 'tcp'; host: string; port: number };

function badAddress(text: string, why: string): OpenFlowConnectionError {
  return new OpenFlowConnectionError(ConnectionErrorCode.BAD_ADDRESS, `bad OpenFlow address ${JSON.stringify(text)}: ${why}`);
}

function parsePort(text: string, port: string): number {
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw badAddress(text, `port ${JSON.stringify(port)} is not 0-65535`);
  return n;
}

/** Splits `HOST:PORT` or `[V6]:PORT`. */
function hostPort(text: string, rest: string): { host: string; port: string | undefined } {
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw badAddress(text, 'unclosed [ in IPv6 host');
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw badAddress(text, 'expected :PORT after ]');
    return { host: rest.slice(1, close), port: after === '' ? undefined : after.slice(1) };
  }
  const colon = rest.lastIndexOf(':');
  return colon < 0 ? { host: rest, port: undefined } : { host: rest.slice(0, colon), port: rest.slice(colon + 1) };
}

/**
 * Reads an address to dial: `unix:PATH`, `tcp:HOST:PORT` (a missing port is 6653); throws on
 * anything else.
 */
export function parseConnectAddress(text: string): ConnectAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (path === '') throw badAddress(text, 'empty socket path');
    return { kind: 'unix', path };
  }
  if (text.startsWith('tcp:')) {
    const { host, port } = hostPort(text, text.slice(4));
    if (host === '') throw badAddress(text, 'empty host');
    return { kind: 'tcp', host, port: port === undefined ? OFP_TCP_PORT : parsePort(text, port) };
  }
  throw badAddress(text, 'expected tcp:HOST:PORT or unix:PATH');
}

/** `ptcp:[PORT][:HOST]`, as OVS spells passive addresses; HOST defaults to 127.0.0.1 (never all interfaces by accident). */
export function parseListenAddress(text: string): ListenAddress {
  if (!text.startsWith('ptcp:')) throw badAddress(text, 'expected ptcp:PORT[:HOST]');
  const rest = text.slice(5);
  const colon = rest.indexOf(':');
  const port = colon < 0 ? rest : rest.slice(0, colon);
  let host = colon < 0 ? '127.0.0.1' : rest.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { kind: 'tcp', host: host || '127.0.0.1', port: port === '' ? NEUTRON_OF_LISTEN_PORT : parsePort(text, port) };
}

/**
 * The address as `parseConnectAddress` reads it: `unix:PATH` or `tcp:HOST:PORT` (an IPv6 host in
 * brackets).
 */
export function formatAddress(a: ConnectAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** Opens a socket and resolves once it is connected; rejects with CONNECT_FAILED. */
export function openSocket(address: ConnectAddress, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host);
    const timer = setTimeout(() => fail(new Error(`no connection after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new OpenFlowConnectionError(ConnectionErrorCode.CONNECT_FAILED,
        `cannot connect to ${formatAddress(address)}: ${err.message}`, { cause: err }));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
