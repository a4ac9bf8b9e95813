/** MULTIPART_REQUEST / MULTIPART_REPLY bodies (ofp_multipart_*), OF1.3 section 7.3.5. */
import { DESC_STR_LEN, EXPERIMENTER_ID, OFP_VERSION, OFPMP, ONFMP, SERIAL_NUM_LEN } from '../constants.js';
import { OpenFlowEncodeError } from '../errors.js';
import { decodeInstructions, encodeInstructions } from '../instructions.js';
import { decodeMatch, encodeMatch } from '../match.js';
import { decodeBands, decodeBuckets, decodeGroupType, encodeBands, encodeBuckets, encodeGroupType } from './group-meter.js';
import { decodeFlowMonitorRequests, decodeFlowUpdates, encodeFlowMonitorRequests, encodeFlowUpdates } from './flow-monitor.js';
import { decodePort, encodePort, OFP_PORT_LEN } from './port.js';
import { decodeTableFeatures, encodeTableFeatures } from './table-features.js';
import type { OfReader } from '../reader.js';
import type { OfWriter } from '../writer.js';
import type {
  FlowStats,
  FlowStatsSelector,
  GroupDesc,
  GroupStats,
  MeterConfig,
  MeterStats,
  MultipartReply,
  MultipartReplyBody,
  MultipartRequest,
  MultipartRequestBody,
  PortStats,
  TableStats,
} from '../types.js';

const KIND_CODE = {
  desc: OFPMP.DESC,
  flow: OFPMP.FLOW,
  aggregate: OFPMP.AGGREGATE,
  table: OFPMP.TABLE,
  port_stats: OFPMP.PORT_STATS,
  port_desc: OFPMP.PORT_DESC,
  group: OFPMP.GROUP,
  group_desc: OFPMP.GROUP_DESC,
  meter: OFPMP.METER,
  meter_config: OFPMP.METER_CONFIG,
  table_features: OFPMP.TABLE_FEATURES,
  flow_monitor: OFPMP.EXPERIMENTER,
} as const;

/** The experimenter multipart header of the ONF flow monitor (experimenter id, exp_type). */
function writeFlowMonitorHeader(w: OfWriter): void {
  w.u32(EXPERIMENTER_ID.ONF);
  w.u32(ONFMP.FLOW_MONITOR);
}

/** True (and the header consumed) when an OFPMP_EXPERIMENTER body is the ONF flow monitor. */
function isFlowMonitor(r: OfReader): boolean {
  if (r.remaining < 8 || r.buf.readUInt32BE(r.pos) !== EXPERIMENTER_ID.ONF || r.buf.readUInt32BE(r.pos + 4) !== ONFMP.FLOW_MONITOR) return false;
  r.skip(8);
  return true;
}

function mpType(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.kind === 'other' ? body.mpType : KIND_CODE[body.kind];
}

function encodeSelector(w: OfWriter, s: FlowStatsSelector): void {
  w.u8(s.tableId);
  w.zeros(3);
  w.u32(s.outPort);
  w.u32(s.outGroup);
  w.zeros(4);
  w.u64(s.cookie);
  w.u64(s.cookieMask);
  encodeMatch(w, s.match);
}

function decodeSelector(r: OfReader): FlowStatsSelector {
  const tableId = r.u8('table_id');
  r.skip(3);
  const outPort = r.u32('out_port');
  const outGroup = r.u32('out_group');
  r.skip(4);
  const cookie = r.u64('cookie');
  const cookieMask = r.u64('cookie_mask');
  return { tableId, outPort, outGroup, cookie, cookieMask, match: decodeMatch(r) };
}

// The request bodies are the same in OF1.3 and OF1.4.
export function encodeMultipartRequest(w: OfWriter, m: MultipartRequest, _version: number = OFP_VERSION.OF13): void {
  const b = m.body;
  w.u16(mpType(b));
  w.u16(m.flags);
  w.zeros(4);
  switch (b.kind) {
    case 'desc':
    case 'table':
    case 'port_desc':
    case 'group_desc':
      return;
    case 'flow':
    case 'aggregate':
      return encodeSelector(w, b);
    case 'port_stats':
      w.u32(b.portNo);
      w.zeros(4);
      return;
    case 'group':
      w.u32(b.groupId);
      w.zeros(4);
      return;
    case 'meter':
    case 'meter_config':
      w.u32(b.meterId);
      w.zeros(4);
      return;
    case 'table_features':
      encodeTableFeatures(w, b.tables);
      return;
    case 'flow_monitor':
      writeFlowMonitorHeader(w);
      encodeFlowMonitorRequests(w, b.monitors);
      return;
    case 'other':
      w.bytes(b.body);
      return;
  }
}

export function decodeMultipartRequest(r: OfReader, xid: number, _version: number = OFP_VERSION.OF13): MultipartRequest {
  const type = r.u16('multipart type');
  const flags = r.u16('multipart flags');
  r.skip(4);
  let body: MultipartRequestBody;
  switch (type) {
    case OFPMP.DESC:
      body = { kind: 'desc' };
      break;
    case OFPMP.TABLE:
      body = { kind: 'table' };
      break;
    case OFPMP.PORT_DESC:
      body = { kind: 'port_desc' };
      break;
    case OFPMP.GROUP_DESC:
      body = { kind: 'group_desc' };
      break;
    case OFPMP.FLOW:
      body = { kind: 'flow', ...decodeSelector(r) };
      break;
    case OFPMP.AGGREGATE:
      body = { kind: 'aggregate', ...decodeSelector(r) };
      break;
    case OFPMP.PORT_STATS:
      body = { kind: 'port_stats', portNo: r.u32('port_no') };
      r.skip(4);
      break;
    case OFPMP.GROUP:
      body = { kind: 'group', groupId: r.u32('group_id') };
      r.skip(4);
      break;
    case OFPMP.METER:
      body = { kind: 'meter', meterId: r.u32('meter_id') };
      r.skip(4);
      break;
    case OFPMP.METER_CONFIG:
      body = { kind: 'meter_config', meterId: r.u32('meter_id') };
      r.skip(4);
      break;
    case OFPMP.TABLE_FEATURES:
      body = { kind: 'table_features', tables: decodeTableFeatures(r) };
      break;
    default:
      body = type === OFPMP.EXPERIMENTER && isFlowMonitor(r)
        ? { kind: 'flow_monitor', monitors: decodeFlowMonitorRequests(r) }
        : { kind: 'other', mpType: type, body: r.bytes(r.remaining) };
  }
  if (r.remaining !== 0) r.fail('OF_DECODE_BAD_LENGTH', `${r.remaining} trailing bytes in multipart request`);
  return { type: 'multipart_request', xid, flags, body };
}

function encodeFlowStats(w: OfWriter, f: FlowStats): void {
  const start = w.pos;
  w.u16(0);
  w.u8(f.tableId);
  w.u8(0);
  w.u32(f.durationSec);
  w.u32(f.durationNsec);
  w.u16(f.priority);
  w.u16(f.idleTimeout);
  w.u16(f.hardTimeout);
  w.u16(f.flags);
  w.zeros(4);
  w.u64(f.cookie);
  w.u64(f.packetCount);
  w.u64(f.byteCount);
  encodeMatch(w, f.match);
  encodeInstructions(w, f.instructions);
  w.patchU16(start, w.pos - start);
}

function decodeFlowStats(r: OfReader): FlowStats {
  const tableId = r.u8('table_id');
  r.skip(1);
  const durationSec = r.u32('duration_sec');
  const durationNsec = r.u32('duration_nsec');
  const priority = r.u16('priority');
  const idleTimeout = r.u16('idle_timeout');
  const hardTimeout = r.u16('hard_timeout');
  const flags = r.u16('flags');
  r.skip(4);
  const cookie = r.u64('cookie');
  const packetCount = r.u64('packet_count');
  const byteCount = r.u64('byte_count');
  const match = decodeMatch(r);
  return {
    tableId,
    durationSec,
    durationNsec,
    priority,
    idleTimeout,
    hardTimeout,
    flags,
    cookie,
    packetCount,
    byteCount,
    match,
    instructions: decodeInstructions(r),
  };
}

/** Splits a body of length-prefixed entries (u16 length first) and decodes each. */
function lengthPrefixed<T>(r: OfReader, min: number, what: string, decode: (e: OfReader) => T, skipLen = 2): T[] {
  const out: T[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const len = r.u16(`${what} length`);
    if (len < min || len % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `${what} length ${len}`, at);
    r.pos = at;
    const e = r.sub(len, what);
    e.skip(skipLen);
    out.push(decode(e));
  }
  return out;
}

/** Splits a body of fixed-size entries. */
function fixed<T>(r: OfReader, size: number, what: string, decode: (e: OfReader) => T): T[] {
  const out: T[] = [];
  if (r.remaining % size !== 0) r.fail('OF_DECODE_BAD_LENGTH', `${what} body of ${r.remaining} bytes is not a multiple of ${size}`);
  while (r.remaining > 0) out.push(decode(r.sub(size, what)));
  return out;
}

const PORT_COUNTERS = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxDropped',
  'txDropped',
  'rxErrors',
  'txErrors',
  'rxFrameErr',
  'rxOverErr',
  'rxCrcErr',
  'collisions',
] as const;

export function encodeMultipartReply(w: OfWriter, m: MultipartReply, version: number = OFP_VERSION.OF13): void {
  const b = m.body;
  if (b.kind === 'port_stats' && version >= OFP_VERSION.OF14) {
    throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', 'port_stats replies are only supported in OpenFlow 1.3');
  }
  w.u16(mpType(b));
  w.u16(m.flags);
  w.zeros(4);
  switch (b.kind) {
    case 'desc':
      w.fixedString(b.mfrDesc, DESC_STR_LEN);
      w.fixedString(b.hwDesc, DESC_STR_LEN);
      w.fixedString(b.swDesc, DESC_STR_LEN);
      w.fixedString(b.serialNum, SERIAL_NUM_LEN);
      w.fixedString(b.dpDesc, DESC_STR_LEN);
      return;
    case 'flow':
      for (const f of b.flows) encodeFlowStats(w, f);
      return;
    case 'aggregate':
      w.u64(b.packetCount);
      w.u64(b.byteCount);
      w.u32(b.flowCount);
      w.zeros(4);
      return;
    case 'table':
      for (const t of b.tables) {
        w.u8(t.tableId);
        w.zeros(3);
        w.u32(t.activeCount);
        w.u64(t.lookupCount);
        w.u64(t.matchedCount);
      }
      return;
    case 'port_stats':
      for (const p of b.ports) {
        w.u32(p.portNo);
        w.zeros(4);
        for (const k of PORT_COUNTERS) w.u64(p[k]);
        w.u32(p.durationSec);
        w.u32(p.durationNsec);
      }
      return;
    case 'port_desc':
      for (const p of b.ports) encodePort(w, p, version);
      return;
    case 'group':
      for (const g of b.groups) {
        w.u16(40 + 16 * g.bucketStats.length);
        w.zeros(2);
        w.u32(g.groupId);
        w.u32(g.refCount);
        w.zeros(4);
        w.u64(g.packetCount);
        w.u64(g.byteCount);
        w.u32(g.durationSec);
        w.u32(g.durationNsec);
        for (const s of g.bucketStats) {
          w.u64(s.packetCount);
          w.u64(s.byteCount);
        }
      }
      return;
    case 'group_desc':
      for (const g of b.groups) {
        const start = w.pos;
        w.u16(0);
        w.u8(encodeGroupType(g.groupType));
        w.u8(0);
        w.u32(g.groupId);
        encodeBuckets(w, g.buckets);
        w.patchU16(start, w.pos - start);
      }
      return;
    case 'meter':
      for (const s of b.meters) {
        w.u32(s.meterId);
        w.u16(40 + 16 * s.bandStats.length);
        w.zeros(6);
        w.u32(s.flowCount);
        w.u64(s.packetInCount);
        w.u64(s.byteInCount);
        w.u32(s.durationSec);
        w.u32(s.durationNsec);
        for (const bs of s.bandStats) {
          w.u64(bs.packetBandCount);
          w.u64(bs.byteBandCount);
        }
      }
      return;
    case 'meter_config':
      for (const c of b.meters) {
        const start = w.pos;
        w.u16(0);
        w.u16(c.flags);
        w.u32(c.meterId);
        encodeBands(w, c.bands);
        w.patchU16(start, w.pos - start);
      }
      return;
    case 'table_features':
      encodeTableFeatures(w, b.tables);
      return;
    case 'flow_monitor':
      writeFlowMonitorHeader(w);
      encodeFlowUpdates(w, b.updates);
      return;
    case 'other':
      w.bytes(b.body);
      return;
  }
}

export function decodeMultipartReply(r: OfReader, xid: number, version: number = OFP_VERSION.OF13): MultipartReply {
  const type = r.u16('multipart type');
  const flags = r.u16('multipart flags');
  r.skip(4);
  let body: MultipartReplyBody;
  switch (type) {
    case OFPMP.DESC:
      body = {
        kind: 'desc',
        mfrDesc: r.fixedString(DESC_STR_LEN, 'mfr_desc'),
        hwDesc: r.fixedString(DESC_STR_LEN, 'hw_desc'),
        swDesc: r.fixedString(DESC_STR_LEN, 'sw_desc'),
        serialNum: r.fixedString(SERIAL_NUM_LEN, 'serial_num'),
        dpDesc: r.fixedString(DESC_STR_LEN, 'dp_desc'),
      };
      break;
    case OFPMP.FLOW:
      body = { kind: 'flow', flows: lengthPrefixed(r, 56, 'flow stats', decodeFlowStats) };
      break;
    case OFPMP.AGGREGATE: {
      const packetCount = r.u64('packet_count');
      const byteCount = r.u64('byte_count');
      const flowCount = r.u32('flow_count');
      r.skip(4);
      body = { kind: 'aggregate', packetCount, byteCount, flowCount };
      break;
    }
    case OFPMP.TABLE:
      body = {
        kind: 'table',
        tables: fixed(r, 24, 'table stats', (e): TableStats => {
          const tableId = e.u8();
          e.skip(3);
          return { tableId, activeCount: e.u32(), lookupCount: e.u64(), matchedCount: e.u64() };
        }),
      };
      break;
    case OFPMP.PORT_STATS:
      // OF1.4 port stats carry properties: not modelled, and the OF1.3 layout would misread them.
      if (version >= OFP_VERSION.OF14) r.fail('OF_DECODE_BAD_VERSION', 'port_stats replies are only supported in OpenFlow 1.3', r.base);
      body = {
        kind: 'port_stats',
        ports: fixed(r, 112, 'port stats', (e): PortStats => {
          const portNo = e.u32();
          e.skip(4);
          const p = { portNo } as PortStats;
          for (const k of PORT_COUNTERS) p[k] = e.u64();
          p.durationSec = e.u32();
          p.durationNsec = e.u32();
          return p;
        }),
      };
      break;
    case OFPMP.PORT_DESC:
      if (version >= OFP_VERSION.OF14) {
        const ports = [];
        while (r.remaining > 0) ports.push(decodePort(r, version));
        body = { kind: 'port_desc', ports };
      } else {
        body = { kind: 'port_desc', ports: fixed(r, OFP_PORT_LEN, 'ofp_port', (e) => decodePort(e)) };
      }
      break;
    case OFPMP.GROUP:
      body = {
        kind: 'group',
        groups: lengthPrefixed(r, 40, 'group stats', (e): GroupStats => {
          e.skip(2);
          const groupId = e.u32();
          const refCount = e.u32();
          e.skip(4);
          const g: GroupStats = {
            groupId,
            refCount,
            packetCount: e.u64(),
            byteCount: e.u64(),
            durationSec: e.u32(),
            durationNsec: e.u32(),
            bucketStats: [],
          };
          if (e.remaining % 16 !== 0) e.fail('OF_DECODE_BAD_LENGTH', 'bucket stats not a multiple of 16');
          while (e.remaining > 0) g.bucketStats.push({ packetCount: e.u64(), byteCount: e.u64() });
          return g;
        }),
      };
      break;
    case OFPMP.GROUP_DESC:
      body = {
        kind: 'group_desc',
        groups: lengthPrefixed(r, 8, 'group desc', (e): GroupDesc => {
          const groupType = decodeGroupType(e, e.pos);
          e.skip(1);
          const groupId = e.u32();
          return { groupType, groupId, buckets: decodeBuckets(e) };
        }),
      };
      break;
    case OFPMP.METER:
      body = { kind: 'meter', meters: decodeMeterStats(r) };
      break;
    case OFPMP.METER_CONFIG:
      body = {
        kind: 'meter_config',
        meters: lengthPrefixed(r, 8, 'meter config', (e): MeterConfig => {
          const flags = e.u16();
          const meterId = e.u32();
          return { flags, meterId, bands: decodeBands(e) };
        }),
      };
      break;
    case OFPMP.TABLE_FEATURES:
      body = { kind: 'table_features', tables: decodeTableFeatures(r) };
      break;
    default:
      body = type === OFPMP.EXPERIMENTER && isFlowMonitor(r)
        ? { kind: 'flow_monitor', updates: decodeFlowUpdates(r) }
        : { kind: 'other', mpType: type, body: r.bytes(r.remaining) };
  }
  if (r.remaining !== 0) r.fail('OF_DECODE_BAD_LENGTH', `${r.remaining} trailing bytes in multipart reply`);
  return { type: 'multipart_reply', xid, flags, body };
}

/** ofp_meter_stats has its length at offset 4, after meter_id. */
function decodeMeterStats(r: OfReader): MeterStats[] {
  const out: MeterStats[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    r.need(6, 'meter stats');
    const len = r.buf.readUInt16BE(r.pos + 4);
    if (len < 40 || len % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `meter stats length ${len}`, at);
    const e = r.sub(len, 'meter stats');
    const meterId = e.u32();
    e.skip(8);
    const s: MeterStats = {
      meterId,
      flowCount: e.u32(),
      packetInCount: e.u64(),
      byteInCount: e.u64(),
      durationSec: e.u32(),
      durationNsec: e.u32(),
      bandStats: [],
    };
    if (e.remaining % 16 !== 0) e.fail('OF_DECODE_BAD_LENGTH', 'band stats not a multiple of 16');
    while (e.remaining > 0) s.bandStats.push({ packetBandCount: e.u64(), byteBandCount: e.u64() });
    out.push(s);
  }
  return out;
}
