/**
 * Bundles: OF1.4 OFPT_BUNDLE_CONTROL / OFPT_BUNDLE_ADD_MESSAGE, and the ONF
 * extension Open vSwitch accepts in OpenFlow 1.3 (OFPT_EXPERIMENTER,
 * experimenter ONF, exp_type ONFT_BUNDLE_CONTROL / ONFT_BUNDLE_ADD_MESSAGE)
 * with the same body after the experimenter header. Both decode to the same
 * message types.
 */
import { OFPBCT } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type { BundleControl, BundleCtrlType } from '../types.js';

const CTRL_NAME: BundleCtrlType[] = [
  'open_request',
  'open_reply',
  'close_request',
  'close_reply',
  'commit_request',
  'commit_reply',
  'discard_request',
  'discard_reply',
];

export function encodeBundleControlBody(w: OfWriter, m: BundleControl): void {
  const code = OFPBCT[m.ctrlType.toUpperCase() as keyof typeof OFPBCT];
  if (code === undefined) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `unknown bundle control type ${JSON.stringify(m.ctrlType)}`);
  w.u32(m.bundleId);
  w.u16(code);
  w.u16(m.flags);
  if (m.properties) w.bytes(m.properties);
}

export function decodeBundleControlBody(r: OfReader, xid: number): BundleControl {
  const bundleId = r.u32('bundle_id');
  const at = r.pos;
  const ctrlType = CTRL_NAME[r.u16('bundle ctrl type')];
  if (ctrlType === undefined) r.fail('OF_DECODE_BAD_VALUE', `unknown bundle control type ${r.buf.readUInt16BE(at)}`, at);
  const flags = r.u16('bundle flags');
  const out: BundleControl = { type: 'bundle_control', xid, bundleId, ctrlType, flags };
  if (r.remaining > 0) out.properties = r.bytes(r.remaining);
  return out;
}
