/** Shared pieces of the action codecs: headers, padding, field references, port widths. */
import { EXPERIMENTER_ID, OFPAT, OFPXMC } from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import { fieldDef } from './match.js';
import { FIELD_BY_REF, fieldKey } from './oxm-fields.js';
import type { FieldDef } from './oxm-fields.js';
import type { OfReader } from './reader.js';
import type { OfWriter } from './writer.js';
import type { Subfield } from './types.js';

/** Nesting limit for ct/clone when decoding, so hostile input cannot recurse without bound. */
export const MAX_NESTING = 8;

// ---------------------------------------------------------------------------
// Helpers

/** OF1.0-style 16-bit port (Nicira actions) from a 32-bit OF1.1+ port. */
export function port16(port: number, what: string): number {
  if (port >= 0xffffff00) return port - 0xffff0000;
  if (port >= 0xff00 || port < 0 || !Number.isInteger(port)) {
    throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `${what}: port ${port} does not fit a 16-bit Nicira port`, what);
  }
  return port;
}
export function port32(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

/**
 * The header naming `sf`'s field in an action, after checking the bits lie in
 * the field: the NXM header when it covers them (as OVS encodes), else the
 * wider OXM one (in_port bits past 15).
 */
export function refHeader(sf: Subfield, what: string): number {
  const def = fieldDef(sf.field);
  if (def.refHeader === 0) {
    throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', `${what}: field ${sf.field} cannot be referenced by actions`, sf.field);
  }
  const top = sf.ofs + sf.nBits;
  if (!Number.isInteger(sf.ofs) || !Number.isInteger(sf.nBits) || sf.ofs < 0 || sf.nBits < 1 || top > def.wideRefBits) {
    throw new OpenFlowEncodeError(
      'OF_ENCODE_BAD_VALUE',
      `${what}: ${sf.field}[${sf.ofs}..${top - 1}] is outside the ${def.wideRefBits}-bit field`,
      sf.field,
    );
  }
  return top <= def.refBits ? def.refHeader : def.wideRefHeader;
}

export function ofsNbits(sf: Subfield): number {
  return (sf.ofs << 6) | (sf.nBits - 1);
}

/** Reads an action field reference header (4 bytes, or 8 for experimenter class). */
export function readRef(r: OfReader, what: string): FieldDef {
  const at = r.pos;
  const h = r.u32(what);
  const cls = h >>> 16;
  const exp = cls === OFPXMC.EXPERIMENTER ? r.u32(what) : 0;
  const def = FIELD_BY_REF.get(fieldKey(cls, (h >>> 9) & 0x7f, exp));
  if (def === undefined) r.fail('OF_DECODE_UNKNOWN_FIELD', `${what}: unknown field header 0x${h.toString(16)}`, at);
  return def;
}

export function subfield(r: OfReader, def: FieldDef, ofs: number, nBits: number, at: number): Subfield {
  if (nBits < 1 || ofs + nBits > def.wideRefBits) {
    r.fail('OF_DECODE_BAD_VALUE', `subfield ${def.name}[${ofs}..${ofs + nBits - 1}] exceeds the field`, at);
  }
  return { field: def.name, ofs, nBits };
}

export function readSubfieldOfsNbits(r: OfReader, ofsNbitsValue: number, def: FieldDef, at: number): Subfield {
  return subfield(r, def, ofsNbitsValue >>> 6, (ofsNbitsValue & 0x3f) + 1, at);
}

/** Starts an action: type and a length placeholder. Returns its offset. */
export function begin(w: OfWriter, type: number): number {
  const start = w.pos;
  w.u16(type);
  w.u16(0);
  return start;
}

/** Starts a Nicira action: OFPAT_EXPERIMENTER, length, NX id, subtype (10 bytes). */
export function beginNx(w: OfWriter, subtype: number): number {
  const start = begin(w, OFPAT.EXPERIMENTER);
  w.u32(EXPERIMENTER_ID.NICIRA);
  w.u16(subtype);
  return start;
}

/** Pads to 8 and back-patches the action length. */
export function end(w: OfWriter, start: number): void {
  w.pad8(start);
  const len = w.pos - start;
  if (len > 0xffff) throw new OpenFlowEncodeError('OF_ENCODE_TOO_LONG', `action of ${len} bytes exceeds 65535`);
  w.patchU16(start + 2, len);
}

export function u16Arg(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `${what}: ${v} is not a 16-bit value`, what);
  }
  return v;
}
