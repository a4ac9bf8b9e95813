/**
 * The OpenFlow codec alone, run by bench/openflow.ts in a process of its own:
 * `node --expose-gc --import tsx bench/_codec-sample.ts FLOWS_FILE SAMPLES` prints
 * `{ encode, decode, bytesPerFlowMod }` as JSON.
 *
 * Why a process of its own: sampled inside the bench process, after the
 * installs (100k flows, their texts and two 100k-flow dumps held), the codec
 * ran at half the speed the same loop shows in a fresh process, decode as
 * well as encode — the heap the bench had built, not the codec, set the
 * figure.
 *
 * Each sample encodes CODEC_SAMPLE flow-mods (the file's flows, cycled) into
 * one reused writer, then decodes as many from views of it; an untimed sample
 * first warms the compiler up. Timed by the wall clock and by the process's
 * CPU time (`process.cpuUsage`: on this shared 2-core machine a neighbour's
 * load stretches wall time, not CPU time; the CPU time includes the
 * collector's threads). A full collection runs before each timed phase, outside
 * the timing (run with --expose-gc), so that no phase is charged for
 * collecting what the one before left: the decoder's million messages
 * otherwise land in a later encode sample, and encode samples of one process
 * spread 0.9-1.8 M/CPU-s.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OFP_VERSION } from '@ovs-agent/openflow';
import { decodeMessage, encodeMessage } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { OfWriter } from '@ovs-agent/openflow';
import { parseFlow } from '@ovs-agent/openflow';

/** Rates of one sample: flow-mods per second of wall time and per second of this process's CPU time. */
export interface CodecSample {
  wall: number;
  cpu: number;
}

export interface CodecRates {
  encode: CodecSample[];
  decode: CodecSample[];
  bytesPerFlowMod: number;
}

export const CODEC_SAMPLE = 1_000_000;

export function codecRates(flows: FlowMod[], samples: number): CodecRates {
  const w = new OfWriter(flows.length * 160);
  const encode: CodecSample[] = [];
  const decode: CodecSample[] = [];
  const cpuSeconds = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
  const passes = Math.ceil(CODEC_SAMPLE / flows.length);
  const count = passes * flows.length;
  let bytesPerFlowMod = 0;
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  for (let r = -1; r < samples; r++) {
    collect();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let pass = 0; pass < passes; pass++) {
      w.reset();
      for (let i = 0; i < flows.length; i++) encodeMessage(w, flows[i], OFP_VERSION.OF13);
    }
    const t1 = process.hrtime.bigint();
    const c1 = process.cpuUsage(c0);
    const bytes = w.view();
    bytesPerFlowMod = bytes.length / flows.length;
    let decoded = 0;
    collect();
    const c2 = process.cpuUsage();
    const t2 = process.hrtime.bigint();
    for (let pass = 0; pass < passes; pass++) {
      for (let pos = 0; pos < bytes.length; decoded++) {
        const len = bytes.readUInt16BE(pos + 2);
        decodeMessage(bytes.subarray(pos, pos + len));
        pos += len;
      }
    }
    const t3 = process.hrtime.bigint();
    const c3 = process.cpuUsage(c2);
    if (decoded !== count) throw new Error(`decoded ${decoded} of ${count} flow-mods`);
    if (r < 0) continue;
    encode.push({ wall: count / (Number(t1 - t0) / 1e9), cpu: count / cpuSeconds(c1) });
    decode.push({ wall: count / (Number(t3 - t2) / 1e9), cpu: count / cpuSeconds(c3) });
  }
  return { encode, decode, bytesPerFlowMod };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, samples] = process.argv.slice(2);
  if (!file || !(Number(samples) > 0)) {
    console.error('usage: node --expose-gc --import tsx bench/_codec-sample.ts FLOWS_FILE SAMPLES');
    process.exit(2);
  }
  const flows = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => parseFlow(l));
  process.stdout.write(`${JSON.stringify(codecRates(flows, Number(samples)))}\n`);
}
