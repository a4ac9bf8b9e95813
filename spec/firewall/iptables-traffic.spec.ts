/**
 * The iptables_hybrid driver with real frames, in the scene of
 * hybrid-frames.ts: three "VMs" plugged as
 * os-vif plugs them with hybrid plug (tap → qbr Linux bridge → qvb/qvo veth
 * → br-int, testing/hybrid-plug.ts) in an OvsSandbox's network namespace,
 * the driver's rules applied there by iptables-restore, ipset and conntrack.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { commandRunner, HybridIptablesFirewall, type ApplyResult } from '../../lib/firewall/iptables/index.js';
import { inNs } from '../../testing/hybrid-plug.js';
import { echo, expectIcmpByRule, expectPortsByRule, HybridScene, pings, PORTS, sgInfo, SSH, VMS, WEB_RULES } from './hybrid-frames.js';
import { openTcpSession } from './tcp-session.js';

const run = promisify(execFile);

describe('iptables_hybrid with real frames through qbr bridges @integration', function () {
  this.timeout(120_000);
  let scene: HybridScene | undefined;
  let sb: HybridScene['sb'] | undefined;
  let fw: HybridIptablesFirewall;

  const nsOf = (n: number): string => scene!.nsOf(n);
  const apply = async (): Promise<ApplyResult | undefined> => fw.apply();

  before(async () => {
    scene = await HybridScene.start();
    sb = scene.sb;
    fw = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', sb.netns!]) });
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    fw.setupPortFilters(PORTS);
    await apply();
    await scene.startServers();
  });

  after(async () => {
    await scene?.stop();
    scene = undefined;
    sb = undefined;
  });

  it('wrote the chains in the switch\'s namespace in one restore per family', async () => {
    const save = (await inNs(sb!.netns!, 'iptables-save', '-t', 'filter')).stdout;
    expect(save).to.include(`--physdev-out tap${VMS[0].portId.slice(0, 11)} --physdev-is-bridged`);
    expect((await inNs(sb!.netns!, 'ipset', 'list', '-n')).stdout.split('\n')).to.include('NIPv4web');
  });

  it('ICMP: allowed by rule one way, dropped the other way, IPv4 and IPv6', async () => {
    await expectIcmpByRule();
  });

  it('TCP and UDP: the rule\'s port allowed, another dropped, IPv4 and IPv6', async () => {
    await expectPortsByRule();
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
