/**
 * The iptables_hybrid half of `npm run bench -- firewall`: 1,000 ports in
 * one security group (a remote-group rule and 10 port-range rules, every
 * port a member), each side in a fresh network namespace with real
 * iptables, ip6tables, ipset:
 *
 * - compute and apply: ours (HybridIptablesFirewall: reading the empty
 *   tables, computing every chain, one ipset restore, one iptables-restore
 *   and one ip6tables-restore) vs Neutron 21's own
 *   OVSHybridIptablesFirewallDriver preparing the same ports as its agent
 *   does (python3-neutron, testing/neutron_iptables_oracle.py, its commands
 *   run for real in the namespace and timed inside Python, so interpreter
 *   start-up is excluded); and ours again with `hybrid_backend = nftables`
 *   (NftHybridFirewall: reading, computing the nft tables, one `nft -f`),
 *   in the same run, so the three lines share the machine's load;
 * - one remote-group membership change applied: a member joins, then leaves;
 *   ours recomputes and sends what changed (one ipset line), Neutron's agent
 *   refreshes every port of the group (update_port_filter for each, one
 *   iptables apply, the ipset change).
 */
import { execFileSync } from 'node:child_process';
import type { SecurityGroupInfo, SecurityGroupRule } from '../lib/control-plane/types.js';
import type { FirewallPort } from '../lib/firewall/index.js';
import { commandRunner, HybridIptablesFirewall } from '../lib/firewall/iptables/index.js';
import { NftHybridFirewall } from '../lib/firewall/nftables/index.js';
import { runNeutronIptables } from '../testing/neutron-iptables-oracle.js';
import { metric, type Metric } from './report.js';

const SG = 'c0ffee00-0000-4000-8000-00000000bench';

function scenario(n: number): { ports: FirewallPort[]; info: SecurityGroupInfo } {
  const ports: FirewallPort[] = [];
  for (let i = 1; i <= n; i++) {
    const hex = i.toString(16).padStart(6, '0');
    ports.push({
      portId: `${hex}00-1111-4222-8333-${hex}${hex}`, ofport: i, lvid: 1,
      macAddress: `fa:16:3e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`,
      fixedIps: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], allowedAddressPairs: [], portSecurityEnabled: true,
      securityGroups: [SG], deviceOwner: 'compute:nova',
    });
  }
  const rules: SecurityGroupRule[] = [{ securityGroupId: SG, direction: 'ingress', ethertype: 'IPv4', remoteGroupId: SG },
    { securityGroupId: SG, direction: 'egress', ethertype: 'IPv4' }];
  for (let k = 0; k < 10; k++) {
    rules.push({ securityGroupId: SG, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000 + 1000 * k, portRangeMax: 8499 + 1000 * k });
  }
  return {
    ports,
    info: { rules: { [SG]: rules }, stateful: { [SG]: true }, members: { [SG]: { IPv4: ports.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), IPv6: [] } } },
  };
}

const withMember = (info: SecurityGroupInfo, extra: [string, string] | undefined): SecurityGroupInfo => ({
  ...info, members: { [SG]: { IPv4: extra ? [...info.members[SG].IPv4, extra] : info.members[SG].IPv4, IPv6: [] } },
});

function withNamespace<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `fwbench-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', ns]);
  return fn(ns).finally(() => execFileSync('ip', ['netns', 'del', ns]));
}

interface OursRun {
  applies: number[];
  changes: number[];
  processes: number;
  changeProcesses: number;
}

/** One backend of ours: per round a fresh namespace, 1,000 ports applied to the empty host, then members joining and leaving. */
async function runOurs(make: (ns: string) => HybridIptablesFirewall, quick: boolean, ports: FirewallPort[], info: SecurityGroupInfo, joinInfo: SecurityGroupInfo): Promise<OursRun> {
  const out: OursRun = { applies: [], changes: [], processes: 0, changeProcesses: 0 };
  for (let r = 0; r < (quick ? 2 : 3); r++) {
    await withNamespace(async (ns) => {
      const fw = make(ns);
      const t = process.hrtime.bigint();
      fw.updateSecurityGroupInfo(info);
      fw.setupPortFilters(ports);
      out.processes = (await fw.apply())!.processes;
      out.applies.push(Number(process.hrtime.bigint() - t) / 1e9);
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < (quick ? 4 : 10); i++) {
        const t2 = process.hrtime.bigint();
        fw.updateSecurityGroupInfo(i % 2 === 0 ? joinInfo : info);
        const res = (await fw.apply())!;
        out.changeProcesses = res.processes;
        out.changes.push(Number(process.hrtime.bigint() - t2) / 1e6);
        last = res.conntrackDone;
      }
      // Untimed: the background conntrack clean-up ends here, not in the next round's (or backend's) time.
      await last;
    });
  }
  return out;
}

export async function hybridMetrics(quick: boolean): Promise<{ metrics: Metric[]; notes: string[] }> {
  const N = 1000;
  const { ports, info } = scenario(N);
  const joinInfo = withMember(info, ['10.200.0.1', 'fa:16:3e:ff:00:01']);
  const notes: string[] = [];
  const runner = (ns: string): ReturnType<typeof commandRunner> => commandRunner(['ip', 'netns', 'exec', ns]);
  const ipt = await runOurs((ns) => new HybridIptablesFirewall({ run: runner(ns) }), quick, ports, info, joinInfo);
  const nft = await runOurs((ns) => new NftHybridFirewall({ run: runner(ns) }), quick, ports, info, joinInfo);
  const { applies: ours, changes: oursChange, processes, changeProcesses } = ipt;
  const neutron: number[] = [];
  const neutronChange: number[] = [];
  let neutronExec = 0;
  let neutronProcesses = 0;
  let neutronChangeProcesses = 0;
  for (let r = 0; r < (quick ? 1 : 2); r++) {
    await withNamespace(async (ns) => {
      const res = runNeutronIptables(ports, info, [{ info: joinInfo, updatePorts: ports }, { info, updatePorts: ports }], { netns: ns });
      neutron.push(res.seconds[0]);
      neutronChange.push(res.seconds[1] * 1000, res.seconds[2] * 1000);
      neutronExec = res.exec_seconds[0];
      neutronProcesses = res.applies[0].length;
      neutronChangeProcesses = res.applies[1].length;
    });
  }
  notes.push(`iptables_hybrid, 1,000 ports: ours ran ${processes} processes (3 reads of the empty tables, ipset restore, iptables-restore, ip6tables-restore), `
    + `Neutron's driver ${neutronProcesses} (of its ${neutron[neutron.length - 1].toFixed(2)} s, ${neutronExec.toFixed(2)} s waiting for them); `
    + `a membership change: ours ${changeProcesses} process (ipset restore), Neutron's agent ${neutronChangeProcesses}`);
  notes.push(`iptables_hybrid, nftables backend ([ovs_agent] hybrid_backend = nftables), 1,000 ports: ${nft.processes} processes (3 reads: nft -j list, iptables-save, `
    + `ip6tables-save; one nft -f); a membership change: ${nft.changeProcesses} process (nft -f of the set elements)`);
  return {
    metrics: [
      metric({ metric: 'hybrid_compute_apply_1000_ports', unit: 's', ours, peer: { name: 'neutron 21 OVSHybridIptablesFirewallDriver (commands run in a namespace)', samples: neutron },
        target: '<= 0.1', note: 'every chain computed and applied to a real kernel (iptables-nft), ipsets included' }),
      metric({ metric: 'hybrid_nft_compute_apply_1000_ports', unit: 's', ours: nft.applies, peer: { name: 'neutron 21 OVSHybridIptablesFirewallDriver (commands run in a namespace)', samples: neutron },
        target: '<= 0.1', note: 'hybrid_backend = nftables: every rule computed and applied to a real kernel in one nft -f, same run as the line above' }),
      metric({ metric: 'hybrid_nft_vs_iptables_compute_apply_1000_ports', unit: 's', ours: nft.applies, peer: { name: 'ours, hybrid_backend = iptables (same run)', samples: ours } }),
      metric({ metric: 'hybrid_nft_membership_change_applied', unit: 'ms', ours: nft.changes,
        peer: { name: 'neutron 21 agent refresh of the group\'s ports (update_port_filter each, one apply, ipset)', samples: neutronChange }, target: '<= 0.1' }),
      metric({ metric: 'hybrid_membership_change_applied', unit: 'ms', ours: oursChange,
        peer: { name: 'neutron 21 agent refresh of the group\'s ports (update_port_filter each, one apply, ipset)', samples: neutronChange }, target: '<= 0.1' }),
    ],
    notes,
  };
}
