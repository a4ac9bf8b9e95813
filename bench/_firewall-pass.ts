/**
 * One firewall pass as the agent makes it, alone, in a fresh process (a
 * diagnostic, not a suite): PORTS ports (default 100) of Neutron's default
 * security group (egress anywhere, ingress from the group, IPv4 and IPv6) on
 * one VLAN network are filtered, their flows go into br-int's flow table
 * (lib/flows) and out as one atomic bundle into a real ovs-vswitchd.
 *
 *     node --expose-gc --import tsx bench/_firewall-pass.ts [PORTS]
 *
 * prints, as JSON, the flows, the phases' wall times (firewall, encoding and
 * sending, the wait for the commit), the process's CPU time in the first two
 * (user + system, all its threads: on a loaded machine the wall time is
 * mostly waiting for a core) and the V8 heap the pass keeps: heap in
 * use after a full collection, before and after the pass, per flow. The
 * memory figure is the one to read; the times are a freshly started V8's
 * (the Neutron benchmark's first burst) and vary by tens of percent from run
 * to run on a shared machine. docs/benchmarks.md quotes its figures.
 */
import { OvsFirewall, type FirewallPort } from '../lib/firewall/index.js';
import { FlowTable } from '../lib/flows/flow-table.js';
import { flowModsOf } from '../lib/flows/installer.js';
import type { SecurityGroupInfo, SecurityGroupRule } from '../lib/control-plane/types.js';
import { OpenFlowSwitch } from '@ovs-agent/openflow';
import { OvsSandbox } from '../testing/sandbox.js';

const SG = 'default';
const COOKIE = 0x1234n;

function defaultGroup(n: number): { ports: FirewallPort[]; info: SecurityGroupInfo } {
  const ports: FirewallPort[] = [];
  for (let i = 1; i <= n; i++) {
    const hex = i.toString(16).padStart(6, '0');
    ports.push({
      portId: `port-${i}`, ofport: i, lvid: 1, macAddress: `fa:16:3e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`,
      fixedIps: [`10.200.${(i >> 8) & 255}.${i & 255}`], allowedAddressPairs: [], portSecurityEnabled: true,
      securityGroups: [SG], networkType: 'vlan', segmentationId: 100,
    });
  }
  const rules: SecurityGroupRule[] = [
    { securityGroupId: SG, direction: 'egress', ethertype: 'IPv4' },
    { securityGroupId: SG, direction: 'egress', ethertype: 'IPv6' },
    { securityGroupId: SG, direction: 'ingress', ethertype: 'IPv4', remoteGroupId: SG },
    { securityGroupId: SG, direction: 'ingress', ethertype: 'IPv6', remoteGroupId: SG },
  ];
  const members = ports.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]);
  return { ports, info: { rules: { [SG]: rules }, stateful: { [SG]: true }, members: { [SG]: { IPv4: members, IPv6: [] } } } };
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const { ports, info } = defaultGroup(Number(process.argv[2] ?? 100));
const sb = await OvsSandbox.start();
try {
  await sb.vsctl('add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev', 'fail-mode=secure');
  const sw = await OpenFlowSwitch.connect(`unix:${sb.mgmtSocket('br-int')}`);
  const table = new FlowTable('br-int', COOKIE);
  const fw = new OvsFirewall();
  // As the agent does at start: the firewall's own flows, installed before any port.
  fw.initialize(table);
  const send = async (): Promise<void> => {
    const changes = table.takeChanges();
    const bundle = sw.bundle();
    await bundle.addAll(flowModsOf(changes, COOKIE));
    await bundle.commit();
    table.commit(changes);
  };
  await send();

  // The pass in a function of its own, so nothing of it outlives it but what the tables keep.
  const pass = async (): Promise<{ flows: number; firewallMs: number; firewallCpuMs: number; encodeSendMs: number; encodeSendCpuMs: number; commitWaitMs: number }> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    fw.updateSecurityGroupInfo(info);
    fw.setupPortFilters(ports);
    fw.flush();
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const changes = table.takeChanges();
    const flows = changes.adds.length;
    const bundle = sw.bundle();
    await bundle.addAll(flowModsOf(changes, COOKIE));
    const t2 = performance.now();
    const c2 = process.cpuUsage();
    await bundle.commit();
    const t3 = performance.now();
    table.commit(changes);
    const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user + b.system - a.user - a.system) / 1000;
    return { flows, firewallMs: t1 - t0, firewallCpuMs: cpu(c0, c1), encodeSendMs: t2 - t1, encodeSendCpuMs: cpu(c1, c2), commitWaitMs: t3 - t2 };
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  const r = await pass();
  gc();
  const kept = process.memoryUsage().heapUsed - before;
  const ms = (v: number): number => Math.round(v * 10) / 10;
  console.log(JSON.stringify({
    ports: ports.length, flows: r.flows, firewallMs: ms(r.firewallMs), firewallCpuMs: ms(r.firewallCpuMs),
    encodeSendMs: ms(r.encodeSendMs), encodeSendCpuMs: ms(r.encodeSendCpuMs), commitWaitMs: ms(r.commitWaitMs),
    heapKeptMiB: Math.round((kept / 2 ** 20) * 100) / 100, heapKeptPerFlowBytes: Math.round(kept / r.flows),
    flowsInTable: table.size, firewallFlows: fw.wantedFlows().length,
  }));
  await sw.close();
} finally {
  await sb.stop();
}
