/**
 * The flow monitor against a real ovs-vswitchd: another client (ovs-ofctl)
 * adds, modifies and deletes flows; our monitor must see every change, and
 * see it as `ovs-ofctl monitor BR watch:` (run alongside, the oracle) does.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectSwitch, formatInstructions, formatMatch, OFPRR, type FlowMonitor, type FlowUpdate, type FlowUpdateFull, type OpenFlowSwitch } from '@ovs-agent/openflow';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { sandboxWithBridge, until } from './helpers.js';

const REASONS: Record<number, string> = { [OFPRR.IDLE_TIMEOUT]: 'idle', [OFPRR.HARD_TIMEOUT]: 'hard', [OFPRR.DELETE]: 'delete' };

/** An update as `ovs-ofctl monitor` prints it (ofputil_flow_update_format). */
function asOfctl(u: FlowUpdate): string {
  if (u.event === 'abbrev') return `event=ABBREV xid=0x${u.xid.toString(16)}`;
  const ev = u.event === 'deleted' ? `DELETED reason=${REASONS[u.reason] ?? u.reason}` : u.event.toUpperCase();
  let s = `event=${ev} table=${u.tableId}`;
  if (u.idleTimeout) s += ` idle_timeout=${u.idleTimeout}`;
  if (u.hardTimeout) s += ` hard_timeout=${u.hardTimeout}`;
  s += ` cookie=${u.cookie ? `0x${u.cookie.toString(16)}` : '0'}`;
  const match = formatMatch(u.match);
  if (match) s += ` ${match}`;
  if (u.instructions.length > 0) s += ` actions=${formatInstructions(u.instructions)}`;
  return s;
}

describe('flow monitor against ovs-vswitchd @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox;
  let sw: OpenFlowSwitch;
  let oracle: ChildProcess | undefined;

  before(async () => {
    sb = await sandboxWithBridge();
  });
  after(async () => {
    await sb?.stop();
  });
  beforeEach(async () => {
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br0');
    sw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: false });
  });
  afterEach(async () => {
    if (oracle && oracle.exitCode === null) oracle.kill('SIGKILL');
    oracle = undefined;
    await sw?.close();
  });

  /** `ovs-ofctl monitor br0 watch:`'s update lines, as they come. */
  async function startOracle(): Promise<string[]> {
    const lines: string[] = [];
    oracle = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'monitor', sb.mgmtSocket('br0'), 'watch:'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVS_RUNDIR: sb.dir } });
    // ovs-ofctl prints the request's reply on stdout and the unsolicited updates after it on stderr.
    for (const stream of [oracle.stdout!, oracle.stderr!]) {
      createInterface({ input: stream }).on('line', (l) => {
        if (l.startsWith(' event=')) lines.push(l.trim());
        else if (l.startsWith('ONFST_FLOW_MONITOR reply')) lines.push('(reply)');
      });
    }
    // The oracle's monitor is running once its (empty) initial reply is printed.
    await until(() => (lines.includes('(reply)') ? true : undefined), 'ovs-ofctl monitor started');
    return lines;
  }

  it('lists the flows present at the start, then sees every add, modify and delete by another client as ovs-ofctl monitor does', async () => {
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'table=3,priority=7,ip,actions=drop');
    const seen: string[] = [];
    const mon = await sw.monitorFlows();
    expect(mon.initial.map(asOfctl)).to.deep.equal(['event=ADDED table=3 cookie=0 ip']);
    const byKind = { added: 0, deleted: 0, modified: 0 };
    mon.handle('added', (u: FlowUpdateFull) => void byKind[u.event]++);
    mon.handle('modified', (u) => void byKind[u.event]++);
    mon.handle('deleted', (u) => void byKind[u.event]++);
    mon.on('update', (u: FlowUpdate) => seen.push(asOfctl(u)));
    const oracleLines = await startOracle();

    const N = 200;
    const file = join(sb.dir, 'flows.txt');
    writeFileSync(file, Array.from({ length: N }, (_, i) => `cookie=0x${(i + 1).toString(16)},idle_timeout=300,priority=10,tcp,tp_dst=${i + 1},actions=output:2\n`).join(''));
    await sb.ofctl('-O', 'OpenFlow13', 'add-flows', 'br0', file);
    await sb.ofctl('-O', 'OpenFlow13', 'mod-flows', 'br0', 'tcp,tp_dst=7,actions=output:1');
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br0', 'tcp');
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'table=1,hard_timeout=60,cookie=0xabc,priority=3,in_port=2,dl_vlan=5,actions=strip_vlan,goto_table:2');

    const total = N + 1 + N + 1;
    // The oracle started after ours: its initial reply lists the table 3 flow too; its updates follow.
    const oracleUpdates = (): string[] => oracleLines.filter((l) => l !== '(reply)').slice(mon.initial.length);
    await until(() => (seen.length >= total ? true : undefined), `${total} updates (have ${seen.length})`);
    await until(() => (oracleUpdates().length >= total ? true : undefined), 'the oracle\'s updates');
    expect(oracleLines.filter((l) => l !== '(reply)').slice(0, mon.initial.length)).to.deep.equal(mon.initial.map(asOfctl));
    expect(byKind).to.deep.equal({ added: N + 1, modified: 1, deleted: N });
    expect(seen).to.deep.equal(oracleUpdates());
    expect(seen).to.include('event=MODIFIED table=0 idle_timeout=300 cookie=0x7 tcp,tp_dst=7 actions=output:1');
    expect(seen.at(-1)).to.equal('event=ADDED table=1 hard_timeout=60 cookie=0xabc in_port=2,dl_vlan=5 actions=pop_vlan,goto_table:2');
    expect(mon.received).to.equal(total);
  });

  it('watches one table and one kind of change only, as asked', async () => {
    const mon = await sw.monitorFlows({ tableId: 4, events: ['deleted'], instructions: false, initial: false });
    const seen: FlowUpdate[] = [];
    mon.on('update', (u: FlowUpdate) => seen.push(u));
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'table=4,priority=1,actions=drop');
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'table=5,priority=1,actions=drop');
    await sb.ofctl('-O', 'OpenFlow13', 'del-flows', 'br0');
    await until(() => (seen.length >= 1 ? true : undefined), 'the delete in table 4');
    // A witness monitor on another session sees all four changes; once it has, ours has had its chance.
    const witnessSw = await connectSwitch(`unix:${sb.mgmtSocket('br0')}`, { reconnect: false });
    try {
      const witness = await witnessSw.monitorFlows();
      let n = 0;
      witness.on('update', () => n++);
      await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'table=4,priority=2,actions=drop');
      await until(() => (n >= 1 ? true : undefined), 'the witness sees the add');
    } finally {
      await witnessSw.close();
    }
    expect(seen.map((u) => (u.event === 'abbrev' ? u : [u.event, u.tableId, u.instructions]))).to.deep.equal([['deleted', 4, []]]);
  });

  it('a cancelled monitor hears nothing more and closes; one whose session drops closes with the error', async () => {
    const mon: FlowMonitor = await sw.monitorFlows();
    const seen: FlowUpdate[] = [];
    mon.on('update', (u: FlowUpdate) => seen.push(u));
    const closed = new Promise<unknown>((r) => mon.once('close', r));
    mon.cancel();
    expect(await closed).to.equal(undefined);
    const witness = await sw.monitorFlows({ initial: false });
    let n = 0;
    witness.on('update', () => n++);
    await sb.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', 'priority=1,actions=drop');
    await until(() => (n >= 1 ? true : undefined), 'the second monitor sees the add');
    expect(seen).to.deep.equal([]);
    const dropped = new Promise<unknown>((r) => witness.once('close', r));
    sw.connection!.destroy(new Error('gone'));
    expect(await dropped).to.have.property('message', 'gone');
  });

  it('a monitor id already running on the session is refused at once with a typed error, and free again once cancelled', async () => {
    // OVS 3.1 answers this with an error quoting xid 0: sent, the request would wait for its timeout.
    const first = await sw.monitorFlows({ id: 77 });
    const err = await sw.monitorFlows({ id: 77 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.have.property('code', 'OF_CONN_MONITOR_EXISTS');
    first.cancel();
    await sw.barrier();
    const again = await sw.monitorFlows({ id: 77 });
    expect(again.id).to.equal(77);
  });

  it('a signal aborts the start, and, fired later, cancels the monitor', async () => {
    const err = await sw.monitorFlows({ signal: AbortSignal.abort() }).then(() => undefined, (e: unknown) => e);
    expect(err).to.have.property('code', 'OF_CONN_ABORTED');
    const ac = new AbortController();
    const mon = await sw.monitorFlows({ signal: ac.signal, id: 5 });
    const closed = new Promise<unknown>((r) => mon.once('close', r));
    ac.abort();
    expect(await closed).to.equal(undefined);
    // Cancelled on the switch too: the id is free again.
    await sw.barrier();
    expect((await sw.monitorFlows({ id: 5 })).id).to.equal(5);
  });
});
