/**
 * Every action and instruction against ovs-ofctl, both ways (action-cases.ts):
 * a flow ovs-ofctl refuses (or encodes into bytes it cannot decode), we
 * refuse; one it accepts, we accept, our bytes decode in ovs-ofctl to what it
 * printed, and our printer prints exactly that. Valid ovs-ofctl text the
 * codec does not model is refused as OFTEXT_UNSUPPORTED; text ovs-ofctl
 * misreads (action-cases.ts MISREAD) is refused.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowSyntaxError, parseFlow } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { actionCases, manActionNames } from './action-cases.js';
import { ofpPrintLine, ovsDecode, ovsOutcomes, type OvsOutcome } from './ovs-oracle.js';

type Ours = { kind: 'ok'; fm: FlowMod } | { kind: 'refused'; err: FlowSyntaxError };

describe('openflow text: every action against ovs-ofctl, both ways', function () {
  this.timeout(600_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oftext-actions-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('tries every action ovs-actions(7) gives a syntax for', () => {
    const tried = actionCases().map((c) => c.flow.slice(c.flow.indexOf('actions=') + 8)).join(',');
    const missing = manActionNames().filter((n) => !new RegExp(`(^|[,(])${n}([:(,]|$)`).test(tried));
    expect(missing).to.deep.equal([]);
  });

  it('parses, encodes and prints each action as ovs-ofctl does, or refuses it as ovs-ofctl does', async () => {
    const cases = actionCases();
    const flows = cases.map((c) => c.flow);
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

    const problems: Array<{ flow: string; problem: string; ovs: OvsOutcome; ours: string }> = [];
    flows.forEach((flow, i) => {
      const o = ovs[i];
      const u = ours[i];
      let oursText: string;
      try {
        oursText = u.kind === 'ok' ? ofpPrintLine(u.fm) : `refused ${u.err.code}: ${u.err.message}`;
      } catch (e) {
        oursText = `print failed: ${(e as Error).message}`;
      }
      const add = (problem: string) => problems.push({ flow, problem, ovs: o, ours: oursText });
      if (cases[i].expect === 'unsupported') {
        if (u.kind === 'ok' || u.err.code !== 'OFTEXT_UNSUPPORTED') add('must be refused as OFTEXT_UNSUPPORTED');
      } else if (cases[i].expect === 'refuse') {
        if (u.kind === 'ok') add('ovs-ofctl misreads it: must be refused');
      } else if (o.kind !== 'ok') {
        if (u.kind === 'ok') add(`ovs-ofctl ${o.kind === 'refused' ? 'refuses it' : 'cannot decode its own bytes'}, we accept`);
      } else if (u.kind === 'refused') {
        add('ovs-ofctl accepts, we refuse');
      } else {
        if (decoded.get(i) !== o.text) add(`our bytes decode to ${decoded.get(i)}`);
        if (oursText !== o.text) add('we print otherwise');
      }
    });
    if (process.env.OFTEXT_DUMP) writeFileSync(process.env.OFTEXT_DUMP, problems.map((p) => JSON.stringify(p)).join('\n'));
    const counts = { cases: flows.length, ovsRefused: ovs.filter((o) => o.kind === 'refused').length };
    expect(problems, `${JSON.stringify(counts)}\n${problems.slice(0, 60).map((p) => JSON.stringify(p)).join('\n')}`).to.deep.equal([]);
  });
});
