/**
 * `npm run bench -- firewall`: 1,000 ports in one security group with a
 * remote-group rule and 10 port-range rules.
 *
 * - compute: every flow for all ports, ours vs Neutron 21.0.0's own
 *   OVSFirewallDriver (python3-neutron, ovs-ofctl stubbed out, timed inside
 *   Python so interpreter start-up is excluded);
 * - flow count, ours vs Neutron's (unique flows), and linearity (flows per
 *   extra port at 250 → 500 → 1,000 ports);
 * - one membership change (a member joins the group): our compute time and
 *   flow-mods vs Neutron's refresh of every port of the group;
 * - install: the 1,000-port flow set into a real ovs-vswitchd, through our
 *   OpenFlow stack (the FlowMods the firewall built with its lines, one
 *   atomic bundle over the bridge's management socket with
 *   protocol/openflow/connection) vs `ovs-ofctl --bundle add-flows` of the
 *   same lines (what Neutron's driver runs). ovs-ofctl reads and parses the
 *   lines inside its time, while the agent never parses its own flows (the
 *   firewall hands over OpenFlow forms), so ours is also given from text
 *   (`install_1000_ports_from_text`: the same file read, parsed with
 *   parseFlowFile, sent as one bundle), like with like;
 * - one membership change applied end to end the same two ways;
 * - the iptables_hybrid driver beside Neutron's own (_firewall-hybrid.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecurityGroupInfo, SecurityGroupRule } from '../lib/control-plane/types.js';
import { OvsFirewall, type FirewallPort } from '../lib/firewall/index.js';
import { flowText, keyText } from '../lib/flows/flow.js';
import type { FlowChanges } from '../lib/flows/flow-table.js';
import { flowModsOf } from '../lib/flows/installer.js';
import { OpenFlowSwitch } from '@ovs-agent/openflow';
import { parseFlowFile } from '@ovs-agent/openflow';
import { OvsSandbox } from '../testing/sandbox.js';
import { runNeutron } from '../testing/neutron-firewall-oracle.js';
import { hybridMetrics } from './_firewall-hybrid.js';
import type { BenchSuite } from './report.js';
import { metric, newResult, round, timeIt } from './report.js';

const SG = 'sg-bench';
/** What the firewall's lines carry when it has a cookie; 0 here (the bench's firewall has none). */
const BENCH_COOKIE = 0n;

function ip(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function scenario(n: number): { ports: FirewallPort[]; info: SecurityGroupInfo } {
  const ports: FirewallPort[] = [];
  for (let i = 1; i <= n; i++) {
    const hex = i.toString(16).padStart(6, '0');
    ports.push({
      portId: `port-${i}`,
      ofport: i,
      lvid: 1,
      macAddress: `fa:16:3e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`,
      fixedIps: [ip(i)],
      allowedAddressPairs: [],
      portSecurityEnabled: true,
      securityGroups: [SG],
      networkType: 'vxlan',
      segmentationId: 1001,
    });
  }
  const rules: SecurityGroupRule[] = [{ securityGroupId: SG, direction: 'ingress', ethertype: 'IPv4', remoteGroupId: SG }];
  for (let k = 0; k < 10; k++) {
    rules.push({ securityGroupId: SG, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000 + 1000 * k, portRangeMax: 8499 + 1000 * k });
  }
  const info: SecurityGroupInfo = {
    rules: { [SG]: rules },
    stateful: { [SG]: true },
    members: { [SG]: { IPv4: ports.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), IPv6: [] } },
  };
  return { ports, info };
}

function programmed(n: number): { fw: OvsFirewall; ports: FirewallPort[]; info: SecurityGroupInfo; seconds: number } {
  const { ports, info } = scenario(n);
  const t = process.hrtime.bigint();
  const fw = new OvsFirewall();
  fw.initialize();
  fw.updateSecurityGroupInfo(info);
  fw.setupPortFilters(ports);
  fw.flush();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { fw, ports, info, seconds };
}

const withMember = (info: SecurityGroupInfo, extra: [string, string] | undefined): SecurityGroupInfo => ({
  ...info,
  members: { [SG]: { IPv4: extra ? [...info.members[SG].IPv4, extra] : info.members[SG].IPv4, IPv6: [] } },
});

/** What the firewall changed in its table since the last call, taken as sent. */
function taken(fw: OvsFirewall): FlowChanges {
  const c = fw.flows.takeChanges();
  fw.flows.commit(c);
  return c;
}

/** The same changes as `ovs-ofctl --bundle add-flows` lines. */
function ofctlLines(c: FlowChanges): string {
  const cookie = `cookie=0x${BENCH_COOKIE.toString(16)},`;
  return [...c.adds.map((f) => `add ${cookie}${flowText(f)}\n`), ...c.deletes.map((k) => `delete_strict ${keyText(k)}\n`)].join('');
}

/**
 * Our install path, as the agent takes it: each flow-mod built from the
 * table's changes (installer.ts), all sent as one ordered atomic bundle.
 * Returns the seconds spent turning the changes into FlowMods (part of the
 * total).
 */
async function installOurs(sw: OpenFlowSwitch, changes: FlowChanges): Promise<number> {
  // Everything is ready before the bundle opens: ovs-vswitchd discards a bundle left idle too long.
  const t = process.hrtime.bigint();
  const mods = [...flowModsOf(changes, BENCH_COOKIE)];
  const parsed = Number(process.hrtime.bigint() - t) / 1e9;
  const bundle = sw.bundle({ atomic: true, ordered: true });
  // addAll yields while the socket drains, so ovs-vswitchd never sees the bundle idle.
  await bundle.addAll(mods);
  await bundle.commit();
  return parsed;
}

/** What ovs-ofctl --bundle add-flows does with a file, done by us: read it, parse every line, one ordered atomic bundle. */
async function installFromText(sw: OpenFlowSwitch, file: string): Promise<void> {
  const mods = parseFlowFile(readFileSync(file, 'utf8'));
  const bundle = sw.bundle({ atomic: true, ordered: true });
  await bundle.addAll(mods);
  await bundle.commit();
}

const suite: BenchSuite = {
  async run({ quick }) {
    const N = 1000;
    const runs = quick ? 3 : 5;
    const notes: string[] = [];

    // Compute, ours.
    const oursCompute: number[] = [];
    let flowCount = 0;
    let last: ReturnType<typeof programmed> | undefined;
    for (let r = 0; r < runs; r++) {
      last = programmed(N);
      oursCompute.push(last.seconds);
      flowCount = last.fw.wantedFlows().length;
    }

    // Compute and membership refresh, Neutron (its agent refreshes every port of the group).
    const { ports, info } = scenario(N);
    const joinInfo = withMember(info, ['10.200.0.1', 'fa:16:3e:ff:00:01']);
    const neutronCompute: number[] = [];
    const neutronChange: number[] = [];
    let neutronFlows = 0;
    let neutronChangeLines = 0;
    for (let r = 0; r < (quick ? 1 : 3); r++) {
      const res = runNeutron(ports, info, [{ info: joinInfo, updatePorts: ports.map((p) => p.portId) }]);
      neutronCompute.push(res.seconds.initial);
      neutronChange.push(res.seconds.steps[0]);
      neutronFlows = new Set(res.initial.filter((l) => l.startsWith('add ')).map((l) => l.replace(/,cookie=[^,]*/, ''))).size;
      neutronChangeLines = res.steps[0].length;
    }
    if (quick) notes.push('quick run: Neutron measured once');

    // Linearity.
    const c250 = programmed(250).fw.wantedFlows().length;
    const c500 = programmed(500).fw.wantedFlows().length;
    const perPortA = (c500 - c250) / 250;
    const perPortB = (flowCount - c500) / 500;
    notes.push(`flow count 250/500/1000 ports: ${c250}/${c500}/${flowCount}; flows per extra port ${perPortA} then ${perPortB} (${perPortA === perPortB ? 'linear' : 'NOT linear'})`);

    // One membership change: a member joins, then leaves, alternately.
    const fw = last!.fw;
    taken(fw);
    const change: number[] = [];
    const changeCpu: number[] = [];
    let mods = 0;
    for (let i = 0; i < (quick ? 20 : 100); i++) {
      const next = withMember(info, i % 2 === 0 ? [`10.200.${(i >> 8) & 255}.${i & 255}`, 'fa:16:3e:ff:00:01'] : undefined);
      const cpu = process.cpuUsage();
      const t = process.hrtime.bigint();
      fw.updateSecurityGroupInfo(next);
      fw.flush();
      const c = taken(fw);
      mods = c.adds.length + c.deletes.length;
      change.push(Number(process.hrtime.bigint() - t) / 1e6);
      const used = process.cpuUsage(cpu);
      changeCpu.push((used.user + used.system) / 1000);
    }

    // Install into a real ovs-vswitchd: our OpenFlow stack vs ovs-ofctl, same flows, alternating.
    const sb = await OvsSandbox.start();
    const dir = mkdtempSync(join(tmpdir(), 'fw-bench-'));
    const install: number[] = [];
    const installText: number[] = [];
    const parseShare: number[] = [];
    const installOfctl: number[] = [];
    const applyOurs: number[] = [];
    const applyOfctl: number[] = [];
    const applyText: number[] = [];
    try {
      await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14');
      const sw = await OpenFlowSwitch.connect(`unix:${sb.mgmtSocket('br-int')}`);
      try {
        const fresh = new OvsFirewall();
        fresh.initialize();
        fresh.updateSecurityGroupInfo(info);
        fresh.setupPortFilters(ports);
        fresh.flush();
        const all = taken(fresh);
        writeFileSync(join(dir, 'ours'), ofctlLines(all));
        const count = async (): Promise<number> => (await sb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br-int')).split('\n').filter((l) => l.includes('actions=')).length;
        for (let r = 0; r < 3; r++) {
          await sb.ofctl('del-flows', 'br-int');
          let parsed = 0;
          install.push(await timeIt(async () => (parsed = await installOurs(sw, all))));
          parseShare.push(parsed);
          if (r === 0) notes.push(`flows on the bridge after our install: ${await count()} (computed ${all.adds.length})`);
          await sb.ofctl('del-flows', 'br-int');
          installOfctl.push(await timeIt(() => sb.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', 'br-int', join(dir, 'ours'))));
          await sb.ofctl('del-flows', 'br-int');
          installText.push(await timeIt(() => installFromText(sw, join(dir, 'ours'))));
          if (r === 0) notes.push(`flows on the bridge after our install from text: ${await count()}`);
        }
        // One membership change, computed and applied end to end.
        // Three ways in turn, a join and a leave each: ours from the firewall's forms, ours from text, ovs-ofctl.
        for (let i = 0; i < (quick ? 15 : 45); i++) {
          const next = withMember(info, i % 2 === 0 ? ['10.201.0.1', 'fa:16:3e:ff:00:02'] : undefined);
          const t = process.hrtime.bigint();
          fresh.updateSecurityGroupInfo(next);
          fresh.flush();
          const changes = taken(fresh);
          if (i % 6 < 2) {
            await installOurs(sw, changes);
            applyOurs.push(Number(process.hrtime.bigint() - t) / 1e6);
          } else if (i % 6 < 4) {
            writeFileSync(join(dir, 'change'), ofctlLines(changes));
            await installFromText(sw, join(dir, 'change'));
            applyText.push(Number(process.hrtime.bigint() - t) / 1e6);
          } else {
            writeFileSync(join(dir, 'change'), ofctlLines(changes));
            await sb.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', 'br-int', join(dir, 'change'));
            applyOfctl.push(Number(process.hrtime.bigint() - t) / 1e6);
          }
        }
      } finally {
        await sw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await sb.stop();
    }

    const hybrid = await hybridMetrics(quick);
    notes.push(...hybrid.notes);

    return newResult(
      'firewall',
      [
        ...hybrid.metrics,
        metric({ metric: 'compute_1000_ports', unit: 's', ours: oursCompute, peer: { name: 'neutron 21.0.0 OVSFirewallDriver (ofctl stubbed)', samples: neutronCompute }, target: '<= 0.5' }),
        metric({ metric: 'flow_count_1000_ports', unit: 'flows', ours: [flowCount], peer: { name: 'neutron 21.0.0 OVSFirewallDriver', samples: [neutronFlows] }, target: '<= 1' }),
        // Flows added per extra port from 500 to 1,000 ports over the same from 250 to 500: 1 when linear.
        metric({ metric: 'flow_growth_per_port_ratio', unit: 'x', ours: [round(perPortB / perPortA, 4)], target: '<= 1', note: `${perPortB} flows per extra port` }),
        metric({ metric: 'membership_change', unit: 'ms', ours: change, peer: { name: 'neutron 21.0.0 (refresh of every port in the group)', samples: neutronChange.map((s) => s * 1000) }, target: '<= 0.1', note: 'absolute target < 10 ms' }),
        metric({ metric: 'membership_change_abs', unit: 'ms', ours: change, target: '< 10' }),
        metric({ metric: 'membership_change_cpu', unit: 'ms', ours: changeCpu, target: '< 10', note: 'CPU time of the same work (robust to a loaded machine)' }),
        metric({ metric: 'membership_change_flow_mods', unit: 'flow-mods', ours: [mods], peer: { name: 'neutron 21.0.0 ovs-ofctl lines', samples: [neutronChangeLines] }, target: '<= 0.01' }),
        metric({ metric: 'install_1000_ports', unit: 's', ours: install, peer: { name: 'ovs-ofctl --bundle add-flows (same flows)', samples: installOfctl }, target: '<= 1.2',
          note: 'ours from the OpenFlow forms the firewall built (the agent\'s path: no text parsed); ovs-ofctl reads and parses the text file inside its time' }),
        metric({ metric: 'install_1000_ports_from_text', unit: 's', ours: installText, peer: { name: 'ovs-ofctl --bundle add-flows (same file)', samples: installOfctl }, target: '<= 1.2',
          note: 'both from the same text file: ours reads it, parseFlowFile, one ordered atomic bundle (open session)' }),
        metric({ metric: 'membership_change_applied', unit: 'ms', ours: applyOurs, peer: { name: 'same diff through ovs-ofctl --bundle', samples: applyOfctl }, target: '<= 1',
          note: 'compute + apply; ours from the firewall\'s forms, ovs-ofctl from the diff written as text (its start and parse included)' }),
        metric({ metric: 'membership_change_applied_from_text', unit: 'ms', ours: applyText, peer: { name: 'same diff through ovs-ofctl --bundle', samples: applyOfctl }, target: '<= 1',
          note: 'both write the diff as text and read it back: ours parseFlowFile + one bundle on an open session; ovs-ofctl starts, connects, parses, bundles' }),
      ],
      [
        ...notes,
        `a membership change emits ${mods} flow-mods`,
        `of our install time, turning changes into FlowMods took ${round(parseShare.slice().sort((x, y) => x - y)[parseShare.length >> 1], 2)} s (median)`,
      ],
    );
  },
};
export default suite;
