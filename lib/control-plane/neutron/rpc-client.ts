/**
 * oslo.messaging's RPC client on the rabbit driver: calls wait for a reply
 * on this process's `reply_<hex>` queue (declared on every connection, with
 * x-expires as oslo), casts go to the control exchange, fanout casts to
 * `<topic>_fanout`.
 *
 * Timeouts back off as Neutron's BackingOffClient does (docs/neutron.md,
 * "Calls the agent makes"): a
 * call without an explicit timeout that times out doubles that method's
 * timeout (up to rpc_response_max_timeout) after a random pause, and the
 * caller gets a retriable ControlPlaneError `ERR_NEUTRON_RPC_TIMEOUT`.
 *
 * Unlike oslo, a call is never silently lost to the broker (docs/neutron.md,
 * "Reconnecting"):
 * - requests are published `mandatory`: one the broker has no queue for (the
 *   server has not declared its queue yet, e.g. after a broker restart) comes
 *   back at once and is sent again, 0.25 s later and then less often (2 s at
 *   most), until it is taken or the call's deadline passes; the server then
 *   gets it as soon as it consumes, not a whole timeout later;
 * - when the connection is replaced and the reply queue did not survive (the
 *   broker restarted), the calls that were out are sent again on the new
 *   connection at once: their replies could no longer come. When the reply
 *   queue survived (only our connection dropped), they keep waiting: the
 *   server's replies are in it.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from './broker-connection.js';
import { decodeBody, encodeRequest, readReply, uuidHex } from './envelope.js';
import { NeutronErrorCode, RemoteError, replyLostError, stoppedError, timeoutError } from './errors.js';
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
  /** The server's target namespace (the trunk RPCs'). */
  namespace?: string;
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
  /** The connection the request went out on (BrokerConnection.epoch); undefined until published. */
  epoch?: number;
}

const BACKOFF_SLEEP_CAP_S = 60;
/** A request the broker handed back is sent again after this long, doubling up to the cap. */
const UNROUTABLE_RETRY_FIRST_MS = 250;
const UNROUTABLE_RETRY_MAX_MS = 2000;
/** How often one routing key's missing consumer is logged while calls wait for it. */
const UNROUTABLE_LOG_EVERY_MS = 30_000;
/** Re-sends of one call after its reply queue was lost (flapping connections give up to the timeout). */
const MAX_RESENDS_AFTER_LOSS = 5;

export class RpcClient {
  readonly replyQueue = `reply_${uuidHex()}`;
  private readonly pending = new Map<string, Pending>();
  /** Per-method timeouts grown by back-off (seconds). */
  private readonly methodTimeouts = new Map<string, number>();
  private stopped = false;
  /** Whether this client's reply queue was declared before (on an earlier connection). */
  private replyQueueDeclared = false;
  /** Routing key → when its missing consumer was last logged (our own topics: a handful). */
  private readonly unroutableLogged = new Map<string, number>();
  private onCall: ((method: string, seconds: number, outcome: 'ok' | 'timeout' | 'error') => void) | undefined;

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

  /** Told of every call's end (metrics): one clock read and one callback per call. */
  observeCalls(listener: (method: string, seconds: number, outcome: 'ok' | 'timeout' | 'error') => void): void {
    this.onCall = listener;
  }

  async call<T = unknown>(topic: string, method: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<T> {
    const onCall = this.onCall;
    if (!onCall) return this.send<T>(topic, method, args, options);
    const t0 = performance.now();
    try {
      const r = await this.send<T>(topic, method, args, options);
      onCall(method, (performance.now() - t0) / 1000, 'ok');
      return r;
    } catch (err) {
      onCall(method, (performance.now() - t0) / 1000, (err as { code?: string }).code === NeutronErrorCode.RPC_TIMEOUT ? 'timeout' : 'error');
      throw err;
    }
  }

  private async send<T>(topic: string, method: string, args: Record<string, unknown>, options: CallOptions): Promise<T> {
    if (this.stopped) throw stoppedError(method);
    const explicit = options.timeout !== undefined;
    const timeoutS = options.timeout ?? this.timeoutFor(method);
    const deadline = Date.now() + timeoutS * 1000;
    const routingKey = options.server ? `${topic}.${options.server}` : topic;
    const what = `${method} on ${routingKey}`;
    let unroutableDelay = UNROUTABLE_RETRY_FIRST_MS;
    let routed = false;
    let resends = 0;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.stopped) break;
      const msgId = uuidHex();
      const reply = this.expectReply(msgId, method, remaining, routingKey, timeoutS);
      try {
        const epoch = await this.conn.publish(
          { name: this.opts.exchange, type: 'topic', ...this.opts.exchangeDeclaration },
          routingKey,
          encodeRequest({ method, args, version: options.version, namespace: options.namespace, msgId, replyQueue: this.replyQueue }),
          { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, mandatory: true, expiration: String(remaining) },
          remaining,
          what,
        );
        const p = this.pending.get(msgId);
        if (p) p.epoch = epoch;
      } catch (err) {
        this.settle(msgId);
        const code = (err as { code?: string }).code;
        if (code === NeutronErrorCode.UNROUTABLE) {
          this.noteUnroutable(routingKey, what);
          await sleep(Math.min(unroutableDelay, Math.max(0, deadline - Date.now())));
          unroutableDelay = Math.min(unroutableDelay * 2, UNROUTABLE_RETRY_MAX_MS);
          continue;
        }
        // Not confirmed: the connection dropped under the publish; the next attempt waits for the new one.
        if (code === NeutronErrorCode.NOT_CONNECTED && Date.now() < deadline && !this.stopped) continue;
        throw err;
      }
      routed = true;
      try {
        return (await reply) as T;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === NeutronErrorCode.REPLY_LOST && resends++ < MAX_RESENDS_AFTER_LOSS) continue;
        if (!explicit && code === NeutronErrorCode.RPC_TIMEOUT) await this.backOff(method, timeoutS);
        throw err;
      }
    }
    if (this.stopped) throw stoppedError(method);
    // Never taken by a queue: the server was absent, not slow, so the method's timeout is left alone.
    if (!routed) throw timeoutError(method, routingKey, timeoutS, 'no server consumed it');
    throw timeoutError(method, routingKey, timeoutS);
  }

  /** Registers a call's reply; rejects with a timeout after `ms`. */
  private expectReply(msgId: string, method: string, ms: number, routingKey: string, timeoutS: number): Promise<unknown> {
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(msgId, {
        method,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(msgId);
          reject(timeoutError(method, routingKey, timeoutS));
        }, ms),
      });
    });
    // Keep the rejection handled while the publish is in flight.
    reply.catch(() => {});
    return reply;
  }

  private noteUnroutable(routingKey: string, what: string): void {
    const now = Date.now();
    const last = this.unroutableLogged.get(routingKey);
    if (last !== undefined && now - last < UNROUTABLE_LOG_EVERY_MS) return;
    this.unroutableLogged.set(routingKey, now);
    this.opts.logger.warn(`${what}: no queue takes it on exchange ${this.opts.exchange} (neutron-server not consuming ${routingKey} yet); ` +
      'sending it again until it is taken or the call times out');
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
    // Gone with the broker (a restart loses this non-durable queue): no reply to a call out now can come.
    const lost = this.replyQueueDeclared && !(await this.conn.queueExists(this.replyQueue));
    this.replyQueueDeclared = true;
    if (lost) {
      for (const [msgId, p] of this.pending) {
        if (p.epoch === undefined) continue;
        this.settle(msgId);
        p.reject(replyLostError(p.method, this.replyQueue));
      }
    }
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
