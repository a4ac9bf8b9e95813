/**
 * One AMQP 0-9-1 connection to a RabbitMQ cluster that stays up: it tries the
 * transport_url's hosts in turn with oslo's back-off (retry_interval, growing
 * by retry_backoff, capped at interval_max), re-runs every registered setup
 * (declarations and consumers) on each new connection, and tells its owner
 * when a connection replaced a lost one (the owner then resyncs).
 *
 * Two channels per connection: one for consumers, one confirm channel for
 * publishing (oslo publishes with confirms on).
 *
 * A publish may ask to be `mandatory`: the broker then hands back a message
 * no queue is bound for (basic.return, which arrives before the publish's
 * confirm), and the publish fails at once with ERR_NEUTRON_UNROUTABLE
 * instead of the message vanishing (a call sent while neutron-server's
 * queue does not exist, e.g. right after a broker restart, would otherwise
 * wait out its whole timeout).
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { notConnectedError, stoppedError, unroutableError } from './errors.js';
import type { Logger } from './logger.js';
import { brokerName, type BrokerHost, type TransportUrl } from './transport-url.js';
import { uuidHex } from './envelope.js';
import { INEQUIVALENT_HINT } from './topic-declaration.js';

/** A protocol version TLS is pinned to (`[oslo_messaging_rabbit] ssl_version`). */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';

/** TLS to the broker, as options.ts maps `[oslo_messaging_rabbit]`. */
export interface TlsOptions {
  /**
   * What the broker's certificate chain must lead to: a PEM file (read on
   * each connect, so a renewed one is picked up), node's bundled CAs, or
   * nothing (undefined: not verified).
   */
  ca: { file: string } | 'bundled' | undefined;
  /** Also check the broker's host name (or IP) against its certificate. */
  verifyHostname: boolean;
  certFile?: string;
  keyFile?: string;
  /** Pinned protocol version; undefined: negotiate. */
  version?: TlsVersion;
}

export interface BrokerConnectionOptions {
  url: TransportUrl;
  /** `[oslo_messaging_rabbit] ssl`: TLS on; options as oslo's. */
  tls?: TlsOptions;
  /** Seconds; AMQP heartbeat negotiated with the broker (oslo heartbeat_timeout_threshold). */
  heartbeat: number;
  /** Seconds: first retry delay, its growth per attempt and its cap. */
  retryInterval: number;
  retryBackoff: number;
  intervalMax: number;
  /** Seconds to wait for the TCP/TLS connect and the AMQP handshake of one attempt. */
  connectTimeout?: number;
  logger: Logger;
  /** Shown in the broker's management UI as the connection name. */
  connectionName?: string;
}

/** AMQP reply code of a passive declare of a queue that does not exist. */
const NOT_FOUND = 404;

/** Runs on every new connection, in registration order, before the connection is used. */
export type Setup = (ch: Channel) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class BrokerConnection {
  private model: ChannelModel | undefined;
  private consumeCh: Channel | undefined;
  private publishCh: ConfirmChannel | undefined;
  private declaredExchanges = new Set<string>();
  private readonly setups: Setup[] = [];
  private readonly upListeners: Array<(reconnected: boolean) => void> = [];
  private readonly downListeners: Array<(why: string) => void> = [];
  private readonly waiters = new Set<Waiter>();
  private stopped = true;
  private everConnected = false;
  private attempt = 0;
  private hostIndex = 0;
  private readonly hosts: BrokerHost[];
  private retryTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  /** Bumped per connection, so callbacks of a dead one are ignored. */
  private generation = 0;
  /** Connections made so far: which one a publish went out on. */
  private connections = 0;
  /** message-ids of mandatory publishes the broker handed back, until their confirm. */
  private readonly returned = new Set<string>();
  private publishSeq = 0;

  constructor(private readonly opts: BrokerConnectionOptions) {
    // oslo shuffles the hosts once, then goes round-robin.
    this.hosts = [...opts.url.hosts];
    for (let i = this.hosts.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [this.hosts[i], this.hosts[j]] = [this.hosts[j], this.hosts[i]];
    }
  }

  get connected(): boolean {
    return this.publishCh !== undefined;
  }

  /** The broker currently connected to, as `host:port`. */
  get broker(): string | undefined {
    return this.connected ? brokerName(this.hosts[this.hostIndex]) : undefined;
  }

  /** The number of the current connection (1 for the first): a publish's `epoch`. */
  get epoch(): number {
    return this.connections;
  }

  addSetup(setup: Setup): void {
    this.setups.push(setup);
  }

  /** `reconnected` is true for every connection after the first. */
  onUp(listener: (reconnected: boolean) => void): void {
    this.upListeners.push(listener);
  }

  /** Told when a connection is lost (not on stop()). */
  onDown(listener: (why: string) => void): void {
    this.downListeners.push(listener);
  }

  /** Starts connecting; resolves on the first connection (retrying until stop()). */
  start(): Promise<void> {
    this.stopped = false;
    this.scheduleConnect(0);
    return this.waitConnected(Infinity, 'connect');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(stoppedError('waiting for RabbitMQ'));
    }
    this.waiters.clear();
    const model = this.model;
    this.dropConnection();
    if (model) await model.close().catch(() => {});
  }

  /** Closes the current connection as if the network dropped it (tests, channel errors). */
  async kill(): Promise<void> {
    const model = this.model;
    if (model) await model.close().catch(() => {});
  }

  /** Resolves once connected, or rejects with a retriable NOT_CONNECTED after `timeoutMs`. */
  waitConnected(timeoutMs: number, what: string): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.stopped) return Promise.reject(stoppedError(what));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(notConnectedError(what));
        }, Math.min(timeoutMs, 2 ** 31 - 1)),
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * Publishes and waits for the broker's confirm; resolves with the epoch of
   * the connection it went out on. Declares a topic or fanout exchange first,
   * once per connection (publishing to a missing exchange would close the
   * channel). With `options.mandatory`, a message no queue takes fails with
   * a retriable ERR_NEUTRON_UNROUTABLE.
   */
  async publish(
    exchange: { name: string; type: 'topic' | 'fanout' | 'default'; durable?: boolean; autoDelete?: boolean },
    routingKey: string,
    body: Buffer,
    options: Options.Publish,
    waitMs: number,
    what: string,
  ): Promise<number> {
    await this.waitConnected(waitMs, what);
    const ch = this.publishCh;
    const epoch = this.connections;
    if (!ch) throw notConnectedError(what);
    if (exchange.type !== 'default' && !this.declaredExchanges.has(exchange.name)) {
      await ch.assertExchange(exchange.name, exchange.type, { durable: exchange.durable ?? false, autoDelete: exchange.autoDelete ?? false });
      this.declaredExchanges.add(exchange.name);
    }
    const messageId = options.mandatory ? `${epoch}.${++this.publishSeq}` : undefined;
    await new Promise<void>((resolve, reject) => {
      ch.publish(exchange.type === 'default' ? '' : exchange.name, routingKey, body, messageId ? { ...options, messageId } : options, (err) => {
        if (err) reject(notConnectedError(`${what} (not confirmed by the broker)`, err));
        else if (messageId !== undefined && this.returned.delete(messageId)) reject(unroutableError(what, exchange.name || '(default)', routingKey));
        else resolve();
      });
    });
    return epoch;
  }

  /**
   * Whether a queue exists on the broker now (a passive declare on a channel
   * of its own: a missing queue closes the channel it is asked on).
   */
  async queueExists(name: string): Promise<boolean> {
    const model = this.model;
    if (!model) throw notConnectedError(`checking queue ${name}`);
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.checkQueue(name);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return false;
      throw err;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  private scheduleConnect(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.connecting ??= this.connectOnce().finally(() => (this.connecting = undefined));
    }, delayMs);
  }

  private async connectOnce(): Promise<void> {
    const host = this.hosts[this.hostIndex];
    const gen = ++this.generation;
    let model: ChannelModel | undefined;
    try {
      model = await connect(this.connectOptions(host), this.socketOptions(host));
      if (this.stopped || gen !== this.generation) {
        await model.close().catch(() => {});
        return;
      }
      model.on('error', (err: Error) => this.opts.logger.warn(`RabbitMQ ${brokerName(host)}: ${err.message}`));
      model.on('close', () => this.lost(gen, host, 'connection closed'));
      model.on('blocked', (reason: string) => this.opts.logger.error(`RabbitMQ ${brokerName(host)} blocked the connection: ${reason}`));
      const consumeCh = await model.createChannel();
      const publishCh = await model.createConfirmChannel();
      publishCh.on('return', (msg: { properties: { messageId?: string } }) => {
        if (msg.properties.messageId !== undefined) this.returned.add(msg.properties.messageId);
      });
      for (const ch of [consumeCh, publishCh]) {
        ch.on('error', (err: Error) => {
          if (err.message.includes('inequivalent arg')) this.opts.logger.error(`RabbitMQ ${brokerName(host)} refused a declaration: ${err.message}. ${INEQUIVALENT_HINT}`);
          else this.opts.logger.warn(`RabbitMQ ${brokerName(host)} channel error: ${err.message}`);
        });
        // A channel the broker closed (404, 406…) leaves us half working: start over on a new connection.
        ch.on('close', () => {
          if (gen === this.generation && this.model === model) void model?.close().catch(() => {});
        });
      }
      this.model = model;
      this.consumeCh = consumeCh;
      this.declaredExchanges = new Set();
      for (const setup of this.setups) await setup(consumeCh);
      if (gen !== this.generation || this.stopped) return;
      this.connections++;
      this.returned.clear();
      this.publishCh = publishCh;
      this.attempt = 0;
      const reconnected = this.everConnected;
      this.everConnected = true;
      this.opts.logger.info(`connected to RabbitMQ ${brokerName(host)}${reconnected ? ' (reconnected)' : ''}`);
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.resolve();
      }
      this.waiters.clear();
      for (const l of this.upListeners) l(reconnected);
    } catch (err) {
      if (gen !== this.generation) return;
      this.opts.logger.warn(`RabbitMQ ${brokerName(host)}: ${(err as Error).message}`);
      if (model) {
        this.dropConnection();
        await model.close().catch(() => {});
      }
      this.retry();
    }
  }

  private lost(gen: number, host: BrokerHost, why: string): void {
    if (gen !== this.generation || this.stopped) return;
    this.opts.logger.warn(`lost RabbitMQ ${brokerName(host)}: ${why}; reconnecting`);
    this.dropConnection();
    for (const l of this.downListeners) l(`${brokerName(host)}: ${why}`);
    this.retry();
  }

  private dropConnection(): void {
    this.generation++;
    this.model = undefined;
    this.consumeCh = undefined;
    this.publishCh = undefined;
  }

  private retry(): void {
    // Next host first; back off once every host failed in a row.
    this.hostIndex = (this.hostIndex + 1) % this.hosts.length;
    const { retryInterval, retryBackoff, intervalMax } = this.opts;
    const delay = Math.min(retryInterval + retryBackoff * this.attempt, intervalMax);
    this.attempt++;
    this.scheduleConnect(delay * 1000);
  }

  private connectOptions(host: BrokerHost): Options.Connect {
    return {
      protocol: this.opts.tls ? 'amqps' : 'amqp',
      hostname: host.hostname,
      port: host.port,
      username: host.username,
      password: host.password,
      vhost: this.opts.url.vhost,
      heartbeat: this.opts.heartbeat,
    };
  }

  private socketOptions(host: BrokerHost): Record<string, unknown> {
    const tls = this.opts.tls;
    const sock: Record<string, unknown> = {
      noDelay: true,
      timeout: (this.opts.connectTimeout ?? 10) * 1000,
      clientProperties: {
        connection_name: this.opts.connectionName ?? `ovs-agent:${process.pid}:${hostname()}:${uuidHex().slice(0, 8)}`,
        capabilities: { authentication_failure_close: true, 'connection.blocked': true, consumer_cancel_notify: true },
      },
    };
    if (tls) {
      // options.ts decides what is verified, as oslo.messaging does.
      sock.rejectUnauthorized = tls.ca !== undefined;
      if (tls.ca !== undefined && tls.ca !== 'bundled') sock.ca = [readFileSync(tls.ca.file)];
      if (tls.certFile) sock.cert = readFileSync(tls.certFile);
      if (tls.keyFile) sock.key = readFileSync(tls.keyFile);
      if (tls.version) {
        sock.minVersion = tls.version;
        sock.maxVersion = tls.version;
      }
      // SNI is a host name: RFC 6066 forbids an IP there (node warns, DEP0123). The name check uses the host either way.
      if (isIP(host.hostname) === 0) sock.servername = host.hostname;
      if (!tls.verifyHostname) sock.checkServerIdentity = () => undefined;
    }
    return sock;
  }
}
