import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from '../agent/support/harness.js';

/**
 * Real traffic through the qos extension's rows and flows: a `netns`
 * sandbox (userspace datapath, veth pairs into namespaces standing for VMs),
 * iperf3 for the bandwidth limit to a VM (linux-htb on its port) and tcpdump
 * on the receiving VM for the DSCP mark the sender's policy sets
 * (docs/qos.md, "Datapaths"). The egress limit (ingress policing) is not
 * measured here: this machine's kernel lacks act_police (docs/qos.md).
 */
const run = promisify(execFile);
const NET = 'net-t';
const SENDER = 'c0000000-0000-4000-8000-000000000001';
const RECEIVER = 'c0000000-0000-4000-8000-000000000002';
const LIMIT = 'd0000000-0000-4000-8000-00000000001a';
const MARK = 'd0000000-0000-4000-8000-00000000002b';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function state(ingressKbps: number, dscp: number) {
  return {
    networks: [{ id: NET, type: 'local' }],
    ports: [
      { id: SENDER, mac: 'fa:16:3e:00:02:01', network: NET, qosPolicyId: MARK, fixedIps: [{ ipAddress: '10.7.0.1' }] },
      { id: RECEIVER, mac: 'fa:16:3e:00:02:02', network: NET, qosPolicyId: LIMIT, fixedIps: [{ ipAddress: '10.7.0.2' }] },
    ],
    qosPolicies: [
      { id: LIMIT, rules: [{ type: 'bandwidth_limit', maxKbps: ingressKbps, maxBurstKbps: 1000, direction: 'ingress' }] },
      { id: MARK, rules: [{ type: 'dscp_marking', dscpMark: dscp }] },
    ],
  };
}

describe('qos extension: real traffic (iperf3, tcpdump) @integration', function () {
  this.timeout(120_000);
  const suffix = Math.random().toString(36).slice(2, 7);
  const ns = (n: number): string => `qosvm${n}-${suffix}`;
  const inNs = (n: number, ...cmd: string[]) => run('ip', ['netns', 'exec', ns(n), ...cmd], { timeout: 30_000 });
  const created: string[] = [];
  let sb: OvsSandbox;
  let h: AgentHarness;

  /** Mbit/s from VM 1 to VM 2 over 4 s, the first second (slow start, the burst) left out. */
  async function throughput(): Promise<number> {
    const server = spawn('ip', ['netns', 'exec', ns(2), 'iperf3', '-s', '-1'], { stdio: 'ignore' });
    try {
      await sleep(400);
      const { stdout } = await inNs(1, 'iperf3', '-c', '10.7.0.2', '-t', '4', '-O', '1', '-J');
      const mbps = (JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6;
      console.log(`      measured: ${mbps.toFixed(1)} Mbit/s`);
      return mbps;
    } finally {
      server.kill('SIGKILL');
    }
  }

  /** The TOS byte of the ICMP echo requests VM 2 receives from VM 1, as tcpdump prints it. */
  async function tosSeen(): Promise<string[]> {
    const dump = inNs(2, 'tcpdump', '-l', '-n', '-v', '-c', '3', '-i', 'eth0', 'icmp[icmptype] == icmp-echo');
    await sleep(700);
    await inNs(1, 'ping', '-c', '5', '-i', '0.2', '10.7.0.2');
    const { stdout } = await dump;
    return [...stdout.matchAll(/tos (0x[0-9a-f]+)/g)].map((m) => m[1]);
  }

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    h = new AgentHarness(sb, { overrides: { 'agent.extensions': 'qos' } });
    h.writeState(state(20_000, 26));
    await h.start();
    for (const [n, id, mac] of [[1, SENDER, 'fa:16:3e:00:02:01'], [2, RECEIVER, 'fa:16:3e:00:02:02']] as const) {
      const br = `q${n}b${suffix}`;
      await run('ip', ['netns', 'add', ns(n)]);
      created.push(ns(n));
      await run('ip', ['link', 'add', br, 'type', 'veth', 'peer', 'name', `q${n}v${suffix}`]);
      await run('ip', ['link', 'set', br, 'netns', sb.netns!]);
      await run('ip', ['link', 'set', `q${n}v${suffix}`, 'netns', ns(n)]);
      await inNs(n, 'ip', 'link', 'set', `q${n}v${suffix}`, 'name', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'address', mac);
      await inNs(n, 'ip', 'addr', 'add', `10.7.0.${n}/24`, 'dev', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'up');
      await inNs(n, 'ip', 'link', 'set', 'lo', 'up');
      // The userspace datapath does not fill in checksums the kernel left to the NIC.
      await inNs(n, 'ethtool', '-K', 'eth0', 'tx', 'off');
      await run('ip', ['netns', 'exec', sb.netns!, 'ip', 'link', 'set', br, 'up']);
      await h.plug(br, id, mac);
    }
    await h.until(() => h.portState(SENDER) === 'ACTIVE' && h.portState(RECEIVER) === 'ACTIVE', 'both ports ACTIVE');
  });

  after(async () => {
    await h?.stop();
    for (const n of created) await run('ip', ['netns', 'del', n]).catch(() => undefined);
    await sb?.stop();
  });

  it('traffic to a VM is capped at its ingress bandwidth_limit (within 15 %)', async () => {
    const mbps = await throughput();
    expect(mbps, `${mbps.toFixed(1)} Mbit/s for a 20 Mbit/s limit`).to.be.within(20 * 0.85, 20 * 1.15);
  });

  it('the sender\'s packets carry its DSCP mark on the wire (26: TOS 0x68)', async () => {
    expect(await tosSeen()).to.include('0x68');
  });

  it('a policy change is applied live, without re-wiring: new cap and new mark', async () => {
    const tags = await Promise.all([`q1b${suffix}`, `q2b${suffix}`].map(async (p) => (await sb.vsctl('get', 'Port', p, 'tag')).trim()));
    h.writeState(state(8_000, 18));
    const deadline = Date.now() + 10_000;
    while (!(await sb.vsctl('list', 'Queue')).includes('max-rate="8000000"')) {
      if (Date.now() > deadline) throw new Error('the new limit never reached the Queue row');
      await sleep(50);
    }
    await sleep(300);
    const mbps = await throughput();
    expect(mbps, `${mbps.toFixed(1)} Mbit/s for an 8 Mbit/s limit`).to.be.within(8 * 0.85, 8 * 1.15);
    expect(await tosSeen()).to.include('0x48');
    expect(await Promise.all([`q1b${suffix}`, `q2b${suffix}`].map(async (p) => (await sb.vsctl('get', 'Port', p, 'tag')).trim()))).to.deep.equal(tags);
    expect([h.portState(SENDER), h.portState(RECEIVER)]).to.deep.equal(['ACTIVE', 'ACTIVE']);
  });
});
