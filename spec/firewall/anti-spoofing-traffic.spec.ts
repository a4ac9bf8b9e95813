/**
 * br-int's ARP/ND/MAC anti-spoofing with the noop driver, with real frames:
 * the agent wires three "VMs" (network namespaces joined to br-int by veth
 * pairs, a `netns` sandbox) from a local control-plane file, and what each
 * sends is judged by what the others receive.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createFirewall } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { AgentHarness } from '../agent/support/harness.js';

const run = promisify(execFile);
const MAC = (n: number): string => `fa:16:3e:00:5a:0${n}`;
const IP = (n: number): string => `10.0.0.${n}`;

/**
 * One frame out of eth0 (`send`), or the first frame on eth0 that matches
 * (`sniff`, printing `seen` or `none` after the timeout). Frames: an ARP
 * (op, sender MAC, sender IP, target IP) to broadcast, a neighbour
 * advertisement (MAC, source IPv6, target) to all nodes, or an IPv4 packet
 * of protocol 253 from a given MAC and source address to broadcast.
 */
const FRAMES = String.raw`
import socket, struct, sys, time
mode, kind = sys.argv[1], sys.argv[2]
mac = lambda s: bytes.fromhex(s.replace(':', ''))
ip = lambda s: socket.inet_aton(s)
BCAST = b'\xff' * 6
def arp(op, sha, spa, tpa):
    return BCAST + mac(sha) + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, int(op)) + mac(sha) + ip(spa) + b'\x00' * 6 + ip(tpa)
def ipv4(sha, src, dst):
    payload = b'ovs-agent-spoof-test'
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 64, 253, 0, ip(src), ip(dst))
    s = sum(struct.unpack('!10H', h)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return BCAST + mac(sha) + b'\x08\x00' + h[:10] + struct.pack('!H', ~s & 0xffff) + h[12:] + payload
def na(sha, src, target):
    src6, dst6, tgt = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, 'ff02::1'), socket.inet_pton(socket.AF_INET6, target)
    body = struct.pack('!BBHI', 136, 0, 0, 0x20000000) + tgt + b'\x02\x01' + mac(sha)
    pseudo = src6 + dst6 + struct.pack('!I3xB', len(body), 58) + body
    s = sum(struct.unpack('!%dH' % (len(pseudo) // 2), pseudo))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    body = body[:2] + struct.pack('!H', ~s & 0xffff) + body[4:]
    return mac('33:33:00:00:00:01') + mac(sha) + b'\x86\xdd' + struct.pack('!IHBB', 0x60000000, len(body), 58, 255) + src6 + dst6 + body
frame = arp(*sys.argv[3:7]) if kind == 'arp' else na(*sys.argv[3:6]) if kind == 'na' else ipv4(*sys.argv[3:6])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(('eth0', 0))
if mode == 'send':
    s.send(frame)
    sys.exit(0)
print('ready', flush=True)
end = time.time() + float(sys.argv[-1])
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        got = s.recv(2048)
    except socket.timeout:
        break
    if got[6:] == frame[6:len(got)] or got[6:len(frame)] == frame[6:]:
        print('seen'); sys.exit(0)
print('none')
`;

describe('ARP/ND/MAC anti-spoofing with the noop driver, real frames between network namespaces @integration', function () {
  this.timeout(120_000);
  let sb: OvsSandbox | undefined;
  let h: AgentHarness | undefined;
  const suffix = Math.random().toString(36).slice(2, 7);
  const ns = (n: number): string => `asvm${n}-${suffix}`;
  const created: string[] = [];

  const inNs = (n: number, ...cmd: string[]): Promise<{ stdout: string }> => run('ip', ['netns', 'exec', ns(n), ...cmd], { timeout: 15_000 });

  function state(pairs2: Array<{ ipAddress: string; macAddress?: string }>, p1: Record<string, unknown> = {}): unknown {
    return {
      networks: [{ id: 'net-s', type: 'local' }],
      ports: [
        { id: 'p1', mac: MAC(1), network: 'net-s', fixedIps: [{ ipAddress: IP(1) }], ...p1 },
        { id: 'p2', mac: MAC(2), network: 'net-s', fixedIps: [{ ipAddress: IP(2) }], allowedAddressPairs: pairs2 },
        { id: 'p3', mac: MAC(3), network: 'net-s', fixedIps: [{ ipAddress: IP(3) }], allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] },
      ],
    };
  }

  /** true when vm `to` receives the frame vm `from` sends (`args`: the frame, FRAMES' syntax). */
  async function delivered(from: number, to: number, args: string[]): Promise<boolean> {
    const sniff = execFile('ip', ['netns', 'exec', ns(to), '/usr/bin/python3', '-c', FRAMES, 'sniff', ...args, '2'], { timeout: 10_000 });
    let out = '';
    sniff.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((resolve) => sniff.on('close', (c) => resolve(c)));
    const deadline = Date.now() + 5000;
    while (!out.includes('ready')) {
      if (Date.now() > deadline) throw new Error(`the sniffer in vm${to} did not start`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await inNs(from, '/usr/bin/python3', '-c', FRAMES, 'send', ...args);
    const code = await done;
    if (code !== 0 || !/\b(seen|none)\b/.test(out)) throw new Error(`sniffer in vm${to} failed: exit ${code}: ${out}`);
    return out.includes('seen');
  }

  /** true: answered; false: no answer. Anything else throws. */
  async function pings(from: number, to: string, extra: string[] = []): Promise<boolean> {
    try {
      await inNs(from, 'ping', '-c1', '-W1', ...extra, to);
      return true;
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
      if (e.code === 1 && /1 packets transmitted, 0 received/.test(e.stdout ?? '')) return false;
      throw new Error(`ping from vm${from} to ${to} could not run: exit ${e.code}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
    }
  }

  const flushNeighbours = async (): Promise<void> => {
    for (const n of [1, 2, 3]) await inNs(n, 'ip', 'neigh', 'flush', 'all');
  };

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    h = new AgentHarness(sb, { firewall: () => createFirewall('noop') });
    h.writeState(state([]));
    await h.start();
    for (const n of [1, 2, 3]) {
      const outer = `as${n}b${suffix}`;
      await run('ip', ['netns', 'add', ns(n)]);
      created.push(ns(n));
      await run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', `as${n}v${suffix}`]);
      await run('ip', ['link', 'set', outer, 'netns', sb.netns!]);
      await run('ip', ['link', 'set', `as${n}v${suffix}`, 'netns', ns(n)]);
      await inNs(n, 'ip', 'link', 'set', `as${n}v${suffix}`, 'name', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'address', MAC(n));
      await inNs(n, 'ip', 'addr', 'add', `${IP(n)}/24`, 'dev', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'up');
      await inNs(n, 'ip', 'link', 'set', 'lo', 'up');
      await inNs(n, 'ethtool', '-K', 'eth0', 'tx', 'off');
      await run('ip', ['netns', 'exec', sb.netns!, 'ip', 'link', 'set', outer, 'up']);
      await h.plug(outer, `p${n}`, MAC(n));
    }
    await h.until(() => ['p1', 'p2', 'p3'].every((id) => h!.portState(id) === 'ACTIVE'), 'the three ports ACTIVE');
  });

  after(async () => {
    await h?.stop();
    for (const n of created) await run('ip', ['netns', 'del', n]).catch(() => undefined);
    await sb?.stop();
  });

  it('lets a port\'s own traffic through', async () => {
    await flushNeighbours();
    expect(await pings(1, IP(2))).to.equal(true);
    expect(await pings(3, IP(1))).to.equal(true);
    expect(await delivered(1, 3, ['arp', '2', MAC(1), IP(1), IP(3)]), 'an ARP reply for its own address').to.equal(true);
  });

  it('drops a forged ARP reply claiming a neighbour\'s IP', async () => {
    expect(await delivered(1, 3, ['arp', '2', MAC(1), IP(2), IP(3)])).to.equal(false);
    expect(await delivered(1, 3, ['arp', '1', MAC(1), '10.0.0.9', IP(3)]), 'nor a request from an address not its own').to.equal(false);
  });

  it('drops a neighbour advertisement for a neighbour\'s address and delivers one for its own', async () => {
    const lla = (n: number): string => `fe80::f816:3eff:fe00:5a0${n}`;
    expect(await delivered(1, 3, ['na', MAC(1), lla(1), lla(1)]), 'its own link-local address').to.equal(true);
    expect(await delivered(1, 3, ['na', MAC(1), lla(1), lla(2)]), 'vm2\'s link-local address').to.equal(false);
  });

  it('drops a spoofed source MAC, ARP or IP', async () => {
    expect(await delivered(1, 3, ['arp', '2', MAC(2), IP(1), IP(3)])).to.equal(false);
    expect(await delivered(1, 3, ['ip', MAC(2), IP(1), IP(3)])).to.equal(false);
    await inNs(1, 'ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:de:ad:01');
    try {
      await flushNeighbours();
      expect(await pings(1, IP(2)), 'ping from a MAC not the port\'s').to.equal(false);
    } finally {
      await inNs(1, 'ip', 'link', 'set', 'eth0', 'address', MAC(1));
    }
  });

  it('drops a spoofed source IP where it must be resolved (its ARP); an IP packet from the port\'s own MAC passes, as in Neutron', async () => {
    await inNs(1, 'ip', 'addr', 'add', '10.0.0.77/24', 'dev', 'eth0');
    try {
      await flushNeighbours();
      expect(await pings(1, IP(2), ['-I', '10.0.0.77'])).to.equal(false);
    } finally {
      await inNs(1, 'ip', 'addr', 'del', '10.0.0.77/24', 'dev', 'eth0');
    }
    // Neutron's flows check ARP, ND and the source MAC only (docs/firewall.md, "ARP, ND and MAC anti-spoofing").
    expect(await delivered(1, 3, ['ip', MAC(1), '10.0.0.77', IP(3)])).to.equal(true);
  });

  it('lets an allowed address pair through', async () => {
    expect(await delivered(3, 1, ['arp', '2', MAC(3), '10.0.0.100', IP(1)])).to.equal(true);
    await inNs(3, 'ip', 'addr', 'add', '10.0.0.100/24', 'dev', 'eth0');
    try {
      await flushNeighbours();
      expect(await pings(3, IP(1), ['-I', '10.0.0.100'])).to.equal(true);
    } finally {
      await inNs(3, 'ip', 'addr', 'del', '10.0.0.100/24', 'dev', 'eth0');
    }
  });

  it('follows an allowed address pair added to a port in the next pass', async () => {
    const claim = ['arp', '2', MAC(2), '10.0.0.200', IP(1)];
    expect(await delivered(2, 1, claim), 'before the pair').to.equal(false);
    const before = h!.passes.length;
    h!.writeState(state([{ ipAddress: '10.0.0.200' }]));
    await h!.until(() => h!.passes.slice(before).some((p) => p.ok && p.up.includes('p2')), 'a pass rewiring p2');
    const ofport = await h!.ofport('as2b' + suffix);
    expect(await h!.flowTexts('br-int')).to.include(`table=24, priority=2,arp,in_port=${ofport},arp_spa=10.0.0.200 actions=goto_table:25`);
    expect(await delivered(2, 1, claim), 'after the pair').to.equal(true);
  });

  it('leaves a port unprotected once its port security is off or the network owns it, as Neutron does, and removes the flows with the port', async () => {
    const spoof = ['arp', '2', MAC(1), IP(2), IP(3)];
    const pairs2 = [{ ipAddress: '10.0.0.200' }];
    const ofport1 = await h!.ofport('as1b' + suffix);
    const ofport2 = await h!.ofport('as2b' + suffix);
    const portFlows = async (ofport: number): Promise<string[]> =>
      (await h!.flowTexts('br-int')).filter((f) => /^table=(0|24|25), priority=(2|9|10),/.test(f) && f.includes(`in_port=${ofport}`));
    expect(await portFlows(ofport1)).to.have.length.greaterThan(0);
    for (const p1 of [{ portSecurityEnabled: false }, { deviceOwner: 'network:dhcp' }]) {
      const before = h!.passes.length;
      h!.writeState(state(pairs2, p1));
      await h!.until(() => h!.passes.slice(before).some((p) => p.ok && p.up.includes('p1')), 'a pass rewiring p1');
      expect(await portFlows(ofport1), JSON.stringify(p1)).to.deep.equal([]);
      expect(await delivered(1, 3, spoof), JSON.stringify(p1)).to.equal(true);
    }
    const before = h!.passes.length;
    await h!.unplug('as2b' + suffix);
    await h!.until(() => h!.passes.slice(before).some((p) => p.ok && p.removed.includes('p2')), 'a pass removing p2');
    expect(await portFlows(ofport2)).to.deep.equal([]);
  });
});
