/**
 * The control plane's retries of its idempotent calls (tunnel_sync,
 * update_device_list, bulk_pull), against a scripted neutron-server: Debian's
 * oslo.messaging serving q-plugin on a real RabbitMQ, raising oslo.db's own
 * DBDeadlock (what a server whose transaction lost a deadlock sends back) as
 * many times as a test says, then answering. What is checked is what the
 * server received and what the caller gets:
 *
 * - a DBDeadlock is retried and the answer that follows is returned;
 * - `callRetries` is honoured exactly (0, 1, the default 2, 3 extra
 *   attempts), then the DBDeadlock surfaces as a retriable RemoteError;
 * - a server error that is not transient (ValueError) is not retried;
 * - update_device_list's devices come back failed once its retries are spent;
 * - a call nobody answers in time is retried as many times, each with a
 *   doubled timeout, then the timeout surfaces.
 */
import { expect } from 'chai';
import { RabbitBroker } from '../../testing/neutron-env.js';
import { NeutronControlPlane } from '../../lib/control-plane/neutron/neutron-control-plane.js';
import { RemoteError } from '../../lib/control-plane/neutron/errors.js';
import type { Logger } from '../../lib/control-plane/neutron/logger.js';
import { ScriptedNeutron } from './helpers/scripted-neutron.js';

class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(m: string): void {
    this.lines.push(`WARN ${m}`);
  }
  error(m: string): void {
    this.lines.push(`ERROR ${m}`);
  }
}

describe('Neutron control plane: idempotent calls retried against a scripted oslo.messaging server @integration', function () {
  this.timeout(60_000);
  let broker: RabbitBroker | undefined;
  let peer: ScriptedNeutron | undefined;
  const started: NeutronControlPlane[] = [];

  before(async function () {
    this.timeout(120_000);
    broker = await RabbitBroker.start();
    peer = await ScriptedNeutron.start(broker.transportUrl);
  });

  afterEach(async () => {
    for (const cp of started.splice(0)) await cp.stop();
  });

  after(async function () {
    this.timeout(30_000);
    await peer?.stop();
    await broker?.stop();
  });

  /** A started control plane; `callRetries` undefined leaves the default. */
  async function controlPlane(callRetries: number | undefined, log: Logger = new CapturingLogger(), rpcResponseTimeout = 20): Promise<NeutronControlPlane> {
    const cp = new NeutronControlPlane({
      transportUrl: broker!.transportUrl, rpcResponseTimeout, reportInterval: 0, logger: log,
      ...(callRetries === undefined ? {} : { callRetries }),
      rabbit: { retryInterval: 0.2, retryBackoff: 0.5, intervalMax: 2 },
    });
    started.push(cp);
    await cp.start({ host: 'retry-host', agentId: 'ovs-agent-retry-host', binary: 'neutron-openvswitch-agent' });
    return cp;
  }

  it('retries tunnel_sync answered with DBDeadlock and returns the answer that follows', async () => {
    await peer!.script({ tunnel_sync: ['DBDeadlock', 'DBDeadlock', 'ok'] });
    const log = new CapturingLogger();
    const cp = await controlPlane(2, log);
    const tunnels = await cp.tunnelSync('192.0.2.1', 'vxlan');
    expect(tunnels).to.deep.equal([{ ipAddress: '192.0.2.9', host: 'peer-host', udpPort: 4789 }]);
    expect((await peer!.callsOf('tunnel_sync')).map((c) => c.outcome)).to.deep.equal(['DBDeadlock', 'DBDeadlock', 'ok']);
    const retries = log.lines.filter((l) => l.startsWith('WARN tunnel_sync') && l.includes('DBDeadlock'));
    expect(retries, 'one warning per retry, naming the server error').to.have.length(2);
  });

  for (const retries of [0, 1, undefined, 3]) {
    const attempts = (retries ?? 2) + 1;
    it(`with callRetries ${retries ?? '(default 2)'}, makes ${attempts} attempt(s) at a call that always meets a DBDeadlock, then the DBDeadlock surfaces`, async () => {
      await peer!.script({ tunnel_sync: ['DBDeadlock'] });
      const cp = await controlPlane(retries);
      const err = await cp.tunnelSync('192.0.2.1', 'vxlan').then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(RemoteError);
      expect((err as RemoteError).failure).to.include({ className: 'DBDeadlock', module: 'oslo_db.exception' });
      expect(err).to.include({ code: 'ERR_NEUTRON_REMOTE_ERROR', retriable: true });
      expect(await peer!.count('tunnel_sync'), 'calls the server received').to.equal(attempts);
    });
  }

  it('does not retry a server error that is not transient (ValueError)', async () => {
    await peer!.script({ tunnel_sync: ['ValueError', 'ok'] });
    const cp = await controlPlane(3);
    const err = await cp.tunnelSync('192.0.2.1', 'vxlan').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteError);
    expect((err as RemoteError).failure.className).to.equal('ValueError');
    expect(err).to.include({ retriable: false });
    expect(await peer!.count('tunnel_sync')).to.equal(1);
  });

  it('update_device_list: a DBDeadlock within the retries is retried; beyond them the chunk\'s devices come back failed', async () => {
    await peer!.script({ update_device_list: ['DBDeadlock', 'ok'] });
    const cp = await controlPlane(1);
    expect(await cp.updateDeviceList(['port-a', 'port-b'], ['port-c'])).to.deep.equal({ failedUp: [], failedDown: [] });
    expect(await peer!.count('update_device_list')).to.equal(2);

    // Other devices: the ones above are reported already, and an unchanged status is not sent again.
    await peer!.script({ update_device_list: ['DBDeadlock'] });
    expect(await cp.updateDeviceList(['port-d', 'port-e'], ['port-f'])).to.deep.equal({ failedUp: ['port-d', 'port-e'], failedDown: ['port-f'] });
    expect(await peer!.count('update_device_list'), 'one call and its one retry').to.equal(2);
  });

  it('retries a call nobody answers in time callRetries times, each with a doubled timeout, then the timeout surfaces', async function () {
    this.timeout(90_000);
    // The server takes the calls but answers only after every timeout (1 s, 2 s, 4 s) has passed.
    await peer!.script({ tunnel_sync: [{ hang: 30 }] });
    const cp = await controlPlane(2, new CapturingLogger(), 1);
    const err = await cp.tunnelSync('192.0.2.1', 'vxlan').then(() => undefined, (e: unknown) => e);
    expect(err).to.include({ code: 'ERR_NEUTRON_RPC_TIMEOUT', retriable: true });
    expect((err as Error).message, 'the last attempt waited 4 times the first timeout').to.match(/no reply within 4 s/);
    expect(await peer!.count('tunnel_sync')).to.equal(3);
  });
});
