/**
 * Subfield syntax (ovs-actions(7), "Field Specifications"): `NAME[]` the
 * whole field, `NAME[N]` one bit, `NAME[A..B]` bits A through B, or a bare
 * `NAME` for the whole field. NAME is an ovs-fields(7) name or an NXM/OXM
 * name (`NXM_NX_REG0`, `OXM_OF_IN_PORT`).
 */
import { FlowSyntaxError } from './errors.js';
import { FIELDS_BY_NAME, type FieldDef } from './fields.js';

export interface TextSubfield {
  readonly field: FieldDef;
  readonly ofs: number;
  readonly nBits: number;
}

/** Width OVS gives a field in subfield arithmetic. */
export function subfieldWidth(f: FieldDef): number {
  if (f.name === 'vlan_vid') return 12;
  if (f.name === 'in_port') return 16; // NXM_OF_IN_PORT; OXM_OF_IN_PORT is in_port_oxm, 32 bits
  if (f.name === 'ct_state') return 32;
  if (f.name === 'tun_flags') return 1; // only OAM is OpenFlow's: OVS gives the field one bit
  return f.bits;
}

export function parseSubfield(text: string, at: number, what = 'field'): TextSubfield {
  const open = text.indexOf('[');
  const name = open < 0 ? text : text.slice(0, open);
  const field = FIELDS_BY_NAME.get(name);
  if (!field) throw new FlowSyntaxError('OFTEXT_UNKNOWN_KEYWORD', `unknown ${what}`, name, at + 1);
  const width = subfieldWidth(field);
  if (open < 0) return { field, ofs: 0, nBits: width };
  if (text.charCodeAt(text.length - 1) !== 93) {
    throw new FlowSyntaxError('OFTEXT_SYNTAX', 'missing ] in subfield', text, at + 1);
  }
  const inner = text.slice(open + 1, -1);
  let ofs = 0;
  let end = width - 1;
  if (inner !== '') {
    const dots = inner.indexOf('..');
    const a = dots < 0 ? inner : inner.slice(0, dots);
    const b = dots < 0 ? inner : inner.slice(dots + 2);
    if (!/^[0-9]+$/.test(a) || !/^[0-9]+$/.test(b)) {
      throw new FlowSyntaxError('OFTEXT_SYNTAX', 'bad subfield bit range', inner, at + open + 2);
    }
    ofs = Number(a);
    end = Number(b);
  }
  if (end < ofs || end >= width) {
    throw new FlowSyntaxError('OFTEXT_BAD_VALUE', `bits ${ofs}..${end} are outside ${field.name} (${width} bits)`, text, at + 1);
  }
  return { field, ofs, nBits: end - ofs + 1 };
}

/** OVS `mf_format_subfield`: the field's NXM/OXM name and `[]`, `[N]` or `[A..B]`. */
export function formatSubfield(field: FieldDef, ofs: number, nBits: number): string {
  if (ofs === 0 && nBits === subfieldWidth(field)) return `${field.nxm}[]`;
  if (nBits === 1) return `${field.nxm}[${ofs}]`;
  return `${field.nxm}[${ofs}..${ofs + nBits - 1}]`;
}
