/**
 * Not a test: the codec's in-process rates on Neutron-like flow-mods (the
 * shapes of bench/openflow: in_port/VLAN/MAC/register matches; set_field,
 * pop_vlan, output, goto_table), by CPU time of the process (the build
 * machine is shared, so wall time mostly measures the neighbours).
 *
 *   node --import tsx spec/openflow/codec/measure-speed.ts
 */
import { decodeMessage, encodeMessage, flowMod, OFPP, OfWriter } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';

const N = 100_000;
const RUNS = 5;

function neutronLike(i: number): FlowMod {
  const mac = 'fa:16:3e:' + [(i >> 16) & 255, (i >> 8) & 255, i & 255].map((x) => x.toString(16).padStart(2, '0')).join(':');
  const port = 1 + (i % 1000);
  const vid = 0x1000 | (1 + (i % 4094));
  switch (i % 4) {
    case 0:
      return flowMod({
        priority: 3,
        cookie: 0x5a5an,
        match: { in_port: port, vlan_vid: vid },
        instructions: [
          { type: 'apply_actions', actions: [{ type: 'set_field', field: 'vlan_vid', value: 0x1000 | 5 }, { type: 'set_field', field: 'reg5', value: port }] },
          { type: 'goto_table', tableId: 60 },
        ],
      });
    case 1:
      return flowMod({
        tableId: 60,
        priority: 4,
        cookie: 0x5a5an,
        match: { vlan_vid: vid, eth_dst: mac },
        instructions: [{ type: 'apply_actions', actions: [{ type: 'pop_vlan' }, { type: 'output', port, maxLen: 0 }] }],
      });
    case 2:
      return flowMod({ tableId: 71, priority: 65, cookie: 0x5a5an, match: { reg5: port, eth_type: 0x0800, ip_src: '10.0.0.1', eth_src: mac }, instructions: [{ type: 'goto_table', tableId: 73 }] });
    default:
      return flowMod({ tableId: 94, priority: 12, cookie: 0x5a5an, match: { reg6: port, eth_dst: mac }, instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP.NORMAL, maxLen: 0 }] }] });
  }
}

function cpuSeconds(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function summary(name: string, rates: number[]): void {
  const s = [...rates].sort((a, b) => a - b);
  const f = (x: number): string => `${(x / 1e6).toFixed(2)} M/s`;
  console.log(`${name}: min ${f(s[0])}, median ${f(s[Math.floor(s.length / 2)])}, max ${f(s[s.length - 1])}`);
}

const flows = Array.from({ length: N }, (_, i) => neutronLike(i));
const w = new OfWriter(1 << 20);
const encodeAll = (): void => {
  for (let i = 0; i < N; i++) {
    if (w.pos > (1 << 20) - 1024) w.reset();
    encodeMessage(w, flows[i]);
  }
};
encodeAll(); // warm-up
const enc: number[] = [];
for (let r = 0; r < RUNS; r++) enc.push(N / cpuSeconds(encodeAll));

const all = new OfWriter(N * 128);
for (const f of flows) encodeMessage(all, f);
const bytes = all.view();
const decodeAll = (): void => {
  for (let at = 0; at < bytes.length; ) {
    const len = bytes.readUInt16BE(at + 2);
    decodeMessage(bytes.subarray(at, at + len));
    at += len;
  }
};
decodeAll();
const dec: number[] = [];
for (let r = 0; r < RUNS; r++) dec.push(N / cpuSeconds(decodeAll));

console.log(`${N} Neutron-like flow-mods, ${(bytes.length / N).toFixed(0)} bytes each on average, ${RUNS} runs`);
summary('encode', enc);
summary('decode', dec);
