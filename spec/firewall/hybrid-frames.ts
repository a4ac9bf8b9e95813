/**
 * The scene of the hybrid driver's traffic specs (both backends): three
 * "VMs" plugged as os-vif plugs them with hybrid plug (tap → qbr Linux
 * bridge → qvb/qvo veth → br-int, testing/hybrid-plug.ts) in an
 * OvsSandbox's network namespace, their ports and groups, and the probes
 * (ping, one line over TCP/UDP) that say whether a frame got through.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import type { FirewallPort } from '../../lib/firewall/index.js';
import { inNs, plugHybrid, unplugHybrid, type HybridVm } from '../../testing/hybrid-plug.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const BR = 'br-int';
const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });

export const SSH = rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8022, portRangeMax: 8022 });
export const WEB_RULES = [
  rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }),
  SSH,
  rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 5353, portRangeMax: 5353 }),
  rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 9090, portRangeMax: 9090, remoteIpPrefix: '10.0.0.3/32' }),
  rule('web', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' }),
  rule('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp' }),
  rule('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', portRangeMin: 8022, portRangeMax: 8022 }),
  rule('web', { direction: 'egress', ethertype: 'IPv4' }),
  rule('web', { direction: 'egress', ethertype: 'IPv6' }),
];
const OTHER_RULES = [rule('other', { direction: 'egress', ethertype: 'IPv4' }), rule('other', { direction: 'egress', ethertype: 'IPv6' })];

const suffix = Math.random().toString(36).slice(2, 7);
const hex = (n: number): string => n.toString(16).padStart(2, '0');
const vm = (n: number): HybridVm => ({
  portId: `${hex(n)}${suffix}-aaaa-4bbb-8ccc-0000000000${hex(n)}`,
  mac: `fa:16:3e:00:00:${hex(n)}`,
  addresses: [`10.0.0.${n}/24`, `2001:db8::${n}/64`],
  ns: `hyvm${n}-${suffix}`,
});
export const VMS = [vm(1), vm(2), vm(3)];

function fwPort(v: HybridVm, n: number, over: Partial<FirewallPort> = {}): FirewallPort {
  return {
    portId: v.portId, ofport: n, lvid: 1, macAddress: v.mac, fixedIps: [`10.0.0.${n}`, `2001:db8::${n}`],
    allowedAddressPairs: [], portSecurityEnabled: true, securityGroups: [n === 3 ? 'other' : 'web'], deviceOwner: 'compute:nova', ...over,
  };
}
// vm3 may also send from 10.0.0.99 (an allowed address pair).
export const PORTS = [fwPort(VMS[0], 1), fwPort(VMS[1], 2), fwPort(VMS[2], 3, { allowedAddressPairs: [{ macAddress: VMS[2].mac, ipAddress: '10.0.0.99' }] })];

export function sgInfo(webRules: SecurityGroupRule[], webMembers: number[]): SecurityGroupInfo {
  return {
    rules: { web: webRules, other: OTHER_RULES },
    stateful: { web: true, other: true },
    members: { web: { IPv4: webMembers.map((n) => [`10.0.0.${n}`, VMS[n - 1].mac] as [string, string]), IPv6: [] } },
  };
}

const nsOf = (n: number): string => VMS[n - 1].ns;

/** true: answered; false: no answer. Anything else throws (a broken setup is not a drop). */
export async function pings(from: number, to: string, extra: string[] = []): Promise<boolean> {
  try {
    await inNs(nsOf(from), 'ping', '-c1', '-W1', ...extra, to);
    return true;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    if (e.code === 1 && /1 packets transmitted, 0 received/.test(e.stdout ?? '') && !(e.stderr ?? '').trim()) return false;
    throw new Error(`ping from vm${from} to ${to} could not run: exit ${e.code}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

/** One line over a fresh connection (tcp or udp), echoed back: true; no answer: false; anything else throws. */
export async function echo(from: number, to: string, port: number, proto: 'TCP' | 'UDP' = 'TCP', source?: string): Promise<boolean> {
  const target = to.includes(':') ? `${proto}6:[${to}]:${port}` : `${proto}:${to}:${port}`;
  const opts = proto === 'TCP' ? `,connect-timeout=2${source ? `,bind=${source}` : ''}` : source ? `,bind=${source}` : '';
  const child = execFile('ip', ['netns', 'exec', nsOf(from), 'socat', '-T2', '-', target + opts], { timeout: 8000 });
  child.stdin!.end('hello\n');
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  if (code === 0 && out.trim() === 'hello') return true;
  if (code === 0 && out === '') return false;
  if (code === 1 && /Connection timed out|Operation timed out/.test(err)) return false;
  throw new Error(`${proto} from vm${from} to ${to}:${port} could not run: exit ${code}: ${err.trim() || out.trim()}`);
}

/** The sandbox with br-int, the three VMs plugged and vm1's servers; stop() undoes it all (by pid). */
/** The scene's ICMP rule, both ways and both families: allowed into web (vm1), nothing allowed into other (vm3). */
export async function expectIcmpByRule(): Promise<void> {
  expect(await pings(3, '10.0.0.1'), 'vm3 → vm1 (icmp allowed into web)').to.equal(true);
  expect(await pings(1, '10.0.0.3'), 'vm1 → vm3 (nothing allowed into other)').to.equal(false);
  expect(await pings(3, '2001:db8::1'), 'vm3 → vm1 over IPv6').to.equal(true);
  expect(await pings(1, '2001:db8::3'), 'vm1 → vm3 over IPv6').to.equal(false);
}

/** The scene's TCP and UDP port rules: the rule's port allowed, another dropped, IPv4 and IPv6. */
export async function expectPortsByRule(): Promise<void> {
  expect(await echo(3, '10.0.0.1', 8022)).to.equal(true);
  expect(await echo(3, '10.0.0.1', 8080)).to.equal(false);
  expect(await echo(3, '10.0.0.1', 5353, 'UDP')).to.equal(true);
  expect(await echo(3, '10.0.0.1', 5354, 'UDP')).to.equal(false);
  expect(await echo(3, '2001:db8::1', 8022)).to.equal(true);
  expect(await echo(3, '2001:db8::1', 8080)).to.equal(false);
}

export class HybridScene {
  private readonly servers: ChildProcess[] = [];
  private constructor(readonly sb: OvsSandbox) {}

  static async start(): Promise<HybridScene> {
    const sb = await OvsSandbox.start({ devices: 'netns' });
    const scene = new HybridScene(sb);
    try {
      await sb.vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'fail_mode=secure');
      await sb.ofctl('add-flow', BR, 'actions=NORMAL');
      for (const [i, v] of VMS.entries()) await plugHybrid(sb, BR, v, { ofport: i + 1 });
    } catch (err) {
      await scene.stop();
      throw err;
    }
    return scene;
  }

  get netns(): string {
    return this.sb.netns!;
  }

  nsOf(n: number): string {
    return nsOf(n);
  }

  /** vm1's servers: TCP 8022/8080/9090, TCP6 8022/8080, UDP 5353/5354. */
  async startServers(): Promise<void> {
    for (const port of [8022, 8080, 9090]) this.server(1, `TCP-LISTEN:${port},reuseaddr,fork`);
    this.server(1, 'TCP6-LISTEN:8022,reuseaddr,fork,ipv6only=1');
    this.server(1, 'TCP6-LISTEN:8080,reuseaddr,fork,ipv6only=1');
    for (const port of [5353, 5354]) this.server(1, `UDP-LISTEN:${port},reuseaddr,fork`);
    await new Promise((r) => setTimeout(r, 300));
  }

  private server(n: number, spec: string): void {
    this.servers.push(spawn('ip', ['netns', 'exec', nsOf(n), 'socat', '-T10', spec, 'EXEC:cat'], { stdio: 'ignore', detached: true }));
  }

  async stop(): Promise<void> {
    for (const p of this.servers) {
      try {
        if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const v of VMS) await unplugHybrid(this.sb, BR, v);
    await this.sb.stop();
  }
}
