/** ofp_port (64 bytes), used by PORT_STATUS and the PORT_DESC multipart reply. */
import { OFP_MAX_PORT_NAME_LEN } from '../constants.js';
import { formatMac, writeMac } from '../addr.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type { Port } from '../types.js';

export const OFP_PORT_LEN = 64;

export function encodePort(w: OfWriter, p: Port): void {
  w.u32(p.portNo);
  w.zeros(4);
  w.ensure(8);
  writeMac(w.buf, w.pos, p.hwAddr, 'hw_addr');
  w.pos += 6;
  w.zeros(2);
  w.fixedString(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config);
  w.u32(p.state);
  w.u32(p.curr);
  w.u32(p.advertised);
  w.u32(p.supported);
  w.u32(p.peer);
  w.u32(p.currSpeed);
  w.u32(p.maxSpeed);
}

export function decodePort(r: OfReader): Port {
  r.need(OFP_PORT_LEN, 'ofp_port');
  const portNo = r.u32();
  r.skip(4);
  const hwAddr = formatMac(r.buf, r.pos);
  r.skip(8);
  const name = r.fixedString(OFP_MAX_PORT_NAME_LEN);
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32(),
    state: r.u32(),
    curr: r.u32(),
    advertised: r.u32(),
    supported: r.u32(),
    peer: r.u32(),
    currSpeed: r.u32(),
    maxSpeed: r.u32(),
  };
}
