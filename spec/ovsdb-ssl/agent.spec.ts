/**
 * The agent over OVSDB-over-TLS (`[ovs] ovsdb_connection = ssl:HOST:PORT`
 * with `ssl_key_file`, `ssl_cert_file`, `ssl_ca_cert_file`), against the
 * sandbox's ovsdb-server listening on `pssl:` with certificates made here
 * with the openssl CLI: it starts and wires a port with the right CA; a
 * server certificate from another CA, or a server that does not know our
 * certificate, stops it at start with an error naming the remote and the
 * files; a missing or unset file is a config error naming the option.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { ConfigError, loadConfig, type AgentConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { makePki, type SslFiles } from '../ovsdb/core/private-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent over OVSDB SSL (ssl: ovsdb_connection) @integration', function () {
  this.timeout(60_000);
  let dir: string;
  let sb: OvsSandbox | undefined;
  let port: number;
  let client: SslFiles;
  let stranger: SslFiles;
  let otherCa: string;
  let running: RunningAgent | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-ssl-'));
    const pki = await makePki(dir, 'ca');
    const other = await makePki(dir, 'otherca');
    client = pki.client;
    stranger = other.client;
    otherCa = other.ca;
    sb = await OvsSandbox.start({ dbSsl: pki.server });
    port = (await sb.addDbRemote('pssl:0:127.0.0.1'))!;
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  after(async () => {
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function config(ssl: Partial<Record<'ssl_key_file' | 'ssl_cert_file' | 'ssl_ca_cert_file', string>>): AgentConfig {
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({
      networks: [{ id: 'net-1', type: 'local' }],
      ports: [{ id: 'port-1', mac: 'fa:16:3e:00:00:01', network: 'net-1' }],
    }));
    return loadConfig({ env: {}, overrides: {
      'ovs.ovsdb_connection': `ssl:127.0.0.1:${port}`, 'ovs.datapath_type': 'netdev', 'ovs_agent.state_file': state,
      'ovs_agent.ovs_rundir': sb!.rundir, 'agent.report_interval': 0, 'DEFAULT.host': 'ssl-host',
      ...Object.fromEntries(Object.entries(ssl).map(([k, v]) => [`ovs.${k}`, v])),
    } }).config;
  }

  /** runAgent's rejection, or a failure if it neither starts nor fails within 20 s (it must not wait forever). */
  async function startFailure(c: AgentConfig): Promise<Error> {
    const attempt = runAgent({ config: c, logger: silentLogger, statusSocket: false });
    const outcome = await Promise.race([
      attempt.then((r) => ({ started: r }), (e: Error) => ({ failed: e })),
      sleep(20_000).then(() => ({ waiting: true })),
    ]);
    if ('started' in outcome) {
      running = outcome.started;
      throw new Error('the agent started');
    }
    if ('waiting' in outcome) {
      void attempt.then((r) => r.stop(), () => undefined);
      throw new Error('the agent neither started nor failed within 20 s');
    }
    return outcome.failed;
  }

  it('starts over ssl: with the key, certificate and CA files, and wires a port', async () => {
    running = await runAgent({
      config: config({ ssl_key_file: client.privateKey, ssl_cert_file: client.certificate, ssl_ca_cert_file: client.caCert }),
      logger: silentLogger, statusSocket: false,
    });
    await sb!.vsctl('add-port', 'br-int', 'tap1', '--', 'set', 'Interface', 'tap1', 'external_ids:iface-id=port-1',
      'external_ids:attached-mac=fa:16:3e:00:00:01');
    const deadline = Date.now() + 15_000;
    while (running.agent.port('port-1')?.state !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error(`port not wired: ${JSON.stringify(running.agent.status().ports)}`);
      await sleep(20);
    }
    // The tag the agent wrote over TLS, read back by ovs-vsctl over the unix socket.
    const tag = Number((await sb!.vsctl('get', 'Port', 'tap1', 'tag')).trim());
    expect(tag).to.equal(running.agent.port('port-1')?.lvid);
  });

  it('stops at start when the server certificate is not signed by [ovs] ssl_ca_cert_file, naming the remote and the CA file', async () => {
    const err = await startFailure(config({ ssl_key_file: client.privateKey, ssl_cert_file: client.certificate, ssl_ca_cert_file: otherCa }));
    expect(err.message).to.include(`ssl:127.0.0.1:${port}`).and.include(otherCa).and.match(/certificate/);
  });

  it('stops at start when the server refuses our certificate, naming the remote and the certificate file', async () => {
    const err = await startFailure(config({ ssl_key_file: stranger.privateKey, ssl_cert_file: stranger.certificate, ssl_ca_cert_file: client.caCert }));
    expect(err.message).to.include(`ssl:127.0.0.1:${port}`).and.include(stranger.certificate);
  });

  it('is a config error naming the option when a file is missing or an option unset', async () => {
    const missing = join(dir, 'no-such-key.pem');
    let err = await startFailure(config({ ssl_key_file: missing, ssl_cert_file: client.certificate, ssl_ca_cert_file: client.caCert }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('[ovs] ssl_key_file').and.include(missing);
    err = await startFailure(config({ ssl_key_file: client.privateKey, ssl_ca_cert_file: client.caCert }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('[ovs] ssl_cert_file').and.include(`ssl:127.0.0.1:${port}`);
  });
});
