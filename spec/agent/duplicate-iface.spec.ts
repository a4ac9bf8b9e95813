import { expect } from 'chai';
import { createFirewall } from '../../lib/firewall/index.js';
import type { Logger } from '../../lib/log.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from './support/harness.js';

/**
 * Two Interfaces with one `external_ids:iface-id` (issue 14, item 5): the
 * port's filter must never be taken from the interface that carries it. Real
 * frames (netdev-dummy/receive) with a spoofed source go through the agent's
 * pipeline and the `openvswitch` firewall; what reaches the receiver is
 * counted on its port.
 */
const NET = 'net-local-1';
const hex = (n: number): string => n.toString(16).padStart(2, '0');
const MAC = (n: number): string => `fa:16:3e:00:00:${hex(n)}`;
const IP = (n: number): string => `10.0.0.${n}`;
const RECEIVER = 2;
const MARKER = 3;

const PORTS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const state = {
  networks: [{ id: NET, type: 'local' }],
  ports: PORTS.map((n) => ({ id: `p${n}`, mac: MAC(n), network: NET, fixedIps: [{ ipAddress: IP(n) }], securityGroups: ['open'] })),
  securityGroups: {
    open: { rules: [{ direction: 'ingress', ethertype: 'IPv4' }, { direction: 'egress', ethertype: 'IPv4' }] },
  },
};

interface Logged { level: string; message: string; meta: unknown }

function recordingLogger(into: Logged[]): Logger {
  const at = (level: string) => ((message: unknown, meta?: unknown) => {
    into.push({ level, message: String(message), meta });
    return logger;
  }) as never;
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  return logger;
}

describe('agent with two interfaces claiming one port id @integration', function () {
  this.timeout(90_000);
  let sb: OvsSandbox;
  let h: AgentHarness;
  let first: AgentHarness | undefined;
  const logged: Logged[] = [];
  let sport = 10_000;

  const udp = (srcMac: string, srcIp: string, dst: number): string =>
    `eth(src=${srcMac},dst=${MAC(dst)}),eth_type(0x0800),ipv4(src=${srcIp},dst=${IP(dst)},proto=17,tos=0,ttl=64,frag=no),` +
    `udp(src=${sport++},dst=7)`;

  async function counters(bridge: string, port: string): Promise<{ rx: number; tx: number }> {
    const out = await sb.ofctl('-O', 'OpenFlow13', 'dump-ports', bridge, port);
    return { rx: Number(/rx pkts=(\d+)/.exec(out)?.[1] ?? NaN), tx: Number(/tx pkts=(\d+)/.exec(out)?.[1] ?? NaN) };
  }

  async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * How many copies of `frame`, injected on `from`, reach the receiver. The
   * datapath handles a received frame whole before it polls again, so once
   * `from` counted it as received, a legitimate marker frame sent after it
   * from another port arrives after it: its arrival closes the count.
   */
  async function delivered(from: string, frame: string): Promise<number> {
    const before = (await counters('br-int', `tap${RECEIVER}`)).tx;
    const rx = (await counters('br-int', from)).rx;
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', from, frame);
    await waitFor(async () => (await counters('br-int', from)).rx > rx, `${from} to take the frame`);
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', `tap${MARKER}`, udp(MAC(MARKER), IP(MARKER), RECEIVER));
    await waitFor(async () => (await counters('br-int', `tap${RECEIVER}`)).tx > before, 'the marker frame to arrive');
    return (await counters('br-int', `tap${RECEIVER}`)).tx - before - 1;
  }

  /** A port's interface forwards its own frames and drops spoofed ones (IP, MAC). */
  async function expectFiltered(iface: string, n: number): Promise<void> {
    expect(await delivered(iface, udp(MAC(n), IP(n), RECEIVER)), `${iface}: own frame delivered`).to.equal(1);
    expect(await delivered(iface, udp(MAC(n), '10.0.0.99', RECEIVER)), `${iface}: spoofed source IP dropped`).to.equal(0);
    expect(await delivered(iface, udp('fa:16:3e:de:ad:01', IP(n), RECEIVER)), `${iface}: spoofed source MAC dropped`).to.equal(0);
  }

  /** Dead: tag 4095, a drop flow on its ofport, nothing it sends gets through. */
  async function expectDead(iface: string, n: number): Promise<void> {
    expect((await sb.vsctl('get', 'Port', iface, 'tag')).trim(), `${iface} tag`).to.equal('4095');
    const ofport = await h.ofport(iface);
    expect(await h.flowTexts('br-int'), `${iface} drop flow`).to.include(`table=0, priority=2,in_port=${ofport} actions=drop`);
    expect(await delivered(iface, udp(MAC(n), IP(n), RECEIVER)), `${iface}: nothing gets through`).to.equal(0);
  }

  async function lvid(): Promise<string> {
    return String(h.agent.status().localVlans.find((v) => v.networkId === NET)!.lvid);
  }

  async function expectWired(iface: string, n: number): Promise<void> {
    await expectFiltered(iface, n);
    expect((await sb.vsctl('get', 'Port', iface, 'tag')).trim(), `${iface} tag`).to.equal(await lvid());
    expect(h.agent.port(`p${n}`)?.name, `p${n} is carried by ${iface}`).to.equal(iface);
  }

  const plug = (iface: string, n: number, bridge = 'br-int') => h.plug(iface, `p${n}`, MAC(n), bridge);
  const settle = async () => {
    await h.agent.whenIdle();
    await h.agent.whenIdle();
  };
  const errorsNaming = (...names: string[]) =>
    logged.filter((l) => l.level === 'error' && names.every((n) => `${l.message} ${JSON.stringify(l.meta)}`.includes(n)));

  const harness = (stateFile?: string) => new AgentHarness(sb, {
    overrides: { 'securitygroup.firewall_driver': 'openvswitch' },
    firewall: () => createFirewall('openvswitch', {}),
    logger: recordingLogger(logged),
    stateFile,
  });

  before(async () => {
    sb = await OvsSandbox.start();
    await sb.vsctl('add-br', 'br-ex', '--', 'set', 'bridge', 'br-ex', 'datapath_type=netdev', 'external_ids:bridge-id=br-ex');
    h = first = harness();
    h.writeState(state);
    await h.start();
    for (const n of [1, RECEIVER, MARKER]) await plug(`tap${n}`, n);
    await h.until(() => ['p1', 'p2', 'p3'].every((id) => h.portState(id) === 'ACTIVE'), 'ports ACTIVE');
    await settle();
  });
  after(async () => {
    if (h !== first) await h?.stopAgent();
    await first?.stop();
    await sb?.stop();
  });

  it('a duplicate added then removed: the running port keeps its filter, the duplicate is dead, an error names both', async () => {
    await expectWired('tap1', 1);
    await plug('tap1b', 1);
    await h.ofport('tap1b');
    await settle();
    await expectWired('tap1', 1);
    await expectDead('tap1b', 1);
    expect(errorsNaming('tap1', 'tap1b', 'p1'), 'an error naming both interfaces and the port').to.have.length.greaterThan(0);
    expect(h.portState('p1')).to.equal('ACTIVE');

    await h.unplug('tap1b');
    await settle();
    await expectWired('tap1', 1);
    expect(h.portState('p1')).to.equal('ACTIVE');
    expect(h.cp.portStatus('p1')).to.equal('ACTIVE');
    const tap1b = await h.flowTexts('br-int');
    expect(tap1b.filter((t) => / priority=2,in_port=\d+ actions=drop/.test(t)), 'no drop flow left behind').to.deep.equal([]);
  });

  it('the original removed while the duplicate stays: the duplicate is wired whole, filter included', async () => {
    await plug('tap4', 4);
    await h.until(() => h.portState('p4') === 'ACTIVE', 'p4 ACTIVE');
    await plug('tap4b', 4);
    await settle();
    await expectWired('tap4', 4);
    await expectDead('tap4b', 4);
    await h.unplug('tap4');
    await settle();
    await expectWired('tap4b', 4);
    expect(h.portState('p4')).to.equal('ACTIVE');
    expect(h.cp.portStatus('p4')).to.equal('ACTIVE');
    const ofport = await h.ofport('tap4b');
    expect(await h.flowTexts('br-int')).to.not.include(`table=0, priority=2,in_port=${ofport} actions=drop`);
  });

  it('two new interfaces with one id at once: one is wired with its filter, the other dead; either may go', async () => {
    await sb.vsctl(
      '--', 'add-port', 'br-int', 'tap5a', '--', 'set', 'Interface', 'tap5a', 'external_ids:iface-id=p5', `external_ids:attached-mac=${MAC(5)}`,
      '--', 'add-port', 'br-int', 'tap5b', '--', 'set', 'Interface', 'tap5b', 'external_ids:iface-id=p5', `external_ids:attached-mac=${MAC(5)}`,
    );
    await h.until(() => h.portState('p5') === 'ACTIVE', 'p5 ACTIVE');
    await settle();
    const owner = h.agent.port('p5')!.name;
    const other = owner === 'tap5a' ? 'tap5b' : 'tap5a';
    await expectWired(owner, 5);
    await expectDead(other, 5);
    expect(errorsNaming('tap5a', 'tap5b')).to.have.length.greaterThan(0);
    await h.unplug(owner);
    await settle();
    await expectWired(other, 5);
  });

  it('an interface whose iface-id is changed to another port\'s id becomes a dead duplicate, and is wired again when changed back', async () => {
    await plug('tap6', 6);
    await plug('tap7', 7);
    await h.until(() => h.portState('p6') === 'ACTIVE' && h.portState('p7') === 'ACTIVE', 'p6, p7 ACTIVE');
    await sb.vsctl('set', 'Interface', 'tap7', 'external_ids:iface-id=p6');
    await h.until(() => h.cp.portStatus('p7') === 'DOWN', 'p7 reported down');
    await settle();
    await expectWired('tap6', 6);
    await expectDead('tap7', 6);
    expect(errorsNaming('tap6', 'tap7', 'p6')).to.have.length.greaterThan(0);
    expect(h.cp.portStatus('p6')).to.equal('ACTIVE');

    await sb.vsctl('set', 'Interface', 'tap7', 'external_ids:iface-id=p7');
    await h.until(() => h.portState('p7') === 'ACTIVE', 'p7 ACTIVE again');
    await settle();
    await expectWired('tap7', 7);
    await expectWired('tap6', 6);
  });

  it('duplicates on an ancillary bridge: the port stays reported up while one interface still has it, br-int is not touched', async () => {
    await plug('qg-8a', 8, 'br-ex');
    await h.until(() => h.cp.portStatus('p8') === 'ACTIVE', 'p8 reported up');
    await plug('qg-8b', 8, 'br-ex');
    await settle();
    await h.unplug('qg-8b', 'br-ex');
    await settle();
    expect(h.cp.portStatus('p8'), 'qg-8a still carries p8').to.equal('ACTIVE');
    await h.unplug('qg-8a', 'br-ex');
    await h.until(() => h.cp.portStatus('p8') === 'DOWN', 'p8 reported down with its last interface');

    // A br-int port's id on an ancillary interface: neither wired nor reported for it.
    await plug('qg-1', 1, 'br-ex');
    await h.ofport('qg-1');
    await settle();
    await h.unplug('qg-1', 'br-ex');
    await settle();
    expect(h.cp.portStatus('p1')).to.equal('ACTIVE');
    expect(h.portState('p1')).to.equal('ACTIVE');
    await expectWired('tap1', 1);
    expect(errorsNaming('qg-1', 'tap1', 'p1')).to.have.length.greaterThan(0);
  });

  it('keeps nothing of interfaces that are gone: churn with duplicates leaves the agent\'s maps and br-int as they were', async () => {
    await settle();
    const sizes = () => h.agent['ports'].sizes();
    const before = sizes();
    const flowsBefore = await h.flowTexts('br-int');
    for (let round = 0; round < 3; round++) {
      const names = Array.from({ length: 20 }, (_, i) => `ch${round}-${i}`);
      // Seven port ids for twenty interfaces: most are duplicates; none is known to the control plane (dead).
      await sb.vsctl(...names.flatMap((n, i) => ['--', 'add-port', i % 2 ? 'br-int' : 'br-ex', n, '--', 'set', 'Interface', n,
        `external_ids:iface-id=churn-${round}-${i % 7}`, `external_ids:attached-mac=fa:16:3e:01:0${round}:${hex(i)}`]));
      for (const n of names) await h.ofport(n);
      await settle();
      expect(h.agent['ports'].sizes().interfaces, 'all tracked meanwhile').to.equal(before.interfaces + 20);
      await sb.vsctl(...names.flatMap((n, i) => ['--', 'del-port', i % 2 ? 'br-int' : 'br-ex', n]));
      await settle();
    }
    expect(sizes()).to.deep.equal(before);
    expect(await h.flowTexts('br-int')).to.deep.equal(flowsBefore);
  });

  it('an agent restart keeps the carrier the previous run chose, though the duplicate has the lower ofport', async () => {
    await sb.vsctl('--', 'add-port', 'br-int', 'tap9', '--', 'set', 'Interface', 'tap9', 'ofport_request=900',
      'external_ids:iface-id=p9', `external_ids:attached-mac=${MAC(9)}`);
    await h.until(() => h.portState('p9') === 'ACTIVE', 'p9 ACTIVE');
    await sb.vsctl('--', 'add-port', 'br-int', 'tap9b', '--', 'set', 'Interface', 'tap9b', 'ofport_request=800',
      'external_ids:iface-id=p9', `external_ids:attached-mac=${MAC(9)}`);
    await h.ofport('tap9b');
    await settle();
    await expectWired('tap9', 9);
    await expectDead('tap9b', 9);

    await h.stopAgent();
    h = harness(first!.stateFile);
    await h.start();
    await h.until(() => h.agent.status().firstSyncDone, 'first sync');
    await settle();
    await expectWired('tap9', 9);
    await expectDead('tap9b', 9);
    await expectWired('tap1', 1);
  });
});
