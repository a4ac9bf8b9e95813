/**
 * Every option Neutron 21's agent reads is accounted for (issue 16, item 3):
 * the inventory (lib/config/inventory.ts) against the option list of
 * Debian's python3-neutron, read at test time (spec/config/oslo_values.py:
 * the options the agent's main() registers, oslo.log's and oslo.messaging's,
 * in the sections it reads), name for name, with every deprecated name and
 * section oslo.config reads for it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { INVENTORY, namesOf } from '../../lib/config/inventory.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The options only this agent has. */
const OWN_SECTIONS = new Set(['ovs_agent']);

describe("option inventory against Neutron 21's own option list", () => {
  let neutron: Record<string, Array<[string, string]>>;
  before(async function () {
    this.timeout(60_000);
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [join(here, 'oslo_values.py'), '--list'], { maxBuffer: 16 * 1024 * 1024 });
    neutron = JSON.parse(stdout) as typeof neutron;
  });

  it('lists every option Neutron registers in the sections its agent reads, and none it does not', () => {
    const ours = new Set(INVENTORY.filter((e) => !OWN_SECTIONS.has(e.section)).map((e) => `${e.section}.${e.name}`));
    const theirs = new Set(Object.keys(neutron));
    expect([...theirs].filter((k) => !ours.has(k)).sort(), 'in Neutron, missing here').to.deep.equal([]);
    expect([...ours].filter((k) => !theirs.has(k)).sort(), 'here, not in Neutron').to.deep.equal([]);
    expect(theirs.size).to.be.above(150);
  });

  it("reads every option under each deprecated name and section Neutron's oslo.config reads it under", () => {
    const missing: string[] = [];
    for (const e of INVENTORY) {
      const key = `${e.section}.${e.name}`;
      const ours = new Set(namesOf(e).map((n) => `${n.section}.${n.name}`));
      for (const [group, name] of neutron[key] ?? []) {
        if (!ours.has(`${group === 'DEFAULT' ? group : group.toLowerCase()}.${name}`)) missing.push(`${key} as [${group}] ${name}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('gives every option one status, and a meaning to each one not honoured', () => {
    const keys = INVENTORY.map((e) => `${e.section}.${e.name}`);
    expect(new Set(keys).size).to.equal(keys.length);
    const honoured = (e: typeof INVENTORY[number]): boolean => e.status === 'honoured' || e.status === 'partial';
    expect(INVENTORY.filter((e) => !honoured(e) && !e.meaning).map((e) => `${e.section}.${e.name}`)).to.deep.equal([]);
    // A partly honoured option's help is its row: it must say what is warned about.
    expect(INVENTORY.filter((e) => e.status === 'partial' && !/warned/.test(e.spec.help)).map((e) => `${e.section}.${e.name}`)).to.deep.equal([]);
  });
});
