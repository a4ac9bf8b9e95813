/**
 * ovs-ofctl as an oracle for many flows at once, each classified as it
 * treats it: accepted (and printed), refused (with its message), or encoded
 * into bytes its own decoder refuses (`***decode error: OFPBMC_BAD_PREREQ***`
 * and the like, for a match it cannot express).
 *
 * `ovs-ofctl parse-flows` stops at the first flow it refuses, so a refused
 * flow costs one process: the file is re-run from the flow after it, and the
 * flows before it (all accepted) are printed in one run at the end.
 *
 * (ovs-ofctl also drops fields whose prerequisites the match lacks, logging
 * "normalization changed ofp_match" at INFO; that log is rate-limited, so it
 * cannot tell which flows it concerned: a caller compares with the flow
 * without the field instead.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OfWriter } from '@ovs-agent/openflow';
import { encodeMessage } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { formatInstructions, formatMatch } from '@ovs-agent/openflow';
import { flowModLines } from './helpers.js';

const run = promisify(execFile);

export type OvsOutcome =
  | { kind: 'ok'; text: string }
  | { kind: 'refused'; message: string }
  | { kind: 'bad_bytes'; text: string };

async function parseFlows(file: string): Promise<{ ok: true; stdout: string; stderr: string } | { ok: false; stderr: string }> {
  try {
    const { stdout, stderr } = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flows', file], { maxBuffer: 256 * 1024 * 1024 });
    return { ok: true, stdout, stderr };
  } catch (e) {
    return { ok: false, stderr: String((e as { stderr?: string }).stderr ?? e) };
  }
}

/** Position in `lines` of the first line without which ovs-ofctl would accept the ones before it (binary search). */
async function firstRefused(file: string, lines: readonly string[]): Promise<number> {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    writeFileSync(file, lines.slice(0, mid + 1).join('\n') + '\n');
    if ((await parseFlows(file)).ok) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Indexes of the flows of `flows[from, to)` ovs-ofctl accepts; the refused
 * ones are entered in `out`. Each refusal is taken out and the rest run
 * again: a flow before the one refused is not known to be good (ovs-ofctl
 * checks the protocols all flows can use only after reading them all).
 */
async function findRefused(file: string, flows: readonly string[], from: number, to: number, out: OvsOutcome[]): Promise<number[]> {
  const pending = Array.from({ length: to - from }, (_, k) => from + k);
  while (pending.length) {
    const lines = pending.map((i) => flows[i]);
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await parseFlows(file);
    if (r.ok) return pending;
    const m = /\.txt:(\d+): (.*)/.exec(r.stderr);
    // A refusal of the whole set ("no usable protocol": no OpenFlow 1.3 encoding) names no line:
    // the flow it concerns ends the shortest refused prefix.
    const k = m ? Number(m[1]) - 1 : await firstRefused(file, lines);
    out[pending[k]] = { kind: 'refused', message: m ? m[2] : r.stderr.replace(/^ovs-ofctl: /, '').trim() };
    pending.splice(k, 1);
  }
  return pending;
}

/**
 * ovs-ofctl's outcome for each flow (flows already tagged, flow i with tag
 * i). Refusals are looked for in a few slices at once: each costs a process.
 */
export async function ovsOutcomes(dir: string, flows: readonly string[], parallel = 4): Promise<OvsOutcome[]> {
  const out: OvsOutcome[] = new Array<OvsOutcome>(flows.length);
  const per = Math.ceil(flows.length / parallel);
  const slices = await Promise.all(Array.from({ length: parallel }, (_, k) =>
    findRefused(join(dir, `oracle-flows-${k}.txt`), flows, k * per, Math.min(flows.length, (k + 1) * per), out)));
  const accepted = slices.flat();
  if (accepted.length) {
    const file = join(dir, 'oracle-accepted.txt');
    writeFileSync(file, accepted.map((i) => flows[i]).join('\n') + '\n');
    const r = await parseFlows(file);
    if (!r.ok) {
      const lines = accepted.map((i) => flows[i]);
      const k = await firstRefused(file, lines);
      throw new Error(`ovs-ofctl refused with the flows before it a flow it accepted before: ${lines[k]} (${r.stderr})`);
    }
    const printed = flowModLines(r.stdout);
    if (printed.length !== accepted.length) throw new Error(`ovs-ofctl printed ${printed.length} flows for ${accepted.length}`);
    accepted.forEach((idx, k) => {
      const text = printed[k];
      out[idx] = text.startsWith('***decode error') ? { kind: 'bad_bytes', text: text.split('\n')[0] } : { kind: 'ok', text };
    });
  }
  return out;
}

/** The line ofp-print prints for a flow_mod as parsed, rebuilt from our printer. */
export function ofpPrintLine(fm: FlowMod): string {
  let s = fm.command === 'add' ? 'ADD ' : `${fm.command.toUpperCase()} `;
  if (fm.tableId !== 0) s += `table:${fm.tableId} `;
  const m = formatMatch(fm.match, fm.priority);
  if (m) s += m + ' ';
  if (fm.cookie !== 0n) s += `cookie:0x${fm.cookie.toString(16)} `;
  if (fm.idleTimeout) s += `idle:${fm.idleTimeout} `;
  if (fm.hardTimeout) s += `hard:${fm.hardTimeout} `;
  return s + 'actions=' + formatInstructions(fm.instructions);
}

/**
 * `ovs-ofctl ofp-parse` of the codec's encoding of each flow_mod: what OVS
 * reads in our bytes, or `encode error: ...` when the codec refuses to encode it.
 */
export async function ovsDecode(dir: string, flowMods: readonly FlowMod[]): Promise<string[]> {
  const w = new OfWriter();
  const out: string[] = new Array<string>(flowMods.length);
  const encoded: number[] = [];
  flowMods.forEach((fm, i) => {
    const at = w.pos;
    try {
      encodeMessage(w, { ...fm, xid: i + 1 });
      encoded.push(i);
    } catch (e) {
      w.pos = at;
      out[i] = `encode error: ${(e as Error).message}`;
    }
  });
  const file = join(dir, 'oracle-ours.bin');
  writeFileSync(file, w.buf.subarray(0, w.pos));
  const { stdout } = await run('ovs-ofctl', ['ofp-parse', file], { maxBuffer: 256 * 1024 * 1024 });
  const lines = flowModLines(stdout);
  if (lines.length !== encoded.length) throw new Error(`ofp-parse printed ${lines.length} flow_mods for ${encoded.length}`);
  encoded.forEach((idx, k) => { out[idx] = lines[k]; });
  return out;
}
