/**
 * Runs the real agent (lib/agent/run.ts, `[ovs_agent] control_plane =
 * neutron`) on a private OVS sandbox against a NeutronEnv, as
 * agent-e2e.spec.ts does, for the specs that need one or two agents and the
 * wire: plugging ports the way nova does, waiting for the API's status, and
 * counting the RPC calls the broker sees (its firehose).
 */
import { PassThrough } from 'node:stream';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { runAgent, type RunningAgent } from '../../../lib/agent/run.js';
import { loadConfig } from '../../../lib/config/index.js';
import { createLogger } from '../../../lib/log.js';
import type { NeutronEnv } from '../../../testing/neutron-env.js';
import { OvsSandbox } from '../../../testing/sandbox.js';
import { waiter } from '../../../testing/until.js';

export interface ApiPort {
  id: string;
  status: string;
  mac_address: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
}

export const until = waiter(45_000, 100);

export interface NeutronAgent {
  host: string;
  sb: OvsSandbox;
  running: RunningAgent;
  /** The agent's log, one JSON object a line (debug level). */
  lines: string[];
}

/** Agents and sandboxes started here, stopped by `stopAll` (call it from `after`). */
export class NeutronAgents {
  readonly all: NeutronAgent[] = [];

  constructor(private readonly env: () => NeutronEnv) {}

  async start(host: string, localIp: string, overrides: Record<string, string | number | boolean> = {}): Promise<NeutronAgent> {
    const sb = await OvsSandbox.start();
    const lines: string[] = [];
    const agent: NeutronAgent = { host, sb, lines, running: undefined as unknown as RunningAgent };
    this.all.push(agent);
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    const config = loadConfig({
      env: {},
      overrides: {
        'DEFAULT.host': host,
        'DEFAULT.transport_url': this.env().transportUrl,
        'ovs_agent.control_plane': 'neutron',
        'ovs_agent.ovs_rundir': sb.rundir,
        'ovs_agent.openflow_channel': 'mgmt',
        'ovs.ovsdb_connection': sb.dbRemote,
        'ovs.datapath_type': 'netdev',
        'ovs.bridge_mappings': 'physnet1:br-eth1',
        'ovs.local_ip': localIp,
        'agent.tunnel_types': 'vxlan',
        'agent.report_interval': 5,
        'agent.polling_interval': 1,
        'securitygroup.firewall_driver': 'openvswitch',
        ...overrides,
      },
    }).config;
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((l) => l !== '')));
    agent.running = await runAgent({ config, logger: createLogger({ debug: true, json: true, stream }), statusSocket: false });
    return agent;
  }

  async waitAlive(host: string): Promise<void> {
    await until(async () => {
      const { agents } = await this.env().api.get<{ agents: Array<{ alive: boolean; agent_type: string }> }>(`/agents?host=${host}`);
      return agents.some((r) => r.alive && r.agent_type === 'Open vSwitch agent');
    }, `agent ${host} alive in GET /v2.0/agents`);
  }

  /** The last `n` log lines of every agent, for a failed test's output. */
  dump(n = 150): string {
    return this.all.map((a) => `--- agent ${a.host}: last ${Math.min(n, a.lines.length)} of ${a.lines.length} log lines ---\n${a.lines.slice(-n).join('\n')}`).join('\n');
  }

  async stopAll(): Promise<void> {
    for (const a of this.all.splice(0)) {
      await a.running?.stop().catch(() => undefined);
      await a.sb.stop();
    }
  }
}

/** Plugs a port on br-int as nova/os-vif does. */
export async function plug(sb: OvsSandbox, name: string, port: ApiPort): Promise<void> {
  await sb.vsctl('add-port', 'br-int', name, '--', 'set', 'Interface', name,
    `external_ids:iface-id=${port.id}`, `external_ids:attached-mac=${port.mac_address}`, 'external_ids:iface-status=active');
}

/** A port's status straight from neutron's database (costs the server nothing). */
export async function portStatus(env: NeutronEnv, id: string): Promise<string | undefined> {
  const rows = await env.sql(`SELECT status FROM ports WHERE id = '${id}'`);
  return rows[0]?.[0];
}

export interface TracedCall {
  method: string;
  topic: string;
  args: Record<string, unknown>;
  at: number;
}

/**
 * Every RPC request the broker routes through the control exchange, from
 * RabbitMQ's firehose (`rabbitmqctl trace_on`, amq.rabbitmq.trace `publish.#`):
 * a copy, so it changes no routing (a queue bound to q-plugin would make an
 * unroutable call routable). Off again on close.
 */
export class CallTrace {
  readonly calls: TracedCall[] = [];

  private constructor(private readonly env: NeutronEnv, private readonly conn: ChannelModel) {}

  static async start(env: NeutronEnv): Promise<CallTrace> {
    env.rabbit.ctl('trace_on');
    const conn = await amqpConnect(`amqp://guest:guest@127.0.0.1:${env.rabbit.port}/`);
    const trace = new CallTrace(env, conn);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, 'amq.rabbitmq.trace', 'publish.neutron');
    await ch.consume(q.queue, (m) => {
      if (!m) return;
      const headers = m.properties.headers ?? {};
      try {
        const outer = JSON.parse(m.content.toString('utf8')) as Record<string, unknown>;
        const msg = JSON.parse(String(outer['oslo.message'])) as Record<string, unknown>;
        if (typeof msg.method !== 'string') return;
        trace.calls.push({
          method: msg.method,
          topic: String((headers.routing_keys as unknown[] | undefined)?.[0] ?? ''),
          args: (msg.args ?? {}) as Record<string, unknown>,
          at: Date.now(),
        });
      } catch {
        // not an oslo message
      }
    }, { noAck: true });
    return trace;
  }

  /** update_device_list calls of `host` (since `since`, ms since epoch). */
  deviceListCalls(host: string, since = 0): TracedCall[] {
    return this.calls.filter((c) => c.method === 'update_device_list' && c.args.host === host && c.at >= since);
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
    try {
      this.env.rabbit.ctl('trace_off');
    } catch {
      // the broker may be restarting
    }
  }
}
