/**
 * `[ovs_agent] metrics_address`: where the health and metrics listener
 * binds. `PORT` alone means loopback (metrics tell about the host's ports;
 * exposing them is a choice to make, not a default); `HOST:PORT` or
 * `[IPV6]:PORT` with HOST an IP address. Anything else is refused at start.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export class MetricsAddressError extends Error {
  override readonly name = 'MetricsAddressError';
  readonly code = 'METRICS_ADDRESS_INVALID';
}

const LOOPBACK = '127.0.0.1';

export function parseMetricsAddress(text: string): ListenAddress {
  const value = text.trim();
  const bad = (why: string): MetricsAddressError =>
    new MetricsAddressError(`"${text}" is not a listen address: ${why} (want PORT, HOST:PORT or [IPV6]:PORT, HOST an IP address)`);
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]*)\]:([^:]*)$/.exec(value);
  if (v6) {
    [, host, portText] = v6;
    if (isIP(host) !== 6) throw bad(`${host} is not an IPv6 address`);
  } else if (!value.includes(':')) {
    host = LOOPBACK;
    portText = value;
  } else {
    const i = value.lastIndexOf(':');
    host = value.slice(0, i);
    portText = value.slice(i + 1);
    if (host === '') host = LOOPBACK;
    else if (host.includes(':')) throw bad('an IPv6 address goes in brackets');
    else if (isIP(host) !== 4) throw bad(`${host} is not an IP address`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port ${JSON.stringify(portText)} is not a number from 0 to 65535`);
  return { host, port: Number(portText) };
}

/** Whether the listener is reachable from outside the host (said at start). */
export function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.');
}
