/**
 * oslo.messaging's transport_url, as the rabbit driver reads it:
 * `rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost`.
 * Several hosts are the nodes of one RabbitMQ cluster, tried in turn.
 *
 * Split as oslo's TransportURL.parse does (the host part ends at the first
 * `/` or `?`; hosts split on `,`; credentials end at a host's last `@`;
 * percent-escapes decoded leniently, as Python's `unquote`: an invalid one
 * stays as written). Where oslo would guess — a `/`, `?`, `#` or `,` in a
 * password that is not percent-encoded makes part of it a host, port, vhost
 * or query — this refuses instead, and no error or log text ever shows any
 * part of the URL that could be a password: a URL that does not parse is
 * not shown at all, one that does is shown with its passwords as `***`
 * (`redact`). docs/neutron.md, "transport_url".
 */
import { configError } from './errors.js';

export interface BrokerHost {
  hostname: string;
  port: number;
  username: string;
  password: string;
}

export interface TransportUrl {
  hosts: BrokerHost[];
  /** AMQP virtual host; `/` when the URL has none. */
  vhost: string;
  /** Whether the URL carries a `?query` (the rabbit driver reads none of it). */
  hasQuery: boolean;
  /** What the hosts carry (all the same): how the URL may be shown. */
  credentials: 'none' | 'user' | 'password';
}

const DEFAULT_PORT = 5672;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const ENCODING_HINT = 'a "/", "?", "#", "@", "," or "%" in a user name or password must be percent-encoded (%2F %3F %23 %40 %2C %25)';
/** The whole message of a URL that cannot be shown: it may hold a password. */
const NOT_SHOWN = '(the value is not shown: it may hold a password)';

/** Parses a transport_url; throws ControlPlaneError `ERR_NEUTRON_BAD_CONFIG` saying what is wrong, never showing a password. */
export function parseTransportUrl(url: string): TransportUrl {
  const text = url.trim();
  const scheme = SCHEME.exec(text);
  if (!scheme) throw bad(`is not a URL (expected rabbit://user:pass@host:port/vhost) ${NOT_SHOWN}`);
  if (scheme[1] !== 'rabbit' && scheme[1] !== 'amqp') throw bad(`driver ${JSON.stringify(scheme[1])} is not supported (only rabbit)`);
  const rest = text.slice(scheme[0].length);
  if (rest.includes('#')) throw bad(`has a "#" (oslo.messaging would cut the URL there); ${ENCODING_HINT} ${NOT_SHOWN}`);
  const hostEnd = firstOf(rest, '/?');
  const netloc = rest.slice(0, hostEnd);
  const after = rest.slice(hostEnd);
  const queryAt = after.indexOf('?');
  const path = queryAt < 0 ? after : after.slice(0, queryAt);
  // An "@" after the host part: credentials cut short by a "/" or "?" they hold.
  if (after.includes('@')) throw bad(`has an "@" after its host part; ${ENCODING_HINT} ${NOT_SHOWN}`);
  const items = netloc.split(',').filter((item) => item !== '');
  if (items.some((item) => item.lastIndexOf('@') === 0)) throw bad(`has an "@" with nothing before it; ${ENCODING_HINT} ${NOT_SHOWN}`);
  const kinds = new Set(items.map(credentialsKind));
  if (kinds.size > 1) {
    throw bad(`gives a user name and password to some hosts and not to others; ${ENCODING_HINT} ${NOT_SHOWN}`);
  }
  const hosts = items.map((item, i) => parseHost(item, i, items.length));
  if (hosts.length > 1 && hosts.some((h) => h.username !== hosts[0].username || h.password !== hosts[0].password)) {
    // The nodes of one cluster share their users: different credentials are one password split by a "," or "@".
    throw bad(`gives its hosts different credentials (the nodes of a RabbitMQ cluster share their users); ${ENCODING_HINT} ${NOT_SHOWN}`);
  }
  if (hosts.length === 0) {
    // `rabbit://` alone: the driver's defaults.
    hosts.push({ hostname: 'localhost', port: DEFAULT_PORT, username: 'guest', password: 'guest' });
  }
  const vhost = path.length > 1 ? unquote(path.slice(1)) : '/';
  return { hosts, vhost, hasQuery: queryAt >= 0, credentials: [...kinds][0] ?? 'none' };
}

/** Whether a host item carries no credentials, a user name only, or a user name and password. */
function credentialsKind(item: string): 'none' | 'user' | 'password' {
  const at = item.lastIndexOf('@');
  if (at < 0) return 'none';
  return item.slice(0, at).includes(':') ? 'password' : 'user';
}

function parseHost(item: string, index: number, count: number): BrokerHost {
  let username = '';
  let password = '';
  let hostPort = item;
  const at = item.lastIndexOf('@');
  if (at >= 0) {
    const creds = item.slice(0, at);
    hostPort = item.slice(at + 1);
    const colon = creds.indexOf(':');
    username = unquote(colon >= 0 ? creds.slice(0, colon) : creds);
    password = colon >= 0 ? unquote(creds.slice(colon + 1)) : '';
  }
  // Named by position only: with a "," or "@" in a password, any part of an item may be a piece of it.
  const label = count > 1 ? `host ${index + 1} of ${count}` : 'its host';
  let hostname: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end < 0) throw bad(`${label}: unterminated IPv6 address; ${ENCODING_HINT}`);
    hostname = hostPort.slice(1, end);
    const rest = hostPort.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad(`${label}: text after the IPv6 address; ${ENCODING_HINT}`);
    portText = rest.slice(1) || undefined;
  } else {
    const colon = hostPort.indexOf(':');
    hostname = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    portText = colon >= 0 ? hostPort.slice(colon + 1) || undefined : undefined;
  }
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText)) throw bad(`${label}: the port is not a number; ${ENCODING_HINT}`);
    if (port < 1 || port > 65535) throw bad(`${label}: the port is out of range (1-65535)`);
  }
  return { hostname: hostname || 'localhost', port, username: username || 'guest', password: password || 'guest' };
}

function bad(detail: string) {
  return configError(`[DEFAULT] transport_url ${detail}`);
}

function firstOf(text: string, chars: string): number {
  for (let i = 0; i < text.length; i++) if (chars.includes(text[i])) return i;
  return text.length;
}

/** Python's urllib.parse.unquote: %XX escapes decoded as UTF-8 (invalid bytes replaced), an invalid escape kept as written. */
export function unquote(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...encoder.encode(ch));
      i += ch.length - 1;
    }
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes));
}

/**
 * How a parsed URL is shown: credentials as `***` (the user name too: a
 * password written without its user, or with a ":" in it, reads as one), a
 * query only as `?…`.
 */
export function describeTransportUrl(scheme: string, parsed: TransportUrl): string {
  const creds = parsed.credentials === 'none' ? '' : '***@';
  const hosts = parsed.hosts.map((h) => `${creds}${brokerName(h)}`).join(',');
  const vhost = parsed.vhost === '/' ? '' : encodeURIComponent(parsed.vhost);
  return `${scheme}://${hosts}/${vhost}${parsed.hasQuery ? '?…' : ''}`;
}

/** The URL for logs and errors: passwords replaced; a URL that does not parse is not shown at all. */
export function redact(url: string): string {
  try {
    const parsed = parseTransportUrl(url);
    return describeTransportUrl(SCHEME.exec(url.trim())![1], parsed);
  } catch {
    return `(a transport_url that does not parse; ${NOT_SHOWN})`;
  }
}

/** `host:port` as logs name a broker (IPv6 in brackets). */
export function brokerName(host: BrokerHost): string {
  return `${host.hostname.includes(':') ? `[${host.hostname}]` : host.hostname}:${host.port}`;
}
