/**
 * The agent across a RabbitMQ restart, with neutron-server up and with
 * neutron-server down while the broker restarts (docs/neutron.md,
 * "Reconnecting"): a port plugged once the server is reachable again goes
 * ACTIVE within seconds, whatever the calls lost with the broker.
 *
 * The restart loses every non-durable queue: the server's q-plugin until
 * neutron-server declares it again, our reply queue, the calls in flight.
 */
import { expect } from 'chai';
import type { NeutronEnv } from '../../testing/neutron-env.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';
import { NeutronAgents, plug, portStatus, until, type ApiPort } from './helpers/neutron-agent.js';

/** The deadline the issue sets: ACTIVE within this long of the server being reachable again. */
const ACTIVE_WITHIN_MS = 10_000;

describe('ovs-agent across RabbitMQ restarts @integration', function () {
  this.timeout(240_000);
  let env: NeutronEnv;
  const agents = new NeutronAgents(() => env);
  const host = 'rc-a';
  let networkId: string;
  let plugged = 0;

  const api = () => env.api;
  const newPort = async (): Promise<ApiPort> =>
    (await api().post<{ port: ApiPort }>('/ports', {
      port: { network_id: networkId, 'binding:host_id': host, device_owner: 'compute:nova', device_id: `vm-rc-${plugged}` },
    })).port;

  /** Creates a port and plugs it once the server is reachable; resolves with ms from `reachableAt` to ACTIVE. */
  async function plugAfter(reachableAt: number): Promise<{ toActiveMs: number; fromPlugMs: number }> {
    const port = await until(() => newPort(), 'a port created through the API', 30_000);
    const a = agents.all[0];
    const plugAt = Date.now();
    await plug(a.sb, `tap-rc${plugged++}`, port);
    await until(async () => (await portStatus(env, port.id)) === 'ACTIVE', `port ${port.id} ACTIVE`, reachableAt + ACTIVE_WITHIN_MS - Date.now(), 100);
    const now = Date.now();
    return { toActiveMs: now - reachableAt, fromPlugMs: now - plugAt };
  }

  /** neutron-server consumes q-plugin again: our calls reach it. */
  const serverReachable = () => until(async () => (await env.consumers('q-plugin')) > 0 && (await env.consumers('q-reports-plugin')) > 0,
    'neutron-server consuming q-plugin again', 120_000, 100);

  before(async function () {
    this.timeout(240_000);
    env = await sharedNeutronEnv();
    await agents.start(host, '127.0.0.41');
    await agents.waitAlive(host);
    const { network } = await api().post<{ network: { id: string } }>('/networks', { network: { name: 'rc', 'provider:network_type': 'vxlan' } });
    networkId = network.id;
    await api().post('/subnets', { subnet: { network_id: networkId, cidr: '10.41.0.0/24', ip_version: 4, enable_dhcp: false } });
    const first = await newPort();
    await plug(agents.all[0].sb, `tap-rc${plugged++}`, first);
    await until(async () => (await portStatus(env, first.id)) === 'ACTIVE', 'the first port ACTIVE');
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' || process.env.SPEC_DUMP) console.error(agents.dump(400));
  });

  after(async function () {
    this.timeout(90_000);
    await agents.stopAll();
    // The broker or the server may have been left down by a failed test: the next files share the stack.
    if (!env.rabbit.running) await env.rabbit.startBroker();
    await env.startServer();
  });

  it('RabbitMQ restarted: a port plugged once neutron-server consumes again is ACTIVE within 10 s', async () => {
    const a = agents.all[0];
    const linesBefore = a.lines.length;
    await env.restartRabbit();
    // Reachable for the agent: the server consumes again and the agent is back on the broker (it reconnects
    // on oslo's back-off, rabbit_retry_interval + rabbit_retry_backoff per attempt: 1, 3, 5, 7 s apart).
    await until(() => a.lines.slice(linesBefore).some((l) => l.includes('(reconnected)')), 'the agent reconnected', 60_000);
    const reachableAt = (await serverReachable(), Date.now());
    const t = await plugAfter(reachableAt);
    console.log(`      broker restart: ACTIVE ${t.toActiveMs} ms after the server was reachable, ${t.fromPlugMs} ms after the plug`);
    expect(t.toActiveMs).to.be.below(ACTIVE_WITHIN_MS);
  });

  it('RabbitMQ restarted while neutron-server is down, then the server started: a port plugged then is ACTIVE within 10 s', async () => {
    const a = agents.all[0];
    await env.stopServer(1000);
    const linesBefore = a.lines.length;
    await env.restartRabbit();
    // The agent is back on the broker before the server: what it sends now finds no server queue.
    await until(() => a.lines.slice(linesBefore).some((l) => l.includes('(reconnected)')), 'the agent reconnected', 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    await env.startServer();
    const reachableAt = (await serverReachable(), Date.now());
    const t = await plugAfter(reachableAt);
    console.log(`      broker restart with the server down: ACTIVE ${t.toActiveMs} ms after the server was reachable, ${t.fromPlugMs} ms after the plug`);
    expect(t.toActiveMs).to.be.below(ACTIVE_WITHIN_MS);
  });

  it('the ports plugged before the restarts are still ACTIVE and wired', async () => {
    const a = agents.all[0];
    const { ports } = await api().get<{ ports: ApiPort[] }>(`/ports?network_id=${networkId}`);
    expect(ports.map((p) => p.status)).to.deep.equal(ports.map(() => 'ACTIVE'));
    for (let i = 0; i < plugged; i++) expect(Number((await a.sb.vsctl('get', 'Port', `tap-rc${i}`, 'tag')).trim())).to.be.within(1, 4094);
  });
});
