/**
 * Port descriptions, used by PORT_STATUS and the PORT_DESC multipart reply:
 * ofp_port (64 bytes) in OpenFlow 1.3, ofp14_port (a 40-byte head plus
 * properties, the Ethernet one carrying the features and speeds) from 1.4.
 */
import { OFP_MAX_PORT_NAME_LEN, OFP_VERSION } from '../constants.js';
import { formatMac, writeMac } from '../addr.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type { Port } from '../types.js';

export const OFP_PORT_LEN = 64;
const OFP14_PORT_HEAD_LEN = 40;
/** ofp_port_desc_prop_type. */
const OFPPDPT_ETHERNET = 0;
const OFP14_PORT_DESC_PROP_ETHERNET_LEN = 32;

export function encodePort(w: OfWriter, p: Port, version: number = OFP_VERSION.OF13): void {
  w.u32(p.portNo);
  if (version >= OFP_VERSION.OF14) {
    w.u16(OFP14_PORT_HEAD_LEN + OFP14_PORT_DESC_PROP_ETHERNET_LEN);
    w.u16(0);
  } else {
    w.zeros(4);
  }
  w.ensure(8);
  writeMac(w.buf, w.pos, p.hwAddr, 'hw_addr');
  w.pos += 6;
  w.zeros(2);
  w.fixedString(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config);
  w.u32(p.state);
  if (version >= OFP_VERSION.OF14) {
    w.u16(OFPPDPT_ETHERNET);
    w.u16(OFP14_PORT_DESC_PROP_ETHERNET_LEN);
    w.zeros(4);
  }
  w.u32(p.curr);
  w.u32(p.advertised);
  w.u32(p.supported);
  w.u32(p.peer);
  w.u32(p.currSpeed);
  w.u32(p.maxSpeed);
}

function head(r: OfReader, portNo: number): Pick<Port, 'portNo' | 'hwAddr' | 'name' | 'config' | 'state'> {
  r.need(8, 'hw_addr');
  const hwAddr = formatMac(r.buf, r.pos);
  r.skip(8);
  const name = r.fixedString(OFP_MAX_PORT_NAME_LEN, 'port name');
  return { portNo, hwAddr, name, config: r.u32('config'), state: r.u32('state') };
}

export function decodePort(r: OfReader, version: number = OFP_VERSION.OF13): Port {
  if (version >= OFP_VERSION.OF14) return decodePort14(r);
  r.need(OFP_PORT_LEN, 'ofp_port');
  const portNo = r.u32();
  r.skip(4);
  return {
    ...head(r, portNo),
    curr: r.u32(),
    advertised: r.u32(),
    supported: r.u32(),
    peer: r.u32(),
    currSpeed: r.u32(),
    maxSpeed: r.u32(),
  };
}

/** One ofp14_port (reader at its start); unknown properties (optical) are skipped. */
function decodePort14(r: OfReader): Port {
  const at = r.pos;
  const portNo = r.u32('port_no');
  const len = r.u16('port length');
  if (len < OFP14_PORT_HEAD_LEN || len % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `ofp14_port length ${len}`, at);
  r.pos = at;
  const p = r.sub(len, 'ofp14_port');
  p.skip(8);
  const port: Port = { ...head(p, portNo), curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 };
  while (p.remaining > 0) {
    const propAt = p.pos;
    const type = p.u16('port property type');
    const plen = p.u16('port property length');
    if (plen < 4) p.fail('OF_DECODE_BAD_LENGTH', `port property length ${plen}`, propAt);
    const prop = p.sub(plen - 4, 'port property');
    p.pos = Math.min(propAt + ((plen + 7) & ~7), p.end);
    if (type !== OFPPDPT_ETHERNET) continue;
    prop.skip(4);
    port.curr = prop.u32('curr');
    port.advertised = prop.u32('advertised');
    port.supported = prop.u32('supported');
    port.peer = prop.u32('peer');
    port.currSpeed = prop.u32('curr_speed');
    port.maxSpeed = prop.u32('max_speed');
  }
  return port;
}
