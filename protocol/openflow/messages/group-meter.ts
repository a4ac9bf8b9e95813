/** GROUP_MOD, METER_MOD and TABLE_MOD bodies, buckets and meter bands. */
import { OFPGC, OFPGT, OFPMBT } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import { decodeActions, encodeActions } from '../actions.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type { Bucket, GroupMod, GroupModCommand, GroupType, MeterBand, MeterMod, MeterModCommand, TableMod } from '../types.js';

const GROUP_TYPE_CODE: Record<GroupType, number> = { all: OFPGT.ALL, select: OFPGT.SELECT, indirect: OFPGT.INDIRECT, ff: OFPGT.FF };
const GROUP_TYPE_NAME: GroupType[] = ['all', 'select', 'indirect', 'ff'];
const MOD_COMMAND_CODE: Record<GroupModCommand | MeterModCommand, number> = { add: OFPGC.ADD, modify: OFPGC.MODIFY, delete: OFPGC.DELETE };
const MOD_COMMAND_NAME: (GroupModCommand & MeterModCommand)[] = ['add', 'modify', 'delete'];

function code<T extends string>(table: Record<T, number>, v: T, what: string): number {
  const c = table[v];
  if (c === undefined) throw new OpenFlowEncodeError('OF_ENCODE_BAD_VALUE', `unknown ${what} ${JSON.stringify(v)}`);
  return c;
}

export function encodeGroupType(t: GroupType): number {
  return code(GROUP_TYPE_CODE, t, 'group type');
}

export function decodeGroupType(r: OfReader, at: number): GroupType {
  const t = GROUP_TYPE_NAME[r.u8('group type')];
  if (t === undefined) r.fail('OF_DECODE_BAD_VALUE', `unknown group type ${r.buf[at]}`, at);
  return t;
}

export function encodeBuckets(w: OfWriter, buckets: readonly Bucket[]): void {
  for (const b of buckets) {
    const start = w.pos;
    w.u16(0);
    w.u16(b.weight);
    w.u32(b.watchPort);
    w.u32(b.watchGroup);
    w.zeros(4);
    encodeActions(w, b.actions);
    w.patchU16(start, w.pos - start);
  }
}

export function decodeBuckets(r: OfReader): Bucket[] {
  const out: Bucket[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const len = r.u16('bucket length');
    if (len < 16 || len % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `bucket length ${len}`, at);
    r.pos = at;
    const b = r.sub(len, 'bucket');
    b.skip(2);
    const weight = b.u16('weight');
    const watchPort = b.u32('watch_port');
    const watchGroup = b.u32('watch_group');
    b.skip(4);
    out.push({ weight, watchPort, watchGroup, actions: decodeActions(b) });
  }
  return out;
}

export function encodeGroupMod(w: OfWriter, m: GroupMod): void {
  w.u16(code(MOD_COMMAND_CODE, m.command, 'group_mod command'));
  w.u8(encodeGroupType(m.groupType));
  w.u8(0);
  w.u32(m.groupId);
  encodeBuckets(w, m.buckets);
}

export function decodeGroupMod(r: OfReader, xid: number): GroupMod {
  const at = r.pos;
  const command = MOD_COMMAND_NAME[r.u16('group_mod command')];
  if (command === undefined) r.fail('OF_DECODE_BAD_VALUE', 'unknown group_mod command', at);
  const groupType = decodeGroupType(r, r.pos);
  r.skip(1);
  const groupId = r.u32('group_id');
  return { type: 'group_mod', xid, command, groupType, groupId, buckets: decodeBuckets(r) };
}

export function encodeBands(w: OfWriter, bands: readonly MeterBand[]): void {
  for (const b of bands) {
    const type = b.type === 'drop' ? OFPMBT.DROP : b.type === 'dscp_remark' ? OFPMBT.DSCP_REMARK : OFPMBT.EXPERIMENTER;
    w.u16(type);
    w.u16(16);
    w.u32(b.rate);
    w.u32(b.burstSize);
    if (b.type === 'dscp_remark') {
      w.u8(b.precLevel);
      w.zeros(3);
    } else if (b.type === 'experimenter') {
      w.u32(b.experimenter);
    } else {
      w.zeros(4);
    }
  }
}

export function decodeBands(r: OfReader): MeterBand[] {
  const out: MeterBand[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u16('band type');
    const len = r.u16('band length');
    if (len !== 16) r.fail('OF_DECODE_BAD_LENGTH', `meter band length ${len}`, at);
    const rate = r.u32('rate');
    const burstSize = r.u32('burst_size');
    if (type === OFPMBT.DROP) {
      r.skip(4);
      out.push({ type: 'drop', rate, burstSize });
    } else if (type === OFPMBT.DSCP_REMARK) {
      const precLevel = r.u8('prec_level');
      r.skip(3);
      out.push({ type: 'dscp_remark', rate, burstSize, precLevel });
    } else if (type === OFPMBT.EXPERIMENTER) {
      out.push({ type: 'experimenter', rate, burstSize, experimenter: r.u32('experimenter') });
    } else {
      r.fail('OF_DECODE_BAD_VALUE', `unknown meter band type ${type}`, at);
    }
  }
  return out;
}

export function encodeMeterMod(w: OfWriter, m: MeterMod): void {
  w.u16(code(MOD_COMMAND_CODE, m.command, 'meter_mod command'));
  w.u16(m.flags);
  w.u32(m.meterId);
  encodeBands(w, m.bands);
}

export function decodeMeterMod(r: OfReader, xid: number): MeterMod {
  const at = r.pos;
  const command = MOD_COMMAND_NAME[r.u16('meter_mod command')];
  if (command === undefined) r.fail('OF_DECODE_BAD_VALUE', 'unknown meter_mod command', at);
  const flags = r.u16('flags');
  const meterId = r.u32('meter_id');
  return { type: 'meter_mod', xid, command, flags, meterId, bands: decodeBands(r) };
}

export function encodeTableMod(w: OfWriter, m: TableMod): void {
  w.u8(m.tableId);
  w.zeros(3);
  w.u32(m.config);
}

export function decodeTableMod(r: OfReader, xid: number): TableMod {
  const tableId = r.u8('table_id');
  r.skip(3);
  return { type: 'table_mod', xid, tableId, config: r.u32('config') };
}

