/**
 * Every match field × the values that matter, against ovs-ofctl, both ways
 * (match-cases.ts makes the cases from ovs-fields(7) and our field table).
 * For a case marked `agree`:
 *  - a flow ovs-ofctl refuses, or encodes into bytes its own decoder refuses,
 *    we refuse;
 *  - a flow ovs-ofctl accepts, we accept, our bytes decode in ovs-ofctl to
 *    what it printed for the text, and our printer prints exactly that;
 *  - except that we may refuse a field whose prerequisites the match lacks
 *    (OFTEXT_PREREQ) when ovs-ofctl ignores it: it prints the same flow with
 *    and without that field ("normalization"), so the flow would not match
 *    what it says.
 * A case marked with error codes we must refuse with one of them (why: see
 * match-cases.ts). A field of ovs-fields(7) the codec does not model
 * (UNSUPPORTED_FIELDS) must be refused as OFTEXT_UNSUPPORTED, never misread.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowSyntaxError, parseFlow } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { FIELDS_BY_NAME, UNSUPPORTED_FIELDS } from '../../../protocol/openflow/text/fields.js';
import { manFields, matchCases } from './match-cases.js';
import { ofpPrintLine, ovsDecode, ovsOutcomes, type OvsOutcome } from './ovs-oracle.js';

type Ours = { kind: 'ok'; fm: FlowMod } | { kind: 'refused'; err: FlowSyntaxError };

function flowOf(match: string): string {
  return match ? `${match},actions=drop` : 'actions=drop';
}

/** The flow without the match item that starts at 1-based `column`. */
function without(flow: string, column: number): string {
  const start = column - 1;
  const end = flow.indexOf(',', start);
  return (flow.slice(0, start) + flow.slice(end + 1)).replace(/^,/, '');
}

describe('openflow text: every match field against ovs-ofctl, both ways', function () {
  this.timeout(600_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oftext-fields-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('declares unsupported only fields of ovs-fields(7) that it does not model', () => {
    const documented = new Set(manFields().flatMap((f) => [f.name, ...f.aliases]));
    for (const name of UNSUPPORTED_FIELDS) {
      if (/^tun_metadata/.test(name)) continue; // documented as tun_metadata0..63
      expect(documented.has(name), name).to.equal(true);
      expect(FIELDS_BY_NAME.has(name), name).to.equal(false);
    }
  });

  it('parses, encodes and prints each case as ovs-ofctl does, or refuses it as ovs-ofctl does', async () => {
    const cases = matchCases();
    const flows = cases.map((c) => flowOf(c.match));
    const ovs = await ovsOutcomes(dir, flows);
    const ours: Ours[] = flows.map((text) => {
      try {
        return { kind: 'ok', fm: parseFlow(text) };
      } catch (e) {
        if (!(e instanceof FlowSyntaxError)) throw new Error(`${text}: ${String(e)}`, { cause: e });
        return { kind: 'refused', err: e };
      }
    });
    const okIdx = ours.flatMap((o, i) => (o.kind === 'ok' ? [i] : []));
    const decoded = new Map<number, string>();
    (await ovsDecode(dir, okIdx.map((i) => (ours[i] as { fm: FlowMod }).fm))).forEach((t, k) => decoded.set(okIdx[k], t));
    // What ovs-ofctl makes of each flow we refuse for a prerequisite, without the field we name.
    const prereqIdx = ours.flatMap((o, i) => (o.kind === 'refused' && o.err.code === 'OFTEXT_PREREQ' && ovs[i].kind === 'ok' ? [i] : []));
    const withoutField = new Map<number, OvsOutcome>();
    (await ovsOutcomes(dir, prereqIdx.map((i) => without(flows[i], (ours[i] as { err: FlowSyntaxError }).err.column))))
      .forEach((o, k) => withoutField.set(prereqIdx[k], o));

    const problems: Array<{ flow: string; why: string; problem: string; ovs: OvsOutcome; ours: string }> = [];
    flows.forEach((flow, i) => {
      const o = ovs[i];
      const u = ours[i];
      const c = cases[i];
      const oursText = u.kind === 'ok' ? ofpPrintLine(u.fm) : `refused ${u.err.code}: ${u.err.message}`;
      const add = (problem: string) => problems.push({ flow, why: c.why, problem, ovs: o, ours: oursText });
      if (c.field !== undefined && UNSUPPORTED_FIELDS.has(c.field)) {
        if (u.kind === 'ok' || u.err.code !== 'OFTEXT_UNSUPPORTED') add('a field the codec does not model must be refused as OFTEXT_UNSUPPORTED');
      } else if (c.expect !== 'agree') {
        if (u.kind === 'ok') add(`we must refuse (${c.expect.join('|')}), we accept`);
        else if (!c.expect.includes(u.err.code)) add(`we must refuse with ${c.expect.join('|')}, not ${u.err.code}`);
      } else if (o.kind === 'refused' || o.kind === 'bad_bytes') {
        if (u.kind === 'ok') add(`ovs-ofctl ${o.kind === 'refused' ? 'refuses it' : 'cannot decode its own bytes'}, we accept`);
      } else if (u.kind === 'refused') {
        const w = withoutField.get(i);
        const ignored = u.err.code === 'OFTEXT_PREREQ' && w?.kind === 'ok' && w.text === o.text;
        if (!ignored) add(`ovs-ofctl accepts, we refuse${w ? ` (without the field ovs-ofctl prints ${JSON.stringify(w)})` : ''}`);
      } else {
        if (decoded.get(i) !== o.text) add(`our bytes decode to ${decoded.get(i)}`);
        if (oursText !== o.text) add('we print otherwise');
      }
    });
    if (process.env.OFTEXT_DUMP) writeFileSync(process.env.OFTEXT_DUMP, problems.map((p) => JSON.stringify(p)).join('\n'));
    const byProblem = new Map<string, number>();
    for (const p of problems) byProblem.set(p.problem.replace(/ \(.*| to .*/, ''), (byProblem.get(p.problem.replace(/ \(.*| to .*/, '')) ?? 0) + 1);
    const counts = { cases: flows.length, ovsRefused: ovs.filter((o) => o.kind === 'refused').length, ovsBadBytes: ovs.filter((o) => o.kind === 'bad_bytes').length };
    expect(problems, `${JSON.stringify(counts)} ${JSON.stringify([...byProblem])}\n${problems.slice(0, 40).map((p) => JSON.stringify(p)).join('\n')}`).to.deep.equal([]);
  });
});
