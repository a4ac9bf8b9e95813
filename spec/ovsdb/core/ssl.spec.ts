import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient, OvsdbErrorCode, op, type OvsdbError } from '../../../protocol/ovsdb/index.js';
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

  it('refuses a server whose certificate another CA signed (CONNECT_FAILED)', async () => {
    const wrongCa = { ...good, caCert: stranger.caCert };
    let err: OvsdbError | undefined;
    try {
      clients.push(await OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: wrongCa }));
    } catch (e) {
      err = e as OvsdbError;
    }
    expect(err?.code).to.equal(OvsdbErrorCode.CONNECT_FAILED);
    expect(err?.message).to.match(/certificate/i);
  });

  it('is refused by the server with a client certificate another CA signed: no request succeeds', async () => {
    // TLS 1.3 reports the server's rejection of our certificate after the handshake, so it
    // may surface on connect or as a disconnect; either way nothing goes through.
    const wrongClient = { ...stranger, caCert: good.caCert };
    let err: OvsdbError | undefined;
    try {
      const c = await OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: wrongClient, inactivityProbeMs: 0 });
      clients.push(c);
      await c.listDbs();
    } catch (e) {
      err = e as OvsdbError;
    }
    expect(err?.code).to.be.oneOf([OvsdbErrorCode.CONNECT_FAILED, OvsdbErrorCode.DISCONNECTED]);
  });

  it('names a missing key file', async () => {
    let err: OvsdbError | undefined;
    try {
      await OvsdbClient.connect(`ssl:127.0.0.1:${port}`, { ssl: { ...good, privateKey: join(dir, 'missing.pem') } });
    } catch (e) {
      err = e as OvsdbError;
    }
    expect(err?.code).to.equal(OvsdbErrorCode.CONNECT_FAILED);
    expect(err?.message).to.contain('missing.pem');
  });
});
