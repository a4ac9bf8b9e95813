/**
 * oslo.messaging's RPC server on the rabbit driver: for a topic it consumes
 * three queues (docs/neutron.md, "Exchanges and queues"): `<topic>` and `<topic>.<host>` on the
 * control exchange, and `<topic>_fanout_<hex>` on the `<topic>_fanout`
 * exchange. Messages are acked before dispatch (as oslo does), duplicates
 * (same `_unique_id` among the last 16) dropped, and methods dispatched to
 * the first endpoint whose version is compatible. A message that can't be
 * decoded is logged with its routing key and dropped, never thrown.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from './broker-connection.js';
import { decodeBody, encodeReply, readRequest, uuidHex, versionCompatible, type RpcRequest } from './envelope.js';
import type { RemoteFailure } from './errors.js';
import type { Logger } from './logger.js';
import { topicDeclaration, type TopicDeclaration } from './topic-declaration.js';

/** Methods of one endpoint: called with the request's args; a call's reply is the returned value. */
export interface Endpoint {
  version: string;
  methods: Record<string, (args: Record<string, unknown>, request: RpcRequest) => unknown>;
}

export interface RpcServerOptions {
  exchange: string;
  topic: string;
  host: string;
  endpoints: Endpoint[];
  /** Seconds an unused fanout queue lives (rabbit_transient_queues_ttl). */
  transientQueueTtl: number;
  /** How the control exchange and the topic queues are declared (default: oslo's defaults). */
  declaration?: TopicDeclaration;
  logger: Logger;
}

const DEDUP_WINDOW = 16;

export class RpcServer {
  readonly fanoutQueue: string;
  private readonly recentIds: string[] = [];

  constructor(
    private readonly conn: BrokerConnection,
    private readonly opts: RpcServerOptions,
  ) {
    this.fanoutQueue = `${opts.topic}_fanout_${uuidHex()}`;
    conn.addSetup((ch) => this.declare(ch));
  }

  private async declare(ch: Channel): Promise<void> {
    const { exchange, topic, host, transientQueueTtl } = this.opts;
    const declaration = this.opts.declaration ?? topicDeclaration();
    await ch.assertExchange(exchange, 'topic', declaration.exchange);
    for (const queue of [topic, `${topic}.${host}`]) {
      await ch.assertQueue(queue, declaration.queue);
      await ch.bindQueue(queue, exchange, queue);
      await ch.consume(queue, (msg) => this.onMessage(ch, msg), { noAck: false });
    }
    const fanoutExchange = `${topic}_fanout`;
    await ch.assertExchange(fanoutExchange, 'fanout', { durable: false, autoDelete: true });
    await ch.assertQueue(this.fanoutQueue, { durable: false, autoDelete: false, arguments: { 'x-expires': transientQueueTtl * 1000 } });
    await ch.bindQueue(this.fanoutQueue, fanoutExchange, topic);
    await ch.consume(this.fanoutQueue, (msg) => this.onMessage(ch, msg), { noAck: false });
  }

  private onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (!msg) return;
    ch.ack(msg);
    const where = `${msg.fields.exchange || '(default)'}/${msg.fields.routingKey}`;
    let request: RpcRequest;
    try {
      request = readRequest(decodeBody(msg.content));
    } catch (err) {
      this.opts.logger.error(`dropped undecodable message on ${this.opts.topic} (routing key ${where}): ${(err as Error).message}`);
      return;
    }
    if (request.uniqueId !== undefined) {
      if (this.recentIds.includes(request.uniqueId)) return;
      this.recentIds.push(request.uniqueId);
      if (this.recentIds.length > DEDUP_WINDOW) this.recentIds.shift();
    }
    void this.dispatch(request, where);
  }

  private async dispatch(request: RpcRequest, where: string): Promise<void> {
    let result: unknown = null;
    let failure: RemoteFailure | null = null;
    try {
      result = await this.invoke(request);
    } catch (err) {
      failure = toFailure(err);
      this.opts.logger.error(`${request.method} from ${where} failed: ${failure.className}: ${failure.message}`);
    }
    if (request.msgId !== undefined && request.replyQueue !== undefined) {
      try {
        await this.conn.publish(
          { name: '', type: 'default' },
          request.replyQueue,
          encodeReply(request.msgId, result, failure),
          { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, mandatory: true },
          10_000,
          `reply to ${request.method}`,
        );
      } catch (err) {
        this.opts.logger.warn(`could not reply to ${request.method} on ${request.replyQueue}: ${(err as Error).message}`);
      }
    }
  }

  private invoke(request: RpcRequest): unknown {
    if (request.namespace !== null) {
      throw Object.assign(new Error(`Endpoint does not support RPC namespace ${request.namespace}`), { remoteClass: 'UnsupportedVersion' });
    }
    let compatible = false;
    for (const endpoint of this.opts.endpoints) {
      if (!versionCompatible(endpoint.version, request.version)) continue;
      compatible = true;
      const fn = endpoint.methods[request.method];
      if (fn) return fn(request.args, request);
    }
    if (compatible) throw Object.assign(new Error(`Endpoint does not support RPC method ${request.method}`), { remoteClass: 'NoSuchMethod' });
    throw Object.assign(new Error(`Endpoint does not support RPC version ${request.version}. Attempted method: ${request.method}`), {
      remoteClass: 'UnsupportedVersion',
    });
  }
}

function toFailure(err: unknown): RemoteFailure {
  const e = err as Error & { remoteClass?: string };
  const dispatcher = e.remoteClass !== undefined;
  return {
    className: e.remoteClass ?? e.name ?? 'Error',
    module: dispatcher ? 'oslo_messaging.rpc.dispatcher' : 'ovs_agent',
    message: e.message ?? String(err),
    traceback: dispatcher ? [] : (e.stack ?? '').split('\n'),
  };
}
