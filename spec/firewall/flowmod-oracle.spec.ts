/**
 * The flow-mods the agent actually sends for the firewall (through br-int's
 * flow table and the installer's flowModsOf, as one pass's bundle holds
 * them), encoded to bytes and printed by ovs-ofctl (`ofp-parse`), must read
 * exactly as what ovs-ofctl itself makes of the same flows' text view
 * (`parse-flows`): OVS is the oracle of both the encoding and the text.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { flowText, keyText } from '../../lib/flows/flow.js';
import { FlowTable } from '../../lib/flows/flow-table.js';
import { flowModsOf } from '../../lib/flows/installer.js';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall } from '../../lib/firewall/index.js';
import { OfWriter, encodeMessage } from '@ovs-agent/openflow';
import { vmPort } from './helpers.js';

const COOKIE = 0x5eedn;
const rule = (r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: 'web', ...r });

function info(extra: SecurityGroupRule[], members: string[]): SecurityGroupInfo {
  return {
    rules: {
      web: [
        rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 1000, portRangeMax: 1999, remoteIpPrefix: '10.0.0.0/8' }),
        rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteGroupId: 'web' }),
        rule({ direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128, portRangeMax: 0 }),
        rule({ direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }),
        rule({ direction: 'egress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }),
        ...extra,
      ],
    },
    stateful: { web: true },
    members: { web: { IPv4: members.map((ip) => [ip, null] as [string, null]), IPv6: [] } },
  };
}

/** What ovs-ofctl prints for each message of `bytes`, one flow-mod a line, xids left out. */
function ofpParse(dir: string, bytes: Buffer): string[] {
  const file = join(dir, 'msgs.bin');
  writeFileSync(file, bytes);
  return flowModLines(execFileSync('ovs-ofctl', ['ofp-parse', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

/** What ovs-ofctl makes of flows written as text (added with `command` spelled as ofp-print does). */
function parseFlows(dir: string, lines: string[]): string[] {
  const file = join(dir, 'flows.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  return flowModLines(execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flows', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

/** `OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD table:60 …` → `ADD table:60 …`: one line per flow-mod. */
function flowModLines(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('OFPT_FLOW_MOD')).map((l) => l.replace(/^OFPT_FLOW_MOD \(OF1\.3\) \(xid=0x[0-9a-f]+\): /, ''));
}

/** The bundle a pass would send for what the firewall put in the table, and the same flows' text. */
function bundleOf(table: FlowTable) {
  const taken = table.takeChanges();
  const mods = [...flowModsOf(taken, COOKIE)];
  const texts = { adds: taken.adds.map((f) => flowText(f)), deletes: taken.deletes.map((k) => keyText(k)) };
  table.commit(taken);
  return { taken, mods, texts };
}

function encodeAll(mods: ReturnType<typeof bundleOf>['mods']): Buffer {
  const w = new OfWriter(1 << 20);
  const parts: Buffer[] = [];
  for (const m of mods) {
    w.reset();
    encodeMessage(w, m);
    parts.push(Buffer.from(w.take()));
  }
  return Buffer.concat(parts);
}

describe('firewall flow-mods as sent, read by ovs-ofctl', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fw-ofp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the encoded adds and strict deletes print exactly as ovs-ofctl parses the flows\' text, initially and after an update', () => {
    const table = new FlowTable('br-int', COOKIE);
    const fw = new OvsFirewall({ flows: table, permittedEthertypes: ['0x4008'] });
    const ports = [
      vmPort(1, { securityGroups: ['web'], fixedIps: ['10.0.0.1', '2001:db8::1'], allowedAddressPairs: [{ macAddress: 'fa:16:3e:aa:00:01', ipAddress: '10.0.9.0/24' }] }),
      vmPort(2, { securityGroups: ['web'], networkType: 'vlan', segmentationId: 100, lvid: 4 }),
      vmPort(3, { securityGroups: [], portSecurityEnabled: false }),
    ];
    fw.initialize();
    fw.updateSecurityGroupInfo(info([], ['10.0.0.1', '10.0.0.2']));
    fw.setupPortFilters(ports);
    fw.flush();
    const first = bundleOf(table);
    expect(first.taken.deletes).to.have.length(0);
    expect(first.mods.length).to.be.greaterThan(100);

    fw.updateSecurityGroupInfo(info([rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 })], ['10.0.0.1']));
    fw.updatePortFilters(ports.slice(0, 2));
    fw.removePortFilters([ports[2].portId]);
    fw.flush();
    const second = bundleOf(table);
    expect(second.taken.deletes.length, 'the update deletes flows').to.be.greaterThan(0);
    expect(second.taken.adds.length, 'the update adds flows').to.be.greaterThan(0);

    for (const { mods, texts } of [first, second]) {
      const ours = ofpParse(dir, encodeAll(mods));
      expect(ours).to.have.length(mods.length);
      // The same flows written as text, parsed by ovs-ofctl: adds with the bridge's cookie, deletes by their identity.
      const addText = parseFlows(dir, texts.adds.map((t) => `cookie=0x${COOKIE.toString(16)},${t}`));
      const delText = parseFlows(dir, texts.deletes.map((t) => `${t},actions=drop`))
        .map((l) => l.replace(/^ADD /, 'DEL_STRICT '));
      const want = [...addText, ...delText];
      const diff = ours.flatMap((l, i) => (l === want[i] ? [] : [`ours:  ${l}\novs:   ${want[i]}`]));
      expect(diff, 'flow-mods ovs-ofctl reads differently from the text').to.deep.equal([]);
    }
  });
});
