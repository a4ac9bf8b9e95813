/**
 * The iptables_hybrid driver's nftables backend with real frames, in the
 * same scene as the iptables backend's spec (hybrid-frames.ts): its rules
 * applied by `nft -f` in the switch's namespace, conntrack clean-up by
 * `conntrack -R`, and the switch from the iptables backend.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { commandRunner, HybridIptablesFirewall } from '../../lib/firewall/iptables/index.js';
import { NftHybridFirewall } from '../../lib/firewall/nftables/index.js';
import { inNs } from '../../testing/hybrid-plug.js';
import { echo, expectIcmpByRule, expectPortsByRule, HybridScene, pings, PORTS, sgInfo, SSH, WEB_RULES } from './hybrid-frames.js';
import { openTcpSession } from './tcp-session.js';

const run = promisify(execFile);

describe('iptables_hybrid, nftables backend, with real frames through qbr bridges @integration', function () {
  this.timeout(120_000);
  let scene: HybridScene | undefined;
  let fw: NftHybridFirewall;

  const nft = (): NftHybridFirewall => new NftHybridFirewall({ run: commandRunner(['ip', 'netns', 'exec', scene!.netns]) });
  const table = async (): Promise<string> => (await inNs(scene!.netns, 'nft', 'list', 'table', 'inet', 'ovs_agent_hybrid')).stdout;
  /** `count` pings from vm3 to vm1 every 50 ms, started now; resolves ping's summary line. */
  const pingFlow = (count: number): Promise<string> => run('ip', ['netns', 'exec', scene!.nsOf(3), 'ping', '-c', String(count), '-i', '0.05', '-W', '1', '10.0.0.1'], { timeout: 30_000 })
    .then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '');

  before(async () => {
    scene = await HybridScene.start();
    fw = nft();
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    fw.setupPortFilters(PORTS);
    await fw.apply();
    await scene.startServers();
  });

  after(async () => {
    await scene?.stop();
    scene = undefined;
  });

  it('wrote both tables in the switch\'s namespace in one nft transaction, and no iptables chain', async () => {
    const t = await table();
    expect(t).to.include(`"qbr${PORTS[0].portId.slice(0, 11)}" : goto eg-web`);
    expect((await inNs(scene!.netns, 'nft', 'list', 'table', 'bridge', 'ovs_agent_hybrid')).stdout).to.include(`"tap${PORTS[0].portId.slice(0, 11)}"`);
    expect((await inNs(scene!.netns, 'iptables-save')).stdout).to.not.include('neutron-openvswi');
  });

  it('ICMP: allowed by rule one way, dropped the other way, IPv4 and IPv6', async () => {
    await expectIcmpByRule();
  });

  it('TCP and UDP: the rule\'s port allowed, another dropped, IPv4 and IPv6', async () => {
    await expectPortsByRule();
  });

  it('egress: a group without egress rules sends nothing new', async () => {
    fw.updateSecurityGroupInfo({ ...sgInfo(WEB_RULES, [1, 2]), rules: { web: WEB_RULES, other: [] } });
    await fw.apply();
    try {
      expect(await echo(3, '10.0.0.1', 8022), 'vm3 may not send').to.equal(false);
    } finally {
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
      await fw.apply();
    }
    expect(await echo(3, '10.0.0.1', 8022), 'vm3 may send again').to.equal(true);
  });

  it('remote group: a member gets in on any port, a non-member does not', async () => {
    expect(await echo(2, '10.0.0.1', 8080), 'vm2 is in web').to.equal(true);
    expect(await echo(3, '10.0.0.1', 8080), 'vm3 is not').to.equal(false);
  });

  it('remote prefix and allowed address pairs: 10.0.0.3/32 gets in, vm3\'s pair address 10.0.0.99 only where no prefix is asked', async () => {
    await inNs(scene!.nsOf(3), 'ip', 'addr', 'add', '10.0.0.99/24', 'dev', 'eth0');
    try {
      expect(await echo(3, '10.0.0.1', 9090), 'from 10.0.0.3').to.equal(true);
      expect(await echo(3, '10.0.0.1', 9090, 'TCP', '10.0.0.99'), 'from the pair address, outside the prefix').to.equal(false);
      expect(await pings(3, '10.0.0.1', ['-I', '10.0.0.99']), 'the pair address may send').to.equal(true);
    } finally {
      await inNs(scene!.nsOf(3), 'ip', 'addr', 'del', '10.0.0.99/24', 'dev', 'eth0');
    }
  });

  it('drops a spoofed source IP and a spoofed source MAC', async () => {
    await inNs(scene!.nsOf(3), 'ip', 'addr', 'add', '10.0.0.77/24', 'dev', 'eth0');
    try {
      expect(await pings(3, '10.0.0.1', ['-I', '10.0.0.77'])).to.equal(false);
    } finally {
      await inNs(scene!.nsOf(3), 'ip', 'addr', 'del', '10.0.0.77/24', 'dev', 'eth0');
    }
    await inNs(scene!.nsOf(3), 'ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:de:ad:03');
    try {
      expect(await pings(3, '10.0.0.1')).to.equal(false);
    } finally {
      await inNs(scene!.nsOf(3), 'ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:00:00:03');
      await inNs(scene!.nsOf(3), 'ip', 'neigh', 'flush', 'all');
      await inNs(scene!.nsOf(1), 'ip', 'neigh', 'flush', 'all');
    }
    expect(await pings(3, '10.0.0.1')).to.equal(true);
  });

  it('a membership change goes to the set alone, in place', async () => {
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2, 3]));
    const r = await fw.apply();
    expect(r?.nft).to.equal('add element inet ovs_agent_hybrid rg4-web { 10.0.0.3 }\n');
    expect(await echo(3, '10.0.0.1', 8080)).to.equal(true);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    expect((await fw.apply())?.nft).to.equal('delete element inet ovs_agent_hybrid rg4-web { 10.0.0.3 }\n');
    expect(await echo(3, '10.0.0.1', 8080)).to.equal(false);
  });

  it('every protocol the Neutron API takes, by name or number, goes into the kernel, whatever the host\'s /etc/protocols names', async () => {
    // ip netns exec bind-mounts /etc/netns/NAME/protocols over /etc/protocols: nft in the namespace sees a host without netbase's names.
    const etc = `/etc/netns/${scene!.netns}`;
    mkdirSync(etc, { recursive: true });
    writeFileSync(`${etc}/protocols`, '# a host without /etc/protocols names\n');
    try {
      await protocolsRoundTrip();
    } finally {
      rmSync(etc, { recursive: true, force: true });
    }
  });

  async function protocolsRoundTrip(): Promise<void> {
    // Not hopopt, ip or 0 (any protocol) nor tcp: such a rule would let the TCP probe below in.
    const names = ['ah', 'dccp', 'egp', 'esp', 'gre', 'icmp', 'igmp', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6',
      'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'udp', 'udplite', 'vrrp', '5', '93', '132'];
    const extra = names.flatMap((protocol) => (['IPv4', 'IPv6'] as const).map((ethertype) => ({ ...SSH, ethertype, protocol, portRangeMin: undefined, portRangeMax: undefined })));
    fw.updateSecurityGroupInfo(sgInfo([...WEB_RULES, ...extra], [1, 2]));
    await fw.apply();
    expect(await table()).to.match(/meta l4proto (vrrp|112) accept/);
    expect(await echo(3, '10.0.0.1', 8080), 'the other rules still filter').to.equal(false);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    await fw.apply();
    expect(await table()).to.not.match(/vrrp|l4proto 112/);
  }

  it('a network among a group\'s members (an address pair\'s CIDR) goes to the group\'s interval set and lets its hosts in', async () => {
    const withNet = sgInfo(WEB_RULES, [1, 2]);
    withNet.members.web.IPv4.push(['10.0.0.0/30', 'fa:16:3e:00:00:02']);
    fw.updateSecurityGroupInfo(withNet);
    expect((await fw.apply())?.nft).to.equal('delete element inet ovs_agent_hybrid rg4-web { 10.0.0.1, 10.0.0.2 }\nadd element inet ovs_agent_hybrid rg4n-web { 10.0.0.0/30 }\n');
    expect(await echo(3, '10.0.0.1', 8080), 'vm3, 10.0.0.3, inside 10.0.0.0/30').to.equal(true);
    fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    await fw.apply();
    expect(await echo(3, '10.0.0.1', 8080)).to.equal(false);
    expect(await echo(2, '10.0.0.1', 8080)).to.equal(true);
  });

  it('keeps an established connection across a rule change that still allows it, and cuts it (conntrack -R) when none does', async () => {
    const { say, close } = openTcpSession(scene!.nsOf(3), '10.0.0.1', 8022);
    try {
      expect(await say('one')).to.equal('one');
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES.filter((r) => r.protocol !== 'udp'), [1, 2]));
      const changed = await fw.apply();
      await changed?.conntrackDone;
      expect(changed?.conntrack.map((c) => c.join(' '))).to.deep.equal([`conntrack -D -p udp -f ipv4 -d 10.0.0.1 -w 4097`, `conntrack -D -p udp -f ipv4 -d 10.0.0.2 -w 4098`]);
      expect(await say('two'), 'another rule removed').to.equal('two');
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES.filter((r) => r !== SSH && r.protocol !== 'udp'), [1, 2]));
      await (await fw.apply())?.conntrackDone;
      expect(await say('three'), 'its rule removed').to.match(/^FAILED/);
    } finally {
      close();
      fw.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
      await fw.apply();
    }
  });

  it('when nft fails, the previous ruleset stays whole and the next apply sends the change again', async () => {
    const real = commandRunner(['ip', 'netns', 'exec', scene!.netns]);
    let fail = true;
    // The kernel refuses the transaction's last line (an element that exists, with `create`), after the tables were deleted and defined again.
    const flaky = new NftHybridFirewall({
      run: (argv, input, ok) => real(argv, fail && argv[0] === 'nft' && argv[1] === '-f' ? `${input}create element inet ovs_agent_hybrid rg4-web { 10.0.0.1 }\n` : input, ok),
    });
    flaky.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    flaky.setupPortFilters(PORTS);
    const before = await table();
    let err: Error | undefined;
    await flaky.apply().catch((e: Error) => (err = e));
    expect(err?.message).to.match(/nft -f - failed \(exit 1\): .*File exists/s);
    expect(await table(), 'the kernel keeps the previous ruleset').to.equal(before);
    expect(await echo(3, '10.0.0.1', 8080), 'still filtered').to.equal(false);
    fail = false;
    const r = await flaky.apply();
    expect(r?.nft).to.match(/^table inet ovs_agent_hybrid\ndelete table inet ovs_agent_hybrid\n/);
    expect(await echo(3, '10.0.0.1', 8022)).to.equal(true);
    fw = flaky;
  });

  it('a restarted backend replaces its tables in one transaction, ports keep their zones, traffic flows without a loss', async () => {
    const zonesBefore = /map ct_zones \{[^}]*\}/s.exec(await table())?.[0];
    const flow = pingFlow(40);
    await new Promise((r) => setTimeout(r, 500));
    const again = nft();
    again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    again.setupPortFilters(PORTS);
    const r = await again.apply();
    expect(r?.nft).to.match(/^table inet ovs_agent_hybrid\ndelete table inet ovs_agent_hybrid\n/);
    expect(/map ct_zones \{[^}]*\}/s.exec(await table())?.[0]).to.equal(zonesBefore);
    expect(await flow).to.match(/40 packets transmitted, 40 received/);
    fw = again;
  });

  it('after a restart, a port no pass has named yet keeps its established connections only, until the first full sync ends', async () => {
    const { say, close } = openTcpSession(scene!.nsOf(3), '10.0.0.1', 8022);
    try {
      expect(await say('one')).to.equal('one');
      const again = nft();
      again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
      again.setupPortFilters(PORTS.slice(0, 2));
      await again.apply();
      expect(await table()).to.include(`"qbr${PORTS[2].portId.slice(0, 11)}" : goto held_port`);
      expect(await say('two'), 'its established connection').to.equal('two');
      expect(await echo(3, '10.0.0.1', 8022), 'a new connection from it').to.equal(false);
      again.firstSyncDone();
      await again.apply();
      expect(await table()).to.not.include(`qbr${PORTS[2].portId.slice(0, 11)}`);
      // As the agent does: the port's groups with the port (the group of no port left was forgotten).
      again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
      again.setupPortFilters([PORTS[2]]);
      await again.apply();
      expect(await echo(3, '10.0.0.1', 8022), 'its rules back').to.equal(true);
      fw = again;
    } finally {
      close();
    }
  });

  it('switching from the iptables backend: nft rules in first, then the iptables chains and ipsets go; no frame lost, connections kept', async () => {
    await inNs(scene!.netns, 'nft', 'delete', 'table', 'inet', 'ovs_agent_hybrid');
    await inNs(scene!.netns, 'nft', 'delete', 'table', 'bridge', 'ovs_agent_hybrid');
    const ipt = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', scene!.netns]) });
    ipt.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    ipt.setupPortFilters(PORTS);
    await ipt.apply();
    const { say, close } = openTcpSession(scene!.nsOf(3), '10.0.0.1', 8022);
    try {
      expect(await say('one')).to.equal('one');
      const flow = pingFlow(40);
      await new Promise((r) => setTimeout(r, 500));
      const again = nft();
      again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
      again.setupPortFilters(PORTS);
      const r = await again.apply();
      expect(r?.restore[4]).to.include('-X neutron-openvswi-FORWARD');
      expect((await inNs(scene!.netns, 'iptables-save')).stdout).to.not.include('neutron-openvswi');
      expect((await inNs(scene!.netns, 'ipset', 'list', '-n')).stdout).to.not.include('NIPv4web');
      expect(await flow).to.match(/40 packets transmitted, 40 received/);
      expect(await say('two'), 'the connection, in the zone the iptables rules gave it').to.equal('two');
      expect(await echo(3, '10.0.0.1', 8080), 'still filtered').to.equal(false);
      fw = again;
    } finally {
      close();
    }
  });

  it('when removing the iptables chains fails, the nft rules stay in and the next apply removes them', async () => {
    const ipt = new HybridIptablesFirewall({ run: commandRunner(['ip', 'netns', 'exec', scene!.netns]) });
    ipt.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    ipt.setupPortFilters(PORTS);
    await ipt.apply();
    const real = commandRunner(['ip', 'netns', 'exec', scene!.netns]);
    let fail = true;
    const again = new NftHybridFirewall({
      run: (argv, input, ok) => (fail && argv[0] === 'iptables-restore' ? Promise.reject(new Error('iptables-restore failed (injected)')) : real(argv, input, ok)),
    });
    again.updateSecurityGroupInfo(sgInfo(WEB_RULES, [1, 2]));
    again.setupPortFilters(PORTS);
    let err: Error | undefined;
    await again.apply().catch((e: Error) => (err = e));
    expect(err?.message).to.equal('iptables-restore failed (injected)');
    expect(await table()).to.include(`"qbr${PORTS[0].portId.slice(0, 11)}" : goto eg-web`);
    expect((await inNs(scene!.netns, 'iptables-save')).stdout).to.include('neutron-openvswi-FORWARD');
    expect(await echo(3, '10.0.0.1', 8080), 'filtered by both meanwhile').to.equal(false);
    fail = false;
    const r = await again.apply();
    expect(r?.nft, 'the nft rules were already in').to.equal('');
    expect(r?.restore[4]).to.include('-X neutron-openvswi-FORWARD');
    expect((await inNs(scene!.netns, 'iptables-save')).stdout).to.not.include('neutron-openvswi');
    expect(await echo(3, '10.0.0.1', 8022)).to.equal(true);
    fw = again;
  });

  it('removes a port\'s elements and the sets no rule uses', async () => {
    fw.removePortFilters([PORTS[0].portId, PORTS[1].portId]);
    await fw.apply();
    const t = await table();
    expect(t).to.not.include(PORTS[0].portId.slice(0, 11));
    expect(t).to.include(PORTS[2].portId.slice(0, 11));
    expect(t).to.not.include('rg4-web');
  });
});
