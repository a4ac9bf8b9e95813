/**
 * The iptables_hybrid driver with real frames: three "VMs" plugged as
 * os-vif plugs them with hybrid plug (tap → qbr Linux bridge → qvb/qvo veth
 * → br-int, testing/hybrid-plug.ts) in an OvsSandbox's network namespace,
 * the driver's rules applied there by iptables-restore, ipset and conntrack.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import type { FirewallPort } from '../../lib/firewall/index.js';
import { commandRunner, HybridIptablesFirewall, type ApplyResult } from '../../lib/firewall/iptables/index.js';
import { inNs, plugHybrid, unplugHybrid, type HybridVm } from '../../testing/hybrid-plug.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { openTcpSession } from './tcp-session.js';

const run = promisify(execFile);
const BR = 'br-int';
const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });

const SSH = rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8022, portRangeMax: 8022 });
const WEB_RULES = [
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
const VMS = [vm(1), vm(2), vm(3)];

function fwPort(v: HybridVm, n: number, over: Partial<FirewallPort> = {}): FirewallPort {
  return {
    portId: v.portId, ofport: n, lvid: 1, macAddress: v.mac, fixedIps: [`10.0.0.${n}`, `2001:db8::${n}`],
    allowedAddressPairs: [], portSecurityEnabled: true, securityGroups: [n === 3 ? 'other' : 'web'], deviceOwner: 'compute:nova', ...over,
  };
}
// vm3 may also send from 10.0.0.99 (an allowed address pair).
const PORTS = [fwPort(VMS[0], 1), fwPort(VMS[1], 2), fwPort(VMS[2], 3, { allowedAddressPairs: [{ macAddress: VMS[2].mac, ipAddress: '10.0.0.99' }] })];

function sgInfo(webRules: SecurityGroupRule[], webMembers: number[]): SecurityGroupInfo {
  return {
    rules: { web: webRules, other: OTHER_RULES },
    stateful: { web: true, other: true },
    members: { web: { IPv4: webMembers.map((n) => [`10.0.0.${n}`, VMS[n - 1].mac] as [string, string]), IPv6: [] } },
  };
}

describe('iptables_hybrid with real frames through qbr bridges @integration', function () {
  this.timeout(120_000);
  let sb: OvsSandbox | undefined;
  let fw: HybridIptablesFirewall;
  const servers: ChildProcess[] = [];

  const nsOf = (n: number): string => VMS[n - 1].ns;

  /** true: answered; false: no answer. Anything else throws (a broken setup is not a drop). */
  async function pings(from: number, to: string, extra: string[] = []): Promise<boolean> {
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
  async function echo(from: number, to: string, port: number, proto: 'TCP' | 'UDP' = 'TCP', source?: string): Promise<boolean> {
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

  function server(n: number, spec: string): void {
    servers.push(spawn('ip', ['netns', 'exec', nsOf(n), 'socat', '-T10', spec, 'EXEC:cat'], { stdio: 'ignore', detached: true }));
  }

  const apply = async (): Promise<ApplyResult | undefined> => fw.apply();

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    await sb.vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'fail_mode=secure');
    await sb.ofctl('add-flow', BR, 'actions=NORMAL');
    for (const [i, v] of VMS.entries()) await plugHybrid(sb, BR, v, { ofport: i + 1 });
    fw = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', sb.netns!]) });
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    fw.setupPortFilters(PORTS);
    await apply();
    for (const port of [8022, 8080, 9090]) server(1, `TCP-LISTEN:${port},reuseaddr,fork`);
    server(1, 'TCP6-LISTEN:8022,reuseaddr,fork,ipv6only=1');
    server(1, 'TCP6-LISTEN:8080,reuseaddr,fork,ipv6only=1');
    for (const port of [5353, 5354]) server(1, `UDP-LISTEN:${port},reuseaddr,fork`);
    await new Promise((r) => setTimeout(r, 300));
  });

  after(async () => {
    for (const p of servers) {
      try {
        if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (sb) for (const v of VMS) await unplugHybrid(sb, BR, v);
    await sb?.stop();
    sb = undefined;
  });

  it('wrote the chains in the switch\'s namespace in one restore per family', async () => {
    const save = (await inNs(sb!.netns!, 'iptables-save', '-t', 'filter')).stdout;
    expect(save).to.include(`--physdev-out tap${VMS[0].portId.slice(0, 11)} --physdev-is-bridged`);
    expect((await inNs(sb!.netns!, 'ipset', 'list', '-n')).stdout.split('\n')).to.include('NIPv4web');
  });

  it('ICMP: allowed by rule one way, dropped the other way, IPv4 and IPv6', async () => {
    expect(await pings(3, '10.0.0.1'), 'vm3 → vm1 (icmp allowed into web)').to.equal(true);
    expect(await pings(1, '10.0.0.3'), 'vm1 → vm3 (nothing allowed into other)').to.equal(false);
    expect(await pings(3, '2001:db8::1'), 'vm3 → vm1 over IPv6').to.equal(true);
    expect(await pings(1, '2001:db8::3'), 'vm1 → vm3 over IPv6').to.equal(false);
  });

  it('TCP and UDP: the rule\'s port allowed, another dropped, IPv4 and IPv6', async () => {
    expect(await echo(3, '10.0.0.1', 8022)).to.equal(true);
    expect(await echo(3, '10.0.0.1', 8080)).to.equal(false);
    expect(await echo(3, '10.0.0.1', 5353, 'UDP')).to.equal(true);
    expect(await echo(3, '10.0.0.1', 5354, 'UDP')).to.equal(false);
    expect(await echo(3, '2001:db8::1', 8022)).to.equal(true);
    expect(await echo(3, '2001:db8::1', 8080)).to.equal(false);
  });

  it('remote group: a member gets in on any port, a non-member does not', async () => {
    expect(await echo(2, '10.0.0.1', 8080), 'vm2 is in web').to.equal(true);
    expect(await echo(3, '10.0.0.1', 8080), 'vm3 is not').to.equal(false);
  });

  it('remote prefix and allowed address pairs: 10.0.0.3/32 gets in, vm3\'s pair address 10.0.0.99 only where no prefix is asked', async () => {
    await inNs(nsOf(3), 'ip', 'addr', 'add', '10.0.0.99/24', 'dev', 'eth0');
    try {
      expect(await echo(3, '10.0.0.1', 9090), 'from 10.0.0.3').to.equal(true);
      expect(await echo(3, '10.0.0.1', 9090, 'TCP', '10.0.0.99'), 'from the pair address, outside the prefix').to.equal(false);
      expect(await pings(3, '10.0.0.1', ['-I', '10.0.0.99']), 'the pair address may send').to.equal(true);
    } finally {
      await inNs(nsOf(3), 'ip', 'addr', 'del', '10.0.0.99/24', 'dev', 'eth0');
    }
  });

  it('drops a spoofed source IP and a spoofed source MAC', async () => {
    await inNs(nsOf(3), 'ip', 'addr', 'add', '10.0.0.77/24', 'dev', 'eth0');
    try {
      expect(await pings(3, '10.0.0.1', ['-I', '10.0.0.77'])).to.equal(false);
    } finally {
      await inNs(nsOf(3), 'ip', 'addr', 'del', '10.0.0.77/24', 'dev', 'eth0');
    }
    await inNs(nsOf(3), 'ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:de:ad:03');
    try {
      expect(await pings(3, '10.0.0.1')).to.equal(false);
    } finally {
      await inNs(nsOf(3), 'ip', 'link', 'set', 'eth0', 'address', VMS[2].mac);
      await inNs(nsOf(3), 'ip', 'neigh', 'flush', 'all');
      await inNs(nsOf(1), 'ip', 'neigh', 'flush', 'all');
    }
    expect(await pings(3, '10.0.0.1')).to.equal(true);
  });

  it('a membership change goes to the ipset alone, in place', async () => {
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2, 3]));
    const r = await apply();
    expect(r?.restore, 'no iptables-restore').to.deep.equal({ 4: '', 6: '' });
    expect(r?.ipsets).to.equal('add NIPv4web 10.0.0.3/32 -exist\n');
    expect(await echo(3, '10.0.0.1', 8080)).to.equal(true);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    expect((await apply())?.ipsets).to.equal('del NIPv4web 10.0.0.3/32 -exist\n');
    expect(await echo(3, '10.0.0.1', 8080)).to.equal(false);
  });

  it('keeps an established connection across a rule change that still allows it, and cuts it (conntrack -D) when none does', async () => {
    const { say, close } = openTcpSession(nsOf(3), '10.0.0.1', 8022);
    try {
      expect(await say('one')).to.equal('one');
      // The UDP rule goes: conntrack -D of udp only; the TCP connection is untouched.
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES.filter((r) => r.protocol !== 'udp'), [1, 2]));
      const changed = await apply();
      await changed?.conntrackDone;
      expect(changed?.conntrack.map((c) => c.join(' '))).to.deep.equal([`conntrack -D -p udp -f ipv4 -d 10.0.0.1 -w 4097`, `conntrack -D -p udp -f ipv4 -d 10.0.0.2 -w 4098`]);
      expect(await say('two'), 'another rule removed').to.equal('two');
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES.filter((r) => r !== SSH && r.protocol !== 'udp'), [1, 2]));
      await (await apply())?.conntrackDone;
      expect(await say('three'), 'its rule removed').to.match(/^FAILED/);
    } finally {
      close();
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
      await apply();
    }
  });

  it('a restarted driver adopts the rules (nothing rewritten) while traffic flows without a loss', async () => {
    const ping = run('ip', ['netns', 'exec', nsOf(3), 'ping', '-c', '40', '-i', '0.05', '-W', '1', '10.0.0.1'], { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    const again = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', sb!.netns!]) });
    again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    again.setupPortFilters(PORTS);
    const r = await again.apply();
    expect(r?.restore, 'every chain already right').to.deep.equal({ 4: '', 6: '' });
    expect(r?.ipsets).to.equal('');
    const { stdout } = await ping;
    expect(stdout).to.match(/40 packets transmitted, 40 received/);
    fw = again;
  });

  it('after a restart, keeps filtering a port no pass has named yet until the first full sync ends', async () => {
    const again = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', sb!.netns!]) });
    again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    again.setupPortFilters(PORTS.slice(0, 2));
    const first = await again.apply();
    expect(first?.restore, 'vm3\'s rules carried as they were').to.deep.equal({ 4: '', 6: '' });
    expect(await pings(1, '10.0.0.3'), 'vm3 still accepts nothing').to.equal(false);
    again.firstSyncDone();
    await again.apply();
    expect((await inNs(sb!.netns!, 'iptables-save', '-t', 'filter')).stdout).to.not.include(`neutron-openvswi-i${PORTS[2].portId.slice(0, 10)}`);
    again.setupPortFilters([PORTS[2]]);
    await again.apply();
    expect(await pings(1, '10.0.0.3'), 'its rules back').to.equal(false);
    fw = again;
  });

  it('removes a port\'s chains and zone rules, and the ipsets no rule uses', async () => {
    fw.removePortFilters([PORTS[0].portId, PORTS[1].portId]);
    const r = await apply();
    expect(r?.restore[4]).to.include(`-X neutron-openvswi-i${PORTS[0].portId.slice(0, 10)}`);
    const save = (await inNs(sb!.netns!, 'iptables-save')).stdout;
    expect(save).to.not.include(PORTS[0].portId.slice(0, 10));
    expect(save).to.include(PORTS[2].portId.slice(0, 10));
    expect((await inNs(sb!.netns!, 'ipset', 'list', '-n')).stdout).to.not.include('NIPv4web');
  });
});
