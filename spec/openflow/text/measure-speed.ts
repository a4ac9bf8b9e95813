/**
 * Not a test (no timing assertions in tests): prints how long parseFlow and
 * formatFlow take per flow, in CPU time of this process (wall time is
 * meaningless on a shared 2-core machine), 5 runs, min/median/max.
 *
 *   node --import tsx spec/openflow/text/measure-speed.ts
 *
 * (tsx adds a little per-call overhead; the compiled dist/ is faster.)
 */
import { formatFlow, parseFlow } from '../../../protocol/openflow/text/index.js';
import type { FlowMod } from '../../../protocol/openflow/types.js';
import { corpus } from './helpers.js';

const TYPICAL = [
  'table=0,priority=3,in_port=5,dl_vlan=100,actions=mod_vlan_vid:1,resubmit(,59)',
  'table=82,priority=77,ct_state=+est-rel-rpl,tcp,reg5=0x7,nw_src=10.0.0.0/8,tp_dst=22,actions=output:7',
  'table=82,priority=77,ct_state=+new-est,tcp,reg5=0x7,nw_src=10.0.0.0/8,tp_dst=22,actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:7,resubmit(,92)',
  'table=60,priority=100,in_port=7,actions=load:0x7->NXM_NX_REG5[],load:0x3->NXM_NX_REG6[],resubmit(,71)',
  'table=20,priority=2,dl_vlan=3,dl_dst=fa:16:3e:00:00:09,actions=strip_vlan,load:0x64->NXM_NX_TUN_ID[],output:4',
  'table=71,priority=65,ip,reg5=0x7,in_port=7,dl_src=fa:16:3e:00:00:01,nw_src=10.0.0.5,actions=ct(table=72,zone=NXM_NX_REG6[0..15])',
];

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
measure('parseFlow, whole corpus', corpus(), (l) => parseFlow(l), 30_000);
const parsed: FlowMod[] = TYPICAL.map((l) => parseFlow(l));
measure('formatFlow, typical Neutron flows', parsed, (f) => formatFlow(f), 60_000);
