/**
 * A desired flow's flow-mod carries no match object: the encoder has it
 * write the match's OXM TLVs from the flow's key (FlowMod.writeOxm). Its
 * bytes must be those of the same flow-mod with the match as an object,
 * the codec's own encoding, whatever the fields (masked, IPv6, NXM, the
 * experimenter-class OXM with its 8-byte header).
 */
import { expect } from 'chai';
import { apply, output, resubmit } from '../../lib/flows/actions.js';
import { addOf, deleteOf, flow, type DesiredFlow } from '../../lib/flows/flow.js';
import { address, ctState, dstPort, ethType, inPort, ipProto, matchPart, reg } from '../../lib/flows/match.js';
import { OfWriter, decodeMessage, encodeMessage, type FlowMod } from '@ovs-agent/openflow';

function bytes(m: FlowMod): Buffer {
  const w = new OfWriter(256);
  encodeMessage(w, m);
  return Buffer.from(w.take());
}

/** The same flow-mod with its match as an object and nothing written from a key. */
function withMatchObject(m: FlowMod): FlowMod {
  return { ...m, match: m.match, writeOxm: undefined };
}

const flows: DesiredFlow[] = [
  flow(0, 0, [], apply()),
  flow(60, 100, [inPort(7)], apply(output(1))),
  flow(71, 65, [inPort(7), reg(5, 7), ethType(0x0800), address('ip_src', '10.0.0.0/8')!], apply(resubmit(72))),
  flow(72, 73, [reg(5, 7), ethType(0x86dd), address('ipv6_src', '2001:db8::/33')!, ipProto(6), dstPort(6, 0x1f40, 0xffc0), ctState('+est-rel-rpl')], apply(output(7))),
  flow(3, 9, [ethType(0x0800), ipProto(6), matchPart('tcp_flags', { value: 2, mask: 0x12 })], apply(output(2))),
];

describe('flow-mods written from a flow\'s key (lib/flows)', () => {
  it('encode the bytes of the same flow-mod with its match as an object, adds and strict deletes', () => {
    for (const f of flows) {
      for (const m of [addOf(f, 0xabcn), deleteOf(f.key), deleteOf(f.key, 0xabcn)]) {
        expect(m.writeOxm, 'written from the key').to.be.a('function');
        expect(bytes(m).equals(bytes(withMatchObject(m))), `${m.command} table=${m.tableId} priority=${m.priority}`).to.equal(true);
      }
    }
  });

  it('read back as the match they were built with, and a copy of one encodes the same', () => {
    const f = flows[3];
    const m = addOf(f, 1n);
    const back = decodeMessage(bytes(m));
    if (back.type !== 'flow_mod') throw new Error(`decoded as ${back.type}`);
    expect(back.match).to.deep.equal(m.match);
    expect(m.match).to.include({ reg5: 7, eth_type: 0x86dd, ip_proto: 6 });
    expect(bytes({ ...m, xid: 9 }).subarray(8).equals(bytes(m).subarray(8))).to.equal(true);
  });
});
