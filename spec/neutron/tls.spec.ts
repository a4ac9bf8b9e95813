/**
 * RabbitMQ over TLS as `[oslo_messaging_rabbit]` says (docs/neutron.md,
 * "TLS"), against a real RabbitMQ TLS listener with certificates made here
 * by openssl, with Debian's oslo.messaging 14.0.3 as the oracle: for each
 * configuration the agent connects exactly when oslo.messaging's rabbit
 * driver does. The options go the agent's way: ini file → loadConfig →
 * createControlPlane (lib/agent/run.ts) → the control plane's first connect.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../lib/config/index.js';
import { createControlPlane } from '../../lib/agent/run.js';
import type { Logger } from '../../lib/log.js';
import { RabbitBroker } from '../../testing/neutron-env.js';

const PEER = fileURLToPath(new URL('./helpers/oslo_peer.py', import.meta.url));
const execFileAsync = promisify(execFile);

/** The agent's logger, keeping the lines. */
function capturingLogger(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const keep = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
    return logger;
  };
  const logger = { debug: () => logger, info: keep('INFO'), warn: keep('WARN'), error: keep('ERROR') } as unknown as Logger;
  return { lines, logger };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, and certificates it signs (EC P-256 keys: quick to make). */
function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`);
}

function makeCert(dir: string, ca: string, name: string, cn: string, ext: string): void {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2',
    '-extfile', `${name}.ext`);
}

describe('RabbitMQ TLS as oslo.messaging 14 honours it @integration', function () {
  this.timeout(180_000);
  let broker: RabbitBroker | undefined;
  let dir: string;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  before(async function () {
    this.timeout(120_000);
    dir = mkdtempSync(join(tmpdir(), 'ovs-agent-tls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    // The broker's certificate names localhost and 127.0.0.1; "vm" (in /etc/hosts) also reaches it, under a name not in it.
    makeCert(dir, 'ca', 'broker', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
    makeCert(dir, 'ca', 'client', 'ovs-agent', 'extendedKeyUsage=clientAuth');
    // TLS 1.3 only, and a client certificate required: a pinned TLSv1_2 and a missing ssl_cert_file must both fail.
    broker = await RabbitBroker.start(undefined, {
      tls: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'broker.pem'), keyFile: join(dir, 'broker.key'), requireClientCert: true, versions: ['tlsv1.3'] },
    });
    process.on('warning', onWarning);
  });

  after(async function () {
    this.timeout(30_000);
    process.off('warning', onWarning);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string) => join(dir, name);
  const url = (host: string) => `rabbit://guest:guest@${host}:${broker!.tlsPort}/`;
  const iniOf = (host: string, rabbit: string[]) =>
    ['[DEFAULT]', `transport_url = ${url(host)}`, '[ovs_agent]', 'control_plane = neutron', '[oslo_messaging_rabbit]', 'rabbit_retry_interval = 1', ...rabbit, ''].join('\n');

  /** Whether Debian's oslo.messaging connects with this configuration. */
  async function osloConnects(host: string, rabbit: string[], env: NodeJS.ProcessEnv): Promise<{ connected: boolean; error?: string }> {
    const conf = file(`oslo-${Math.random().toString(16).slice(2)}.conf`);
    writeFileSync(conf, iniOf(host, rabbit));
    const { stdout } = await execFileAsync('/usr/bin/python3', [PEER, 'connect', url(host)], { timeout: 60_000, env: { ...process.env, ...env, OSLO_PEER_CONFIG: conf } });
    return JSON.parse(stdout.trim().split('\n').pop()!) as { connected: boolean; error?: string };
  }

  /** Whether the agent's control plane connects with the same configuration (its first attempt). */
  async function agentConnects(host: string, rabbit: string[], env: NodeJS.ProcessEnv): Promise<{ connected: boolean; lines: string[]; loadWarnings: string[] }> {
    const conf = file(`agent-${Math.random().toString(16).slice(2)}.ini`);
    writeFileSync(conf, iniOf(host, rabbit));
    const { config, warnings: loadWarnings } = loadConfig({ files: [conf], env: {} });
    const { lines, logger } = capturingLogger();
    // The system CA store is read where the control plane is made.
    const saved = process.env.SSL_CERT_FILE;
    if (env.SSL_CERT_FILE) process.env.SSL_CERT_FILE = env.SSL_CERT_FILE;
    const cp = await createControlPlane(config, logger).finally(() => {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
    });
    void cp.start({ host: 'tls-test', agentId: 'tls-test', binary: 'neutron-openvswitch-agent' }).catch(() => undefined);
    const deadline = Date.now() + 8000;
    // Connected, or the first attempt's failure logged.
    while (Date.now() < deadline && !lines.some((l) => l.includes('connected to RabbitMQ') || l.startsWith(`WARN RabbitMQ ${host}:`))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await cp.stop();
    return { connected: lines.some((l) => l.includes('connected to RabbitMQ')), lines, loadWarnings };
  }

  const client = () => [`ssl_cert_file = ${file('client.pem')}`, `ssl_key_file = ${file('client.key')}`];
  const cases: Array<{ what: string; host: string; rabbit: () => string[]; env?: () => NodeJS.ProcessEnv; connects: boolean }> = [
    { what: 'CA file, host name checked, by IP', host: '127.0.0.1', rabbit: () => ['ssl = true', `ssl_ca_file = ${file('ca.pem')}`, 'ssl_enforce_hostname_verification = true', ...client()], connects: true },
    { what: 'CA file, host name checked, by name', host: 'localhost', rabbit: () => ['ssl = true', `ssl_ca_file = ${file('ca.pem')}`, 'ssl_enforce_hostname_verification = true', ...client()], connects: true },
    { what: 'deprecated names (rabbit_use_ssl, kombu_ssl_*)', host: 'localhost', rabbit: () => ['rabbit_use_ssl = true', `kombu_ssl_ca_certs = ${file('ca.pem')}`, 'ssl_enforce_hostname_verification = true', `kombu_ssl_certfile = ${file('client.pem')}`, `kombu_ssl_keyfile = ${file('client.key')}`], connects: true },
    { what: 'CA file, host name checked, a name not in the certificate', host: 'vm', rabbit: () => ['ssl = true', `ssl_ca_file = ${file('ca.pem')}`, 'ssl_enforce_hostname_verification = true', ...client()], connects: false },
    { what: 'CA file, host name not checked (the default), a name not in the certificate', host: 'vm', rabbit: () => ['ssl = true', `ssl_ca_file = ${file('ca.pem')}`, ...client()], connects: true },
    { what: 'another CA', host: 'localhost', rabbit: () => ['ssl = true', `ssl_ca_file = ${file('other-ca.pem')}`, ...client()], connects: false },
    { what: 'no CA file: the system store, which lacks the CA', host: 'localhost', rabbit: () => ['ssl = true', ...client()], env: () => ({ SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' }), connects: false },
    { what: 'no CA file: the system store, holding the CA ($SSL_CERT_FILE)', host: 'vm', rabbit: () => ['ssl = true', ...client()], env: () => ({ SSL_CERT_FILE: file('ca.pem') }), connects: true },
    { what: 'SSLv23 without CA file: nothing verified', host: 'vm', rabbit: () => ['ssl = true', 'ssl_version = SSLv23', ...client()], env: () => ({ SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' }), connects: true },
    { what: 'TLSv1_2 pinned, the broker speaks TLS 1.3 only', host: 'localhost', rabbit: () => ['ssl = true', 'ssl_version = TLSv1_2', `ssl_ca_file = ${file('ca.pem')}`, ...client()], connects: false },
    { what: 'no client certificate, the broker requires one', host: 'localhost', rabbit: () => ['ssl = true', `ssl_ca_file = ${file('ca.pem')}`], connects: false },
  ];

  for (const c of cases) {
    it(`${c.what}: ${c.connects ? 'connects' : 'refused'}, as oslo.messaging`, async () => {
      const env = c.env?.() ?? {};
      const [oslo, ours] = await Promise.all([osloConnects(c.host, c.rabbit(), env), agentConnects(c.host, c.rabbit(), env)]);
      expect(oslo.connected, `oracle: oslo.messaging ${oslo.error ?? 'connected'}`).to.equal(c.connects);
      expect(ours.connected, `ours:\n${ours.lines.join('\n')}`).to.equal(c.connects);
      expect(ours.loadWarnings.filter((w) => w.includes('unknown option')), 'every option known').to.deep.equal([]);
    });
  }

  it('connecting by IP address prints no DEP0123 warning (no IP as TLS server name)', () => {
    expect(warnings.map((w) => `${w.name} ${(w as { code?: string }).code ?? ''} ${w.message}`).filter((w) => w.includes('DEP0123') || w.includes('ServerName'))).to.deep.equal([]);
  });
});
