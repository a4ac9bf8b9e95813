/**
 * The RPC and session metrics of the Neutron control plane, against a
 * scripted neutron-server (Debian's oslo.messaging on a real RabbitMQ,
 * spec/neutron/helpers/scripted-neutron.ts): every call's attempt counted by
 * method and outcome (ok, error, timeout) with its latency, and the AMQP
 * session up, as the agent's metrics registry exposes them.
 */
import { expect } from 'chai';
import { RabbitBroker } from '../../testing/neutron-env.js';
import { NeutronControlPlane } from '../../lib/control-plane/neutron/neutron-control-plane.js';
import { silentLogger } from '../../lib/control-plane/neutron/logger.js';
import { AgentMetrics } from '../../lib/observe/metrics.js';
import { readiness } from '../../lib/observe/readiness.js';
import { Sessions } from '../../lib/observe/sessions.js';
import { ScriptedNeutron } from '../neutron/helpers/scripted-neutron.js';
import { parseSamples, value } from './scrape.js';

describe('RPC and AMQP session metrics against a scripted oslo.messaging server @integration', function () {
  this.timeout(90_000);
  let broker: RabbitBroker | undefined;
  let peer: ScriptedNeutron | undefined;
  let cp: NeutronControlPlane | undefined;
  let metrics: AgentMetrics | undefined;

  before(async function () {
    this.timeout(120_000);
    broker = await RabbitBroker.start();
    peer = await ScriptedNeutron.start(broker.transportUrl);
  });
  after(async function () {
    this.timeout(30_000);
    await cp?.stop();
    metrics?.close();
    await peer?.stop();
    await broker?.stop();
  });

  it('counts each call by method and outcome, times it, and shows the AMQP session up', async () => {
    const sessions = new Sessions();
    // The rest of the agent's sessions, up: readiness then hangs on the AMQP session alone.
    sessions.set('ovsdb', true);
    metrics = new AgentMetrics();
    metrics.bind({
      facts: () => ({ ports: {}, localVlans: 0, flows: [], flowModsSent: 0, bundlesSent: new Map(), driftRepaired: new Map(), resourceCache: cp?.resourceCacheStats() }),
      readiness: () => readiness({ firstSyncDone: true, bridges: [], controlPlane: 'amqp', sessions }),
    }, sessions);
    const m = metrics;
    cp = new NeutronControlPlane({
      transportUrl: broker!.transportUrl, rpcResponseTimeout: 1, reportInterval: 0, logger: silentLogger, callRetries: 0,
      rabbit: { retryInterval: 0.2, retryBackoff: 0.5, intervalMax: 2 },
    });
    cp.observe({ session: (up, error) => sessions.set('amqp', up, { error }), rpc: (method, s, outcome) => m.rpc(method, s, outcome) });
    await cp.start({ host: 'rpc-metrics-host', agentId: 'ovs-agent-rpc-metrics-host', binary: 'neutron-openvswitch-agent' });

    await peer!.script({ tunnel_sync: ['ok', 'ValueError', { hang: 10 }] });
    await cp.tunnelSync('192.0.2.1', 'vxlan');
    await cp.tunnelSync('192.0.2.1', 'vxlan').catch(() => undefined);
    const timedOut = await cp.tunnelSync('192.0.2.1', 'vxlan').then(() => undefined, (e: { code?: string }) => e.code);
    expect(timedOut).to.equal('ERR_NEUTRON_RPC_TIMEOUT');

    const s = parseSamples((await m.scrape()).body);
    expect(value(s, 'ovs_agent_rpc_calls_total', { method: 'tunnel_sync', outcome: 'ok' })).to.equal(1);
    expect(value(s, 'ovs_agent_rpc_calls_total', { method: 'tunnel_sync', outcome: 'error' })).to.equal(1);
    expect(value(s, 'ovs_agent_rpc_calls_total', { method: 'tunnel_sync', outcome: 'timeout' })).to.equal(1);
    expect(value(s, 'ovs_agent_rpc_duration_seconds_count', { method: 'tunnel_sync' })).to.equal(3);
    // The timed-out call waited its whole timeout (1 s): the histogram's sum has it.
    expect(value(s, 'ovs_agent_rpc_duration_seconds_sum', { method: 'tunnel_sync' })).to.be.at.least(1);
    expect(value(s, 'ovs_agent_session_up', { session: 'amqp' })).to.equal(1);
    expect(value(s, 'ovs_agent_ready')).to.equal(1);
  });
});
