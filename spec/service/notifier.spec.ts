import { expect } from 'chai';
import { ServiceNotifier, watchdogIntervalMs, type NotifiedAgent } from '../../lib/service/notifier.js';
import { SdNotify, type SdNotifyError } from '../../lib/service/sd-notify.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Sink {
  readonly sent: string[] = [];
  send(state: string): void {
    this.sent.push(state);
  }
  async close(): Promise<void> {}
}

function fakeAgent(): NotifiedAgent & { done: boolean } {
  const a = {
    done: false,
    status: () => ({
      firstSyncDone: a.done, ovsState: 'NORMAL' as const, localVlans: [], tunnels: [],
      ports: [{ state: a.done ? 'ACTIVE' : 'WAITING' }] as ReturnType<NotifiedAgent['status']>['ports'],
    }),
  };
  return a;
}

describe('service notifier', () => {
  it('reads the watchdog as sd_watchdog_enabled does: half of WATCHDOG_USEC, only for the pid WATCHDOG_PID names', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).to.equal(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).to.equal(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42)).to.equal(undefined);
    expect(watchdogIntervalMs({}, 42)).to.equal(undefined);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42)).to.equal(undefined);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42)).to.equal(undefined);
  });

  it('sends READY=1 once, after the first full sync, and RELOADING only once ready (READY=1 must not come early)', async () => {
    const sink = new Sink();
    const n = new ServiceNotifier({ sink });
    const agent = fakeAgent();
    n.startup(() => 'starting: here');
    n.reloading();
    n.attach(agent);
    n.passed();
    expect(sink.sent).to.deep.equal(['STATUS=starting: here']);
    agent.done = true;
    n.passed();
    n.passed();
    expect(sink.sent.filter((s) => s.startsWith('READY=1'))).to.deep.equal(['READY=1\nSTATUS=running: 1/1 ports ACTIVE, 0 local VLANs, 0 tunnels']);
    n.reloading();
    n.reloaded('log level debug');
    expect(sink.sent.at(-2)).to.match(/^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading$/);
    expect(sink.sent.at(-1)).to.equal('READY=1\nSTATUS=running: 1/1 ports ACTIVE, 0 local VLANs, 0 tunnels; log level debug');
    n.stopping('SIGTERM');
    n.passed();
    expect(sink.sent.at(-1)).to.equal('STOPPING=1\nSTATUS=stopping (SIGTERM); flows stay in place');
    await n.close();
  });

  it('keeps STATUS one bounded line', () => {
    const sink = new Sink();
    const n = new ServiceNotifier({ sink });
    n.startup(() => `line one\nline two ${'x'.repeat(10_000)}`);
    void n.close();
    expect(sink.sent[0]).to.not.include('\nline two');
    expect(Buffer.byteLength(sink.sent[0])).to.be.at.most(4096 + 'STATUS='.length);
  });

  it('does nothing, and starts nothing, without NOTIFY_SOCKET', () => {
    const env: NodeJS.ProcessEnv = { WATCHDOG_USEC: '1000' };
    const n = ServiceNotifier.fromEnv(env);
    expect(n.active).to.equal(false);
    n.startup(() => 'x');
    n.stopping('SIGTERM');
  });

  it('removes systemd\'s variables from the environment, so no child speaks for the agent', async () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' };
    const n = ServiceNotifier.fromEnv(env);
    expect(n.active).to.equal(true);
    expect(env).to.deep.equal({});
    await n.close();
  });

  it('refuses a NOTIFY_SOCKET that is neither absolute nor abstract, saying so', () => {
    const errors: SdNotifyError[] = [];
    expect(SdNotify.fromEnv({ NOTIFY_SOCKET: 'relative/notify' }, { onError: (e) => errors.push(e) })).to.equal(undefined);
    expect(errors.map((e) => e.code)).to.deep.equal(['SD_NOTIFY_BAD_SOCKET']);
    expect(errors[0].message).to.include('relative/notify');
  });

  it('says at once, naming the interpreter and the socket, when the relay cannot start', async () => {
    const errors: SdNotifyError[] = [];
    const sd = SdNotify.fromEnv({ NOTIFY_SOCKET: '/run/x/notify' }, { python: '/nonexistent/python3', onError: (e) => errors.push(e) })!;
    sd.send('READY=1');
    for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(10);
    sd.send('STATUS=again');
    await sleep(50);
    expect(errors.map((e) => e.code)).to.deep.equal(['SD_NOTIFY_RELAY_FAILED']);
    expect(errors[0].message).to.include('/nonexistent/python3').and.include('/run/x/notify');
    await sd.close();
  });
});
