/**
 * The flow monitor's messages in OpenFlow 1.3 (ONF experimenter multipart
 * 1870 and messages 1870-1872, as Open vSwitch speaks them): our bytes
 * printed by `ovs-ofctl ofp-print` must read as what we meant, the bytes
 * ovs-ofctl itself sends for `monitor` must decode to the request we expect,
 * and decoding our encoding gives the message back.
 */
import { expect } from 'chai';
import { decodeMessage, encodeMessage, NXFMF, OFPP, OFPTT, OfWriter, parseFlow } from '@ovs-agent/openflow';
import type { FlowUpdate, OpenFlowMessage } from '@ovs-agent/openflow';
import { captureOfctl } from './helpers/ofctl-capture.js';
import { ofpPrint } from './helpers/ofp-print.js';

function encode(msg: OpenFlowMessage): Buffer {
  const w = new OfWriter();
  encodeMessage(w, msg);
  return w.take();
}

const ALL = NXFMF.INITIAL | NXFMF.ADD | NXFMF.DELETE | NXFMF.MODIFY | NXFMF.ACTIONS | NXFMF.OWN;
const fm = parseFlow('priority=5,in_port=1,actions=output:2');

describe('flow monitor codec (ONF 1870 in OpenFlow 1.3), against ovs-ofctl ofp-print', function () {
  // Child processes (ovs-ofctl, tshark, Python): slow to start on a loaded machine.
  this.timeout(30_000);
  it('a request with two monitors prints as OVS reads it and decodes back', () => {
    const msg: OpenFlowMessage = {
      type: 'multipart_request', xid: 6, flags: 0, body: {
        kind: 'flow_monitor', monitors: [
          { id: 1, flags: ALL, outPort: OFPP.ANY, tableId: OFPTT.ALL, match: {} },
          { id: 2, flags: NXFMF.ADD, outPort: 2, tableId: 3, match: { in_port: 1, eth_type: 0x800 } },
        ],
      },
    };
    const bytes = encode(msg);
    expect(ofpPrint(bytes).split('\n')).to.deep.equal([
      'ONFST_FLOW_MONITOR request (OF1.3) (xid=0x6):',
      ' id=1 flags=initial,add,delete,modify,actions,own',
      ' id=2 flags=add out_port=2 table=3 ip,in_port=1',
    ]);
    expect(decodeMessage(bytes)).to.deep.equal(msg);
  });

  it('decodes the request ovs-ofctl sends for `monitor br watch:`', async () => {
    const cap = await captureOfctl('monitor', ['watch:'], { protocol: 'OpenFlow13' });
    const requests = cap.messages.map(decodeMessage).filter((m) => m.type === 'multipart_request' && m.body.kind === 'flow_monitor');
    expect(requests).to.have.length(1);
    const body = requests[0].type === 'multipart_request' ? requests[0].body : undefined;
    expect(body).to.deep.include({ kind: 'flow_monitor' });
    expect(body?.kind === 'flow_monitor' ? body.monitors.map(({ id: _id, ...m }) => m) : undefined).to.deep.equal([
      { flags: ALL, outPort: OFPP.ANY, tableId: OFPTT.ALL, match: {} },
    ]);
  });

  it('updates of every kind print as OVS prints them and decode back', () => {
    const updates: FlowUpdate[] = [
      { event: 'added', reason: 0, priority: 5, idleTimeout: 0, hardTimeout: 0, tableId: 0, cookie: 5n, match: fm.match, instructions: fm.instructions },
      { event: 'deleted', reason: 2, priority: 5, idleTimeout: 10, hardTimeout: 0, tableId: 1, cookie: 0n, match: fm.match, instructions: [] },
      { event: 'modified', reason: 0, priority: 9, idleTimeout: 0, hardTimeout: 30, tableId: 0, cookie: 0xffn, match: {}, instructions: [] },
      { event: 'abbrev', xid: 0x1234 },
    ];
    const msg: OpenFlowMessage = { type: 'multipart_reply', xid: 0, flags: 0, body: { kind: 'flow_monitor', updates } };
    const bytes = encode(msg);
    expect(ofpPrint(bytes).split('\n').map((l) => l.trimEnd())).to.deep.equal([
      'ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x0):',
      ' event=ADDED table=0 cookie=0x5 in_port=1 actions=output:2',
      ' event=DELETED reason=delete table=1 idle_timeout=10 cookie=0 in_port=1',
      ' event=MODIFIED table=0 hard_timeout=30 cookie=0xff',
      ' event=ABBREV xid=0x1234',
    ]);
    expect(decodeMessage(bytes)).to.deep.equal(msg);
  });

  it('cancel, paused and resumed print as ONFT 1870-1872 and decode back', () => {
    const cases: [OpenFlowMessage, string][] = [
      [{ type: 'flow_monitor_cancel', xid: 3, id: 7 }, 'ONFT_FLOW_MONITOR_CANCEL (OF1.3) (xid=0x3): id=7'],
      [{ type: 'flow_monitor_paused', xid: 0 }, 'ONFT_FLOW_MONITOR_PAUSED (OF1.3) (xid=0x0):'],
      [{ type: 'flow_monitor_resumed', xid: 0 }, 'ONFT_FLOW_MONITOR_RESUMED (OF1.3) (xid=0x0):'],
    ];
    for (const [msg, text] of cases) {
      const bytes = encode(msg);
      expect(ofpPrint(bytes)).to.equal(text);
      expect(decodeMessage(bytes)).to.deep.equal(msg);
    }
  });

  it('refuses a monitor that asks for no event, and a truncated update, with typed errors', () => {
    expect(() => encode({ type: 'multipart_request', flags: 0, body: { kind: 'flow_monitor', monitors: [{ id: 1, flags: NXFMF.INITIAL, outPort: OFPP.ANY, tableId: OFPTT.ALL, match: {} }] } }))
      .to.throw().with.property('code', 'OF_ENCODE_BAD_VALUE');
    const bytes = encode({ type: 'multipart_reply', xid: 0, flags: 0, body: { kind: 'flow_monitor', updates: [{ event: 'abbrev', xid: 1 }] } });
    bytes.writeUInt16BE(16, 24); // the update claims 16 bytes; 8 are there
    expect(() => decodeMessage(bytes)).to.throw().with.property('code').that.matches(/^OF_DECODE_/);
  });
});
