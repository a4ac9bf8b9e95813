/**
 * The `actions=` part of a flow (ovs-actions(7)) → the codec's instructions
 * and actions, as ovs-ofctl builds them for OpenFlow 1.3: OpenFlow 1.0
 * spellings become set_field (`mod_vlan_vid:5` → `set_field:4101->vlan_vid`,
 * with a push_vlan when the packet has no tag), masked set_field becomes
 * `load`s, `dec_ttl` is OFPAT_DEC_NW_TTL unless it names controller ids.
 */
import { NX_LEARN_F, NX_NAT_F, OFPCML, OFPP } from '../constants.js';
import { FIELDS as CODEC_FIELDS } from '../oxm-fields.js';
import type { Action, Instruction, LearnSpec, NatAction, Subfield } from '../types.js';
import { FlowSyntaxError } from './errors.js';
import { CT_WRITE_FIELDS, ETH_TYPE, FIELDS, FIELDS_BY_NAME, IP_PROTO, MATCH_FIELDS_BY_NAME, READ_ONLY_FIELDS, SLOT, type FieldDef, type Prereq } from './fields.js';
import { parseFieldValue, parsePort } from './field-values.js';
import { codecFieldName, reprToCodec } from './match-codec.js';
import { PREREQ_TEXT, ctValid, fromBig, prereqHolds, toBig } from './match-parse.js';
import { scanItems, splitArgs, type Item } from './scanner.js';
import { parseSubfield, subfieldWidth, type TextSubfield } from './subfield.js';
import { parseBig, parseIPv4, parseIPv6, parseNumber } from './values.js';
import type { MatchView } from './view.js';

interface Ctx {
  readonly view: MatchView;
  /** Whether the packet carries a VLAN tag at this point of the action list. */
  vlan: boolean;
  /** The packet's Ethernet type at this point (push_mpls/pop_mpls change it), -1 if the match leaves it open. */
  dlType: number;
  /** Inside ct(exec(...)), where only ct_mark and ct_label may be written. */
  inCt?: boolean;
}

/**
 * What OVS checks of an action against the flow's match before it takes the
 * flow (ofpact_check): the fields an action reads or writes must have their
 * prerequisites in the match (as changed by the actions before it).
 */
function needs(ctx: Ctx, p: Prereq, what: string, token: string, at: number): void {
  if (!prereqHolds(ctx.view, p, ctx.dlType)) throw err('OFTEXT_PREREQ', `${what} requires ${PREREQ_TEXT[p]}`, token, at);
}

function isIp(ctx: Ctx): boolean {
  return ctx.dlType === ETH_TYPE.IP || ctx.dlType === ETH_TYPE.IPV6;
}

/**
 * A field an action writes: writable here, its prerequisites met, and for
 * set_field and load (which OVS makes one action) of the VLAN fields a VLAN tag.
 */
function writes(ctx: Ctx, f: FieldDef, token: string, at: number, byMove = false): void {
  if (READ_ONLY_FIELDS.has(f.name)) throw err('OFTEXT_BAD_VALUE', `${f.name} is read-only`, token, at);
  if (CT_WRITE_FIELDS.has(f.name) !== !!ctx.inCt) {
    throw err('OFTEXT_BAD_VALUE', ctx.inCt ? `ct(exec(...)) writes only ct_mark and ct_label, not ${f.name}` : `${f.name} is written only inside ct(exec(...))`, token, at);
  }
  if ((f.name === 'vlan_vid' || f.name === 'vlan_pcp') && !ctx.vlan && !byMove) {
    throw err('OFTEXT_PREREQ', `${f.name} is written only to a packet with a VLAN tag (match one or push_vlan first)`, token, at);
  }
  needs(ctx, f.prereq, f.name, token, at);
}

/** A field an action reads: its prerequisites met. */
function reads(ctx: Ctx, f: FieldDef, token: string, at: number): void {
  needs(ctx, f.prereq, f.name, token, at);
}

/**
 * A subfield of `OXM_OF_IN_PORT` within its low 16 bits: the codec sends it
 * as NXM_OF_IN_PORT (as OVS does for `in_port`), so the OXM spelling would
 * not survive; refused rather than changed.
 */
function checkInPortOxm(sf: TextSubfield, text: string, at: number): void {
  if (sf.field.name === 'in_port_oxm' && sf.ofs + sf.nBits <= 16) {
    throw err('OFTEXT_UNSUPPORTED', 'the codec sends bits 0..15 of in_port as NXM_OF_IN_PORT; write NXM_OF_IN_PORT[...]', text, at);
  }
}

function err(code: 'OFTEXT_BAD_VALUE' | 'OFTEXT_SYNTAX' | 'OFTEXT_UNKNOWN_ACTION' | 'OFTEXT_UNSUPPORTED' | 'OFTEXT_PREREQ',
  why: string, token: string, at: number): FlowSyntaxError {
  return new FlowSyntaxError(code, why, token, at + 1);
}

function num(text: string, at: number, max: number, what: string): number {
  const v = parseNumber(text);
  if (v === undefined || v > max) throw err('OFTEXT_BAD_VALUE', `invalid ${what}`, text, at);
  return v;
}

function port(text: string, at: number): number {
  const p = parsePort(text);
  if (p === undefined) throw err('OFTEXT_BAD_VALUE', 'invalid or unknown port', text, at);
  return p;
}

/**
 * A port an output action may name: not ANY (none), UNSET, nor a number of
 * the reserved range that names no port (OVS refuses those: OFPBAC_BAD_OUT_PORT).
 */
function outPort(text: string, at: number): number {
  const p = port(text, at);
  if (p === OFPP.ANY || (p >= 0xffffff00 && p < OFPP.IN_PORT)) throw err('OFTEXT_BAD_VALUE', 'not a port to output to', text, at);
  return p;
}

function codecSubfield(sf: TextSubfield, at: number, text: string): Subfield {
  const field = codecFieldName(sf.field);
  if (field === undefined || CODEC_FIELDS[field].refHeader === 0) throw err('OFTEXT_UNSUPPORTED', `${sf.field.name} cannot be used as a subfield`, text, at);
  return { field, ofs: sf.ofs, nBits: sf.nBits };
}

function subfield(text: string, at: number): Subfield {
  const sf = parseSubfield(text, at);
  checkInPortOxm(sf, text, at);
  return codecSubfield(sf, at, text);
}

/** A subfield an action writes (load, move, multipath), checked as `writes` does. */
function dstSubfield(ctx: Ctx, text: string, at: number, byMove = false): Subfield {
  const sf = parseSubfield(text, at);
  writes(ctx, sf.field, text, at, byMove);
  checkInPortOxm(sf, text, at);
  return codecSubfield(sf, at, text);
}

/** A subfield an action reads (move, output), checked as `reads` does. */
function srcSubfield(ctx: Ctx, text: string, at: number): Subfield {
  const sf = parseSubfield(text, at);
  reads(ctx, sf.field, text, at);
  checkInPortOxm(sf, text, at);
  return codecSubfield(sf, at, text);
}

/** Splits `A->B` at the arrow. */
function arrow(item: Item): [string, number, string, number] {
  const i = item.value.indexOf('->');
  if (i < 0) throw err('OFTEXT_SYNTAX', `${item.key} needs SRC->DST`, item.value, item.valueAt);
  return [item.value.slice(0, i), item.valueAt, item.value.slice(i + 2), item.valueAt + i + 2];
}

const PACKET_IN_REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];

function hexData(text: string, at: number): Buffer {
  const hex = text.replace(/\./g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw err('OFTEXT_BAD_VALUE', 'invalid hex data', text, at);
  return Buffer.from(hex, 'hex');
}

/** Bit runs of `mask` (at most 64 bits each), low to high, as OVS splits a masked set_field into loads. */
function maskRuns(mask: bigint, width: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let i = 0;
  while (i < width) {
    if (((mask >> BigInt(i)) & 1n) === 0n) {
      i++;
      continue;
    }
    const start = i;
    while (i < width && ((mask >> BigInt(i)) & 1n) === 1n && i - start < 64) i++;
    runs.push([start, i - start]);
  }
  return runs;
}

function setField(ctx: Ctx, f: FieldDef, text: string, at: number, out: Action[], token = f.name, tokenAt = at): void {
  const [v, m] = parseFieldValue(f, text, at);
  const name = codecFieldName(f);
  if (name === undefined) throw err('OFTEXT_UNSUPPORTED', `set_field cannot set ${f.name}`, f.name, at);
  if (f.name === 'in_port' || f.name === 'in_port_oxm') {
    // OVS sets in_port with the 16-bit NXM_OF_IN_PORT, which the codec's set_field (OXM) cannot name.
    throw err('OFTEXT_UNSUPPORTED', 'the codec cannot set_field in_port; use load:N->NXM_OF_IN_PORT[]', token, tokenAt);
  }
  writes(ctx, f, token, tokenAt);
  const full = toBig(fromBig((1n << BigInt(f.bits)) - 1n, f));
  const mb = toBig(m);
  if (f.format === 'tun_flags' && (/^[+-]/.test(text) || text.includes('/'))) {
    // Only OAM of the tunnel flags is OpenFlow's: OVS writes a masked value (`+oam`) as a load of its one bit.
    if (mb & 1n) out.push({ type: 'reg_load', dst: { field: name, ofs: 0, nBits: 1 }, value: toBig(v) & 1n });
    return;
  }
  if (f.format === 'tun_flags') {
    out.push({ type: 'set_field', field: name, value: reprToCodec(f, v) });
    return;
  }
  if (mb === full) {
    out.push({ type: 'set_field', field: name, value: reprToCodec(f, v) });
    return;
  }
  const vb = toBig(v);
  const width = subfieldWidth(f);
  for (const [ofs, nBits] of maskRuns(mb, width)) {
    const value = (vb >> BigInt(ofs)) & ((1n << BigInt(nBits)) - 1n);
    out.push({ type: 'reg_load', dst: { field: name, ofs, nBits }, value });
  }
}

function setFieldArrow(ctx: Ctx, item: Item, out: Action[]): void {
  const [src, srcAt, dst, dstAt] = arrow(item);
  const f = MATCH_FIELDS_BY_NAME.get(dst) ?? FIELDS_BY_NAME.get(dst);
  if (!f) throw err('OFTEXT_BAD_VALUE', 'unknown field', dst, dstAt);
  setField(ctx, f, src, srcAt, out, dst, dstAt);
}

function field(name: string): FieldDef {
  return FIELDS.get(name)!;
}

/** push_vlan first when the packet has no tag, as OVS does for mod_vlan_vid/mod_vlan_pcp. */
function ensureVlan(ctx: Ctx, out: Action[]): void {
  if (!ctx.vlan) out.push({ type: 'push_vlan', ethertype: 0x8100 });
  ctx.vlan = true;
}

function l4Field(ctx: Ctx, dir: 'src' | 'dst', item: Item): FieldDef {
  const v = ctx.view;
  const proto = v.numMask(SLOT.nw_proto) ? v.num(SLOT.nw_proto) : -1;
  const name = proto === IP_PROTO.UDP ? 'udp' : proto === IP_PROTO.SCTP ? 'sctp' : proto === IP_PROTO.TCP ? 'tcp' : '';
  if (!name) throw err('OFTEXT_PREREQ', `${item.key} requires tcp, udp or sctp`, item.key, item.at);
  return field(`${name}_${dir}`);
}

function parseNat(text: string, at: number): NatAction {
  const nat: NatAction = { type: 'nat', flags: 0 };
  for (const it of scanItems(text, 0, text.length)) {
    const iat = at + it.at;
    if (it.key === 'src' || it.key === 'dst') {
      if (nat.flags & (NX_NAT_F.SRC | NX_NAT_F.DST)) throw err('OFTEXT_BAD_VALUE', 'nat takes one of src and dst', it.key, iat);
      nat.flags |= it.key === 'src' ? NX_NAT_F.SRC : NX_NAT_F.DST;
      if (it.delim === '') continue;
      parseNatRange(nat, it.value, at + it.valueAt);
    } else if (it.key === 'persistent') nat.flags |= NX_NAT_F.PERSISTENT;
    else if (it.key === 'hash') nat.flags |= NX_NAT_F.PROTO_HASH;
    else if (it.key === 'random') nat.flags |= NX_NAT_F.PROTO_RANDOM;
    else throw err('OFTEXT_BAD_VALUE', 'unknown nat argument', it.key, iat);
  }
  return nat;
}

function parseNatRange(nat: NatAction, s: string, at: number): void {
  let addrs = s;
  let ports = '';
  if (s.startsWith('[')) {
    // [v6]-[v6]:ports
    const m = /^\[([^\]]+)\](?:-\[([^\]]+)\])?(?::(.*))?$/.exec(s);
    if (!m || !parseIPv6(m[1]) || (m[2] && !parseIPv6(m[2]))) throw err('OFTEXT_BAD_VALUE', 'invalid nat address range', s, at);
    nat.ipv6Min = m[1];
    if (m[2]) nat.ipv6Max = m[2];
    ports = m[3] ?? '';
  } else if (s.includes('.')) {
    const colon = s.indexOf(':');
    if (colon >= 0) {
      addrs = s.slice(0, colon);
      ports = s.slice(colon + 1);
    }
    const [a, b] = addrs.split('-');
    if (parseIPv4(a) === undefined || (b !== undefined && parseIPv4(b) === undefined)) {
      throw err('OFTEXT_BAD_VALUE', 'invalid nat address range', s, at);
    }
    nat.ipv4Min = a;
    if (b !== undefined) nat.ipv4Max = b;
  } else {
    const [a, b] = s.split('-');
    if (!parseIPv6(a) || (b !== undefined && !parseIPv6(b))) throw err('OFTEXT_BAD_VALUE', 'invalid nat address range', s, at);
    nat.ipv6Min = a;
    if (b !== undefined) nat.ipv6Max = b;
  }
  if (ports !== '') {
    const [p, q] = ports.split('-');
    nat.protoMin = num(p, at, 0xffff, 'nat port');
    if (q !== undefined) nat.protoMax = num(q, at, 0xffff, 'nat port');
  }
}

function ipv4Num(a: string): number {
  return parseIPv4(a)!;
}

function ipv6Big(a: string): bigint {
  let v = 0n;
  for (const b of parseIPv6(a)!) v = (v << 8n) | BigInt(b);
  return v;
}

/** What OVS requires of a nat() in a flow: addresses of the flow's IP version, ranges that do not run backwards. */
function checkNat(ctx: Ctx, nat: NatAction, token: string, at: number): void {
  if (nat.ipv4Min !== undefined && ctx.dlType !== ETH_TYPE.IP) throw err('OFTEXT_PREREQ', 'nat to IPv4 addresses requires ip', token, at);
  if (nat.ipv6Min !== undefined && ctx.dlType !== ETH_TYPE.IPV6) throw err('OFTEXT_PREREQ', 'nat to IPv6 addresses requires ipv6', token, at);
  const backwards = (nat.ipv4Min !== undefined && nat.ipv4Max !== undefined && ipv4Num(nat.ipv4Max) < ipv4Num(nat.ipv4Min))
    || (nat.ipv6Min !== undefined && nat.ipv6Max !== undefined && ipv6Big(nat.ipv6Max) < ipv6Big(nat.ipv6Min))
    || (nat.protoMin !== undefined && nat.protoMax !== undefined && nat.protoMax < nat.protoMin);
  if (backwards) throw err('OFTEXT_BAD_VALUE', 'invalid nat range (its end is below its start)', token, at);
}

function parseCt(ctx: Ctx, text: string, at: number, token: string, tokenAt: number): Action {
  // ct needs IP, as OVS checks against the flow's match.
  if (!isIp(ctx)) throw err('OFTEXT_PREREQ', 'ct requires ip or ipv6', token, tokenAt);
  const ct: Action & { type: 'ct' } = {
    type: 'ct', commit: false, force: false, zone: 0, recircTable: 0xff, alg: 0, actions: [],
  };
  let execAt = -1;
  for (const it of scanItems(text, 0, text.length)) {
    const iat = at + it.at;
    const vat = at + it.valueAt;
    switch (it.key) {
      case 'commit':
        ct.commit = true;
        break;
      case 'force':
        ct.force = true;
        break;
      case 'table':
        ct.recircTable = num(it.value, vat, 0xfe, 'table');
        break;
      case 'zone':
        ct.zone = /^[0-9]/.test(it.value) ? num(it.value, vat, 0xffff, 'zone') : srcSubfield(ctx, it.value, vat);
        if (typeof ct.zone !== 'number' && ct.zone.nBits !== 16) {
          throw err('OFTEXT_BAD_VALUE', 'zone must be a 16-bit subfield', it.value, vat);
        }
        break;
      case 'alg':
        if (it.value === 'ftp') ct.alg = 21;
        else if (it.value === 'tftp') ct.alg = 69;
        else throw err('OFTEXT_BAD_VALUE', 'unknown conntrack helper', it.value, vat);
        break;
      case 'nat': {
        const nat = parseNat(it.delim === '(' ? it.value : '', vat);
        checkNat(ctx, nat, it.value || it.key, it.delim === '(' ? vat : iat);
        ct.actions.unshift(nat);
        break;
      }
      case 'exec': {
        execAt = iat;
        const inner = parseActionList({ ...ctx, inCt: true }, text.slice(it.valueAt, it.valueAt + it.value.length), vat);
        for (const a of inner) {
          if (a.type !== 'set_field' && a.type !== 'reg_load') {
            throw err('OFTEXT_BAD_VALUE', 'ct exec only takes set_field/load of ct_mark or ct_label', it.value, vat);
          }
        }
        ct.actions.push(...inner);
        break;
      }
      default:
        throw err('OFTEXT_BAD_VALUE', 'unknown ct argument', it.key, iat);
    }
  }
  if (ct.force && !ct.commit) throw err('OFTEXT_BAD_VALUE', '"force" requires "commit"', 'force', at + text.indexOf('force'));
  if (execAt >= 0 && !ct.commit) throw err('OFTEXT_BAD_VALUE', 'exec(...) requires "commit"', 'exec', execAt);
  const proto = ctx.view.numMask(SLOT.nw_proto) ? ctx.view.num(SLOT.nw_proto) : -1;
  if ((ct.alg === 21 && proto !== IP_PROTO.TCP) || (ct.alg === 69 && proto !== IP_PROTO.UDP)) {
    throw err('OFTEXT_PREREQ', `alg=${ct.alg === 21 ? 'ftp requires tcp' : 'tftp requires udp'}`, 'alg', at + text.indexOf('alg'));
  }
  return ct;
}

function parseLearn(ctx: Ctx, text: string, at: number): Action {
  const learn: Action & { type: 'learn' } = {
    type: 'learn', idleTimeout: 0, hardTimeout: 0, priority: 0x8000, cookie: 0n, flags: 0, tableId: 1,
    finIdleTimeout: 0, finHardTimeout: 0, specs: [],
  };
  for (const it of scanItems(text, 0, text.length)) {
    const iat = at + it.at;
    const vat = at + it.valueAt;
    switch (it.key) {
      case 'table':
        learn.tableId = num(it.value, vat, 0xfe, 'table');
        continue;
      case 'idle_timeout':
        learn.idleTimeout = num(it.value, vat, 0xffff, 'idle_timeout');
        continue;
      case 'hard_timeout':
        learn.hardTimeout = num(it.value, vat, 0xffff, 'hard_timeout');
        continue;
      case 'fin_idle_timeout':
        learn.finIdleTimeout = num(it.value, vat, 0xffff, 'fin_idle_timeout');
        continue;
      case 'fin_hard_timeout':
        learn.finHardTimeout = num(it.value, vat, 0xffff, 'fin_hard_timeout');
        continue;
      case 'priority':
        learn.priority = num(it.value, vat, 0xffff, 'priority');
        continue;
      case 'cookie': {
        const c = parseBig(it.value);
        if (c === undefined || c > 0xffffffffffffffffn) throw err('OFTEXT_BAD_VALUE', 'invalid cookie', it.value, vat);
        learn.cookie = c;
        continue;
      }
      case 'send_flow_rem':
        learn.flags |= NX_LEARN_F.SEND_FLOW_REM;
        continue;
      case 'delete_learned':
        learn.flags |= NX_LEARN_F.DELETE_LEARNED;
        continue;
      case 'limit':
      case 'result_dst':
        throw err('OFTEXT_UNSUPPORTED', `learn ${it.key} needs NXAST_LEARN2, which the codec does not encode`, it.key, iat);
      case 'load': {
        const [src, srcAt, dst, dstAt] = arrow({ ...it, valueAt: vat });
        const d = subfield(dst, dstAt);
        if (/^[0-9]/.test(src)) {
          learn.specs.push({ kind: 'load_immediate', value: immediate(src, srcAt, d.nBits), dst: d });
        } else {
          const s = subfield(src, srcAt);
          if (s.nBits !== d.nBits) throw err('OFTEXT_BAD_VALUE', 'learn load source and destination widths differ', it.value, vat);
          learn.specs.push({ kind: 'load_field', src: s, dst: d });
        }
        continue;
      }
      case 'output':
        learn.specs.push({ kind: 'output_field', src: subfield(it.value, vat) });
        continue;
    }
    learn.specs.push(learnMatchSpec(ctx, it, iat, vat));
  }
  return learn;
}

function immediate(text: string, at: number, nBits: number): bigint {
  const v = parseBig(text);
  if (v === undefined || v >> BigInt(nBits) !== 0n) throw err('OFTEXT_BAD_VALUE', `value does not fit in ${nBits} bits`, text, at);
  return v;
}

function learnMatchSpec(_ctx: Ctx, it: Item, iat: number, vat: number): LearnSpec {
  const whole = MATCH_FIELDS_BY_NAME.get(it.key);
  if (whole !== undefined && it.delim === '=') {
    // `field=value` with a field name: an immediate in the field's own syntax.
    const name = codecFieldName(whole);
    if (name === undefined) throw err('OFTEXT_UNSUPPORTED', 'field cannot be learned', it.key, iat);
    const isValue = !/^[A-Za-z]/.test(it.value) || whole.format === 'ethernet' || whole.format === 'ipv6'
      || whole.format === 'port';
    if (isValue) {
      const [v] = parseFieldValue(whole, it.value, vat);
      return { kind: 'match_immediate', value: toBig(v), dst: { field: name, ofs: 0, nBits: subfieldWidth(whole) } };
    }
  }
  const dst = subfield(it.key, iat);
  if (it.delim === '') return { kind: 'match_field', src: dst, dst };
  if (/^[0-9]/.test(it.value)) return { kind: 'match_immediate', value: immediate(it.value, vat, dst.nBits), dst };
  const src = subfield(it.value, vat);
  if (src.nBits !== dst.nBits) throw err('OFTEXT_BAD_VALUE', 'learn source and destination widths differ', it.value, vat);
  return { kind: 'match_field', src, dst };
}

const MP_FIELDS = ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'];
const MP_ALGS = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'];

function parseMultipath(ctx: Ctx, text: string, at: number): Action {
  const args = splitArgs(text, 0, text.length);
  if (args.length !== 6) throw err('OFTEXT_SYNTAX', 'multipath needs 6 arguments', text, at);
  const fields = MP_FIELDS.indexOf(args[0].value);
  const algorithm = MP_ALGS.indexOf(args[2].value);
  if (fields < 0) throw err('OFTEXT_BAD_VALUE', 'unknown multipath fields', args[0].value, at + args[0].at);
  if (algorithm < 0) throw err('OFTEXT_BAD_VALUE', 'unknown multipath algorithm', args[2].value, at + args[2].at);
  const nLinks = num(args[3].value, at + args[3].at, 65536, 'number of links');
  if (nLinks < 1) throw err('OFTEXT_BAD_VALUE', 'number of links must be at least 1', args[3].value, at + args[3].at);
  return {
    type: 'multipath', fields, basis: num(args[1].value, at + args[1].at, 0xffff, 'basis'), algorithm,
    maxLink: nLinks - 1, arg: num(args[4].value, at + args[4].at, 0xffffffff, 'argument'),
    dst: dstSubfield(ctx, args[5].value, at + args[5].at),
  };
}

function parseController(text: string, at: number): Action {
  const c: Action & { type: 'controller' } = { type: 'controller', maxLen: OFPCML.NO_BUFFER, controllerId: 0, reason: 1 };
  for (const it of scanItems(text, 0, text.length)) {
    const vat = at + it.valueAt;
    switch (it.key) {
      case 'reason': {
        const r = PACKET_IN_REASONS.indexOf(it.value);
        if (r < 0) throw err('OFTEXT_BAD_VALUE', 'unknown packet-in reason', it.value, vat);
        c.reason = r;
        break;
      }
      case 'max_len':
        c.maxLen = num(it.value, vat, 0xffff, 'max_len');
        break;
      case 'id':
        c.controllerId = num(it.value, vat, 0xffff, 'controller id');
        break;
      case 'userdata':
        c.userdata = hexData(it.value, vat);
        break;
      case 'pause':
        c.pause = true;
        break;
      case 'meter_id': {
        // Meter 0 does not exist; ovs-ofctl sends such a controller action without a meter.
        const m = num(it.value, vat, 0xffffffff, 'meter id');
        if (m !== 0) c.meterId = m;
        break;
      }
      default:
        throw err('OFTEXT_BAD_VALUE', 'unknown controller argument', it.key, at + it.at);
    }
  }
  return c;
}

/** An output (or controller) action, with OVS's defaults for max_len. */
function output(p: number, maxLen?: number): Action {
  return { type: 'output', port: p, maxLen: maxLen ?? (p === OFPP.CONTROLLER ? OFPCML.NO_BUFFER : 0) };
}

function parseAction(ctx: Ctx, it: Item, out: Action[]): void {
  const { key, value } = it;
  const vat = it.valueAt;
  switch (key) {
    case 'output':
      if (it.delim === '(') {
        throw err('OFTEXT_UNSUPPORTED', 'output with max_len (NXAST_OUTPUT_TRUNC) is not in the codec', key, it.at);
      }
      // A field or subfield (`output:reg0`, `output:NXM_NX_REG0[0..15]`), else a port.
      if (value.includes('[') || (FIELDS_BY_NAME.has(value) && parsePort(value) === undefined)) {
        out.push({ type: 'output_reg', src: srcSubfield(ctx, value, vat), maxLen: OFPCML.NO_BUFFER });
      } else out.push(output(outPort(value, vat)));
      return;
    case 'output_reg':
      out.push({ type: 'output_reg', src: srcSubfield(ctx, value, vat), maxLen: OFPCML.NO_BUFFER });
      return;
    case 'controller':
    case 'CONTROLLER':
      if (it.delim === '(') {
        const c = parseController(value, vat) as Action & { type: 'controller' };
        // OVS sends a controller action with nothing but max_len as an output to CONTROLLER.
        const simple = c.reason === 1 && c.controllerId === 0 && !c.userdata && !c.pause && c.meterId === undefined;
        out.push(simple ? output(OFPP.CONTROLLER, c.maxLen) : c);
      } else if (it.delim === ':') {
        out.push(output(OFPP.CONTROLLER, num(value, vat, 0xffff, 'max_len')));
      } else out.push(output(OFPP.CONTROLLER));
      return;
    case 'enqueue':
    case 'pop_queue':
    case 'bundle':
    case 'bundle_load':
    case 'sample':
    case 'fin_timeout':
    case 'check_pkt_larger':
    case 'encap':
    case 'decap':
    case 'push':
    case 'pop':
    case 'stack_push':
    case 'stack_pop':
    case 'delete_field':
    case 'meter_id':
    case 'dec_nsh_ttl':
      throw err('OFTEXT_UNSUPPORTED', 'action is not in the codec', key, it.at);
    case 'copy_ttl_in':
    case 'copy_ttl_out':
    case 'push_pbb':
    case 'pop_pbb':
      // Actions of OpenFlow 1.1-1.3 that ovs-ofctl does not read (the codec still decodes them).
      throw err('OFTEXT_UNKNOWN_ACTION', 'unknown action', key, it.at);
    case 'drop':
      throw err('OFTEXT_SYNTAX', '"drop" must not be accompanied by any other action or instruction', key, it.at);
    case 'group':
      out.push({ type: 'group', groupId: num(value, vat, 0xffffffff, 'group id') });
      return;
    case 'set_queue':
      out.push({ type: 'set_queue', queueId: num(value, vat, 0xffffffff, 'queue id') });
      return;
    case 'push_vlan': {
      const ethertype = num(value, vat, 0xffff, 'ethertype');
      if (ethertype !== 0x8100 && ethertype !== 0x88a8) throw err('OFTEXT_BAD_VALUE', 'not a VLAN ethertype (0x8100 or 0x88a8)', value, vat);
      out.push({ type: 'push_vlan', ethertype });
      ctx.vlan = true;
      return;
    }
    case 'pop_vlan':
    case 'strip_vlan':
      if (!ctx.vlan) throw err('OFTEXT_PREREQ', `${key} needs a VLAN tag (match dl_vlan or push one first)`, key, it.at);
      out.push({ type: 'pop_vlan' });
      ctx.vlan = false;
      return;
    case 'mod_vlan_vid':
      ensureVlan(ctx, out);
      out.push({ type: 'set_field', field: 'vlan_vid', value: 0x1000 | num(value, vat, 0xfff, 'VLAN id') });
      return;
    case 'mod_vlan_pcp':
      ensureVlan(ctx, out);
      out.push({ type: 'set_field', field: 'vlan_pcp', value: num(value, vat, 7, 'VLAN priority') });
      return;
    case 'push_mpls': {
      const ethertype = num(value, vat, 0xffff, 'ethertype');
      if (ethertype !== ETH_TYPE.MPLS && ethertype !== ETH_TYPE.MPLS_MCAST) throw err('OFTEXT_BAD_VALUE', 'not an MPLS ethertype (0x8847 or 0x8848)', value, vat);
      out.push({ type: 'push_mpls', ethertype });
      ctx.dlType = ethertype;
      return;
    }
    case 'pop_mpls': {
      needs(ctx, 'mpls', key, key, it.at);
      const ethertype = num(value, vat, 0xffff, 'ethertype');
      out.push({ type: 'pop_mpls', ethertype });
      ctx.dlType = ethertype;
      return;
    }
    case 'dec_mpls_ttl':
      needs(ctx, 'mpls', key, key, it.at);
      out.push({ type: key });
      return;
    case 'ct_clear':
    case 'exit':
      out.push({ type: key });
      return;
    case 'set_mpls_label':
      setField(ctx, field('mpls_label'), value, vat, out);
      return;
    case 'set_mpls_tc':
      setField(ctx, field('mpls_tc'), value, vat, out);
      return;
    case 'set_mpls_ttl':
      needs(ctx, 'mpls', key, key, it.at);
      out.push({ type: 'set_mpls_ttl', ttl: num(value, vat, 0xff, 'TTL') });
      return;
    case 'mod_nw_ttl':
    case 'set_nw_ttl':
      needs(ctx, 'ip_any', key, key, it.at);
      out.push({ type: 'set_nw_ttl', ttl: num(value, vat, 0xff, 'TTL') });
      return;
    case 'dec_ttl':
      needs(ctx, 'ip_any', key, key, it.at);
      if (it.delim === '(' && value.trim() !== '') {
        const ids = splitArgs(value, 0, value.length).map((a) => num(a.value, vat + a.at, 0xffff, 'controller id'));
        out.push({ type: 'dec_ttl', controllerIds: ids });
      } else out.push({ type: 'dec_nw_ttl' });
      return;
    case 'mod_dl_src':
      setField(ctx, field('eth_src'), value, vat, out);
      return;
    case 'mod_dl_dst':
      setField(ctx, field('eth_dst'), value, vat, out);
      return;
    case 'mod_nw_src':
    case 'mod_nw_dst':
      // OpenFlow 1.0's SET_NW_SRC/DST: an IPv4 address, in an IPv4 flow (not ARP's addresses).
      needs(ctx, 'ipv4', key, key, it.at);
      if (parseIPv4(value) === undefined) throw err('OFTEXT_BAD_VALUE', 'not an IPv4 address', value, vat);
      setField(ctx, field(key === 'mod_nw_src' ? 'ip_src' : 'ip_dst'), value, vat, out, key, it.at);
      return;
    case 'mod_nw_tos': {
      needs(ctx, 'ip_any', key, key, it.at);
      const tos = num(value, vat, 0xff, 'TOS');
      if (tos & 3) throw err('OFTEXT_BAD_VALUE', 'not a valid TOS (the DSCP bits: a multiple of 4)', value, vat);
      out.push({ type: 'set_field', field: 'ip_dscp', value: tos >> 2 });
      return;
    }
    case 'mod_nw_ecn':
      setField(ctx, field('nw_ecn'), value, vat, out, key, it.at);
      return;
    case 'mod_tp_src':
    case 'mod_tp_dst':
      if (value === '') throw err('OFTEXT_BAD_VALUE', 'invalid port', value, vat);
      setField(ctx, l4Field(ctx, key === 'mod_tp_src' ? 'src' : 'dst', it), value, vat, out, key, it.at);
      return;
    case 'set_tunnel':
    case 'set_tunnel64': {
      const v = parseBig(value);
      if (v === undefined || v > 0xffffffffffffffffn) throw err('OFTEXT_BAD_VALUE', 'invalid tunnel id', value, vat);
      out.push({ type: 'set_field', field: 'tun_id', value: v });
      return;
    }
    case 'set_field':
      setFieldArrow(ctx, it, out);
      return;
    case 'load': {
      const [src, srcAt, dst, dstAt] = arrow(it);
      const d = dstSubfield(ctx, dst, dstAt);
      const v = parseBig(src);
      if (v === undefined) throw err('OFTEXT_BAD_VALUE', 'invalid load value', src, srcAt);
      if (v >> BigInt(d.nBits) !== 0n) throw err('OFTEXT_BAD_VALUE', `value does not fit into ${d.nBits} bits`, src, srcAt);
      // A load carries at most 64 bits: a wider one is several, low bits first, as OVS splits it.
      for (let ofs = 0; ofs < d.nBits; ofs += 64) {
        const nBits = Math.min(64, d.nBits - ofs);
        out.push({ type: 'reg_load', dst: { field: d.field, ofs: d.ofs + ofs, nBits }, value: (v >> BigInt(ofs)) & ((1n << BigInt(nBits)) - 1n) });
      }
      return;
    }
    case 'move': {
      const [src, srcAt, dst, dstAt] = arrow(it);
      const s = srcSubfield(ctx, src, srcAt);
      const d = dstSubfield(ctx, dst, dstAt, true);
      if (s.nBits !== d.nBits) {
        throw err('OFTEXT_BAD_VALUE', `source is ${s.nBits} bits, destination ${d.nBits}`, it.value, vat);
      }
      out.push({ type: 'reg_move', src: s, dst: d });
      return;
    }
    case 'resubmit': {
      if (it.delim === '(') {
        const a = splitArgs(value, 0, value.length);
        if (a.length > 3 || (a.length === 3 && a[2].value !== 'ct')) throw err('OFTEXT_SYNTAX', 'resubmit takes ([port][,table[,ct]])', value, vat);
        const p = a[0].value === '' ? OFPP.IN_PORT : port(a[0].value, vat + a[0].at);
        const t = a.length < 2 || a[1].value === '' ? 0xff : num(a[1].value, vat + a[1].at, 0xff, 'table');
        // in_port and table 255 are what resubmit does without them: one of them must be said.
        if (p === OFPP.IN_PORT && t === 0xff) throw err('OFTEXT_SYNTAX', 'resubmit needs a port or a table', value, vat);
        // ct: the conntrack original direction tuple, which only a tracked connection has.
        if (a.length === 3 && !ctValid(ctx.view)) throw err('OFTEXT_PREREQ', 'resubmit(...,ct) requires a valid connection (ct_state=+trk-inv, +est, ...)', value, vat);
        out.push({ type: 'resubmit', port: p, table: t, ct: a.length === 3 });
      } else {
        const p = port(value, vat);
        if (p === OFPP.IN_PORT) throw err('OFTEXT_SYNTAX', 'resubmit needs a port or a table', value, vat);
        out.push({ type: 'resubmit', port: p, table: 0xff, ct: false });
      }
      return;
    }
    case 'conjunction': {
      const m = /^\s*([0-9]+)\s*,\s*([0-9]+)\s*\/\s*([0-9]+)\s*$/.exec(value);
      if (!m) throw err('OFTEXT_SYNTAX', 'conjunction takes (id,k/n)', value, vat);
      const id = num(m[1], vat, 0xffffffff, 'conjunction id');
      const k = Number(m[2]);
      const n = Number(m[3]);
      if (n < 2 || n > 64 || k < 1 || k > n) throw err('OFTEXT_BAD_VALUE', 'conjunction needs 1 <= k <= n, 2 <= n <= 64', value, vat);
      out.push({ type: 'conjunction', id, clause: k, nClauses: n });
      return;
    }
    case 'note': {
      const data = hexData(value, vat);
      // NXAST_NOTE pads the action to 8 bytes: 6 + 8k bytes of note, as OVS prints it back.
      const len = data.length <= 6 ? 6 : 6 + Math.ceil((data.length - 6) / 8) * 8;
      const padded = Buffer.alloc(len);
      data.copy(padded);
      out.push({ type: 'note', data: padded });
      return;
    }
    case 'ct':
      out.push(parseCt(ctx, it.delim === '(' ? value : '', vat, key, it.at));
      return;
    case 'learn':
      out.push(parseLearn(ctx, value, vat));
      return;
    case 'multipath':
      out.push(parseMultipath(ctx, value, vat));
      return;
    case 'clone': {
      // `clone(drop)` is an empty clone, as ovs-ofctl prints one.
      const inner = value.trim() === 'drop' ? '' : value;
      out.push({ type: 'clone', actions: parseActionList({ ...ctx }, inner, vat) });
      return;
    }
  }
  if (it.delim === '') {
    const p = parsePort(key);
    if (p !== undefined) {
      out.push(output(outPort(key, it.at)));
      return;
    }
  }
  throw err('OFTEXT_UNKNOWN_ACTION', 'unknown action', key, it.at);
}

/** Parses a nested action list (`write_actions(...)`, `clone(...)`, `exec(...)`) found at `at` of the source. */
function parseActionList(ctx: Ctx, text: string, at: number): Action[] {
  const out: Action[] = [];
  for (const it of scanItems(text, 0, text.length)) {
    parseAction(ctx, { ...it, at: it.at + at, valueAt: it.valueAt + at }, out);
  }
  return out;
}

const INSTRUCTION_ORDER = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];

/** OpenFlow 1.1+ requires instructions in this order, each at most once (apply_actions collects the plain actions). */
function order(state: { last: number }, name: string, it: Item): void {
  const rank = INSTRUCTION_ORDER.indexOf(name);
  if (rank < state.last || (rank === state.last && name !== 'apply_actions')) {
    throw new FlowSyntaxError('OFTEXT_SYNTAX', `instruction ${name} out of order (OpenFlow 1.1+ order: ${INSTRUCTION_ORDER.join(', ')})`, it.key, it.at + 1);
  }
  state.last = rank;
}

/**
 * Parses `text[start, end)` (what follows `actions=`) into instructions.
 * `view` is the flow's match, for the VLAN state and port-field choices.
 */
export function parseInstructions(view: MatchView, text: string, start: number, end: number): Instruction[] {
  const items = scanItems(text, start, end);
  if (items.length === 0) return [];
  if (items.length === 1 && items[0].key === 'drop' && items[0].delim === '') return [];
  const tl = view.numMask(SLOT.vlan_tci);
  const ctx: Ctx = {
    view, vlan: (tl & 0x1000) !== 0 && (view.num(SLOT.vlan_tci) & 0x1000) !== 0,
    dlType: view.has(SLOT.dl_type) ? view.num(SLOT.dl_type) : -1,
  };
  const out: Instruction[] = [];
  let apply: Action[] | undefined;
  const state = { last: -1 };
  for (const it of items) {
    const vat = it.valueAt;
    switch (it.key) {
      case 'meter': {
        order(state, 'meter', it);
        const meterId = num(it.value, vat, 0xffffffff, 'meter id');
        if (meterId === 0) throw err('OFTEXT_BAD_VALUE', 'meter 0 does not exist', it.value, vat);
        out.push({ type: 'meter', meterId });
        continue;
      }
      case 'apply_actions':
        throw new FlowSyntaxError('OFTEXT_SYNTAX', 'apply_actions is the default instruction', it.key, it.at + 1);
      case 'clear_actions':
        order(state, 'clear_actions', it);
        out.push({ type: 'clear_actions' });
        continue;
      case 'write_actions': {
        order(state, 'write_actions', it);
        const actions = parseActionList({ ...ctx }, it.value, vat);
        // ovs-ofctl sends no instruction for an empty write_actions().
        if (actions.length) out.push({ type: 'write_actions', actions });
        continue;
      }
      case 'write_metadata': {
        order(state, 'write_metadata', it);
        const slash = it.value.indexOf('/');
        const v = parseBig(slash < 0 ? it.value : it.value.slice(0, slash));
        const m = slash < 0 ? 0xffffffffffffffffn : parseBig(it.value.slice(slash + 1));
        if (v === undefined || m === undefined || v > 0xffffffffffffffffn || m > 0xffffffffffffffffn) {
          throw err('OFTEXT_BAD_VALUE', 'invalid metadata', it.value, vat);
        }
        out.push({ type: 'write_metadata', metadata: v, mask: m });
        continue;
      }
      case 'goto_table':
        order(state, 'goto_table', it);
        out.push({ type: 'goto_table', tableId: num(it.value, vat, 0xff, 'table') });
        continue;
    }
    order(state, 'apply_actions', it);
    if (!apply) out.push({ type: 'apply_actions', actions: (apply = []) });
    parseAction(ctx, it, apply);
  }
  return out;
}
