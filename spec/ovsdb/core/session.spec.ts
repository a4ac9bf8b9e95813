import { expect } from 'chai';
import net from 'node:net';
import {
  OvsdbClient, OvsdbConnectionError, OvsdbErrorCode, OvsdbProtocolError, OvsdbRpcError, connectWithBackoff, parseRemote,
  type OvsdbError,
} from '@ovs-agent/ovsdb';
import { FakeServer } from './fake-server.js';

async function rejection(p: Promise<unknown>): Promise<OvsdbError> {
  try {
    await p;
  } catch (err) {
    return err as OvsdbError;
  }
  throw new Error('expected a rejection');
}

function nextEvent<T extends unknown[]>(client: OvsdbClient, event: 'protocolError' | 'disconnected' | 'locked' | 'stolen'): Promise<T> {
  return new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args as T)));
}

describe('ovsdb remotes', () => {
  it('parses unix, tcp, ssl and IPv6 remotes with the default port', () => {
    expect(parseRemote('unix:/run/openvswitch/db.sock')).to.deep.equal({ kind: 'unix', path: '/run/openvswitch/db.sock' });
    expect(parseRemote('tcp:10.0.0.1:6641')).to.deep.equal({ kind: 'tcp', host: '10.0.0.1', port: 6641 });
    expect(parseRemote('ssl:ovsdb.example')).to.deep.equal({ kind: 'ssl', host: 'ovsdb.example', port: 6640 });
    expect(parseRemote('tcp:[::1]:7000')).to.deep.equal({ kind: 'tcp', host: '::1', port: 7000 });
    for (const bad of ['', 'unix:', 'tcp:', 'tcp:h:99999', 'tcp:::1:6640', 'http://x', 'tcp:[::1', 'ssl:h:x']) {
      expect(() => parseRemote(bad), bad).to.throw(OvsdbConnectionError).with.property('code', OvsdbErrorCode.BAD_REMOTE);
    }
  });

  it('reports a refused TCP connection and a missing unix socket as CONNECT_FAILED naming the remote', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const refused = await rejection(OvsdbClient.connect(`tcp:127.0.0.1:${port}`));
    expect(refused).to.be.instanceOf(OvsdbConnectionError);
    expect(refused.code).to.equal(OvsdbErrorCode.CONNECT_FAILED);
    expect(refused.message).to.contain(`tcp:127.0.0.1:${port}`).and.to.contain('ECONNREFUSED');
    const missing = await rejection(OvsdbClient.connect('unix:/nonexistent/ovsdb.sock'));
    expect(missing.code).to.equal(OvsdbErrorCode.CONNECT_FAILED);
    expect(missing.message).to.contain('ENOENT');
    const noSsl = await rejection(OvsdbClient.connect('ssl:127.0.0.1:1'));
    expect(noSsl.code).to.equal(OvsdbErrorCode.BAD_REMOTE);
  });

  it('connectWithBackoff retries until the server appears, and gives up after maxAttempts', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const failed = await rejection(connectWithBackoff(`tcp:127.0.0.1:${port}`, { initialDelayMs: 5, maxAttempts: 3 }));
    expect(failed.code).to.equal(OvsdbErrorCode.CONNECT_FAILED);

    const retries: number[] = [];
    const pending = connectWithBackoff(`tcp:127.0.0.1:${port}`, {
      initialDelayMs: 20,
      maxDelayMs: 40,
      onRetry: (_err, attempt) => {
        retries.push(attempt);
        if (attempt === 2) server.listen(port, '127.0.0.1');
      },
    });
    const client = await pending;
    expect(retries).to.deep.equal([1, 2]);
    expect(client.isConnected).to.equal(true);
    await client.close();
    server.close();
  });
});

describe('ovsdb JSON-RPC session against a scripted peer', () => {
  let fake: FakeServer;
  let client: OvsdbClient | undefined;
  beforeEach(async () => {
    fake = await FakeServer.start();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await fake.stop();
  });

  it('matches replies to requests by id even out of order, several per read', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const a = client.echo('a');
    const b = client.listDbs();
    const ra = await peer.next();
    const rb = await peer.next();
    expect(ra.method).to.equal('echo');
    expect(rb).to.deep.include({ method: 'list_dbs', params: [] });
    peer.send(JSON.stringify({ id: rb.id, result: ['X'], error: null }) + JSON.stringify({ id: ra.id, result: ['a'], error: null }));
    expect(await a).to.deep.equal(['a']);
    expect(await b).to.deep.equal(['X']);
  });

  it('answers the server\'s echo and turns an error reply into OvsdbRpcError', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    peer.send(JSON.stringify({ method: 'echo', params: ['ping', 1], id: 'e1' }));
    const failing = client.getSchema('Nope');
    // The first message we get back may be either; collect both.
    const msgs = [await peer.next(), await peer.next()];
    const echoReply = msgs.find((m) => m.id === 'e1') as unknown as { result: unknown; error: unknown };
    expect(echoReply).to.deep.equal({ id: 'e1', result: ['ping', 1], error: null });
    const req = msgs.find((m) => m.method === 'get_schema')!;
    peer.send(JSON.stringify({ id: req.id, result: null, error: { error: 'unknown database', details: 'no Nope' } }));
    const err = await rejection(failing);
    expect(err).to.be.instanceOf(OvsdbRpcError);
    expect(err.code).to.equal(OvsdbErrorCode.UNKNOWN_DATABASE);
    expect(err.message).to.contain('unknown database').and.to.contain('no Nope');
  });

  it('reports a reply to an id we never sent without dropping the connection', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const reported = nextEvent<[OvsdbProtocolError]>(client, 'protocolError');
    peer.send(JSON.stringify({ id: 4242, result: [], error: null }));
    const [err] = await reported;
    expect(err).to.be.instanceOf(OvsdbProtocolError);
    expect(err.message).to.match(/never sent \(id 4242\)/);
    const ok = client.echo(1);
    const r = await peer.next();
    peer.send(JSON.stringify({ id: r.id, result: [1], error: null }));
    expect(await ok).to.deep.equal([1]);
    expect(client.isConnected).to.equal(true);
  });

  it('closes the session on invalid JSON and rejects every request in flight with PROTOCOL', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const inflight = [client.listDbs(), client.echo('x'), client.getSchema('Open_vSwitch')];
    await peer.next();
    const gone = nextEvent<[OvsdbError]>(client, 'disconnected');
    peer.send('{"id": 1, "result": [nope], "error": null}');
    const [why] = await gone;
    expect(why.code).to.equal(OvsdbErrorCode.PROTOCOL);
    expect(why.message).to.contain('invalid JSON');
    for (const p of inflight) expect((await rejection(p)).code).to.equal(OvsdbErrorCode.PROTOCOL);
    expect(client.isConnected).to.equal(false);
    expect((await rejection(client.echo())).code).to.equal(OvsdbErrorCode.PROTOCOL);
  });

  it('closes the session on bytes that are not a JSON object', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const gone = nextEvent<[OvsdbError]>(client, 'disconnected');
    peer.send(Buffer.from([0x00, 0x01, 0x02]));
    const [why] = await gone;
    expect(why).to.be.instanceOf(OvsdbProtocolError);
    expect(why.message).to.contain('byte 0x00');
  });

  it('reports ill-typed updates and updates for unknown monitors, keeping the connection', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const errors: OvsdbProtocolError[] = [];
    client.on('protocolError', (e) => errors.push(e));
    const updates: unknown[] = [];
    client.on('update', (...a) => updates.push(a));
    // A monitor needs the schema first.
    const schema = { name: 'T', version: '1.0.0', tables: { A: { columns: { n: { type: 'integer' } } } } };
    const mon = client.monitor('T', 'm', { A: { columns: ['n'] } });
    const gs = await peer.next();
    peer.send(JSON.stringify({ id: gs.id, result: schema, error: null }));
    const mreq = await peer.next();
    expect(mreq).to.deep.include({ method: 'monitor', params: ['T', 'm', { A: [{ columns: ['n'] }] }] });
    peer.send(JSON.stringify({ id: mreq.id, result: {}, error: null }));
    expect(await mon).to.deep.equal({});
    const U = '11111111-2222-3333-4444-555555555555';
    peer.send(JSON.stringify({ method: 'update', params: ['m', { A: { [U]: 'oops' } }], id: null }));
    peer.send(JSON.stringify({ method: 'update', params: ['m', { B: {} }], id: null }));
    peer.send(JSON.stringify({ method: 'update', params: ['m', { A: { 'not-a-uuid': { new: { n: 1 } } } }], id: null }));
    peer.send(JSON.stringify({ method: 'update', params: ['zz', { A: {} }], id: null }));
    peer.send(JSON.stringify({ method: 'update', params: ['m'], id: null }));
    peer.send(JSON.stringify({ method: 'update', params: ['m', { A: { [U]: { new: { n: 5 } } } }], id: null }));
    while (updates.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(errors.map((e) => e.message)).to.have.length(5);
    expect(errors[0].message).to.contain('is not an object');
    expect(errors[1].message).to.contain('unknown table B');
    expect(errors[2].message).to.contain('not a uuid');
    expect(errors[3].message).to.contain('unknown monitor');
    expect(updates).to.deep.equal([['m', { A: { [U]: { new: { n: 5 } } } }, 'T']]);
    expect(client.isConnected).to.equal(true);
  });

  it('a throwing event listener is reported on listenerError and the session goes on', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const thrown: unknown[] = [];
    client.on('listenerError', (e) => thrown.push(e));
    client.on('notification', (method) => {
      throw new Error(`listener bug on ${method}`);
    });
    peer.send(JSON.stringify({ method: 'custom', params: [1], id: null }));
    const ok = client.echo('still here');
    const r = await peer.next();
    peer.send(JSON.stringify({ id: r.id, result: ['still here'], error: null }));
    expect(await ok).to.deep.equal(['still here']);
    expect(thrown.map((e) => (e as Error).message)).to.deep.equal(['listener bug on custom']);
    expect(client.isConnected).to.equal(true);
    // Nor does a throwing 'disconnected' listener escape from the socket's close handler.
    client.on('disconnected', () => {
      throw new Error('listener bug on disconnect');
    });
    peer.socket.destroy();
    const why = await client.closed;
    expect(why.code).to.equal(OvsdbErrorCode.DISCONNECTED);
    expect(thrown.map((e) => (e as Error).message)).to.deep.equal(['listener bug on custom', 'listener bug on disconnect']);
  });

  it('rejects a request in flight promptly when the peer closes the connection', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    const peer = await fake.accepted();
    const p = client.listDbs();
    await peer.next();
    peer.socket.destroy();
    const err = await rejection(p);
    expect(err.code).to.equal(OvsdbErrorCode.DISCONNECTED);
    expect(err.message).to.contain(fake.remote);
  });

  it('times out a request with a per-request timeout, and ignores its late reply', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0, requestTimeoutMs: 50 });
    const peer = await fake.accepted();
    const errors: unknown[] = [];
    client.on('protocolError', (e) => errors.push(e));
    const err = await rejection(client.listDbs());
    expect(err.code).to.equal(OvsdbErrorCode.TIMEOUT);
    const req = await peer.next();
    peer.send(JSON.stringify({ id: req.id, result: [], error: null }));
    const ok = client.call('echo', [], { timeoutMs: 0 });
    const r2 = await peer.next();
    peer.send(JSON.stringify({ id: r2.id, result: [], error: null }));
    await ok;
    expect(errors).to.deep.equal([]);
  });

  it('detects a peer that accepts and never answers with the inactivity probe', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 100 });
    const peer = await fake.accepted();
    const pending = client.listDbs();
    const [why] = await nextEvent<[OvsdbError]>(client, 'disconnected');
    expect(why.code).to.equal(OvsdbErrorCode.INACTIVITY);
    expect((await rejection(pending)).code).to.equal(OvsdbErrorCode.INACTIVITY);
    // It probed with echo before giving up.
    expect(peer.received.map((m) => m.method)).to.deep.equal(['list_dbs', 'echo']);
  });

  it('keeps a quiet but live session open: the probe is answered', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 400 });
    const peer = await fake.accepted();
    for (let i = 0; i < 2; i++) {
      const probe = await peer.next();
      expect(probe.method).to.equal('echo');
      peer.send(JSON.stringify({ id: probe.id, result: probe.params, error: null }));
    }
    expect(client.isConnected).to.equal(true);
  });

  it('does not take a stall of our own for a dead peer when the probe reply is waiting unread', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 100 });
    const peer = await fake.accepted();
    const probe = await peer.next();
    expect(probe.method).to.equal('echo');
    peer.send(JSON.stringify({ id: probe.id, result: [], error: null }));
    // Block the event loop past the probe's deadline, as a long synchronous job would.
    const until = Date.now() + 350;
    while (Date.now() < until) {
      // busy
    }
    // Either the following probe arrives one interval later (the session survived) or the session ends.
    const next = await Promise.race([peer.next(), client.closed]);
    expect(next).to.have.property('method', 'echo');
    expect(client.isConnected).to.equal(true);
  });

  it('close() rejects requests in flight with CLOSED', async () => {
    client = await OvsdbClient.connect(fake.remote, { inactivityProbeMs: 0 });
    await fake.accepted();
    const p = client.listDbs();
    await client.close();
    expect((await rejection(p)).code).to.equal(OvsdbErrorCode.CLOSED);
  });
});
