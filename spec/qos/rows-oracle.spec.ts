import { expect } from 'chai';
import { OvsSandbox } from '../../testing/sandbox.js';
import { runNeutronQos } from '../../testing/neutron-qos-oracle.js';
import type { QosPolicy } from '../../lib/model/index.js';
import type { Logger } from '../../lib/log.js';
import { AgentHarness } from '../agent/support/harness.js';
import { comparable, portQos, qosFlows, rows } from './support.js';

/**
 * The qos extension against Neutron's own QosOVSAgentDriver
 * (testing/neutron_qos_oracle.py): our agent wires a port on one sandbox,
 * Neutron's driver applies the same policy to the same port on another, and
 * the rows and flows ovs-vswitchd holds on both must be the same
 * (docs/qos.md, "What is written on the switch").
 */
const POLICY = 'a0000000-0000-4000-8000-000000000001';
const NET = 'net-q';
const PORT = 'b0000000-0000-4000-8000-000000000001';
const MAC = 'fa:16:3e:00:01:01';
const TAP = 'tapq1';
const OFPORT = 10;

const policy = (rules: QosPolicy['rules']): QosPolicy => ({ id: POLICY, rules });
const FULL = policy([
  { type: 'bandwidth_limit', id: 'r1', maxKbps: 10_000, maxBurstKbps: 0, direction: 'egress' },
  { type: 'bandwidth_limit', id: 'r2', maxKbps: 20_000, maxBurstKbps: 5_000, direction: 'ingress' },
  { type: 'dscp_marking', id: 'r3', dscpMark: 26 },
]);

function state(p: QosPolicy | undefined, extraPorts: Array<Record<string, unknown>> = []) {
  return {
    networks: [{ id: NET, type: 'local' }],
    ports: [{ id: PORT, mac: MAC, network: NET, ...(p ? { qosPolicyId: p.id } : {}) }, ...extraPorts],
    qosPolicies: p ? [{ id: p.id, rules: p.rules }] : [],
  };
}

interface LogLine { level: string; message: string }
function capturingLogger(lines: LogLine[]): Logger {
  const l = {} as Record<string, unknown>;
  for (const level of ['error', 'warn', 'info', 'debug']) l[level] = (message: unknown) => void lines.push({ level, message: String(message) });
  return l as unknown as Logger;
}

describe('qos extension: rows and flows as Neutron\'s driver writes them @integration', function () {
  this.timeout(90_000);
  let ours: OvsSandbox;
  let neutron: OvsSandbox;
  let h: AgentHarness;
  const log: LogLine[] = [];

  async function neutronSide(p: QosPolicy): Promise<void> {
    await neutron.ofctl('-O', 'OpenFlow13', 'del-flows', 'br-int');
    await runNeutronQos(neutron, [{ name: TAP, ofport: OFPORT, portId: PORT, mac: MAC }], p);
  }

  async function settled(cond: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    ours = await OvsSandbox.start();
    neutron = await OvsSandbox.start();
    await neutron.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev', 'protocols=OpenFlow10,OpenFlow13',
      '--', 'add-port', 'br-int', TAP, '--', 'set', 'Interface', TAP, `ofport_request=${OFPORT}`);
    h = new AgentHarness(ours, { overrides: { 'agent.extensions': 'qos' }, logger: capturingLogger(log) });
    h.writeState(state(FULL));
    await h.start();
    await ours.vsctl('--', 'add-port', 'br-int', TAP, '--', 'set', 'Interface', TAP, `ofport_request=${OFPORT}`,
      `external_ids:iface-id=${PORT}`, `external_ids:attached-mac=${MAC}`);
    await h.until(() => h.portState(PORT) === 'ACTIVE', 'the port ACTIVE');
  });
  after(async () => {
    await h?.stop();
    await ours?.stop();
    await neutron?.stop();
  });

  it('bandwidth_limit both ways and dscp_marking: the same rows and flows as Neutron\'s driver', async () => {
    await neutronSide(FULL);
    const mine = await portQos(ours, TAP);
    const theirs = await portQos(neutron, TAP);
    expect(comparable(mine)).to.deep.equal(comparable(theirs));
    // Spelled out, so that a change on both sides would still show: 80 % of the rate as the egress burst, bit/s in the queue.
    expect(mine.policing).to.deep.equal({ rate: 10_000, burst: 8_000 });
    expect(mine.qos?.queues['0']?.otherConfig).to.deep.equal({ 'max-rate': '20000000', burst: '5000000' });
    expect(await qosFlows(ours)).to.deep.equal(await qosFlows(neutron));
    expect(await qosFlows(ours)).to.have.length(3);
  });

  it('a rule change is applied without re-wiring the port: same rows updated, tag and other flows untouched', async () => {
    const before = await portQos(ours, TAP);
    const tag = (await ours.vsctl('get', 'Port', TAP, 'tag')).trim();
    const otherFlows = (await h.flowTexts('br-int')).filter((f) => !/priority=(200|65535)\b/.test(f));
    const bound = () => log.filter((l) => l.message.startsWith(`port ${PORT} bound`)).length;
    const boundBefore = bound();
    const changed = policy([
      { type: 'bandwidth_limit', id: 'r1', maxKbps: 4_000, maxBurstKbps: 1_000, direction: 'egress' },
      { type: 'bandwidth_limit', id: 'r2', maxKbps: 30_000, maxBurstKbps: 5_000, direction: 'ingress' },
      { type: 'dscp_marking', id: 'r3', dscpMark: 18 },
    ]);
    h.writeState(state(changed));
    await settled(async () => (await portQos(ours, TAP)).policing.rate === 4_000 && (await qosFlows(ours)).some((f) => f.includes('18->ip_dscp')),
      'the new policy on the switch');
    await neutronSide(changed);
    const after = await portQos(ours, TAP);
    expect(comparable(after)).to.deep.equal(comparable(await portQos(neutron, TAP)));
    expect(await qosFlows(ours)).to.deep.equal(await qosFlows(neutron));
    expect(after.qos?.uuid, 'the same QoS row').to.equal(before.qos?.uuid);
    expect(after.qos?.queues['0']?.uuid, 'the same Queue row').to.equal(before.qos?.queues['0']?.uuid);
    expect((await ours.vsctl('get', 'Port', TAP, 'tag')).trim()).to.equal(tag);
    expect((await h.flowTexts('br-int')).filter((f) => !/priority=(200|65535)\b/.test(f))).to.deep.equal(otherFlows);
    expect(h.portState(PORT)).to.equal('ACTIVE');
    expect(bound(), 'not bound again').to.equal(boundBefore);
  });

  it('packet_rate_limit and minimum_bandwidth egress are warned about, not silently ignored', async () => {
    const p = policy([
      { type: 'packet_rate_limit', id: 'pr', maxKpps: 100, maxBurstKpps: 0, direction: 'egress' },
      { type: 'minimum_bandwidth', id: 'mb', minKbps: 1000, direction: 'egress' },
      { type: 'minimum_bandwidth', id: 'mbi', minKbps: 1000, direction: 'ingress' },
    ]);
    h.writeState(state(p));
    await settled(async () => log.filter((l) => l.level === 'warn' && l.message.includes('not enforced')).length >= 2, 'the warnings');
    const warned = log.filter((l) => l.level === 'warn' && l.message.includes('not enforced')).map((l) => l.message);
    expect(warned.some((m) => m.includes('rule pr (packet_rate_limit)'))).to.equal(true);
    expect(warned.some((m) => m.includes('rule mb (minimum_bandwidth)'))).to.equal(true);
    expect(warned.some((m) => m.includes('rule mbi'))).to.equal(false);
    // Nothing of the previous policy is left, as with Neutron's driver for this policy.
    await settled(async () => (await portQos(ours, TAP)).qos === undefined, 'the old QoS row gone');
    await neutronSide(p);
    expect(comparable(await portQos(ours, TAP))).to.deep.equal(comparable(await portQos(neutron, TAP)));
    // Neutron's driver also marks the port's packets (pkt_mark, reg4) for queues it would put on the physical
    // bridges' NICs; without those queues the mark shapes nothing, and this agent does not install it.
    const neutronFlows = await qosFlows(neutron);
    expect(neutronFlows.filter((f) => f.includes('reg4=0'))).to.have.length(1);
    expect(await qosFlows(ours)).to.deep.equal(neutronFlows.filter((f) => !f.includes('reg4=0')));
  });

  it('a network\'s policy applies to a VM\'s port but not to the network\'s own DHCP port', async () => {
    const net = policy([{ type: 'bandwidth_limit', id: 'n1', maxKbps: 7_000, maxBurstKbps: 700, direction: 'egress' }]);
    const dhcp = 'b0000000-0000-4000-8000-0000000000dd';
    h.writeState({
      networks: [{ id: NET, type: 'local', qosPolicyId: net.id }],
      ports: [{ id: PORT, mac: MAC, network: NET }, { id: dhcp, mac: 'fa:16:3e:00:01:dd', network: NET, deviceOwner: 'network:dhcp' }],
      qosPolicies: [{ id: net.id, rules: net.rules }],
    });
    await h.plug('tapqd', dhcp, 'fa:16:3e:00:01:dd');
    await h.until(() => h.portState(dhcp) === 'ACTIVE', 'the DHCP port ACTIVE');
    await settled(async () => (await portQos(ours, TAP)).policing.rate === 7_000, 'the network policy on the VM port');
    expect((await portQos(ours, 'tapqd')).policing).to.deep.equal({ rate: 0, burst: 0 });
  });

  it('unplugging the port reclaims its QoS and Queue rows', async () => {
    h.writeState(state(FULL));
    await settled(async () => (await portQos(ours, TAP)).qos !== undefined, 'the QoS row');
    await h.unplug(TAP);
    await h.until(() => h.portState(PORT) === undefined || h.portState(PORT) === 'DOWN', 'the port gone');
    await settled(async () => (await rows(ours, 'QoS')).length === 0 && (await rows(ours, 'Queue')).length === 0, 'no QoS or Queue row left');
    expect((await qosFlows(ours)).filter((f) => f.includes('ip_dscp'))).to.deep.equal([]);
  });

  it('after a restart: right rows adopted (same rows), wrong values fixed, rows of a port unplugged meanwhile destroyed', async () => {
    const other = 'b0000000-0000-4000-8000-000000000002';
    h.writeState(state(FULL, [{ id: other, mac: 'fa:16:3e:00:01:02', network: NET, qosPolicyId: POLICY }]));
    await ours.vsctl('--', 'add-port', 'br-int', TAP, '--', 'set', 'Interface', TAP, `ofport_request=${OFPORT}`,
      `external_ids:iface-id=${PORT}`, `external_ids:attached-mac=${MAC}`);
    await h.plug('tapq2', other, 'fa:16:3e:00:01:02');
    await h.until(() => h.portState(PORT) === 'ACTIVE' && h.portState(other) === 'ACTIVE', 'both ports ACTIVE');
    await settled(async () => (await rows(ours, 'QoS')).length === 2, 'two QoS rows');
    const kept = await portQos(ours, TAP);
    await h.stopAgent();
    await h.unplug('tapq2');
    // Changed behind the agent's back while it is down: fixed in place at start.
    await ours.vsctl('set', 'Interface', TAP, 'ingress_policing_rate=1', '--', 'set', 'Queue', kept.qos!.queues['0']!.uuid, 'other_config:burst=1');
    const h2 = new AgentHarness(ours, { overrides: { 'agent.extensions': 'qos' }, stateFile: h.stateFile });
    try {
      await h2.start();
      await h2.until(() => h2.portState(PORT) === 'ACTIVE', 'the port ACTIVE after the restart');
      await settled(async () => (await rows(ours, 'QoS')).length === 1, 'the unplugged port\'s QoS row destroyed');
      const after = await portQos(ours, TAP);
      expect(after).to.deep.equal(kept);
      expect((await rows(ours, 'Queue')).map((q) => q._uuid)).to.deep.equal([kept.qos!.queues['0']!.uuid]);
    } finally {
      await h2.stopAgent();
    }
  });

  it('takes over the rows Neutron\'s own driver wrote: the same QoS and Queue rows kept', async () => {
    // Neutron's agent ran on this switch (its driver clears and rewrites the bandwidth rows at start).
    await runNeutronQos(ours, [{ name: TAP, ofport: OFPORT, portId: PORT, mac: MAC }], FULL, { install: false });
    const theirs = await portQos(ours, TAP);
    expect(theirs.qos).to.not.equal(undefined);
    const h3 = new AgentHarness(ours, { overrides: { 'agent.extensions': 'qos' }, stateFile: h.stateFile });
    try {
      h3.writeState(state(FULL));
      await h3.start();
      await h3.until(() => h3.portState(PORT) === 'ACTIVE', 'the port ACTIVE');
      await settled(async () => (await rows(ours, 'QoS')).length === 1, 'one QoS row');
      expect(await portQos(ours, TAP)).to.deep.equal(theirs);
    } finally {
      await h3.stopAgent();
    }
  });
});
