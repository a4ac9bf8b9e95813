/**
 * Our oslo.messaging rabbit driver against a real RabbitMQ, with Debian's
 * own oslo.messaging (python3-oslo.messaging 14.0.3) as the peer on the other
 * end: it serves our calls and calls our server, so both directions of the
 * wire format are checked by oslo.messaging itself.
 */
import { expect } from 'chai';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect as amqpConnect } from 'amqplib';
import { RabbitBroker, freePort } from '../../testing/neutron-env.js';
import { pidAlive } from '../../testing/sandbox.js';
import { BrokerConnection } from '../../lib/control-plane/neutron/broker-connection.js';
import { RpcClient } from '../../lib/control-plane/neutron/rpc-client.js';
import { RpcServer } from '../../lib/control-plane/neutron/rpc-server.js';
import { parseTransportUrl } from '../../lib/control-plane/neutron/transport-url.js';
import { RemoteError } from '../../lib/control-plane/neutron/errors.js';
import { encodeRequest } from '../../lib/control-plane/neutron/envelope.js';
import { topicDeclaration, type TopicDeclaration } from '../../lib/control-plane/neutron/topic-declaration.js';
import type { Logger } from '../../lib/control-plane/neutron/logger.js';
import { waiter } from '../../testing/until.js';

const PEER = fileURLToPath(new URL('./helpers/oslo_peer.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const execFileAsync = promisify(execFile);

class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(m: string): void {
    this.lines.push(`INFO ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`WARN ${m}`);
  }
  error(m: string): void {
    this.lines.push(`ERROR ${m}`);
  }
}

const until = waiter(30_000, 50);

interface PeerRequest {
  method: string;
  args?: Record<string, unknown>;
  kind?: 'call' | 'cast' | 'fanout';
}

/** Requests from Debian's oslo.messaging client, in order, in one process; their results. `config`: an oslo config file. */
async function pythonRequests(url: string, topic: string, requests: PeerRequest[], config?: string): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await execFileAsync(PYTHON, [PEER, 'call', url, topic, JSON.stringify(requests)], { timeout: 50_000, env: peerEnv(config) });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Array<Record<string, unknown>>;
}

function peerEnv(config: string | undefined): NodeJS.ProcessEnv {
  return config ? { ...process.env, OSLO_PEER_CONFIG: config } : process.env;
}

/** Debian's oslo.messaging RPC server on `topic`, until stopped. */
async function pythonServer(url: string, topic: string, host: string, config?: string): Promise<ChildProcess> {
  const child = spawn(PYTHON, [PEER, 'server', url, topic, host], { stdio: ['pipe', 'pipe', 'pipe'], env: peerEnv(config) });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`oslo peer exited with ${code}`)));
    lines.on('line', (l) => {
      if (l.includes('"ready"')) resolve();
    });
  });
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || !pidAlive(child.pid)) return;
  child.stdin?.end();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && pidAlive(child.pid)) await new Promise((r) => setTimeout(r, 50));
  if (pidAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
}

describe('oslo.messaging rabbit driver against RabbitMQ and Debian oslo.messaging @integration', function () {
  this.timeout(60_000);
  let broker: RabbitBroker | undefined;
  let peer: ChildProcess | undefined;
  const conns: BrokerConnection[] = [];
  const log = new CapturingLogger();

  const newConnection = (url = broker!.transportUrl) => {
    const conn = new BrokerConnection({
      url: parseTransportUrl(url),
      heartbeat: 10,
      retryInterval: 0.1,
      retryBackoff: 0.2,
      intervalMax: 1,
      logger: log,
    });
    conns.push(conn);
    return conn;
  };
  const newClient = (conn: BrokerConnection, responseTimeout = 20, exchange = 'neutron', exchangeDeclaration?: TopicDeclaration['exchange']) =>
    new RpcClient(conn, { exchange, responseTimeout, responseMaxTimeout: 600, transientQueueTtl: 1800, exchangeDeclaration, logger: log });

  before(async function () {
    this.timeout(90_000);
    broker = await RabbitBroker.start();
  });

  afterEach(async () => {
    await stopChild(peer);
    peer = undefined;
    for (const c of conns.splice(0)) await c.stop();
  });

  after(async function () {
    this.timeout(30_000);
    await broker?.stop();
  });

  it('calls Debian oslo.messaging: results, context, and server exceptions decoded into typed errors', async () => {
    peer = await pythonServer(broker!.transportUrl, 'peer-topic', 'peerhost');
    const conn = newConnection();
    const client = newClient(conn);
    await conn.start();
    const r = await client.call<Record<string, unknown>>('peer-topic', 'echo', { value: { a: [1, 'x'] } }, { version: '1.3' });
    // The peer saw our admin context through the _context_* keys.
    expect(r).to.have.property('is_admin', true);
    expect(r.request_id).to.match(/^req-[0-9a-f-]{36}$/);
    expect(r.value).to.deep.equal({ a: [1, 'x'] });
    // Directed to the server's own queue too.
    expect(await client.call('peer-topic', 'echo', { value: 7 }, { version: '1.0', server: 'peerhost' })).to.have.property('value', 7);

    const failure = await client.call('peer-topic', 'fail', { message: 'boom' }, { version: '1.3' }).catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(RemoteError);
    expect((failure as RemoteError).failure).to.include({ className: 'ValueError', module: 'builtins', message: 'boom' });
    expect(failure).to.include({ code: 'ERR_NEUTRON_REMOTE_ERROR', retriable: false });

    const noMethod = (await client.call('peer-topic', 'nope', {}, { version: '1.0' }).catch((e: unknown) => e)) as RemoteError;
    expect(noMethod.failure.className).to.equal('NoSuchMethod');
    const badVersion = (await client.call('peer-topic', 'echo', { value: 1 }, { version: '2.0' }).catch((e: unknown) => e)) as RemoteError;
    expect(badVersion.failure.className).to.equal('UnsupportedVersion');
  });

  it('serves Debian oslo.messaging calls and casts on the three queues of a topic', async () => {
    const received: Array<{ host: string; value: unknown }> = [];
    const servers = ['host1', 'host2'].map((host) => {
      const conn = newConnection();
      new RpcServer(conn, {
        exchange: 'neutron',
        topic: 'our-topic',
        host,
        transientQueueTtl: 1800,
        logger: log,
        endpoints: [
          {
            version: '1.2',
            methods: {
              ping: (args) => ({ pong: args.value, host }),
              note: (args) => void received.push({ host, value: args.value }),
              explode: () => {
                throw new RangeError('no way');
              },
            },
          },
        ],
      });
      return conn;
    });
    await Promise.all(servers.map((s) => s.start()));
    const url = broker!.transportUrl;

    const [call, , err] = await pythonRequests(url, 'our-topic', [
      { method: 'ping', args: { value: 42 } },
      { method: 'note', args: { value: 'to-all' }, kind: 'fanout' },
      { method: 'explode' },
    ]);
    expect(call.result).to.have.property('pong', 42);
    await until(() => received.filter((r) => r.value === 'to-all').length === 2, 'the fanout cast on both servers');
    expect(received.filter((r) => r.value === 'to-all').map((r) => r.host).sort()).to.deep.equal(['host1', 'host2']);
    expect(err).to.include({ error: 'RemoteError', exc_type: 'RangeError' });
    expect(String(err.value)).to.include('no way');
  });

  for (const [name, ini, topics] of [
    ['quorum', 'rabbit_quorum_queue = true', { quorumQueue: true }],
    ['durable', 'amqp_durable_queues = true', { durableQueues: true }],
  ] as const) {
    it(`declares the control exchange and topic queues as oslo.messaging does with ${ini}, and talks to it both ways`, async () => {
      // A cloud whose servers use these settings: Debian's oslo.messaging declares first, on its own control exchange.
      const exchange = `ex-${name}`;
      const dir = mkdtempSync(join(tmpdir(), 'oslo-peer-'));
      const config = join(dir, 'peer.conf');
      writeFileSync(config, `[DEFAULT]\ncontrol_exchange = ${exchange}\n[oslo_messaging_rabbit]\n${ini}\n`);
      try {
        peer = await pythonServer(broker!.transportUrl, `peer-${name}`, 'peerhost', config);
        const declaration = topicDeclaration(topics);

        // At oslo's defaults we cannot even publish there; the log says which settings to look at.
        const plain = newConnection();
        const plainClient = newClient(plain, 20, exchange);
        await plain.start();
        const refused = await plainClient.call(`peer-${name}`, 'echo', { value: 0 }, { version: '1.3', timeout: 3 }).catch((e: unknown) => e);
        expect(refused).to.be.instanceOf(Error);
        await until(() => log.lines.some((l) => l.startsWith('ERROR') && l.includes(`exchange '${exchange}'`) && l.includes('amqp_durable_queues')), 'the hint in the log');
        plainClient.stop();
        await plain.stop();

        const conn = newConnection();
        const client = newClient(conn, 20, exchange, declaration.exchange);
        new RpcServer(conn, {
          exchange, topic: `ours-${name}`, host: 'h1', transientQueueTtl: 1800, declaration, logger: log,
          endpoints: [{ version: '1.0', methods: { ping: (args) => ({ pong: args.value }) } }],
        });
        await conn.start();
        expect(await client.call(`peer-${name}`, 'echo', { value: 1 }, { version: '1.3' })).to.have.property('value', 1);
        expect(await pythonRequests(broker!.transportUrl, `ours-${name}`, [{ method: 'ping', args: { value: 2 } }], config))
          .to.deep.equal([{ result: { pong: 2 } }]);

        // RabbitMQ holds our topic queues as oslo declares them: the same declaration is accepted, oslo's default refused.
        const probe = await amqpConnect(`amqp://guest:guest@127.0.0.1:${broker!.port}/`);
        try {
          for (const queue of [`ours-${name}`, `ours-${name}.h1`, `peer-${name}`]) {
            const same = await probe.createChannel();
            await same.assertQueue(queue, declaration.queue);
            await same.close();
            const other = await probe.createChannel();
            other.on('error', () => {});
            const err = await other.assertQueue(queue, { durable: false }).then(() => undefined, (e: Error) => e);
            expect(err?.message, queue).to.match(/PRECONDITION_FAILED/);
            if (name === 'quorum') {
              // A quorum queue, not a durable classic one.
              const classic = await probe.createChannel();
              classic.on('error', () => {});
              const e2 = await classic.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } }).then(() => undefined, (e: Error) => e);
              expect(e2?.message, queue).to.match(/PRECONDITION_FAILED.*x-queue-type/);
            }
          }
        } finally {
          await probe.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('refuses rabbit_quorum_queue with rabbit_ha_queues, as oslo.messaging does', () => {
    expect(() => topicDeclaration({ quorumQueue: true, haQueues: true })).to.throw(/rabbit_quorum_queue and rabbit_ha_queues/);
    expect(topicDeclaration({ haQueues: true }).queue.arguments).to.deep.equal({ 'x-ha-policy': 'all' });
    expect(topicDeclaration({ quorumQueue: true, quorumDeliveryLimit: 5 })).to.deep.equal({
      exchange: { durable: true, autoDelete: false },
      queue: { durable: true, autoDelete: false, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } },
    });
  });

  it('logs an undecodable message with its routing key, acks it, and keeps serving', async () => {
    const conn = newConnection();
    const seen: unknown[] = [];
    new RpcServer(conn, {
      exchange: 'neutron',
      topic: 'junk-topic',
      host: 'h',
      transientQueueTtl: 1800,
      logger: log,
      endpoints: [{ version: '1.0', methods: { note: (args) => void seen.push(args.value) } }],
    });
    const client = newClient(conn);
    await conn.start();
    const raw = await amqpConnect(`amqp://guest:guest@127.0.0.1:${broker!.port}/`);
    try {
      const ch = await raw.createConfirmChannel();
      const bodies = [
        Buffer.from('not json at all'),
        Buffer.from('{"oslo.version": "2.0", "oslo.message": "{broken"}'),
        Buffer.from('{"oslo.version": "3.0", "oslo.message": "{}"}'),
        Buffer.from('[1, 2]'),
        Buffer.from('{"oslo.version": "2.0", "oslo.message": "{\\"args\\": {}}"}'),
      ];
      for (const body of bodies) ch.publish('neutron', 'junk-topic.h', body);
      await ch.waitForConfirms();
      await until(() => log.lines.filter((l) => l.includes('undecodable') && l.includes('neutron/junk-topic.h')).length === bodies.length, 'five logged drops');
      await client.cast('junk-topic', 'note', { value: 'still here' }, { version: '1.0' });
      await until(() => seen.includes('still here'), 'a good message after the junk');
      const q = await ch.checkQueue('junk-topic.h');
      expect(q.messageCount, 'nothing left unacked in the queue').to.equal(0);
    } finally {
      await raw.close();
    }
  });

  it('drops a message delivered again with the same _unique_id (as oslo does), and serves the next one', async () => {
    const conn = newConnection();
    const seen: unknown[] = [];
    new RpcServer(conn, {
      exchange: 'neutron',
      topic: 'dup-topic',
      host: 'h',
      transientQueueTtl: 1800,
      logger: log,
      endpoints: [{ version: '1.0', methods: { note: (args) => void seen.push(args.value) } }],
    });
    await conn.start();
    const raw = await amqpConnect(`amqp://guest:guest@127.0.0.1:${broker!.port}/`);
    try {
      const ch = await raw.createConfirmChannel();
      // One cast published twice (a redelivery, or a sender's retry): the same body, so the same _unique_id.
      const once = encodeRequest({ method: 'note', args: { value: 'once' }, version: '1.0' });
      ch.publish('neutron', 'dup-topic.h', once);
      ch.publish('neutron', 'dup-topic.h', once);
      ch.publish('neutron', 'dup-topic.h', encodeRequest({ method: 'note', args: { value: 'next' }, version: '1.0' }));
      await ch.waitForConfirms();
      await until(() => seen.includes('next'), 'the message after the duplicate');
      expect(seen).to.deep.equal(['once', 'next']);
    } finally {
      await raw.close();
    }
  });

  it('times out a call nobody answers with a retriable error and backs the method timeout off', async () => {
    // A server that is down: its queue is there (as neutron-server leaves q-plugin), nobody consumes it.
    const raw = await amqpConnect(broker!.transportUrl.replace('rabbit:', 'amqp:'));
    try {
      const ch = await raw.createChannel();
      await ch.assertExchange('neutron', 'topic', { durable: false, autoDelete: false });
      await ch.assertQueue('nobody-answers', { durable: false, autoDelete: false });
      await ch.bindQueue('nobody-answers', 'neutron', 'nobody-answers');
    } finally {
      await raw.close();
    }
    const conn = newConnection();
    const client = newClient(conn, 1);
    await conn.start();
    const err = await client.call('nobody-answers', 'hello', {}, { version: '1.0' }).catch((e: unknown) => e);
    expect(err).to.include({ code: 'ERR_NEUTRON_RPC_TIMEOUT', retriable: true });
    expect(client.timeoutFor('hello')).to.equal(2);
    expect(client.timeoutFor('other')).to.equal(1);
    // An explicit timeout (report_state's) does not back off.
    await client.call('nobody-answers', 'report', {}, { timeout: 1 }).catch(() => undefined);
    expect(client.timeoutFor('report')).to.equal(1);
    // No queue at all: the server is absent, not slow; the call times out retriably, without backing off.
    const absent = await client.call('nobody-listens', 'absent', {}, { version: '1.0' }).catch((e: unknown) => e);
    expect(absent).to.include({ code: 'ERR_NEUTRON_RPC_TIMEOUT', retriable: true });
    expect((absent as Error).message).to.include('no server consumed it');
    expect(client.timeoutFor('absent')).to.equal(1);
  });

  it('a call sent before any server consumes its topic is not lost: it reaches the server once it does', async () => {
    const conn = newConnection();
    const client = newClient(conn);
    await conn.start();
    const t0 = Date.now();
    // 20 s timeout; the server shows up after 2 s (as neutron-server after a broker restart).
    const answer = client.call('late-topic', 'echo', { value: 'late' }, { version: '1.0' });
    await new Promise((r) => setTimeout(r, 2000));
    const serverConn = newConnection();
    new RpcServer(serverConn, {
      exchange: 'neutron', topic: 'late-topic', host: 'h', transientQueueTtl: 1800, logger: log,
      endpoints: [{ version: '1.0', methods: { echo: (args) => args.value } }],
    });
    await serverConn.start();
    expect(await answer).to.equal('late');
    expect(Date.now() - t0, 'answered soon after the server came, not at the timeout').to.be.below(10_000);
    expect(log.lines.some((l) => l.includes('late-topic') && l.includes('not consuming')), 'the wait is logged').to.equal(true);
  });

  it('calls out when the broker restarts are sent again on the new connection; after a mere drop they wait for their reply', async function () {
    this.timeout(90_000);
    const serverConn = newConnection();
    const invocations: string[] = [];
    let holdFirst = true;
    let releaseHeld!: (v: unknown) => void;
    new RpcServer(serverConn, {
      exchange: 'neutron', topic: 'held-topic', host: 'h', transientQueueTtl: 1800, logger: log,
      endpoints: [{ version: '1.0', methods: {
        echo: (args) => {
          invocations.push(String(args.value));
          if (!holdFirst) return args.value;
          holdFirst = false;
          // The first answer is held back until the test releases it (a slow server, or one the broker loses).
          return new Promise((r) => (releaseHeld = r)).then(() => args.value);
        },
      } }],
    });
    const conn = newConnection();
    const client = newClient(conn, 40);
    await Promise.all([serverConn.start(), conn.start()]);

    // Only our connection drops: the reply queue survives, and the reply sent meanwhile reaches us.
    const first = client.call('held-topic', 'echo', { value: 'a' }, { version: '1.0' });
    await until(() => invocations.length === 1, 'the server got the first call');
    await conn.kill();
    releaseHeld(undefined);
    expect(await first).to.equal('a');
    expect(invocations, 'not sent twice').to.deep.equal(['a']);

    // The broker restarts: our reply queue and the server's answer are lost; the call is sent again.
    holdFirst = true;
    const t0 = Date.now();
    const second = client.call('held-topic', 'echo', { value: 'b' }, { version: '1.0' });
    await until(() => invocations.length === 2, 'the server got the second call');
    await broker!.restart();
    expect(await second).to.equal('b');
    expect(invocations).to.deep.equal(['a', 'b', 'b']);
    expect(Date.now() - t0, 'answered after the reconnect, not at the 40 s timeout').to.be.below(30_000);
  });

  it('connects to the live host of a multi-host transport_url and recovers from a dropped connection and a broker restart', async () => {
    const dead = await freePort();
    const url = `rabbit://guest:guest@127.0.0.1:${dead},guest:guest@127.0.0.1:${broker!.port}/`;
    const conn = newConnection(url);
    const ups: boolean[] = [];
    conn.onUp((reconnected) => ups.push(reconnected));
    const got: unknown[] = [];
    new RpcServer(conn, {
      exchange: 'neutron',
      topic: 'survivor',
      host: 'h',
      transientQueueTtl: 1800,
      logger: log,
      endpoints: [{ version: '1.0', methods: { echo: (args) => args.value, note: (args) => void got.push(args.value) } }],
    });
    const client = newClient(conn);
    await conn.start();
    expect(conn.broker).to.equal(`127.0.0.1:${broker!.port}`);
    expect(await client.call('survivor', 'echo', { value: 1 }, { version: '1.0' })).to.equal(1);

    await conn.kill();
    await until(() => ups.length === 2, 'reconnect after the drop');
    expect(ups).to.deep.equal([false, true]);
    expect(await client.call('survivor', 'echo', { value: 2 }, { version: '1.0' })).to.equal(2);

    const oldPid = broker!.pids.broker!;
    await broker!.restart();
    expect(pidAlive(oldPid)).to.equal(false);
    await until(() => ups.length === 3, 'reconnect after the broker restart', 60_000);
    // Queues and exchanges were declared again: Debian's client reaches our server.
    await pythonRequests(broker!.transportUrl, 'survivor', [{ method: 'note', args: { value: 'after restart' }, kind: 'fanout' }]);
    await until(() => got.includes('after restart'), 'a fanout cast after the restart');
    expect(await client.call('survivor', 'echo', { value: 3 }, { version: '1.0' })).to.equal(3);
  });
});
