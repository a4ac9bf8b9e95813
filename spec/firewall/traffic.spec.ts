/**
 * Real traffic through the computed firewall: a `netns` sandbox (userspace
 * datapath with real devices, OVS's own conntrack), three "VMs" as network
 * namespaces joined to br-int by veth pairs, ping and TCP between them.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall, type FirewallPort } from '../../lib/firewall/index.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { vmPort, flushOf, initOf } from './helpers.js';
import { applyChanges } from './trace-helpers.js';
import { openTcpSession } from './tcp-session.js';

const run = promisify(execFile);
const BR = 'br-int';
const AGENT_PIPELINE = 'add table=0,priority=0 actions=resubmit(,60)\nadd table=60,priority=3 actions=NORMAL\n';
const rule = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });

const SSH = rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8022, portRangeMax: 8022 });
const WEB_RULES = [
  rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }),
  SSH,
  rule('web', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' }),
  rule('web', { direction: 'egress', ethertype: 'IPv4' }),
];
const OTHER_RULES = [rule('other', { direction: 'egress', ethertype: 'IPv4' })];

const vms = [vmPort(1, { securityGroups: ['web'] }), vmPort(2, { securityGroups: ['web'] }), vmPort(3, { securityGroups: ['other'] })];

function sgInfo(webRules: SecurityGroupRule[], webMembers: FirewallPort[]): SecurityGroupInfo {
  return {
    rules: { web: webRules, other: OTHER_RULES },
    stateful: { web: true, other: true },
    members: { web: { IPv4: webMembers.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), IPv6: [] } },
  };
}

describe('firewall with real traffic between network namespaces @integration', function () {
  let sb: OvsSandbox | undefined;
  let fw: OvsFirewall;
  const suffix = Math.random().toString(36).slice(2, 7);
  const ns = (n: number): string => `fwvm${n}-${suffix}`;
  const created: string[] = [];
  const servers: ChildProcess[] = [];

  const inNs = (n: number, ...cmd: string[]): Promise<{ stdout: string }> => run('ip', ['netns', 'exec', ns(n), ...cmd], { timeout: 10_000 });

  /**
   * true: answered; false: the packet got no answer (dropped). Anything else
   * (a namespace gone, a bad address, ping itself failing) throws, so a
   * broken setup cannot pass for a firewall that drops.
   */
  async function pings(from: number, to: string, extra: string[] = []): Promise<boolean> {
    try {
      await inNs(from, 'ping', '-c1', '-W1', ...extra, to);
      return true;
    } catch (err) {
      const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
      // ping exits 1, having printed its statistics, when no reply came; 2 (or ip's 255) when it could not send.
      if (e.code === 1 && /1 packets transmitted, 0 received/.test(e.stdout ?? '') && !(e.stderr ?? '').trim()) return false;
      throw new Error(`ping from vm${from} to ${to} could not run: exit ${e.code}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
    }
  }

  /**
   * A fresh TCP connection that carries one line and gets it echoed back.
   * true: echoed; false: no answer (the connection attempt timed out, or it
   * connected and the echo never came). A refused connection, a missing
   * namespace or any other error throws: that is a broken setup, not a drop.
   */
  async function tcpEcho(from: number, to: number, port: number): Promise<boolean> {
    const child = execFile('ip', ['netns', 'exec', ns(from), 'socat', '-T2', '-', `TCP:10.0.0.${to}:${port},connect-timeout=2`], { timeout: 8000 });
    child.stdin!.end('hello\n');
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    if (code === 0 && out.trim() === 'hello') return true;
    if (code === 0 && out === '') return false; // connected, no echo within socat's -T2
    if (code === 1 && /Connection timed out|Operation timed out/.test(err)) return false;
    throw new Error(`TCP from vm${from} to 10.0.0.${to}:${port} could not run: exit ${code}: ${err.trim() || out.trim()}`);
  }

  function echoServer(n: number, port: number): void {
    const p = spawn('ip', ['netns', 'exec', ns(n), 'socat', '-T10', `TCP-LISTEN:${port},reuseaddr,fork`, 'EXEC:cat'], { stdio: 'ignore', detached: true });
    servers.push(p);
  }

  async function apply(): Promise<void> {
    await applyChanges(sb!, BR, flushOf(fw));
  }

  before(async () => {
    sb = await OvsSandbox.start({ devices: 'netns' });
    await sb.vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14');
    for (const vm of vms) {
      const n = vm.ofport;
      const br = `fw${n}b${suffix}`;
      await run('ip', ['netns', 'add', ns(n)]);
      created.push(ns(n));
      await run('ip', ['link', 'add', br, 'type', 'veth', 'peer', 'name', `fw${n}v${suffix}`]);
      await run('ip', ['link', 'set', br, 'netns', sb.netns!]);
      await run('ip', ['link', 'set', `fw${n}v${suffix}`, 'netns', ns(n)]);
      await inNs(n, 'ip', 'link', 'set', `fw${n}v${suffix}`, 'name', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'address', vm.macAddress);
      await inNs(n, 'ip', 'addr', 'add', `${vm.fixedIps[0]}/24`, 'dev', 'eth0');
      await inNs(n, 'ip', 'link', 'set', 'eth0', 'up');
      await inNs(n, 'ip', 'link', 'set', 'lo', 'up');
      // The userspace datapath does not fill in checksums the kernel left to the NIC.
      await inNs(n, 'ethtool', '-K', 'eth0', 'tx', 'off');
      await run('ip', ['netns', 'exec', sb.netns!, 'ip', 'link', 'set', br, 'up']);
      await sb.vsctl('add-port', BR, br, 'tag=3', '--', 'set', 'interface', br, `ofport_request=${n}`);
    }
    fw = new OvsFirewall();
    const init = initOf(fw);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vms[0], vms[1]]));
    fw.setupPortFilters(vms);
    await applyChanges(sb, BR, [...init, ...flushOf(fw)], AGENT_PIPELINE);
    echoServer(1, 8022);
    echoServer(1, 8080);
    await new Promise((r) => setTimeout(r, 300));
  });

  after(async () => {
    for (const p of servers) {
      if (p.pid !== undefined) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const n of created) await run('ip', ['netns', 'del', n]).catch(() => undefined);
    await sb?.stop();
    sb = undefined;
  });

  it('allows ping by rule one way and drops it the other way', async () => {
    expect(await pings(3, '10.0.0.1'), 'vm3 → vm1 (icmp allowed into web)').to.equal(true);
    expect(await pings(1, '10.0.0.3'), 'vm1 → vm3 (nothing allowed into other)').to.equal(false);
  });

  it('carries a TCP connection a rule allows, replies included, and drops one no rule allows', async () => {
    // vm3 accepts nothing, so the SYN-ACK and the echo reach it only as established traffic.
    expect(await tcpEcho(3, 1, 8022)).to.equal(true);
    expect(await tcpEcho(3, 1, 8080)).to.equal(false);
    expect(await tcpEcho(2, 1, 8080), 'vm2 is in the remote group').to.equal(true);
  });

  it('drops a spoofed source IP and a spoofed source MAC', async () => {
    await inNs(3, 'ip', 'addr', 'add', '10.0.0.77/24', 'dev', 'eth0');
    expect(await pings(3, '10.0.0.1', ['-I', '10.0.0.77'])).to.equal(false);
    await inNs(3, 'ip', 'addr', 'del', '10.0.0.77/24', 'dev', 'eth0');
    await inNs(3, 'ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:de:ad:03');
    expect(await pings(3, '10.0.0.1')).to.equal(false);
    await inNs(3, 'ip', 'link', 'set', 'eth0', 'address', vms[2].macAddress);
    await inNs(3, 'ip', 'neigh', 'flush', 'all');
    await inNs(1, 'ip', 'neigh', 'flush', 'all');
    expect(await pings(3, '10.0.0.1')).to.equal(true);
  });

  it('follows remote-group membership changes', async () => {
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, vms));
    await apply();
    expect(await tcpEcho(3, 1, 8080)).to.equal(true);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vms[0], vms[1]]));
    await apply();
    expect(await tcpEcho(3, 1, 8080)).to.equal(false);
  });

  it('keeps an established connection across an unrelated rule change and cuts it when its own rule goes', async () => {
    const { say, close } = openTcpSession(ns(3), '10.0.0.1', 8022);
    try {
      expect(await say('one')).to.equal('one');
      fw.updateSecurityGroupInfo(sgInfo([...WEB_RULES, rule('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53 })], [vms[0], vms[1]]));
      await apply();
      expect(await say('two'), 'unrelated rule added').to.equal('two');
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES.filter((r) => r !== SSH), [vms[0], vms[1]]));
      await apply();
      expect(await say('three'), 'its rule removed').to.match(/^FAILED/);
    } finally {
      close();
    }
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [vms[0], vms[1]]));
    await apply();
    expect(await tcpEcho(3, 1, 8022), 'a new connection once the rule is back').to.equal(true);
  });
});
