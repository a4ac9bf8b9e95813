/**
 * The codec's instructions and actions printed as ovs-ofctl prints them
 * after decoding OpenFlow 1.3 (lib/ofp-actions.c `format_*`): `pop_vlan`
 * rather than `strip_vlan`, `set_field:4101->vlan_vid`, `load:0x1->NXM_NX_REG5[]`,
 * `CONTROLLER:65535`, `resubmit(,71)`, `ct(commit,zone=NXM_NX_REG6[0..15])`.
 */
import { NX_LEARN_F, NX_NAT_F, OFPCML, OFPP } from '../constants.js';
import type { Action, Instruction, LearnSpec, NatAction, Subfield } from '../types.js';
import { FlowSyntaxError } from './errors.js';
import { FIELDS, type FieldDef } from './fields.js';
import { formatFieldValue, formatPort } from './field-values.js';
import { codecToRepr, textFieldOf } from './match-codec.js';
import { fromBig } from './match-parse.js';
import { formatSubfield, subfieldWidth } from './subfield.js';
import { bigToBytes, formatHexBytes } from './values.js';

function textField(name: string): FieldDef {
  const f = textFieldOf(name);
  if (!f) throw new FlowSyntaxError('OFTEXT_UNSUPPORTED', 'field has no ovs-ofctl name here', name, 1);
  return f;
}

/** A codec subfield by its OVS name; `in_port` beyond 16 bits is OXM_OF_IN_PORT (in_port_oxm). */
function subField(s: Subfield): FieldDef {
  if (s.field === 'in_port' && s.ofs + s.nBits <= 16) return FIELDS.get('in_port')!;
  return textField(s.field);
}

function sub(s: Subfield): string {
  return formatSubfield(subField(s), s.ofs, s.nBits);
}

function hex(v: bigint | number): string {
  return v === 0 || v === 0n ? '0' : '0x' + v.toString(16);
}

function dotted(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += (i ? '.' : '') + data[i].toString(16).padStart(2, '0');
  return s;
}

const PACKET_IN_REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];
const MP_FIELDS = ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'];
const MP_ALGS = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'];

function formatNat(a: NatAction): string {
  let s = 'nat';
  if (!(a.flags & (NX_NAT_F.SRC | NX_NAT_F.DST))) return s;
  s += a.flags & NX_NAT_F.SRC ? '(src' : '(dst';
  const hasPorts = a.protoMin !== undefined && a.protoMin !== 0;
  if (a.ipv4Min !== undefined) {
    s += '=' + a.ipv4Min;
    if (a.ipv4Max !== undefined && a.ipv4Max !== a.ipv4Min && a.ipv4Max !== '0.0.0.0') s += '-' + a.ipv4Max;
  } else if (a.ipv6Min !== undefined) {
    s += '=' + (hasPorts ? `[${a.ipv6Min}]` : a.ipv6Min);
    if (a.ipv6Max !== undefined && a.ipv6Max !== a.ipv6Min && a.ipv6Max !== '::') s += '-' + (hasPorts ? `[${a.ipv6Max}]` : a.ipv6Max);
  }
  if ((a.ipv4Min !== undefined || a.ipv6Min !== undefined) && hasPorts) {
    s += ':' + a.protoMin;
    if (a.protoMax !== undefined && a.protoMax !== 0 && a.protoMax !== a.protoMin) s += '-' + a.protoMax;
  }
  s += ',';
  if (a.flags & NX_NAT_F.PERSISTENT) s += 'persistent,';
  if (a.flags & NX_NAT_F.PROTO_HASH) s += 'hash,';
  if (a.flags & NX_NAT_F.PROTO_RANDOM) s += 'random,';
  return s.slice(0, -1) + ')';
}

function formatLearnSpec(sp: LearnSpec): string {
  switch (sp.kind) {
    case 'match_immediate': {
      const f = subField(sp.dst);
      if (sp.dst.ofs === 0 && sp.dst.nBits === subfieldWidth(f)) {
        return `${f.name}=${formatFieldValue(f, fromBig(sp.value, f))}`;
      }
      return `${sub(sp.dst)}=${formatHexBytes(bigToBytes(sp.value, Math.ceil(sp.dst.nBits / 8)))}`;
    }
    case 'match_field': {
      const same = sp.src.field === sp.dst.field && sp.src.ofs === sp.dst.ofs;
      return same ? sub(sp.dst) : `${sub(sp.dst)}=${sub(sp.src)}`;
    }
    case 'load_immediate':
      return `load:${formatHexBytes(bigToBytes(sp.value, Math.ceil(sp.dst.nBits / 8)))}->${sub(sp.dst)}`;
    case 'load_field':
      return `load:${sub(sp.src)}->${sub(sp.dst)}`;
    case 'output_field':
      return `output:${sub(sp.src)}`;
  }
}

/** One action as ovs-ofctl prints it. */
export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      if (a.port === OFPP.CONTROLLER) return `CONTROLLER:${a.maxLen}`;
      return a.port < 0xffffff00 ? `output:${a.port}` : formatPort(a.port);
    case 'controller': {
      const simple = a.reason === 1 && a.controllerId === 0 && !a.userdata?.length && !a.pause && a.meterId === undefined;
      if (simple) return `CONTROLLER:${a.maxLen}`;
      let s = 'controller(';
      if (a.reason !== 1) s += `reason=${PACKET_IN_REASONS[a.reason] ?? a.reason},`;
      if (a.maxLen !== OFPCML.NO_BUFFER) s += `max_len=${a.maxLen},`;
      if (a.controllerId !== 0) s += `id=${a.controllerId},`;
      if (a.userdata?.length) s += `userdata=${dotted(a.userdata)},`;
      if (a.pause) s += 'pause,';
      if (a.meterId !== undefined) s += `meter_id=${a.meterId},`;
      return (s.endsWith(',') ? s.slice(0, -1) : s) + ')';
    }
    case 'group':
      return `group:${a.groupId}`;
    case 'set_queue':
      return `set_queue:${a.queueId}`;
    case 'pop_vlan':
    case 'pop_pbb':
    case 'copy_ttl_out':
    case 'copy_ttl_in':
    case 'dec_mpls_ttl':
    case 'ct_clear':
    case 'exit':
      return a.type;
    case 'dec_nw_ttl':
      return 'dec_ttl';
    case 'dec_ttl':
      return `dec_ttl(${a.controllerIds.join(',')})`;
    case 'set_mpls_ttl':
      return `set_mpls_ttl(${a.ttl})`;
    case 'set_nw_ttl':
      return `mod_nw_ttl:${a.ttl}`;
    case 'push_vlan':
      return `push_vlan:0x${a.ethertype.toString(16)}`;
    case 'push_mpls':
      return `push_mpls:0x${a.ethertype.toString(16).padStart(4, '0')}`;
    case 'pop_mpls':
      return `pop_mpls:0x${a.ethertype.toString(16).padStart(4, '0')}`;
    case 'push_pbb':
      return `push_pbb:0x${a.ethertype.toString(16).padStart(4, '0')}`;
    case 'set_field': {
      const f = textField(a.field);
      const v = codecToRepr(f, a.value);
      const m = a.mask === undefined ? undefined : codecToRepr(f, a.mask);
      return `set_field:${formatFieldValue(f, v, m)}->${f.name}`;
    }
    case 'reg_load':
      return `load:${hex(a.value)}->${sub(a.dst)}`;
    case 'reg_move':
      return `move:${sub(a.src)}->${sub(a.dst)}`;
    case 'resubmit': {
      if (a.port !== OFPP.IN_PORT && a.table === 0xff && !a.ct) return `resubmit:${formatPort(a.port)}`;
      let s = 'resubmit(';
      if (a.port !== OFPP.IN_PORT) s += formatPort(a.port);
      s += ',';
      if (a.table !== 0xff) s += a.table;
      if (a.ct) s += ',ct';
      return s + ')';
    }
    case 'output_reg':
      return `output:${sub(a.src)}`;
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'note':
      return `note:${dotted(a.data)}`;
    case 'ct': {
      let s = 'ct(';
      if (a.commit) s += 'commit,';
      if (a.force) s += 'force,';
      if (a.recircTable !== 0xff) s += `table=${a.recircTable},`;
      if (typeof a.zone === 'number') {
        if (a.zone !== 0) s += `zone=${a.zone},`;
      } else s += `zone=${sub(a.zone)},`;
      let rest = a.actions;
      if (rest.length && rest[0].type === 'nat') {
        s += formatNat(rest[0]) + ',';
        rest = rest.slice(1);
      }
      if (rest.length) s += `exec(${rest.map(formatAction).join(',')}),`;
      if (a.alg === 21) s += 'alg=ftp,';
      else if (a.alg === 69) s += 'alg=tftp,';
      else if (a.alg) s += `alg=${a.alg},`;
      return (s.endsWith(',') ? s.slice(0, -1) : s) + ')';
    }
    case 'nat':
      return formatNat(a);
    case 'learn': {
      let s = `learn(table=${a.tableId}`;
      if (a.idleTimeout) s += `,idle_timeout=${a.idleTimeout}`;
      if (a.hardTimeout) s += `,hard_timeout=${a.hardTimeout}`;
      if (a.finIdleTimeout) s += `,fin_idle_timeout=${a.finIdleTimeout}`;
      if (a.finHardTimeout) s += `,fin_hard_timeout=${a.finHardTimeout}`;
      if (a.priority !== 0x8000) s += `,priority=${a.priority}`;
      if (a.flags & NX_LEARN_F.SEND_FLOW_REM) s += ',send_flow_rem';
      if (a.flags & NX_LEARN_F.DELETE_LEARNED) s += ',delete_learned';
      if (a.cookie !== 0n) s += `,cookie=0x${a.cookie.toString(16)}`;
      for (const sp of a.specs) s += ',' + formatLearnSpec(sp);
      return s + ')';
    }
    case 'multipath':
      return `multipath(${MP_FIELDS[a.fields] ?? a.fields},${a.basis},${MP_ALGS[a.algorithm] ?? a.algorithm},${a.maxLink + 1},${a.arg},${sub(a.dst)})`;
    case 'set_tunnel':
      return `set_tunnel64:${hex(a.tunId)}`;
    case 'clone':
      return `clone(${a.actions.length ? formatActionList(a.actions) : 'drop'})`;
    case 'experimenter':
      throw new FlowSyntaxError('OFTEXT_UNSUPPORTED', 'experimenter action has no text form', `0x${a.experimenter.toString(16)}`, 1);
  }
}

function formatActionList(actions: readonly Action[]): string {
  let s = '';
  for (let i = 0; i < actions.length; i++) s += (i ? ',' : '') + formatAction(actions[i]);
  return s;
}

/** Actions as OVS prints an action list: comma-separated, `drop` when empty. */
export function formatActions(actions: readonly Action[]): string {
  return actions.length === 0 ? 'drop' : formatActionList(actions);
}

/** Instructions flattened as ovs-ofctl prints them after `actions=`. */
export function formatInstructions(instructions: readonly Instruction[]): string {
  const parts: string[] = [];
  for (const ins of instructions) {
    switch (ins.type) {
      case 'meter':
        parts.push(`meter:${ins.meterId}`);
        break;
      case 'apply_actions':
        if (ins.actions.length) parts.push(formatActionList(ins.actions));
        break;
      case 'clear_actions':
        parts.push('clear_actions');
        break;
      case 'write_actions':
        parts.push(`write_actions(${formatActionList(ins.actions)})`);
        break;
      case 'write_metadata':
        parts.push(ins.mask === 0xffffffffffffffffn ? `write_metadata:${hex(ins.metadata)}` : `write_metadata:${hex(ins.metadata)}/${hex(ins.mask)}`);
        break;
      case 'goto_table':
        parts.push(`goto_table:${ins.tableId}`);
        break;
      case 'experimenter':
        throw new FlowSyntaxError('OFTEXT_UNSUPPORTED', 'experimenter instruction has no text form', `0x${ins.experimenter.toString(16)}`, 1);
    }
  }
  return parts.length ? parts.join(',') : 'drop';
}
