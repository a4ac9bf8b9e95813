/**
 * Not a test (no timing assertions in tests): prints how long parseFlow and
 * formatFlow take per flow, in CPU time of this process (wall time is
 * meaningless on a shared 2-core machine), 5 runs, min/median/max.
 *
 *   node --import tsx spec/openflow/text/measure-speed.ts
 *
 * (tsx adds a little per-call overhead; the compiled dist/ is faster.)
 */
import { formatFlow, parseFlow } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { corpus } from './helpers.js';

const TYPICAL = [
  'table=0,priority=3,in_port=5,dl_vlan=100,actions=mod_vlan_vid:1,resubmit(,59)',
  'table=82,priority=77,ct_state=+est-rel-rpl,tcp,reg5=0x7,nw_src=10.0.0.0/8,tp_dst=22,actions=output:7',
  'table=82,priority=77,ct_state=+new-est,tcp,reg5=0x7,nw_src=10.0.0.0/8,tp_dst=22,actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:7,resubmit(,92)',
  'table=60,priority=100,in_port=7,actions=load:0x7->NXM_NX_REG5[],load:0x3->NXM_NX_REG6[],resubmit(,71)',
  'table=20,priority=2,dl_vlan=3,dl_dst=fa:16:3e:00:00:09,actions=strip_vlan,load:0x64->NXM_NX_TUN_ID[],output:4',
  'table=71,priority=65,ip,reg5=0x7,in_port=7,dl_src=fa:16:3e:00:00:01,nw_src=10.0.0.5,actions=ct(table=72,zone=NXM_NX_REG6[0..15])',
];

/** The agent's firewall lines (Neutron's OVSFirewallDriver shapes), values varied per port so nothing repeats. */
function firewallLines(ports: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < ports; i++) {
    const mac = `fa:16:3e:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:99`;
    const ofport = 1 + (i % 500);
    const vlan = 1 + (i % 4000);
    const lla = `fe80::f816:3eff:fe00:${(i & 0xffff).toString(16)}`;
    out.push(
      `table=60,priority=90,dl_vlan=${vlan},dl_dst=${mac} actions=set_field:${ofport}->reg5,set_field:${vlan}->reg6,strip_vlan,resubmit(,81)`,
      `table=71,priority=95,icmp6,reg5=${ofport},in_port=${ofport},dl_src=${mac},ipv6_src=${lla},icmp_type=136,nd_target=${lla} actions=resubmit(,94)`,
      `table=71,priority=65,ip,reg5=${ofport},in_port=${ofport},dl_src=${mac},nw_src=10.${(i >> 8) & 255}.${i & 255}.5 actions=ct(table=72,zone=NXM_NX_REG6[0..15])`,
      `table=82,priority=77,ct_state=+new-est,tcp,reg5=${ofport},nw_src=10.0.0.0/8,tp_dst=22 actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:${ofport},resubmit(,92)`,
      `table=73,priority=100,reg6=${vlan},dl_dst=${mac} actions=set_field:${ofport}->reg5,resubmit(,81)`,
      'table=72,priority=50,ct_state=+inv+trk actions=resubmit(,93)',
      `table=94,priority=12,reg6=${vlan},dl_dst=${mac} actions=output:${ofport}`,
    );
  }
  return out;
}

/** CPU time per flow of one pass over `lines[from, to)`, in µs. */
function pass(lines: readonly string[], from: number, to: number): number {
  const t0 = process.cpuUsage();
  for (let i = from; i < to; i++) parseFlow(lines[i]);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / (to - from);
}

// First, before anything warms the compiler up: what a freshly started agent pays for its first port (47 flows) and the next ones.
const FIREWALL = firewallLines(10_000);
console.log(`parseFlow, firewall lines, cold process: first 47 flows ${pass(FIREWALL, 0, 47).toFixed(1)} µs/flow, ` +
  `next 953 ${pass(FIREWALL, 47, 1000).toFixed(1)} µs/flow, next 9,000 ${pass(FIREWALL, 1000, 10_000).toFixed(1)} µs/flow`);

function measure<T>(name: string, inputs: readonly T[], fn: (x: T) => unknown, n: number): void {
  for (let i = 0; i < n; i++) fn(inputs[i % inputs.length]); // warm up
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(inputs[i % inputs.length]);
    const d = process.cpuUsage(t0);
    runs.push((d.user + d.system) / n);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name}: min ${runs[0].toFixed(2)} median ${runs[2].toFixed(2)} max ${runs[4].toFixed(2)} µs/flow (${n} flows/run)`);
}

measure('parseFlow, typical Neutron flows', TYPICAL, (l) => parseFlow(l), 60_000);
measure('parseFlow, firewall lines', FIREWALL, (l) => parseFlow(l), 60_000);
measure('parseFlow, whole corpus', corpus(), (l) => parseFlow(l), 30_000);
const parsed: FlowMod[] = TYPICAL.map((l) => parseFlow(l));
measure('formatFlow, typical Neutron flows', parsed, (f) => formatFlow(f), 60_000);
