/**
 * oslo.messaging's RPC client on the rabbit driver: calls wait for a reply
 * on this process's `reply_<hex>` queue (declared on every connection, with
 * x-expires as oslo), casts go to the control exchange, fanout casts to
 * `<topic>_fanout`.
 *
 * Timeouts back off as Neutron's BackingOffClient does (reference §2.8): a
 * call without an explicit timeout that times out doubles that method's
 * timeout (up to rpc_response_max_timeout) after a random pause, and the
 * caller gets a retriable ControlPlaneError `ERR_NEUTRON_RPC_TIMEOUT`.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from './broker-connection.js';
import { decodeBody, encodeRequest, readReply, uuidHex } from './envelope.js';
import { NeutronErrorCode, RemoteError, stoppedError, timeoutError } from './errors.js';
import type { Logger } from './logger.js';
import type { TopicDeclaration } from './topic-declaration.js';

export interface RpcClientOptions {
  exchange: string;
  /** Seconds (rpc_response_timeout). */
  responseTimeout: number;
  /** Seconds (rpc_response_max_timeout). */
  responseMaxTimeout: number;
  /** Seconds the reply queue lives unused (rabbit_transient_queues_ttl). */
  transientQueueTtl: number;
  /** How the control exchange is declared (durable/auto-delete as the servers declare it). */
  exchangeDeclaration?: TopicDeclaration['exchange'];
  logger: Logger;
}

export interface CallOptions {
  version?: string;
  /** Explicit timeout in seconds: no back-off (report_state). */
  timeout?: number;
  /** Send to `<topic>.<server>` instead of the shared topic queue. */
  server?: string;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const BACKOFF_SLEEP_CAP_S = 60;

export class RpcClient {
  readonly replyQueue = `reply_${uuidHex()}`;
  private readonly pending = new Map<string, Pending>();
  /** Per-method timeouts grown by back-off (seconds). */
  private readonly methodTimeouts = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly conn: BrokerConnection,
    private readonly opts: RpcClientOptions,
  ) {
    conn.addSetup((ch) => this.declareReplyQueue(ch));
  }

  /** The timeout (seconds) the next call of `method` without explicit timeout gets. */
  timeoutFor(method: string): number {
    return this.methodTimeouts.get(method) ?? this.opts.responseTimeout;
  }

  async call<T = unknown>(topic: string, method: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<T> {
    if (this.stopped) throw stoppedError(method);
    const explicit = options.timeout !== undefined;
    const timeoutS = options.timeout ?? this.timeoutFor(method);
    const deadline = Date.now() + timeoutS * 1000;
    const msgId = uuidHex();
    const body = encodeRequest({ method, args, version: options.version, msgId, replyQueue: this.replyQueue });
    const routingKey = options.server ? `${topic}.${options.server}` : topic;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(msgId, {
        method,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(msgId);
          reject(timeoutError(method, routingKey, timeoutS));
        }, timeoutS * 1000),
      });
    });
    // Keep the rejection handled while the publish is in flight.
    reply.catch(() => {});
    try {
      await this.conn.publish(
        { name: this.opts.exchange, type: 'topic', ...this.opts.exchangeDeclaration },
        routingKey,
        body,
        { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, expiration: String(timeoutS * 1000) },
        Math.max(0, deadline - Date.now()),
        `${method} on ${routingKey}`,
      );
    } catch (err) {
      this.settle(msgId);
      throw err;
    }
    try {
      return (await reply) as T;
    } catch (err) {
      if (!explicit && (err as { code?: string }).code === NeutronErrorCode.RPC_TIMEOUT) await this.backOff(method, timeoutS);
      throw err;
    }
  }

  /** A cast to the topic (one server of it gets it) or to `<topic>.<server>`. */
  async cast(topic: string, method: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<void> {
    if (this.stopped) throw stoppedError(method);
    const routingKey = options.server ? `${topic}.${options.server}` : topic;
    await this.conn.publish(
      { name: this.opts.exchange, type: 'topic', ...this.opts.exchangeDeclaration },
      routingKey,
      encodeRequest({ method, args, version: options.version }),
      { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 },
      (options.timeout ?? this.opts.responseTimeout) * 1000,
      `${method} on ${routingKey}`,
    );
  }

  /** A cast to every server of the topic. */
  async fanoutCast(topic: string, method: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<void> {
    if (this.stopped) throw stoppedError(method);
    await this.conn.publish(
      { name: `${topic}_fanout`, type: 'fanout', autoDelete: true },
      '',
      encodeRequest({ method, args, version: options.version }),
      { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 },
      (options.timeout ?? this.opts.responseTimeout) * 1000,
      `${method} fanout on ${topic}`,
    );
  }

  stop(): void {
    this.stopped = true;
    for (const [msgId, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(stoppedError(p.method));
      this.pending.delete(msgId);
    }
  }

  private async backOff(method: string, timeoutS: number): Promise<void> {
    const next = Math.min(timeoutS * 2, this.opts.responseMaxTimeout);
    this.methodTimeouts.set(method, next);
    const pause = Math.random() * Math.min(timeoutS, BACKOFF_SLEEP_CAP_S);
    this.opts.logger.warn(`${method} timed out after ${timeoutS} s; next timeout ${next} s, pausing ${pause.toFixed(1)} s`);
    if (!this.stopped) await new Promise((r) => setTimeout(r, pause * 1000));
  }

  private settle(msgId: string): Pending | undefined {
    const p = this.pending.get(msgId);
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(msgId);
    }
    return p;
  }

  private async declareReplyQueue(ch: Channel): Promise<void> {
    await ch.assertQueue(this.replyQueue, {
      durable: false,
      autoDelete: false,
      arguments: { 'x-expires': this.opts.transientQueueTtl * 1000 },
    });
    await ch.consume(this.replyQueue, (msg) => this.onReply(ch, msg), { noAck: false });
  }

  private onReply(ch: Channel, msg: ConsumeMessage | null): void {
    if (!msg) return; // consumer cancelled by the broker: the connection's recovery redeclares
    ch.ack(msg);
    let reply;
    try {
      reply = readReply(decodeBody(msg.content));
    } catch (err) {
      this.opts.logger.error(`undecodable reply on ${this.replyQueue}: ${(err as Error).message}`);
      return;
    }
    if (!reply) {
      this.opts.logger.warn(`message without _msg_id on reply queue ${this.replyQueue}, dropped`);
      return;
    }
    if (!reply.ending) return; // call-monitor heartbeat; we never ask for them
    const p = this.settle(reply.msgId);
    if (!p) {
      this.opts.logger.debug(`reply for unknown or timed-out call ${reply.msgId}`);
      return;
    }
    if (reply.failure) p.reject(new RemoteError(p.method, reply.failure));
    else p.resolve(reply.result);
  }
}
