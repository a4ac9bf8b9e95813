/** Small fixed messages: HELLO, ERROR, ECHO, EXPERIMENTER, FEATURES, CONFIG, ROLE, ASYNC, PORT_MOD. */
import { OFP_VERSION, OFPCR_ROLE, OFPET, OFPHET } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import { formatMac, writeMac } from '../addr.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type { AsyncConfig, ControllerRole, ErrorMsg, FeaturesReply, Hello, PortMod } from '../types.js';

export function encodeHello(w: OfWriter, m: Hello): void {
  if (m.versions.length === 0) return;
  let max = 0;
  for (const v of m.versions) {
    if (!Number.isInteger(v) || v < 1 || v > 255) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `hello version ${v}`);
    if (v > max) max = v;
  }
  const words = (max >> 5) + 1;
  const start = w.pos;
  w.u16(OFPHET.VERSIONBITMAP);
  w.u16(4 + 4 * words);
  for (let i = 0; i < words; i++) {
    let bits = 0;
    for (const v of m.versions) if (v >> 5 === i) bits |= 1 << (v & 31);
    w.u32(bits >>> 0);
  }
  w.pad8(start);
}

export function decodeHello(r: OfReader, xid: number): Hello {
  const versions: number[] = [];
  // Elements are TLVs padded to 8; unknown ones are skipped (OF1.3 7.5.1).
  while (r.remaining >= 4) {
    const at = r.pos;
    const type = r.u16('hello element type');
    const len = r.u16('hello element length');
    if (len < 4) r.fail('OF_DECODE_BAD_LENGTH', `hello element length ${len}`, at);
    const e = r.sub(len - 4, 'hello element');
    r.pos = Math.min(at + ((len + 7) & ~7), r.end);
    if (type !== OFPHET.VERSIONBITMAP) continue;
    for (let word = 0; e.remaining >= 4; word++) {
      const bits = e.u32();
      for (let b = 0; b < 32; b++) if (bits & (1 << b)) versions.push(word * 32 + b);
    }
  }
  return { type: 'hello', xid, versions };
}

export function encodeError(w: OfWriter, m: ErrorMsg): void {
  w.u16(m.errType);
  w.u16(m.errCode);
  if (m.errType === OFPET.EXPERIMENTER) w.u32(m.experimenter ?? 0);
  w.bytes(m.data);
}

export function decodeError(r: OfReader, xid: number): ErrorMsg {
  const errType = r.u16('error type');
  const errCode = r.u16('error code');
  if (errType === OFPET.EXPERIMENTER) {
    const experimenter = r.u32('error experimenter');
    return { type: 'error', xid, errType, errCode, experimenter, data: r.bytes(r.remaining) };
  }
  return { type: 'error', xid, errType, errCode, data: r.bytes(r.remaining) };
}

export function encodeFeaturesReply(w: OfWriter, m: FeaturesReply): void {
  w.u64(m.datapathId);
  w.u32(m.nBuffers);
  w.u8(m.nTables);
  w.u8(m.auxiliaryId);
  w.zeros(2);
  w.u32(m.capabilities);
  w.u32(m.reserved);
}

export function decodeFeaturesReply(r: OfReader, xid: number): FeaturesReply {
  const datapathId = r.u64('datapath_id');
  const nBuffers = r.u32('n_buffers');
  const nTables = r.u8('n_tables');
  const auxiliaryId = r.u8('auxiliary_id');
  r.skip(2);
  return { type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities: r.u32('capabilities'), reserved: r.u32('reserved') };
}

const ROLE_NAME: ControllerRole[] = ['nochange', 'equal', 'master', 'slave'];

export function encodeRole(w: OfWriter, role: ControllerRole, generationId: bigint): void {
  const code = OFPCR_ROLE[role.toUpperCase() as keyof typeof OFPCR_ROLE];
  if (code === undefined) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `unknown controller role ${JSON.stringify(role)}`);
  w.u32(code);
  w.zeros(4);
  w.u64(generationId);
}

export function decodeRole(r: OfReader): { role: ControllerRole; generationId: bigint } {
  const at = r.pos;
  const role = ROLE_NAME[r.u32('role')];
  if (role === undefined) r.fail('OF_DECODE_BAD_VALUE', `unknown controller role ${r.buf.readUInt32BE(at)}`, at);
  r.skip(4);
  return { role, generationId: r.u64('generation_id') };
}

/** OF1.4 async config property types come in (slave, master) pairs, in this order. */
const ASYNC_PROPS = ['packetInMask', 'portStatusMask', 'flowRemovedMask', 'roleStatusMask', 'tableStatusMask', 'requestForwardMask'] as const;

export function encodeAsync(w: OfWriter, m: AsyncConfig, version: number = OFP_VERSION.OF13): void {
  if (version >= OFP_VERSION.OF14) {
    // ofp_async_config_prop_reasonable: type, length 8, mask; type 2k is the slave mask, 2k+1 the master one.
    ASYNC_PROPS.forEach((key, k) => {
      const pair = m[key];
      if (pair === undefined) return;
      for (const [type, mask] of [[2 * k, pair[1]], [2 * k + 1, pair[0]]]) {
        w.u16(type);
        w.u16(8);
        w.u32(mask);
      }
    });
    return;
  }
  w.u32(m.packetInMask[0]);
  w.u32(m.packetInMask[1]);
  w.u32(m.portStatusMask[0]);
  w.u32(m.portStatusMask[1]);
  w.u32(m.flowRemovedMask[0]);
  w.u32(m.flowRemovedMask[1]);
}

export function decodeAsync(r: OfReader, version: number = OFP_VERSION.OF13): AsyncConfig {
  if (version >= OFP_VERSION.OF14) {
    const out: AsyncConfig = { packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [0, 0] };
    while (r.remaining > 0) {
      const at = r.pos;
      const type = r.u16('async property type');
      const len = r.u16('async property length');
      if (len < 4) r.fail('OF_DECODE_BAD_LENGTH', `async property length ${len}`, at);
      const p = r.sub(len - 4, 'async property');
      r.pos = Math.min(at + ((len + 7) & ~7), r.end);
      const key = ASYNC_PROPS[type >> 1];
      // Experimenter properties (0xfffe/0xffff) are not modelled.
      if (key === undefined) continue;
      if (len !== 8) r.fail('OF_DECODE_BAD_LENGTH', `async property ${type} length ${len}`, at);
      const pair = (out[key] ??= [0, 0]);
      pair[type & 1 ? 0 : 1] = p.u32('async mask');
    }
    return out;
  }
  return {
    packetInMask: [r.u32('packet_in_mask'), r.u32('packet_in_mask')],
    portStatusMask: [r.u32('port_status_mask'), r.u32('port_status_mask')],
    flowRemovedMask: [r.u32('flow_removed_mask'), r.u32('flow_removed_mask')],
  };
}

export function encodePortMod(w: OfWriter, m: PortMod): void {
  w.u32(m.portNo);
  w.zeros(4);
  w.ensure(6);
  writeMac(w.buf, w.pos, m.hwAddr, 'hw_addr');
  w.pos += 6;
  w.zeros(2);
  w.u32(m.config);
  w.u32(m.mask);
  w.u32(m.advertise);
  w.zeros(4);
}

export function decodePortMod(r: OfReader, xid: number): PortMod {
  const portNo = r.u32('port_no');
  r.skip(4);
  r.need(8, 'hw_addr');
  const hwAddr = formatMac(r.buf, r.pos);
  r.skip(8);
  const config = r.u32('config');
  const mask = r.u32('mask');
  const advertise = r.u32('advertise');
  r.skip(4);
  return { type: 'port_mod', xid, portNo, hwAddr, config, mask, advertise };
}
