/**
 * No password from `[DEFAULT] transport_url` in any error, log line or
 * shown URL, whatever the input (docs/neutron.md, "transport_url"): random
 * URLs around known passwords, then the real thing — a RabbitMQ user whose
 * password holds `#`, `/`, `?`, `@`, `%` and `,`, reached with the
 * percent-encoded URL, and the agent's command refusing the malformed ones.
 */
import { expect } from 'chai';
import { ExitCode } from '../../lib/agent/exit-codes.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrokerConnection } from '../../lib/control-plane/neutron/broker-connection.js';
import { NeutronControlPlane } from '../../lib/control-plane/neutron/neutron-control-plane.js';
import { brokerName, parseTransportUrl, redact } from '../../lib/control-plane/neutron/transport-url.js';
import type { Logger } from '../../lib/control-plane/neutron/logger.js';
import { RabbitBroker } from '../../testing/neutron-env.js';
import { prng } from '../support/prng.js';

const BIN = fileURLToPath(new URL('../../bin/ovs-agent.ts', import.meta.url));
const SPECIALS = '#/?@%:,[]!$&\'()*+;= ~"\\';
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789';

/** The pieces of a password that must never show: its runs of 4 or more letters and digits, and itself. */
function secrets(password: string): string[] {
  return [password, ...(password.match(/[A-Za-z0-9]{4,}/g) ?? [])];
}

function leaks(text: string, password: string): string | undefined {
  return secrets(password).find((piece) => text.includes(piece));
}

class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  debug(m: string): void {
    this.lines.push(m);
  }
  info(m: string): void {
    this.lines.push(m);
  }
  warn(m: string): void {
    this.lines.push(m);
  }
  error(m: string): void {
    this.lines.push(m);
  }
}

describe('transport_url never shows a password', () => {
  it('in errors and shown URLs, for 20,000 random URLs around a known password (seeded)', () => {
    const seed = 14_10;
    const rnd = prng(seed);
    const pick = (s: string) => s[Math.floor(rnd() * s.length)];
    const word = (n: number) => Array.from({ length: n }, () => pick(ALNUM)).join('');
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      // Runs of 6 letters and digits between special characters: a leaked piece is a secret of 4 or more.
      const parts: string[] = [];
      for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) parts.push(word(6));
      let password = parts[0];
      for (const p of parts.slice(1)) password += Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(SPECIALS)).join('') + p;
      if (rnd() < 0.3) password = pick(SPECIALS) + password;
      if (rnd() < 0.3) password += pick(SPECIALS);
      const style = rnd();
      // As written: raw, fully percent-encoded, or some characters encoded (an operator's half-fix).
      const written = style < 0.4 ? password
        : style < 0.7 ? encodeURIComponent(password)
          : [...password].map((c) => (rnd() < 0.5 ? encodeURIComponent(c) : c)).join('');
      const hosts = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, h) => {
        const host = rnd() < 0.2 ? `[fd00::${h + 1}]` : `mq${h + 1}.example`;
        const port = rnd() < 0.5 ? `:${5672 + h}` : rnd() < 0.1 ? ':x' : '';
        return `user:${written}@${host}${port}`;
      });
      const url = `rabbit://${hosts.join(',')}${rnd() < 0.5 ? '/' : ''}${rnd() < 0.3 ? 'vhost' : ''}${rnd() < 0.1 ? '?ssl=1' : ''}`;
      const texts: string[] = [redact(url)];
      try {
        const t = parseTransportUrl(url);
        parsed++;
        texts.push(...t.hosts.map(brokerName), t.vhost);
        new NeutronControlPlane({ transportUrl: url, logger: new CapturingLogger() });
      } catch (err) {
        refused++;
        texts.push((err as Error).message);
      }
      for (const text of texts) {
        const piece = leaks(text, password);
        expect(piece, `seed ${seed} #${i}: ${JSON.stringify(url)} → ${JSON.stringify(text)}`).to.equal(undefined);
      }
    }
    // Both paths were exercised.
    expect(parsed).to.be.above(2000);
    expect(refused).to.be.above(2000);
  });
});

describe('transport_url against a real RabbitMQ user whose password needs encoding @integration', function () {
  this.timeout(120_000);
  const password = 'Kq7#Wz/4?Rt@9%Vx,Mb';
  let broker: RabbitBroker | undefined;
  let dir: string;

  before(async function () {
    this.timeout(90_000);
    broker = await RabbitBroker.start();
    broker.ctl('add_user', 'agent', password);
    broker.ctl('set_permissions', 'agent', '.*', '.*', '.*');
    dir = mkdtempSync(join(tmpdir(), 'ovs-agent-url-'));
  });

  after(async function () {
    this.timeout(30_000);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the percent-encoded URL, and logs a wrong password\'s refusal without it', async () => {
    const log = new CapturingLogger();
    const connection = (url: string) => new BrokerConnection({ url: parseTransportUrl(url), heartbeat: 10, retryInterval: 0.2, retryBackoff: 0.2, intervalMax: 1, logger: log });
    // Fully encoded; and, as oslo.messaging reads them, an "@" left as is (the last one ends the credentials)
    // and a "%" that starts no valid escape (kept as written).
    const encoded = encodeURIComponent(password);
    for (const written of [encoded, encoded.replace('%40', '@'), encoded.replace('%25', '%')]) {
      const good = connection(`rabbit://agent:${written}@127.0.0.1:${broker!.port}/`);
      try {
        await good.start();
        expect(good.connected, written).to.equal(true);
      } finally {
        await good.stop();
      }
    }
    const wrong = `Zz9#Yy/8?Xw@7%Vu`;
    const bad = connection(`rabbit://agent:${encodeURIComponent(wrong)}@127.0.0.1:${broker!.port}/`);
    void bad.start().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500));
    await bad.stop();
    const text = log.lines.join('\n');
    expect(text).to.match(/ACCESS_REFUSED|403/);
    expect(leaks(text, password)).to.equal(undefined);
    expect(leaks(text, wrong)).to.equal(undefined);
  });

  it('the agent refuses each malformed URL at start, exits non-zero, and prints no part of the password', async () => {
    const raw = `rabbit://agent:${password}@127.0.0.1:${broker!.port}/`;
    const variants: Array<[string, string]> = [
      ['raw (#, /, ?, @, %, ,)', raw],
      ['"#" unencoded', `rabbit://agent:${encodeURIComponent(password).replace('%23', '#')}@127.0.0.1:${broker!.port}/`],
      ['"/" unencoded', `rabbit://agent:${encodeURIComponent(password).replace('%2F', '/')}@127.0.0.1:${broker!.port}/`],
      ['"?" unencoded', `rabbit://agent:${encodeURIComponent(password).replace('%3F', '?')}@127.0.0.1:${broker!.port}/`],
      ['"," unencoded', `rabbit://agent:${encodeURIComponent(password).replace('%2C', ',')}@127.0.0.1:${broker!.port}/`],
    ];
    for (const [what, url] of variants) {
      const file = join(dir, 'agent.ini');
      writeFileSync(file, `[DEFAULT]\nhost = url-test\ntransport_url = ${url}\n[ovs_agent]\ncontrol_plane = neutron\nstatus_socket = ${join(dir, 's.sock')}\n[ovs]\novsdb_connection = unix:${join(dir, 'no-ovsdb.sock')}\n`);
      const started = Date.now();
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'run', '--config-file', file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        // An agent that does not refuse at once would wait on OVSDB: stop it by its pid, nothing is left running.
        const stop = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('exit', (c) => {
          clearTimeout(stop);
          resolve({ code: c, output });
        });
      });
      // 2: the configuration cannot work (lib/agent/exit-codes.ts), found before anything is opened.
      expect(code, `${what}: exit code; output ${output}`).to.equal(ExitCode.CONFIG);
      expect(output, what).to.include('transport_url').and.to.include('percent-encoded');
      expect(leaks(output, password), `${what}: ${output}`).to.equal(undefined);
      // Refused from the configuration, before any wait on OVSDB or RabbitMQ.
      expect(Date.now() - started, what).to.be.below(15_000);
    }
  });
});
