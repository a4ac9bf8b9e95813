/**
 * Table features (OFPMP_TABLE_FEATURES) against ovs-vswitchd and ovs-ofctl:
 * the switch's reply, decoded by us and encoded again, must print (ovs-ofctl
 * ofp-print) exactly as ovs-ofctl prints the switch's own bytes of each part
 * (its -vvconn log of `dump-table-features`), and the typed result must say
 * what `dump-table-features` says of table 0.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  connectSwitch,
  decodeMessage,
  encodeMessage,
  OFPIT,
  OFPMPF,
  OfWriter,
  type MultipartReplyBody,
  type OpenFlowMessage,
  type OpenFlowSwitch,
  type OxmId,
  type TableFeatures,
} from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { sandboxWithBridge } from '../connection/helpers.js';
import { ofpPrint } from './helpers/ofp-print.js';

const run = promisify(execFile);

/** The body lines of each TABLE_FEATURES reply ovs-ofctl received, from its vconn debug log. */
async function ofctlReplies(sb: OvsSandbox): Promise<string[][]> {
  const { stderr } = await run('ovs-ofctl', ['-O', 'OpenFlow13', '-vvconn:dbg', '-vconsole:dbg', 'dump-table-features', sb.mgmtSocket('br0')],
    { env: { ...process.env, OVS_RUNDIR: sb.dir }, maxBuffer: 64 * 1024 * 1024 });
  const replies: string[][] = [];
  let current: string[] | undefined;
  for (const line of stderr.split('\n')) {
    if (/^\d{4}-\d\d-\d\dT/.test(line)) {
      current = line.includes('received: OFPST_TABLE_FEATURES reply') ? [] : undefined;
      if (current) replies.push(current);
    } else if (current && line.trim() !== '') {
      current.push(line.trimEnd());
    }
  }
  return replies;
}

describe('table features against ovs-vswitchd and ovs-ofctl @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let sw: OpenFlowSwitch;

  before(async () => {
    sb = await sandboxWithBridge();
    await sb.vsctl('--', '--id=@t', 'create', 'flow_table', 'name=inbound', '--', 'set', 'bridge', 'br0', 'flow_tables:1=@t');
    sw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: false });
  });
  after(async () => {
    await sw?.close();
    await sb?.stop();
  });

  it('each reply part, decoded and encoded again, prints as ovs-ofctl prints the switch\'s own bytes', async () => {
    const parts: MultipartReplyBody[] = await sw.multipart({ kind: 'table_features', tables: [] });
    const theirs = await ofctlReplies(sb);
    expect(parts.length).to.equal(theirs.length);
    expect(parts.length).to.be.above(1);
    parts.forEach((body, i) => {
      const msg: OpenFlowMessage = { type: 'multipart_reply', xid: 2, flags: i < parts.length - 1 ? OFPMPF.MORE : 0, body };
      const w = new OfWriter();
      encodeMessage(w, msg);
      const bytes = w.take();
      const mine = ofpPrint(bytes).split('\n').slice(1).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
      expect(mine, `part ${i}`).to.deep.equal(theirs[i]);
      expect(decodeMessage(bytes)).to.deep.equal({ ...msg });
    });
  });

  it('tableFeatures() says of table 0 what dump-table-features does', async () => {
    const tables: TableFeatures[] = await sw.tableFeatures();
    expect(tables.map((t) => t.tableId)).to.deep.equal(Array.from({ length: 254 }, (_, i) => i));
    const t0 = tables[0];
    expect(t0).to.deep.include({ tableId: 0, name: '', maxEntries: 1000000, metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn });
    let nextTables: number[] = [];
    let instructions: number[] = [];
    let match: OxmId[] = [];
    for (const p of t0.properties) {
      if (p.type === 'next_tables') nextTables = p.tables;
      else if (p.type === 'instructions') instructions = p.instructions.map((i) => i.type);
      else if (p.type === 'match') match = p.fields;
    }
    expect(nextTables).to.deep.equal(Array.from({ length: 253 }, (_, i) => i + 1));
    // "instructions: meter apply_actions clear_actions write_actions write_metadata goto_table"
    expect(instructions.sort()).to.deep.equal(
      [OFPIT.GOTO_TABLE, OFPIT.WRITE_METADATA, OFPIT.WRITE_ACTIONS, OFPIT.APPLY_ACTIONS, OFPIT.CLEAR_ACTIONS, OFPIT.METER].sort());
    expect(match.map((f) => f.field)).to.include.members(['in_port', 'eth_src', 'vlan_vid', 'ip_src', 'tcp_dst', 'reg0', 'ct_state', 'tun_id']);
    // Fields the codec does not model (NSH, tunnel metadata) keep their header, unnamed.
    expect(match.some((f) => f.field === undefined && f.header !== 0)).to.equal(true);
    const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-table-features', sb.mgmtSocket('br0')], { env: { ...process.env, OVS_RUNDIR: sb.dir }, maxBuffer: 64 * 1024 * 1024 });
    expect(tables[1].name).to.equal('inbound');
    expect(stdout).to.include('table 1 ("inbound"):');
    expect(stdout).to.include('max_entries=1000000');
  });
});
