import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient, OvsdbErrorCode, Replica, connectWithBackoff, op, type OvsdbError } from '@ovs-agent/ovsdb';
import { PrivateOvsdbServer, makePki, type SslFiles } from './private-server.js';

const SCHEMA = { name: 'Tls', version: '1.0.0', tables: { T: { isRoot: true, columns: { s: { type: 'string' } } } } };

describe('ovsdb over SSL @integration', function () {
  let dir: string;
  let server: PrivateOvsdbServer;
  let port: number;
  let good: SslFiles;
  let stranger: SslFiles;
  const clients: OvsdbClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ovsdb-pki-'));
    const pki = await makePki(dir, 'ca');
    const other = await makePki(dir, 'otherca');
    good = pki.client;
    stranger = other.client;
    server = await PrivateOvsdbServer.start(SCHEMA, pki.server);
    port = await server.boundPort();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with key, certificate and CA files, and transacts', async () => {
    const c = await OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: good });
    clients.push(c);
    expect(await c.listDbs()).to.include('Tls');
    await c.transact('Tls', [op.insert('T', { s: 'over tls' })]);
    // The oracle reads it back over the unix socket.
    const dump = JSON.parse(await server.ovsdbClient('transact', JSON.stringify(['Tls', { op: 'select', table: 'T', where: [] }]))) as [
      { rows: { s: string }[] },
    ];
    expect(dump[0].rows.map((r) => r.s)).to.deep.equal(['over tls']);
  });

  /** The error a promise rejects with. */
  async function rejection(p: Promise<unknown>): Promise<OvsdbError> {
    try {
      const v = await p;
      if (v instanceof OvsdbClient) clients.push(v);
    } catch (e) {
      return e as OvsdbError;
    }
    throw new Error('it did not fail');
  }

  it('refuses a server whose certificate another CA signed (TLS), naming the remote and the CA file', async () => {
    const err = await rejection(OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: { ...good, caCert: stranger.caCert } }));
    expect(err.code).to.equal(OvsdbErrorCode.TLS);
    expect(err.message).to.include(`ssl:127.0.0.1:${port}`).and.include(stranger.caCert).and.match(/certificate/i);
  });

  it('is refused by the server with a client certificate another CA signed (TLS, naming our certificate): no request succeeds', async () => {
    // TLS 1.3 reports the server's rejection of our certificate after the handshake, at the first
    // read (TLS 1.2 during it): the session's error then says TLS and names our files too.
    const wrongClient = { ...stranger, caCert: good.caCert };
    const err = await rejection(OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: wrongClient, inactivityProbeMs: 0 }).then((c) => {
      clients.push(c);
      return c.listDbs();
    }));
    expect(err.code).to.equal(OvsdbErrorCode.TLS);
    expect(err.message).to.include(`ssl:127.0.0.1:${port}`).and.include(stranger.certificate).and.include('unknown ca');
  });

  it('names a missing key file, and a key that does not match its certificate (TLS)', async () => {
    let err = await rejection(OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: { ...good, privateKey: join(dir, 'missing.pem') } }));
    expect(err.code).to.equal(OvsdbErrorCode.TLS);
    expect(err.message).to.contain('missing.pem');
    err = await rejection(OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: { ...good, privateKey: stranger.privateKey } }));
    expect(err.code).to.equal(OvsdbErrorCode.TLS);
    expect(err.message).to.include(stranger.privateKey).and.include(good.certificate).and.match(/key values mismatch/);
  });

  it('says when an ssl: remote does not speak TLS', async () => {
    const plain = createServer((s) => s.end('{"id":null,"method":"echo","params":[]}'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const err = await rejection(OvsdbClient.connect(`ssl:127.0.0.1:${(plain.address() as AddressInfo).port}`, { ssl: good }));
      expect(err.code).to.equal(OvsdbErrorCode.TLS);
      expect(err.message).to.match(/pssl:/);
    } finally {
      plain.close();
    }
  });

  it('does not retry a TLS failure in connectWithBackoff', async () => {
    let retries = 0;
    const err = await rejection(connectWithBackoff(`ssl:127.0.0.1:${port}`, { ssl: { ...good, caCert: stranger.caCert }, onRetry: () => retries++ }));
    expect(err.code).to.equal(OvsdbErrorCode.TLS);
    expect(retries).to.equal(0);
  });

  it('a replica refused at its first connection rejects at once; once it has served, it keeps retrying through TLS failures', async () => {
    const err = await rejection(Replica.start({ remote: `ssl:127.0.0.1:${port}`, database: 'Tls', tables: { T: {} }, ssl: { ...good, caCert: stranger.caCert } }));
    expect(err.code).to.equal(OvsdbErrorCode.TLS);

    // A CA file we may swap: the replica reads the files at every connection, as OVS does.
    const ca = join(dir, 'swapped-ca.pem');
    copyFileSync(good.caCert, ca);
    const replica = await Replica.start({ remote: `ssl:127.0.0.1:${port}`, database: 'Tls', tables: { T: {} }, ssl: { ...good, caCert: ca }, backoffMs: 20, maxBackoffMs: 100 });
    try {
      const errors: OvsdbError[] = [];
      replica.on('error', (e) => errors.push(e as OvsdbError));
      copyFileSync(stranger.caCert, ca);
      await server.appctl('ovsdb-server/reconnect');
      const until = async (cond: () => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!cond()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until(() => errors.filter((e) => e.code === OvsdbErrorCode.TLS).length >= 2, 'two TLS failures on reconnect');
      const resynced = new Promise<{ reconnects: number }>((r) => replica.once('resync', r));
      copyFileSync(good.caCert, ca);
      expect((await resynced).reconnects).to.be.greaterThan(0);
      expect(replica.isConnected).to.equal(true);
    } finally {
      await replica.close();
    }
  });
});
