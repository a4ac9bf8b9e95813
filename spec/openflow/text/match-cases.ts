/**
 * Match items to try, field by field: every field ovs-fields(7) documents
 * (read from the installed man page, so the list is Open vSwitch's, not
 * ours), every spelling our parser knows, and the OpenFlow 1.0 spellings
 * neither lists; each with the values that matter for its format (exact,
 * masked, prefixes, names, the largest, one past it, malformed) in a context
 * that satisfies its prerequisites, and one valid value in each context that
 * does not.
 *
 * Each case says what we must do with it:
 *  - `agree`: what ovs-ofctl does (see fields-oracle.spec.ts for the rule);
 *  - `refuse`: refuse it with one of the codes given, whatever ovs-ofctl does,
 *    because ovs-ofctl would read something other than what is written: a
 *    value with bits beyond the field's documented width (ovs-fields(7):
 *    "only the least-significant N bits may be nonzero"; ovs-ofctl truncates
 *    it), text that is not the format's syntax (ovs-ofctl's scanf reads
 *    `1.2.3.256` as 1.2.3.0 and `0x` as 0), a field outside the context its
 *    documented prerequisites require (ovs-ofctl drops it, or reads `tcp_src`
 *    in a UDP flow as the UDP port).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { FlowSyntaxErrorCode } from '@ovs-agent/openflow';
import { FIELDS_BY_NAME } from '../../../protocol/openflow/text/fields.js';

export interface ManField {
  name: string;
  aliases: string[];
  /** Width in bits, and how many low bits may be nonzero (ovs-fields(7) "only the least-significant N bits"). */
  bits: number;
  significant: number;
  format: string;
  maskable: boolean;
  prereq: string;
}

const MAN = '/usr/share/man/man7/ovs-fields.7.gz';

/** The fields of ovs-fields(7), reg0/xreg0/xxreg0/tun_metadata0 expanded to all their numbers. */
export function manFields(): ManField[] {
  const text = gunzipSync(readFileSync(MAN)).toString('utf8').replace(/\\f[BRI]/g, '');
  const out: ManField[] = [];
  let cur: Partial<ManField> = {};
  for (const line of text.split('\n')) {
    const kv = /^(Name|Width|Format|Masking|Prerequisites):;(.*)$/.exec(line);
    if (!kv) continue;
    const [, k, v] = kv;
    if (k === 'Name') {
      const m = /^(\S+)(?: \(aka (\S+)\))?/.exec(v)!;
      cur = { name: m[1], aliases: m[2] ? [m[2]] : [], prereq: 'none' };
      out.push(cur as ManField);
    } else if (k === 'Width') {
      const m = /^(\d+) bits(?: \(only the least-significant (\d+) bits may be nonzero\))?/.exec(v)!;
      cur.bits = Number(m[1]);
      cur.significant = m[2] ? Number(m[2]) : Number(m[1]);
    } else if (k === 'Format') cur.format = v.trim();
    else if (k === 'Masking') cur.maskable = v.trim() !== 'not maskable';
    else cur.prereq = v.trim();
  }
  const expanded: ManField[] = [];
  for (const f of out) {
    const n = ({ reg0: 16, xreg0: 8, xxreg0: 4, tun_metadata0: 2 } as Record<string, number>)[f.name];
    if (n === undefined) expanded.push(f);
    else for (let i = 0; i < n; i++) expanded.push({ ...f, name: f.name.replace('0', String(i)) });
  }
  return expanded;
}

/**
 * What ovs-fields(7) says in prose rather than in its table: vlan_vid is
 * "12+1 bits" (bit 12 is OFPVID_PRESENT, which the text takes), arp_op above
 * 255 is treated as zero, nw_tos has its two ECN bits cleared.
 */
const PROSE: Record<string, { significant?: number; zeroLowBits?: number }> = {
  vlan_vid: { significant: 13 },
  arp_op: { significant: 8 },
  nw_tos: { zeroLowBits: 2 },
};

/** Contexts per documented prerequisite: `ok` satisfy it, `wrong` do not. */
const CONTEXTS: Record<string, { ok: string[]; wrong: string[] }> = {
  none: { ok: [''], wrong: [] },
  Ethernet: { ok: [''], wrong: [] },
  // A VLAN priority written in text makes the match require a VLAN header (OVS sets the CFI bit).
  'VLAN VID': { ok: ['dl_vlan=5', 'vlan_tci=0x1000/0x1000', '', 'vlan_tci=0/0x1000'], wrong: [] },
  MPLS: { ok: ['mpls', 'mplsm'], wrong: ['', 'ip'] },
  IPv4: { ok: ['ip'], wrong: ['', 'ipv6', 'arp'] },
  IPv6: { ok: ['ipv6'], wrong: ['', 'ip'] },
  'IPv4/IPv6': { ok: ['ip', 'ipv6'], wrong: ['', 'arp'] },
  ARP: { ok: ['arp', 'rarp'], wrong: ['', 'ip'] },
  TCP: { ok: ['tcp', 'tcp6'], wrong: ['', 'ip', 'udp', 'sctp6'] },
  UDP: { ok: ['udp', 'udp6'], wrong: ['', 'tcp'] },
  SCTP: { ok: ['sctp', 'sctp6'], wrong: ['', 'udp'] },
  ICMPv4: { ok: ['icmp'], wrong: ['', 'ip', 'icmp6'] },
  ICMPv6: { ok: ['icmp6'], wrong: ['', 'ipv6', 'icmp'] },
  ND: { ok: ['icmp6,icmp_type=135', 'icmp6,icmpv6_type=136'], wrong: ['icmp6', 'icmp6,icmp_type=134', ''] },
  'ND solicit': { ok: ['icmp6,icmp_type=135'], wrong: ['icmp6,icmp_type=136', 'icmp6', ''] },
  'ND advert': { ok: ['icmp6,icmp_type=136'], wrong: ['icmp6,icmp_type=135', 'icmp6', ''] },
  // is_ct_valid(): a state bit that implies a tracked, valid connection; the conntrack tuple also needs the
  // packet's own network protocol, and ct_tp_* a ct_nw_proto (OVS sends them only with one).
  CT: { ok: ['ip,ct_state=+trk-inv', 'ipv6,ct_state=+est+trk', 'ip,ct_state=+new', 'ip,ct_state=+rpl+trk-inv'], wrong: ['', 'ip', 'ip,ct_state=+trk'] },
  'CT IPv4': { ok: ['ip,ct_state=+trk-inv', 'ip,ct_state=+new'], wrong: ['', 'ip', 'ip,ct_state=+trk', 'ct_state=+trk-inv', 'ipv6,ct_state=+trk-inv'] },
  'CT IPv6': { ok: ['ipv6,ct_state=+trk-inv', 'ipv6,ct_state=+est+trk'], wrong: ['', 'ipv6', 'ct_state=+trk-inv', 'ip,ct_state=+trk-inv'] },
  'CT L4': { ok: ['ip,ct_state=+trk-inv,ct_nw_proto=6', 'ipv6,ct_state=+est,ct_nw_proto=17'], wrong: ['ip,ct_state=+trk-inv', '', 'ip,ct_state=+trk,ct_nw_proto=6'] },
  NSH: { ok: [''], wrong: [] },
  // The OpenFlow 1.0 spellings ovs-ofctl(8) documents for more than one protocol.
  'IPv4 or ARP': { ok: ['ip', 'arp', 'rarp'], wrong: ['', 'ipv6'] },
  'IP or ARP': { ok: ['ip', 'ipv6', 'arp', 'rarp'], wrong: [''] },
  'TCP/UDP/SCTP': { ok: ['tcp', 'udp6', 'sctp'], wrong: ['', 'ip', 'icmp'] },
  'ICMPv4/ICMPv6': { ok: ['icmp', 'icmp6'], wrong: ['', 'ip', 'tcp'] },
};

/** Names whose documented use is wider than their field's, or finer than the table says. */
const PREREQ_OF_NAME: Record<string, string> = {
  nw_src: 'IPv4 or ARP', nw_dst: 'IPv4 or ARP', nw_proto: 'IP or ARP', ip_proto: 'IP or ARP',
  tp_src: 'TCP/UDP/SCTP', tp_dst: 'TCP/UDP/SCTP', icmp_type: 'ICMPv4/ICMPv6', icmp_code: 'ICMPv4/ICMPv6',
  ct_nw_src: 'CT IPv4', ct_nw_dst: 'CT IPv4', ct_ipv6_src: 'CT IPv6', ct_ipv6_dst: 'CT IPv6', ct_tp_src: 'CT L4', ct_tp_dst: 'CT L4',
};

/** Our prerequisite names, for fields the man page does not describe. */
const OUR_PREREQ: Record<string, string> = {
  none: 'none', vlan: 'VLAN VID', ip_any: 'IPv4/IPv6', ipv4: 'IPv4', ipv6: 'IPv6', arp: 'ARP', mpls: 'MPLS', tcp: 'TCP',
  udp: 'UDP', sctp: 'SCTP', l4: 'TCP/UDP/SCTP', icmpv4: 'ICMPv4', icmpv6: 'ICMPv6', icmp_any: 'ICMPv4/ICMPv6', nd: 'ND',
  nd_solicit: 'ND solicit', nd_advert: 'ND advert', ipv4_arp: 'IPv4 or ARP', ip_arp: 'IP or ARP', ct: 'CT', ct_ipv4: 'CT IPv4',
  ct_ipv6: 'CT IPv6', ct_l4: 'CT L4',
};

const hex = (v: bigint): string => `0x${v.toString(16)}`;

const VALUE_CODES: FlowSyntaxErrorCode[] = ['OFTEXT_BAD_VALUE', 'OFTEXT_BAD_MASK', 'OFTEXT_SYNTAX'];

/**
 * Values for a field: `valid` (first the plainest), `edge` (where ovs-ofctl
 * decides: at the edges of the range, port numbers, prefix lengths),
 * `beyond` (bits beyond the documented width: refused), `malformed` (not the
 * format's syntax: refused; the same for every field of a format, so tried on
 * the first field of each).
 */
function values(f: ManField): { valid: string[]; edge: string[]; beyond: string[]; malformed: string[] } {
  switch (f.format) {
    case 'IPv4':
      return {
        valid: ['10.1.2.3', '10.0.0.0/8', '10.1.2.3/24', '10.0.0.0/255.0.255.0', '10.1.2.3/32', '10.1.2.3/0', '0.0.0.0'],
        edge: ['10.0.0.1/33', '010.1.2.3'],
        beyond: [],
        malformed: ['10.0.0', '1.2.3.256', '10.0.0.0/255.255.0', '10.1.2.3/', '10.1.2.3/-1', ''],
      };
    case 'IPv6':
      return {
        valid: ['2001:db8::1', 'fe80::/10', '2001:db8::/ffff::ff', '::ffff:1.2.3.4', '::', '2001:db8::1/64', '::/0'],
        edge: ['::/129'],
        beyond: [],
        malformed: ['1::2::3', 'g::1', '2001:db8::1/', '1:2:3:4:5:6:7:8:9', ''],
      };
    case 'Ethernet':
      return {
        valid: ['fa:16:3e:00:00:01', '1:2:3:4:5:6', 'FA:16:3E:00:00:01', '01:00:00:00:00:00/01:00:00:00:00:00',
          'fa:16:3e:00:00:01/ff:ff:ff:00:00:00', 'fa:16:3e:00:00:01/00:00:00:00:00:00'],
        edge: [],
        beyond: [],
        malformed: ['fa:16:3e:00:00', 'fa:16:3e:00:00:01:02', 'zz:00:00:00:00:00', 'fa-16-3e-00-00-01', 'fa:16:3e:00:00:01/ff', '123:0:0:0:0:0', ''],
      };
    case 'OpenFlow 1.0 port':
    case 'OpenFlow 1.1+ port':
      return {
        valid: ['1', 'LOCAL', 'local', '65279', 'IN_PORT', 'CONTROLLER', 'ANY', 'NONE', 'NORMAL', 'FLOOD', 'ALL', 'TABLE', 'UNSET', '0'],
        edge: ['65280', '65527', '65528', '0xfff8', '0xfffe', '65535', '65536', '4294967040', '4294967287', '4294967288', '4294967294',
          '4294967295', '4294967296', '1/1'],
        beyond: [],
        malformed: ['tap0', '"1"', '-1'],
      };
    case 'tunnel flags':
      return {
        valid: ['oam', '+oam', '-oam', '0', '1', '0x1/0x1', '0/0x1', ''],
        edge: ['+oam-oam', 'oam|oam'],
        beyond: ['2', '0x10/0x10'],
        malformed: ['+bogus'],
      };
    case 'TCP flags':
      return {
        valid: ['syn', '+syn', '-syn+ack', 'syn|ack', '0x12', '0x012/0x0ff', '0xfff', '+[200]', '[200]|[800]', 'fin|syn|rst|psh|ack|urg|ece|cwr|ns', '0/0', ''],
        edge: ['+syn-syn'],
        beyond: ['0x1000', '0x1/0x1000'],
        malformed: ['+bogus', 'SYN'],
      };
    case 'ct state':
      return {
        valid: ['trk', '+trk', '-trk', '+trk-inv', 'trk|est', '0x21/0x21', '0xff', '+new+est', '+snat+dnat', '0', 'new|est|rel|rpl|inv|trk|snat|dnat', ''],
        edge: ['+trk+trk', '0x100', '0x1/0x100'],
        beyond: [],
        malformed: ['+bogus', 'TRK'],
      };
    case 'frag':
      return { valid: ['no', 'yes', 'first', 'later', 'not_later', 'NO', 'Later'], edge: ['0', '1', '2', '3', '0x2', 'no/1', ''], beyond: [], malformed: ['bogus'] };
    case 'packet type':
      return { valid: ['(0,0x800)'], edge: [], beyond: [], malformed: [] };
    default: {
      // decimal or hexadecimal integers
      const prose = PROSE[f.name] ?? {};
      const significant = prose.significant ?? f.significant;
      const max = (1n << BigInt(significant)) - 1n;
      const low = BigInt(prose.zeroLowBits ?? 0);
      const top = (max >> low) << low;
      const valid = ['0', String(1n << low), top.toString(), hex(top)];
      if (8n << low <= max) valid.push(`0${(8n << low).toString(8)}`); // octal, as C's strtoull reads it
      // -1: strtoull's wrap, all ones of 64 bits (too large for a narrower field).
      const edge = ['', '1/0', '0/0', '-1'];
      const beyond: string[] = [hex(1n << BigInt(Math.min(f.bits, 128)))];
      if (significant < f.bits) beyond.push((max + 1n).toString(), hex(1n << BigInt(f.bits - 1)));
      if (low > 0n) beyond.push('1', String((1n << low) + 1n));
      if (f.bits > 64) edge.push((1n << 64n).toString(), ((1n << 64n) - 1n).toString());
      if (f.maskable) {
        valid.push(`${hex(max & 0x5n)}/${hex(max & 0xfn)}`, `${hex(max)}/${hex(max)}`, `${hex(max & 0x5an)}/${hex(max & 0xfan)}`, '5/3');
        if (significant < f.bits) beyond.push(`1/${hex(max + 1n)}`);
        edge.push(`1/${hex(1n << BigInt(Math.min(f.bits, 128)))}`);
      } else {
        valid.push(`${hex(top)}/${hex(max)}`);
        edge.push(`1/1`, `${hex(top)}/${hex(top)}`);
      }
      return { valid, edge, beyond, malformed: ['x', '0x', '1x', '1/', '/1', '0x1g'] };
    }
  }
}

/** Format and widths of a field the man page lacks, from our parser's table (the OpenFlow 1.0 spellings, recirc_id...). */
function fromOurs(name: string): ManField | undefined {
  const f = FIELDS_BY_NAME.get(name);
  if (!f) return undefined;
  const format = ({
    decimal: 'decimal', hex: 'hexadecimal', ethernet: 'Ethernet', ipv4: 'IPv4', ipv6: 'IPv6', port: 'OpenFlow 1.1+ port',
    ct_state: 'ct state', tcp_flags: 'TCP flags', tun_flags: 'tunnel flags', frag: 'frag',
  } as Record<string, string>)[f.format];
  return { name, aliases: [], bits: f.bits, significant: f.bits, format, maskable: f.maskable, prereq: OUR_PREREQ[f.prereq] };
}

/** Names of no field that someone might still write. */
const ODD_NAMES = ['igmp_type', 'igmp_code', 'icmp4', 'tcp4', 'ipv4_src', 'vlan', 'nw_frags', 'dl_vlan_cfi', 'eth_vlan'];

const PREREQ_CODES: FlowSyntaxErrorCode[] = ['OFTEXT_PREREQ'];

/** Protocol shorthands and their interplay with each other, nw_proto, dl_type and subfields, in whole matches. */
const COMBOS: Array<string | [string, FlowSyntaxErrorCode[], string]> = [
  'ip', 'ipv4', 'ip4', 'ipv6', 'ip6', 'icmp', 'icmp6', 'tcp', 'tcp6', 'udp', 'udp6', 'sctp', 'sctp6', 'arp', 'rarp', 'mpls', 'mplsm', 'igmp',
  ['ip=1', ['OFTEXT_SYNTAX'], 'a protocol takes no value (ovs-ofctl ignores it)'],
  ['tcp=5', ['OFTEXT_SYNTAX'], 'a protocol takes no value (ovs-ofctl ignores it)'],
  ['arp:1', ['OFTEXT_SYNTAX'], 'a protocol takes no value (ovs-ofctl ignores it)'],
  'ip,ipv6', 'ipv6,ip', 'tcp,udp', 'udp,nw_proto=6', 'nw_proto=6,udp', 'ip,nw_proto=6,tcp6', 'ip,nw_proto=2', 'ip,nw_proto=1',
  'ipv6,nw_proto=1', 'ipv6,nw_proto=58', 'ip,nw_proto=58', 'ipv6,nw_proto=2', 'dl_type=0x800', 'dl_type=0x0800,nw_proto=17', 'dl_type=0x0806',
  'dl_type=0x8035', 'dl_type=0x8847', 'dl_type=0x8848', 'dl_type=0x86dd,nw_proto=132', 'eth_type=2048', 'dl_type=0x88cc',
  'arp,nw_proto=1', 'rarp,nw_proto=3', 'arp,nw_src=1.2.3.4', 'rarp,nw_dst=1.2.3.0/24', 'ip,nw_frag=2', 'ipv6,nw_frag=2', 'ipv6,nw_frag=later',
  'ip,ip_proto=6,tp_dst=80', 'ip,nw_proto=2,tp_src=3', 'dl_vlan=5,dl_vlan_pcp=3', 'dl_vlan_pcp=3,dl_vlan=5', 'vlan_tci=0x1005,dl_vlan=7',
  'dl_vlan=0xffff', 'dl_vlan=0xffff,dl_vlan_pcp=3', 'dl_vlan_pcp=3,dl_vlan=0xffff', 'vlan_vid=0x1000/0x1000,vlan_pcp=2',
  'vlan_pcp=2,vlan_vid=0x1005', 'vlan_tci=0x2005/0xefff', 'vlan_tci=0x0005', 'vlan_tci=0xf005/0xf000', 'vlan_tci=0x0005/0x0fff',
  'vlan_tci=0x2000/0xe000', 'vlan_tci=0x0000', 'vlan_tci=0x1000/0x1000', 'vlan_tci=0/0x1000,dl_vlan_pcp=2',
  ['vlan_tci=0x0000/0xefff', PREREQ_CODES, 'priority bits without the CFI bit: ovs-ofctl drops them from the mask'],
  'ct_state=+trk,ct_state=-trk', 'reg0=1,reg0[4..7]=3', 'reg0[4..7]=3,reg0=1', 'xreg0=0x100000002,reg1=3', 'reg1=3,xreg0=0x100000002',
  'xxreg0=0x1,reg3[0..3]=5', 'tcp,tcp_flags=+syn,tcp_flags=-ack', 'ip,nw_tos=4,ip_ecn=1', 'ip,ip_ecn=1,nw_tos=4', 'ip,ip_dscp=1,nw_tos=8',
  'tcp,tp_src=80,tcp_src=81', 'udp,udp_src=1,tp_src=2', 'icmp,icmp_type=3,icmp_code=4', 'icmp6,icmpv6_type=135,icmp_type=136,nd_sll=1:2:3:4:5:6',
  'mpls,mpls_label=5,mpls_tc=2,mpls_bos=1,mpls_ttl=9', 'in_port=1,in_port_oxm=2', 'tun_id=5,tunnel_id=6', 'nw_src=1.2.3.4,ip',
  'tp_dst=5,tcp', 'ct_nw_proto=6,ip,ct_state=+trk-inv', 'metadata=0x5/0xff,metadata=0x1', 'reg0[]=5', 'reg0[0]=1', 'reg0[31]=1', 'reg0[32]=1',
  'reg0[0..31]=0x100000000', 'reg0[1..0]=1', 'reg0[0..3]=-1', 'eth_src[0..7]=0x5', 'eth_src[]=0x010203040506', 'nw_src[0..7]=5,ip',
  'vlan_vid[0..3]=5', 'in_port[0..3]=5', 'in_port[]=5', 'NXM_NX_REG0[0..3]=5', 'OXM_OF_METADATA[0..7]=1', 'ip,nw_ttl=256',
  'tcp,tp_dst=0x10000', 'in_port=0', 'priority=5,ip', 'ip,table=3', 'dl_src=1:2:3:4:5:6,dl_src=6:5:4:3:2:1/ff:ff:ff:ff:ff:00',
];

export interface MatchCase {
  /** The match part of the flow (without `actions=`). */
  match: string;
  /** The field under test, if one. */
  field?: string;
  /** Why it is here, for failure messages. */
  why: string;
  /** `agree` with ovs-ofctl, or refuse with one of these codes. */
  expect: 'agree' | FlowSyntaxErrorCode[];
}

export function matchCases(): MatchCase[] {
  const cases: MatchCase[] = [];
  const man = manFields();
  const byName = new Map<string, ManField>();
  for (const f of man) {
    byName.set(f.name, f);
    for (const a of f.aliases) byName.set(a, { ...f, name: a });
  }
  const names = new Set<string>([...byName.keys(), ...FIELDS_BY_NAME.keys(), 'dl_vlan', 'dl_vlan_pcp', 'recirc_id', 'dp_hash', ...ODD_NAMES]);
  const malformedDone = new Set<string>();
  for (const name of names) {
    const f = byName.get(name) ?? fromOurs(name);
    if (!f) {
      cases.push({ match: `${name}=1`, why: 'no such field', expect: 'agree' });
      continue;
    }
    const { ok, wrong } = CONTEXTS[PREREQ_OF_NAME[name] ?? f.prereq] ?? { ok: [''], wrong: [] };
    const { valid, edge, beyond, malformed } = values(f);
    const join = (ctx: string, item: string) => (ctx ? `${ctx},${item}` : item);
    if (/^[A-Z]/.test(name)) {
      // An NXM/OXM name, which only subfield syntax takes.
      cases.push({ match: join(ok[0], `${name}=${valid[0]}`), field: name, why: `${name} as a match field`, expect: 'agree' });
      continue;
    }
    const few = /^(x{0,2}reg)([1-9]|1[0-5])$/.test(name) || /^tun_metadata[1-9]/.test(name);
    const add = (v: string, expect: MatchCase['expect'], why: string) => cases.push({ match: join(ok[0], `${name}=${v}`), field: name, why: `${name}: ${why}`, expect });
    for (const v of few ? valid.slice(0, 2) : valid) add(v, 'agree', 'valid');
    for (const ctx of ok.slice(1)) cases.push({ match: join(ctx, `${name}=${valid[0]}`), field: name, why: `${name} in ${ctx}`, expect: 'agree' });
    for (const ctx of wrong) {
      cases.push({ match: join(ctx, `${name}=${valid[0]}`), field: name, why: `${name} outside its prerequisites, in ${ctx || '(none)'}`, expect: PREREQ_CODES });
    }
    if (few) continue;
    for (const v of edge) add(v, 'agree', 'edge');
    for (const v of beyond) add(v, VALUE_CODES, 'beyond the documented width');
    // Malformed values, a field without a value and `field:value` go through the same code for every
    // field of a format, in ovs-ofctl as here: tried on the first field of each format.
    if (!malformedDone.has(f.format)) {
      malformedDone.add(f.format);
      for (const v of malformed) add(v, v === '' ? 'agree' : VALUE_CODES, 'not its syntax');
      cases.push({ match: join(ok[0], name), field: name, why: `${name} without a value`, expect: 'agree' });
      cases.push({ match: join(ok[0], `${name}:${valid[0]}`), field: name, why: `${name} with ":"`, expect: 'agree' });
    }
  }
  for (const c of COMBOS) {
    if (typeof c === 'string') cases.push({ match: c, why: 'combination', expect: 'agree' });
    else cases.push({ match: c[0], why: c[2], expect: c[1] });
  }
  return cases;
}
