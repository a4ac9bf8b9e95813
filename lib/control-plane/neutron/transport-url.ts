/**
 * oslo.messaging's transport_url, as the rabbit driver reads it:
 * `rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost`.
 * Several hosts are the nodes of one RabbitMQ cluster, tried in turn.
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
}

const DEFAULT_PORT = 5672;

/** Parses a transport_url; throws ControlPlaneError `ERR_NEUTRON_BAD_CONFIG` naming what is wrong. */
export function parseTransportUrl(url: string): TransportUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim());
  if (!m) throw configError(`transport_url ${JSON.stringify(url)}: not a URL (expected rabbit://user:pass@host:port/vhost)`);
  const [, scheme, netloc, path] = m;
  if (scheme !== 'rabbit' && scheme !== 'amqp') {
    throw configError(`transport_url ${redact(url)}: driver ${JSON.stringify(scheme)} is not supported (only rabbit)`);
  }
  const hosts: BrokerHost[] = [];
  for (const item of netloc.split(',')) {
    if (item === '') continue;
    hosts.push(parseHost(item, url));
  }
  if (hosts.length === 0) {
    // `rabbit://` alone: the driver's defaults.
    hosts.push({ hostname: 'localhost', port: DEFAULT_PORT, username: 'guest', password: 'guest' });
  }
  const vhost = path && path.length > 1 ? decode(path.slice(1), url) : '/';
  return { hosts, vhost };
}

function parseHost(item: string, url: string): BrokerHost {
  let username = '';
  let password = '';
  let hostPort = item;
  const at = item.lastIndexOf('@');
  if (at >= 0) {
    const creds = item.slice(0, at);
    hostPort = item.slice(at + 1);
    const colon = creds.indexOf(':');
    username = decode(colon >= 0 ? creds.slice(0, colon) : creds, url);
    password = colon >= 0 ? decode(creds.slice(colon + 1), url) : '';
  }
  let hostname: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end < 0) throw configError(`transport_url ${redact(url)}: unterminated IPv6 address in ${JSON.stringify(hostPort)}`);
    hostname = hostPort.slice(1, end);
    const rest = hostPort.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw configError(`transport_url ${redact(url)}: bad host ${JSON.stringify(hostPort)}`);
    portText = rest.slice(1) || undefined;
  } else {
    const colon = hostPort.indexOf(':');
    hostname = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    portText = colon >= 0 ? hostPort.slice(colon + 1) || undefined : undefined;
  }
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw configError(`transport_url ${redact(url)}: bad port ${JSON.stringify(portText)} for host ${JSON.stringify(hostname)}`);
    }
  }
  return { hostname: hostname || 'localhost', port, username: username || 'guest', password: password || 'guest' };
}

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw configError(`transport_url ${redact(url)}: bad percent-encoding in ${JSON.stringify(text)}`);
  }
}

/** The URL with passwords replaced, for logs and errors. */
export function redact(url: string): string {
  return url.replace(/(:\/\/|,)([^:@,/]*):([^@,/]*)@/g, '$1$2:***@');
}

/** `host:port` as logs name a broker (IPv6 in brackets). */
export function brokerName(host: BrokerHost): string {
  return `${host.hostname.includes(':') ? `[${host.hostname}]` : host.hostname}:${host.port}`;
}
