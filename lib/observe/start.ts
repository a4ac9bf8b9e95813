/**
 * The health and metrics endpoint of a running agent (`[ovs_agent]
 * metrics_address`): the metrics registry, told of the agent's work, and the
 * HTTP listener. Started before the agent exists, so probes answer (not
 * ready) during start-up.
 */
import type { Logger } from '../log.js';
import { isLoopback, type ListenAddress } from './address.js';
import { ObserveServer } from './http-server.js';
import { AgentMetrics, type MetricsSource } from './metrics.js';
import { startingReadiness } from './readiness.js';
import type { Sessions } from './sessions.js';

/** The agent as observed (lib/agent/agent.ts OvsAgent). */
export interface ObservedAgent extends MetricsSource {
  readonly sessions: Sessions;
}

export interface Observing {
  metrics: AgentMetrics;
  server: ObserveServer;
  /** The agent once built: scrapes and probes read it from then on. */
  bind(agent: ObservedAgent): void;
  close(): Promise<void>;
}

export async function startObserving(at: ListenAddress, log: Logger): Promise<Observing> {
  const metrics = new AgentMetrics();
  let agent: ObservedAgent | undefined;
  const server = await ObserveServer.listen(at, {
    readiness: () => agent?.readiness() ?? startingReadiness(),
    metrics: () => metrics.scrape(),
  });
  log.info(`health and metrics on ${server.url} (/healthz, /readyz, /metrics)`);
  if (!isLoopback(server.address.host)) log.warn(`the metrics endpoint ${server.url} is reachable from other hosts: no authentication, no TLS`);
  return {
    metrics, server,
    bind(a) {
      agent = a;
      metrics.bind(a, a.sessions);
    },
    async close() {
      metrics.close();
      await server.close();
    },
  };
}
