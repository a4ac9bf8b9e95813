/**
 * How the control exchange and the topic queues (`<topic>`, `<topic>.<host>`)
 * are declared, from oslo.messaging's `[oslo_messaging_rabbit]`
 * amqp_durable_queues, amqp_auto_delete, rabbit_ha_queues and
 * rabbit_quorum_queue with its limits (docs/neutron.md, "Exchanges and
 * queues"; oslo's
 * `_get_queue_arguments` and `Connection.durable`).
 *
 * Every agent and server of a cloud must declare these alike: RabbitMQ
 * refuses a redeclaration with other properties (406 PRECONDITION_FAILED,
 * "inequivalent arg"), so an agent left at the defaults cannot even publish
 * to a control exchange a server with durable or quorum queues declared.
 * Fanout exchanges and queues and reply queues are declared the same way
 * whatever these say, as oslo does.
 */
import { configError } from './errors.js';

export interface TopicOptions {
  /** `amqp_durable_queues` (false). */
  durableQueues?: boolean;
  /** `amqp_auto_delete` (false). */
  autoDelete?: boolean;
  /** `rabbit_ha_queues` (false): `x-ha-policy: all` (RabbitMQ 3.0+ takes mirroring from policies instead). */
  haQueues?: boolean;
  /** `rabbit_quorum_queue` (false): quorum topic queues, durable whatever amqp_durable_queues says. */
  quorumQueue?: boolean;
  /** `rabbit_quorum_delivery_limit`, `rabbit_quorum_max_memory_length`, `rabbit_quorum_max_memory_bytes` (0: unset). */
  quorumDeliveryLimit?: number;
  quorumMaxMemoryLength?: number;
  quorumMaxMemoryBytes?: number;
}

export interface TopicDeclaration {
  exchange: { durable: boolean; autoDelete: boolean };
  queue: { durable: boolean; autoDelete: boolean; arguments: Record<string, unknown> };
}

export function topicDeclaration(o: TopicOptions = {}): TopicDeclaration {
  if (o.quorumQueue && o.haQueues) {
    throw configError('[oslo_messaging_rabbit] rabbit_quorum_queue and rabbit_ha_queues are both enabled: a queue is quorum or HA (mirrored), not both');
  }
  const durable = Boolean(o.durableQueues || o.quorumQueue);
  const autoDelete = Boolean(o.autoDelete);
  const args: Record<string, unknown> = {};
  if (o.haQueues) args['x-ha-policy'] = 'all';
  if (o.quorumQueue) {
    args['x-queue-type'] = 'quorum';
    if (o.quorumDeliveryLimit) args['x-delivery-limit'] = o.quorumDeliveryLimit;
    if (o.quorumMaxMemoryLength) args['x-max-in-memory-length'] = o.quorumMaxMemoryLength;
    if (o.quorumMaxMemoryBytes) args['x-max-in-memory-bytes'] = o.quorumMaxMemoryBytes;
  }
  return { exchange: { durable, autoDelete }, queue: { durable, autoDelete, arguments: args } };
}

/** The hint for RabbitMQ's "inequivalent arg" refusal: the likely cause is a setting that differs from the server's. */
export const INEQUIVALENT_HINT =
  'RabbitMQ has it declared with other properties: set [oslo_messaging_rabbit] amqp_durable_queues, amqp_auto_delete, ' +
  'rabbit_quorum_queue and rabbit_ha_queues as on the servers and other agents of this cloud';
