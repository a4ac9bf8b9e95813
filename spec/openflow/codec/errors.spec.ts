/** Typed errors: encode errors name the field, decode errors carry a code and the offset. */
import { expect } from 'chai';
import {
  decodeMessage,
  describeErrorMsg,
  encodeMessage,
  flowMod,
  NXET_VENDOR,
  OfWriter,
  OpenFlowDecodeError,
  OpenFlowEncodeError,
  OpenFlowError,
} from '@ovs-agent/openflow';
import type { FlowMod, Match, OpenFlowMessage } from '@ovs-agent/openflow';
import { apply, sf } from './helpers/build.js';

function encodeError(msg: OpenFlowMessage): OpenFlowEncodeError {
  try {
    encodeMessage(new OfWriter(64), msg);
  } catch (err) {
    expect(err).to.be.instanceOf(OpenFlowEncodeError);
    return err as OpenFlowEncodeError;
  }
  throw new Error('expected an OpenFlowEncodeError');
}

const withMatch = (match: Match): FlowMod => flowMod({ match });

describe('openflow codec: errors', () => {
  describe('encoding', () => {
    it('checks prerequisites and names the field and what it needs', () => {
      const cases: [Match, string, RegExp][] = [
        [{ tcp_dst: 80 }, 'tcp_dst', /tcp_dst requires eth_type=ip\/ipv6 and ip_proto=6/],
        [{ eth_type: 0x0800, ip_proto: 17, tcp_src: 1 }, 'tcp_src', /ip_proto=6/],
        [{ ip_src: '10.0.0.1' }, 'ip_src', /eth_type=0x0800/],
        [{ eth_type: 0x86dd, ip_src: '10.0.0.1' }, 'ip_src', /eth_type=0x0800/],
        [{ arp_tpa: '10.0.0.1' }, 'arp_tpa', /0x0806/],
        [{ vlan_pcp: 3 }, 'vlan_pcp', /vlan_vid/],
        [{ eth_type: 0x86dd, ip_proto: 58, nd_sll: 'fa:16:3e:00:00:01' }, 'nd_sll', /icmpv6_type=135/],
        [{ eth_type: 0x0800, ct_nw_src: '10.0.0.1' }, 'ct_nw_src', /ct_state=\+trk-inv/],
        [{ eth_type: 0x0800, ct_state: { value: 0x20, mask: 0x20 }, ct_tp_src: 1 }, 'ct_tp_src', /ct_state=\+trk-inv/],
        // +inv, or a valid-state bit matched as 0, is no valid connection (OVS's is_ct_valid).
        [{ eth_type: 0x0800, ct_state: { value: 0x30, mask: 0x30 }, ct_nw_src: '10.0.0.1' }, 'ct_nw_src', /ct_state=\+trk-inv/],
        [{ eth_type: 0x86dd, ct_state: { value: 0x20, mask: 0x22 }, ct_ipv6_src: '::1' }, 'ct_ipv6_src', /ct_state=\+trk-inv/],
        [{ tcp_flags: 2 }, 'tcp_flags', /ip_proto=6/],
        [{ mpls_label: 1 }, 'mpls_label', /0x8847/],
      ];
      for (const [match, field, text] of cases) {
        const err = encodeError(withMatch(match));
        expect(err.code).to.equal('OF_ENCODE_PREREQUISITE');
        expect(err.field).to.equal(field);
        expect(err.message).to.match(text);
      }
    });

    it('accepts the same fields once the prerequisites are there', () => {
      encodeMessage(new OfWriter(), withMatch({ eth_type: 0x0800, ip_proto: 6, tcp_dst: 80, tcp_flags: 2 }));
      encodeMessage(new OfWriter(), withMatch({ vlan_vid: 0x1005, vlan_pcp: 3 }));
      encodeMessage(new OfWriter(), withMatch({ eth_type: 0x0800, ct_state: { value: 0x20, mask: 0x30 }, ct_nw_src: '10.0.0.1' }));
      encodeMessage(new OfWriter(), withMatch({ eth_type: 0x86dd, ct_state: { value: 0x02, mask: 0x02 }, ct_ipv6_src: '::1' }));
      encodeMessage(new OfWriter(), withMatch({ eth_type: 0x0800, ct_state: { value: 0x80, mask: 0x80 }, ct_nw_proto: 6, ct_tp_dst: 80 }));
    });

    it('rejects unknown fields, masks on unmaskable fields and malformed values, naming the field', () => {
      const cases: [FlowMod, string, string][] = [
        [withMatch({ nope: 1 } as unknown as Match), 'OF_ENCODE_UNKNOWN_FIELD', 'nope'],
        [withMatch({ in_port: { value: 1, mask: 1 } }), 'OF_ENCODE_NOT_MASKABLE', 'in_port'],
        [withMatch({ eth_src: 'fa:16:3e:00:00' }), 'OF_ENCODE_BAD_VALUE', 'eth_src'],
        [withMatch({ eth_type: 0x0800, ip_dst: '10.0.0.256' }), 'OF_ENCODE_BAD_VALUE', 'ip_dst'],
        [withMatch({ eth_type: 0x86dd, ipv6_src: '2001:db8::1::2' }), 'OF_ENCODE_BAD_VALUE', 'ipv6_src'],
        [withMatch({ reg0: 2 ** 32 }), 'OF_ENCODE_BAD_VALUE', 'reg0'],
        [withMatch({ reg0: -1 }), 'OF_ENCODE_BAD_VALUE', 'reg0'],
        [withMatch({ tun_id: 5 as unknown as bigint }), 'OF_ENCODE_BAD_VALUE', 'tun_id'],
        [withMatch({ ct_zone: 0x10000 }), 'OF_ENCODE_BAD_VALUE', 'ct_zone'],
        [flowMod({ instructions: apply({ type: 'set_field', field: 'eth_dst', value: 'zz:16:3e:00:00:01' }) }), 'OF_ENCODE_BAD_VALUE', 'eth_dst'],
        [flowMod({ instructions: apply({ type: 'reg_load', dst: sf('reg0', 28, 8), value: 1n }) }), 'OF_ENCODE_BAD_VALUE', 'reg0'],
        [flowMod({ instructions: apply({ type: 'reg_load', dst: sf('reg0', 0, 4), value: 16n }) }), 'OF_ENCODE_BAD_VALUE', 'reg0'],
        [flowMod({ instructions: apply({ type: 'set_field', field: 'bogus' as 'reg0', value: 1 }) }), 'OF_ENCODE_UNKNOWN_FIELD', 'bogus'],
      ];
      for (const [msg, code, field] of cases) {
        const err = encodeError(msg);
        expect(err.code, field).to.equal(code);
        expect(err.field, code).to.equal(field);
        expect(err.message).to.include(field);
      }
    });

    it('rejects inconsistent actions', () => {
      const move = encodeError(flowMod({ instructions: apply({ type: 'reg_move', src: sf('reg0', 0, 16), dst: sf('reg1', 0, 8) }) }));
      expect(move.code).to.equal('OF_ENCODE_BAD_VALUE');
      const conj = encodeError(flowMod({ instructions: apply({ type: 'conjunction', id: 1, clause: 3, nClauses: 2 }) }));
      expect(conj.message).to.match(/clause 3\/2/);
      const port = encodeError(flowMod({ instructions: apply({ type: 'resubmit', port: 0x1ffff, table: 1, ct: false }) }));
      expect(port.message).to.match(/16-bit/);
      const zone = encodeError(
        flowMod({ instructions: apply({ type: 'ct', commit: false, force: false, zone: sf('reg0', 0, 8), recircTable: 255, alg: 0, actions: [] }) }),
      );
      expect(zone.field).to.equal('reg0');
    });

    it('range-checks header fields and the common actions, naming them', () => {
    const cases: [FlowMod, string][] = [
      [flowMod({ priority: 70000 }), 'priority'],
      [flowMod({ tableId: 256 }), 'table_id'],
      [flowMod({ idleTimeout: -1 }), 'idle_timeout'],
      [flowMod({ outPort: 1.5 }), 'out_port'],
      [flowMod({ cookie: -1n }), 'cookie'],
      [flowMod({ instructions: apply({ type: 'output', port: 2 ** 32, maxLen: 0 }) }), 'output port'],
      [flowMod({ instructions: [{ type: 'goto_table', tableId: 300 }] }), 'goto_table'],
    ];
    for (const [msg, field] of cases) {
      const err = encodeError(msg);
      expect(err.code, field).to.equal('OF_ENCODE_BAD_VALUE');
      expect(err.field).to.equal(field);
    }
  });

  it('refuses messages longer than 65535 bytes', () => {
      const err = encodeError({ type: 'echo_request', data: Buffer.alloc(70_000) });
      expect(err.code).to.equal('OF_ENCODE_TOO_LONG');
    });
  });

  describe('decoding', () => {
    function decodeError(hex: string): OpenFlowDecodeError {
      try {
        decodeMessage(Buffer.from(hex, 'hex'));
      } catch (err) {
        expect(err).to.be.instanceOf(OpenFlowDecodeError);
        return err as OpenFlowDecodeError;
      }
      throw new Error('expected an OpenFlowDecodeError');
    }

    it('reports truncation, length mismatches and unknown fields with code and offset', () => {
      expect(decodeError('0400').code).to.equal('OF_DECODE_TRUNCATED');
      expect(decodeError('0402000c00000001').code).to.equal('OF_DECODE_BAD_LENGTH');
      // FEATURES_REPLY cut short inside the body.
      const trunc = decodeError('0406001000000001' + '0000000000000001');
      expect(trunc.code).to.equal('OF_DECODE_TRUNCATED');
      expect(trunc.offset).to.equal(16);
      // A flow_mod whose match holds OXM class 0x8000 field 60.
      const w = new OfWriter();
      encodeMessage(w, flowMod({ match: { in_port: 1 } }));
      const b = w.take();
      b.writeUInt32BE(0x80007804, 0x34);
      const unknown = decodeError(b.toString('hex'));
      expect(unknown.code).to.equal('OF_DECODE_UNKNOWN_FIELD');
      expect(unknown.offset).to.equal(0x34);
      expect(unknown.message).to.match(/class 0x8000 field 60/);
    });

    it('rejects OpenFlow 1.0 bodies rather than misreading them', () => {
      expect(decodeError('010e00080000000a').code).to.equal('OF_DECODE_BAD_VERSION');
    });
  });

  describe('switch errors', () => {
    it('names OF1.0-style Nicira vendor errors (NXET_VENDOR) and extracts the quoted request', () => {
      const data = Buffer.concat([Buffer.from('0000232000010101', 'hex'), Buffer.from('0414000800000009', 'hex')]);
      const e = { type: 'error' as const, xid: 9, errType: NXET_VENDOR, errCode: 0, data };
      const err = new OpenFlowError(e);
      expect(err.code).to.equal('OF_SWITCH_ERROR');
      expect(err.typeName).to.equal('OFPET_EXPERIMENTER');
      expect(err.experimenter).to.equal(0x2320);
      expect(err.data.toString('hex')).to.equal('0414000800000009');
      expect(describeErrorMsg({ type: 'error', errType: 4, errCode: 9, data: Buffer.alloc(0) })).to.equal('OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ');
    });
  });
});
