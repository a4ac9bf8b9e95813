/**
 * Typed writes from generated models: fixtures/typed-writes.fixture.ts is
 * compiled by tsc --strict next to fresh OVN NB/SB models; its
 * `@ts-expect-error` lines (wrong tables, columns, value types in inserts,
 * updates, mutations, conditions, selected columns) must be refused and
 * everything else accepted. Then the same builders at run time, against a
 * real ovsdb-server of each schema.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OvsdbClient, namedUuid, op, typedOps } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';
import { generateModel } from '../../../protocol/ovsdb/modelgen/generate.js';
import { OvsSandbox } from '../../../testing/sandbox.js';
import { PrivateOvsdbServer } from '../core/private-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const OVN_NB = '/usr/share/ovn/ovn-nb.ovsschema';
const OVN_SB = '/usr/share/ovn/ovn-sb.ovsschema';
const readJson = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

describe('ovsdb typed writes from generated models', function () {
  this.timeout(120_000);

  it('tsc refuses wrong tables, columns and value types in writes, conditions and selects, for Open_vSwitch and OVN NB/SB', () => {
    const dir = mkdtempSync(join(tmpdir(), 'typed-writes-'));
    try {
      for (const s of [OVN_NB, OVN_SB]) {
        const f = generateModel(readJson(s));
        writeFileSync(join(dir, f.name), f.contents);
      }
      copyFileSync(join(here, 'fixtures/typed-writes.fixture.ts'), join(dir, 'typed-writes.ts'));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            lib: ['ES2023'],
            types: ['node'],
            typeRoots: [join(root, 'node_modules/@types')],
            paths: { '@ovs-agent/ovsdb': [join(root, 'protocol/ovsdb/index.ts')] },
          },
          files: ['typed-writes.ts'],
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

  describe('at run time @integration', () => {
    let sb: OvsSandbox;
    let client: OvsdbClient;
    before(async () => {
      sb = await OvsSandbox.start();
      await sb.stopVswitchd();
      await sb.vsctl('--no-wait', 'add-br', 'br0');
      client = await OvsdbClient.connect(sb.dbRemote);
    });
    after(async () => {
      await client?.close();
      await sb?.stop();
    });

    it('builds the same operations as op.*, and select rows hold exactly the columns asked for', async () => {
      const vs = typedOps<OpenVSwitchTables>();
      expect(vs.insert('Port', { name: 'p' }, 'n')).to.deep.equal(op.insert('Port', { name: 'p' }, 'n'));
      const where = [['name', '==', 'br0']] as const;
      const [, , , sel] = await client.transact('Open_vSwitch', [
        vs.insert('Interface', { name: 't0', type: 'internal' }, 'i'),
        vs.insert('Port', { name: 't0', interfaces: [namedUuid('i')], tag: 12, external_ids: { owner: 'typed' } }, 'p'),
        vs.mutate('Bridge', where, [['ports', 'insert', [namedUuid('p')]]]),
        vs.select('Port', [['name', '==', 't0']], ['name', 'tag', 'external_ids']),
      ]);
      expect(sel.rows).to.have.length(1);
      expect(Object.keys(sel.rows[0]).sort()).to.deep.equal(['external_ids', 'name', 'tag']);
      const tag: number | null = sel.rows[0].tag;
      expect(tag).to.equal(12);
      expect(sel.rows[0].external_ids.get('owner')).to.equal('typed');
      expect((await sb.vsctl('get', 'port', 't0', 'tag')).trim()).to.equal('12');
    });

    it('a typed update/mutate/delete changes what ovs-vsctl reads back', async () => {
      const vs = typedOps<OpenVSwitchTables>();
      const [u, m] = await client.transact('Open_vSwitch', [
        vs.update('Port', [['name', '==', 't0']], { tag: 30 }),
        vs.mutate('Port', [['name', '==', 't0']], [['external_ids', 'insert', new Map([['k', 'v']])]]),
      ]);
      expect([u.count, m.count]).to.deep.equal([1, 1]);
      expect((await sb.vsctl('get', 'port', 't0', 'tag')).trim()).to.equal('30');
      expect((await sb.vsctl('get', 'port', 't0', 'external_ids:k')).trim()).to.equal('v');
    });
  });

  describe('against OVN northbound @integration', () => {
    let server: PrivateOvsdbServer;
    before(async () => {
      server = await PrivateOvsdbServer.start(readJson(OVN_NB) as object);
    });
    after(async () => {
      await server?.stop();
    });

    it('inserts a switch with a port and reads it back typed by the generated model', async () => {
      const client = await OvsdbClient.connect(server.remote);
      try {
        // The two tables of the generated OVNNorthboundTables this test uses (the compile test above covers the model itself).
        type NB = { Logical_Switch: { _uuid: string; name: string; ports: readonly string[] }; Logical_Switch_Port: { _uuid: string; name: string; addresses: readonly string[] } };
        const nb = typedOps<NB>();
        const [, , ls] = await client.transact('OVN_Northbound', [
          nb.insert('Logical_Switch_Port', { name: 'lsp0', addresses: ['00:00:00:00:00:01 10.0.0.1'] }, 'lsp'),
          nb.insert('Logical_Switch', { name: 'sw0', ports: [namedUuid('lsp')] }),
          nb.select('Logical_Switch', [['name', '==', 'sw0']], ['name', 'ports']),
        ]);
        expect(ls.rows[0].name).to.equal('sw0');
        expect(ls.rows[0].ports).to.have.length(1);
      } finally {
        await client.close();
      }
    });
  });
});

