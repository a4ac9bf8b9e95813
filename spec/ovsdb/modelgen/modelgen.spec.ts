import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileBase, generateModel, typeName, valueType } from '../../../protocol/ovsdb/modelgen/generate.js';
import { parseColumnType } from '@ovs-agent/ovsdb';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const VSWITCH = '/usr/share/openvswitch/vswitch.ovsschema';
const OVN = ['/usr/share/ovn/ovn-nb.ovsschema', '/usr/share/ovn/ovn-sb.ovsschema'];
const readJson = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

describe('ovsdb modelgen', () => {
  it('names types and files after tables and databases', () => {
    expect(typeName('Open_vSwitch')).to.equal('OpenVSwitch');
    expect(typeName('sFlow')).to.equal('SFlow');
    expect(typeName('NB_Global')).to.equal('NBGlobal');
    expect(fileBase('Open_vSwitch')).to.equal('open-vswitch');
    expect(fileBase('OVN_Northbound')).to.equal('ovn-northbound');
  });

  it('maps column types to the natural values datum.ts decodes', () => {
    expect(valueType(parseColumnType('integer'))).to.equal('number');
    expect(valueType(parseColumnType({ key: 'string', min: 0, max: 1 }))).to.equal('string | null');
    expect(valueType(parseColumnType({ key: { type: 'uuid', refTable: 'Port' }, min: 0, max: 'unlimited' }))).to.equal('readonly Uuid[]');
    expect(valueType(parseColumnType({ key: 'string', value: 'integer', min: 0, max: 'unlimited' }))).to.equal('ReadonlyMap<string, number>');
    expect(valueType(parseColumnType({ key: { type: 'string', enum: ['set', ['a', 'b']] }, min: 0, max: 1 }))).to.equal('"a" | "b" | null');
    expect(valueType(parseColumnType({ key: { type: 'string', enum: ['set', ['a', 'b']] }, min: 0, max: 4 }))).to.equal('readonly ("a" | "b")[]');
  });

  it('the checked-in Open_vSwitch models equal a fresh generation from the installed vswitch.ovsschema', () => {
    const fresh = generateModel(readJson(VSWITCH), { source: 'vswitch.ovsschema' });
    const checkedIn = readFileSync(join(root, 'protocol/ovsdb/models/generated', fresh.name), 'utf8');
    expect(checkedIn === fresh.contents, `protocol/ovsdb/models/generated/${fresh.name} is stale: run npm run modelgen -- ${VSWITCH} protocol/ovsdb/models/generated`).to.equal(true);
  });

  it('rejects a malformed schema with the schema error', () => {
    expect(() => generateModel({ name: 'X', tables: { T: { columns: { c: { type: 'bogus' } } } } })).to.throw(/unknown atomic type/);
  });

  it('generates models for OVN NB and SB that compile under tsc --strict, with the expected row types', function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'modelgen-'));
    try {
      for (const s of OVN) {
        const f = generateModel(readJson(s));
        writeFileSync(join(dir, f.name), f.contents);
      }
      // A consumer that only compiles if the generated types are what they should be.
      writeFileSync(
        join(dir, 'use.ts'),
        [
          "import type { LogicalSwitch, OVNNorthboundTables } from './ovn-northbound.js';",
          "import { ovnSouthboundModel } from './ovn-southbound.js';",
          "import type { PortBinding } from './ovn-southbound.js';",
          "const ls: LogicalSwitch = { _uuid: 'u', name: 'sw0', ports: [], acls: [], qos_rules: [], load_balancer: [], load_balancer_group: [], dns_records: [], forwarding_groups: [], other_config: new Map(), external_ids: new Map([['a', 'b']]), copp: null };",
          'const t: OVNNorthboundTables["Logical_Switch"] = ls;',
          "const tunnel: number = (null as unknown as PortBinding).tunnel_key;",
          "const cols: readonly string[] = ovnSouthboundModel.tables.Port_Binding.columns;",
          'export { t, tunnel, cols };',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2023'] },
          include: ['*.ts'],
        }),
      );
      let out = '';
      try {
        execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? err);
      }
      expect(out, out).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
