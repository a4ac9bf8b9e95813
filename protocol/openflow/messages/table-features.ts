/** OFPMP_TABLE_FEATURES bodies (ofp_table_features and its properties), OpenFlow 1.3 section 7.3.5.5. */
import { OFP_MAX_TABLE_NAME_LEN, OFP_TABLE_FEATURES_LEN, OFPTFPT, OFPXMC } from '../constants.js';
import { FIELD_BY_KEY, fieldKey } from '../oxm-fields.js';
import type { OfReader } from '../reader.js';
import type { ActionId, InstructionId, OxmId, TableFeatureProp, TableFeatures } from '../types.js';
import type { OfWriter } from '../writer.js';

/** The experimenter type of instruction and action ids. */
const EXPERIMENTER_ID_TYPE = 0xffff;

type PropName = Exclude<TableFeatureProp['type'], 'unknown'>;
const PROP_NAME = new Map<number, PropName>([
  [OFPTFPT.INSTRUCTIONS, 'instructions'],
  [OFPTFPT.INSTRUCTIONS_MISS, 'instructions_miss'],
  [OFPTFPT.NEXT_TABLES, 'next_tables'],
  [OFPTFPT.NEXT_TABLES_MISS, 'next_tables_miss'],
  [OFPTFPT.WRITE_ACTIONS, 'write_actions'],
  [OFPTFPT.WRITE_ACTIONS_MISS, 'write_actions_miss'],
  [OFPTFPT.APPLY_ACTIONS, 'apply_actions'],
  [OFPTFPT.APPLY_ACTIONS_MISS, 'apply_actions_miss'],
  [OFPTFPT.MATCH, 'match'],
  [OFPTFPT.WILDCARDS, 'wildcards'],
  [OFPTFPT.WRITE_SETFIELD, 'write_setfield'],
  [OFPTFPT.WRITE_SETFIELD_MISS, 'write_setfield_miss'],
  [OFPTFPT.APPLY_SETFIELD, 'apply_setfield'],
  [OFPTFPT.APPLY_SETFIELD_MISS, 'apply_setfield_miss'],
  [OFPTFPT.EXPERIMENTER, 'experimenter'],
  [OFPTFPT.EXPERIMENTER_MISS, 'experimenter_miss'],
]);
const PROP_CODE = new Map<PropName, number>([...PROP_NAME].map(([code, name]) => [name, code]));

/** Appends ofp_table_features entries. */
export function encodeTableFeatures(w: OfWriter, tables: readonly TableFeatures[]): void {
  for (const t of tables) {
    const start = w.pos;
    w.u16(0);
    w.u8(t.tableId);
    w.zeros(5);
    w.fixedString(t.name, OFP_MAX_TABLE_NAME_LEN);
    w.u64(t.metadataMatch);
    w.u64(t.metadataWrite);
    w.u32(t.config);
    w.u32(t.maxEntries);
    for (const p of t.properties) encodeProp(w, p);
    w.patchU16(start, w.pos - start);
  }
}

function encodeProp(w: OfWriter, p: TableFeatureProp): void {
  const start = w.pos;
  w.u16(p.type === 'unknown' ? p.propType : PROP_CODE.get(p.type)!);
  w.u16(0);
  switch (p.type) {
    case 'instructions':
    case 'instructions_miss':
      for (const i of p.instructions) encodeId(w, i);
      break;
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      for (const a of p.actions) encodeId(w, a);
      break;
    case 'next_tables':
    case 'next_tables_miss':
      for (const t of p.tables) w.u8(t);
      break;
    case 'experimenter':
    case 'experimenter_miss':
      w.u32(p.experimenter);
      w.u32(p.expType);
      w.bytes(p.data);
      break;
    case 'unknown':
      w.bytes(p.data);
      break;
    default:
      for (const f of p.fields) {
        w.u32(f.header);
        if (f.experimenter !== undefined) w.u32(f.experimenter);
      }
  }
  const len = w.pos - start;
  w.patchU16(start + 2, len);
  w.zeros(((len + 7) & ~7) - len);
}

function encodeId(w: OfWriter, id: InstructionId | ActionId): void {
  w.u16(id.type);
  if (id.type === EXPERIMENTER_ID_TYPE) {
    w.u16(8);
    w.u32(id.experimenter ?? 0);
  } else {
    w.u16(4);
  }
}

/** Reads the ofp_table_features entries of a table-features body. */
export function decodeTableFeatures(r: OfReader): TableFeatures[] {
  const out: TableFeatures[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const length = r.u16('table features length');
    if (length < OFP_TABLE_FEATURES_LEN || length % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `table features length ${length}`, at);
    r.pos = at;
    const e = r.sub(length, 'table features');
    e.skip(2);
    const tableId = e.u8('table_id');
    e.skip(5);
    const name = e.fixedString(OFP_MAX_TABLE_NAME_LEN, 'table name');
    const metadataMatch = e.u64('metadata_match');
    const metadataWrite = e.u64('metadata_write');
    const config = e.u32('config');
    const maxEntries = e.u32('max_entries');
    const properties: TableFeatureProp[] = [];
    while (e.remaining > 0) properties.push(decodeProp(e));
    out.push({ tableId, name, metadataMatch, metadataWrite, config, maxEntries, properties });
  }
  return out;
}

function decodeProp(r: OfReader): TableFeatureProp {
  const at = r.pos;
  const code = r.u16('table feature property type');
  const length = r.u16('table feature property length');
  if (length < 4) r.fail('OF_DECODE_BAD_LENGTH', `table feature property length ${length}`, at);
  const p = r.sub(length - 4, 'table feature property');
  // Properties are padded to 8 bytes; the padding is not in their length.
  r.skip(Math.min(((length + 7) & ~7) - length, r.remaining), 'property padding');
  const type = PROP_NAME.get(code);
  switch (type) {
    case 'instructions':
    case 'instructions_miss':
      return { type, instructions: decodeIds(p, 'instruction id') };
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      return { type, actions: decodeIds(p, 'action id') };
    case 'next_tables':
    case 'next_tables_miss': {
      const tables: number[] = [];
      while (p.remaining > 0) tables.push(p.u8());
      return { type, tables };
    }
    case 'experimenter':
    case 'experimenter_miss':
      return { type, experimenter: p.u32('experimenter'), expType: p.u32('exp_type'), data: p.bytes(p.remaining) };
    case undefined:
      return { type: 'unknown', propType: code, data: p.bytes(p.remaining) };
    default:
      return { type, fields: decodeOxmIds(p) };
  }
}

function decodeIds(r: OfReader, what: string): InstructionId[] {
  const out: InstructionId[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u16(what);
    const len = r.u16(`${what} length`);
    if (type === EXPERIMENTER_ID_TYPE) {
      if (len < 8) r.fail('OF_DECODE_BAD_LENGTH', `experimenter ${what} of ${len} bytes`, at);
      out.push({ type, experimenter: r.u32('experimenter') });
      r.skip(len - 8);
    } else {
      if (len < 4) r.fail('OF_DECODE_BAD_LENGTH', `${what} of ${len} bytes`, at);
      out.push({ type });
      r.skip(len - 4);
    }
  }
  return out;
}

function decodeOxmIds(r: OfReader): OxmId[] {
  const out: OxmId[] = [];
  while (r.remaining > 0) {
    const header = r.u32('oxm id');
    const oxmClass = header >>> 16;
    const field = (header >>> 9) & 0x7f;
    if (oxmClass === OFPXMC.EXPERIMENTER) {
      const experimenter = r.u32('oxm id experimenter');
      out.push({ header, field: FIELD_BY_KEY.get(fieldKey(oxmClass, field, experimenter))?.name, experimenter });
    } else {
      out.push({ header, field: FIELD_BY_KEY.get(fieldKey(oxmClass, field))?.name });
    }
  }
  return out;
}
