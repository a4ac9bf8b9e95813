/**
 * Both directions for everything the codec models: codec values printed and
 * parsed back are equal, and text parsed, printed and parsed again is stable.
 */
import { expect } from 'chai';
import { OFPP } from '@ovs-agent/openflow';
import type { Action, Instruction, Match } from '@ovs-agent/openflow';
import {
  formatActions, formatFlow, formatFlowStats, formatInstructions, formatMatch, parseActions, parseFlow, parseFlowFile,
  parseFlowStats, parseMatch,
} from '@ovs-agent/openflow';
import { corpus } from './helpers.js';

const IP = { eth_type: 0x0800 } as const;
const IP6 = { eth_type: 0x86dd } as const;
const ARP = { eth_type: 0x0806 } as const;
const CT = { ct_state: { value: 0x20, mask: 0x30 } } as const;

/** One match per codec field with a text form, exact and masked where the field allows a mask. */
const MATCHES: Array<[string, Match]> = [
  ['in_port', { in_port: 7 }],
  ['in_port reserved', { in_port: OFPP.LOCAL }],
  ['metadata', { metadata: 0x1234n }],
  ['metadata masked', { metadata: { value: 0x1200n, mask: 0xff00n } }],
  ['eth_dst/eth_src', { eth_dst: 'fa:16:3e:00:00:01', eth_src: { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } }],
  ['eth_type', { eth_type: 0x88cc }],
  ['vlan_vid', { vlan_vid: 0x1005 }],
  ['vlan_vid masked', { vlan_vid: { value: 0x1000, mask: 0x1000 } }],
  ['vlan_vid none', { vlan_vid: 0 }],
  ['vlan_pcp', { vlan_vid: 0x1005, vlan_pcp: 3 }],
  ['ip fields', { ...IP, ip_proto: 47, ip_dscp: 46, ip_ecn: 1, nw_ttl: 9, ip_src: '10.0.0.1', ip_dst: { value: '10.0.0.0', mask: '255.0.0.0' } }],
  ['ip odd mask', { ...IP, ip_src: { value: '10.0.0.0', mask: '255.0.255.0' } }],
  ['ip_frag', { ...IP, ip_frag: { value: 1, mask: 3 } }],
  ['tcp', { ...IP, ip_proto: 6, tcp_src: 1000, tcp_dst: { value: 0x1000, mask: 0xf000 }, tcp_flags: { value: 0x002, mask: 0x012 } }],
  ['udp', { ...IP6, ip_proto: 17, udp_src: 546, udp_dst: 547 }],
  ['sctp', { ...IP, ip_proto: 132, sctp_src: 1, sctp_dst: 2 }],
  ['icmp', { ...IP, ip_proto: 1, icmp_type: 8, icmp_code: 0 }],
  ['arp', { ...ARP, arp_op: 2, arp_spa: '10.0.0.1', arp_tpa: { value: '10.0.0.0', mask: '255.255.255.0' }, arp_sha: 'fa:16:3e:00:00:01', arp_tha: { value: '00:00:00:00:00:00', mask: 'ff:ff:ff:00:00:00' } }],
  ['ipv6', { ...IP6, ipv6_src: 'fe80::1', ipv6_dst: { value: '2001:db8::', mask: 'ffff:ffff::' }, ipv6_label: { value: 1, mask: 0xf } }],
  ['icmpv6 nd', { ...IP6, ip_proto: 58, icmpv6_type: 135, icmpv6_code: 0, nd_target: 'fe80::1', nd_sll: 'fa:16:3e:00:00:01' }],
  ['nd_tll', { ...IP6, ip_proto: 58, icmpv6_type: 136, nd_tll: 'fa:16:3e:00:00:02' }],
  ['mpls', { eth_type: 0x8847, mpls_label: 5, mpls_tc: 1, mpls_bos: 1, mpls_ttl: 64 }],
  ['tun_id', { tun_id: 0x64n }],
  ['tun_id masked', { tun_id: { value: 0x64n, mask: 0xffffn } }],
  ['tunnel v4', { tun_src: '192.168.0.1', tun_dst: { value: '192.168.0.0', mask: '255.255.0.0' } }],
  ['tunnel v6', { tun_ipv6_src: '2001:db8::1', tun_ipv6_dst: { value: 'fe80::', mask: 'ffc0::' } }],
  ['tunnel flags and GBP', { tun_flags: { value: 1, mask: 1 }, tun_gbp_id: { value: 5, mask: 0xff }, tun_gbp_flags: 3 }],
  ['registers', { reg0: 5, reg7: { value: 0x10, mask: 0xf0 }, reg15: 0xffffffff }],
  ['pkt_mark', { pkt_mark: { value: 1, mask: 0xff } }],
  ['conj_id', { conj_id: 77 }],
  ['actset_output', { actset_output: 3 }],
  ['ct_state', { ct_state: { value: 0x22, mask: 0x23 } }],
  ['ct_state exact', { ct_state: { value: 0x21, mask: 0xff } }],
  ['ct_zone/mark/label', { ct_zone: 3, ct_mark: { value: 1, mask: 0xff }, ct_label: 0x1234567890abcdef1234567890abcdefn }],
  ['ct tuple v4', { ...IP, ...CT, ct_nw_proto: 6, ct_nw_src: '1.2.3.4', ct_nw_dst: { value: '5.6.7.0', mask: '255.255.255.0' }, ct_tp_src: 1000, ct_tp_dst: { value: 0x100, mask: 0xff00 } }],
  ['ct tuple v6', { ...IP6, ...CT, ct_ipv6_src: '::1', ct_ipv6_dst: { value: 'fe80::', mask: 'ffc0::' } }],
];

const ACTIONS: Array<[string, Action[], Match?]> = [
  ['output', [{ type: 'output', port: 1, maxLen: 0 }, { type: 'output', port: OFPP.NORMAL, maxLen: 0 }, { type: 'output', port: OFPP.IN_PORT, maxLen: 0 }]],
  ['output to controller', [{ type: 'output', port: OFPP.CONTROLLER, maxLen: 128 }]],
  ['controller', [{ type: 'controller', maxLen: 200, controllerId: 3, reason: 0, userdata: Buffer.from([1, 2]), pause: true, meterId: 2 }]],
  ['group, set_queue', [{ type: 'group', groupId: 5 }, { type: 'set_queue', queueId: 3 }]],
  ['vlan', [{ type: 'push_vlan', ethertype: 0x8100 }, { type: 'set_field', field: 'vlan_vid', value: 0x1005 }, { type: 'pop_vlan' }]],
  ['mpls', [{ type: 'push_mpls', ethertype: 0x8847 }, { type: 'set_mpls_ttl', ttl: 9 }, { type: 'dec_mpls_ttl' }, { type: 'pop_mpls', ethertype: 0x0800 }]],
  ['ttl', [{ type: 'dec_nw_ttl' }, { type: 'dec_ttl', controllerIds: [1, 2] }, { type: 'set_nw_ttl', ttl: 5 }], IP],
  ['set_field', [{ type: 'set_field', field: 'eth_src', value: 'fa:16:3e:00:00:01' }, { type: 'set_field', field: 'reg6', value: 3 }, { type: 'set_field', field: 'tun_id', value: 100n }, { type: 'set_field', field: 'ip_src', value: '10.0.0.1' }], IP],
  ['set_field tunnel metadata', [{ type: 'set_field', field: 'tun_flags', value: 1 }, { type: 'set_field', field: 'tun_gbp_id', value: 3 }]],
  ['set_field v6', [{ type: 'set_field', field: 'ipv6_dst', value: 'fe80::1' }], IP6],
  ['reg_load', [{ type: 'reg_load', dst: { field: 'reg5', ofs: 0, nBits: 32 }, value: 7n }, { type: 'reg_load', dst: { field: 'eth_src', ofs: 0, nBits: 48 }, value: 0xfa163e000001n }, { type: 'reg_load', dst: { field: 'reg0', ofs: 3, nBits: 1 }, value: 1n }]],
  ['reg_move', [{ type: 'reg_move', src: { field: 'eth_src', ofs: 0, nBits: 48 }, dst: { field: 'eth_dst', ofs: 0, nBits: 48 } }, { type: 'reg_move', src: { field: 'reg0', ofs: 0, nBits: 16 }, dst: { field: 'reg1', ofs: 16, nBits: 16 } }]],
  ['resubmit', [{ type: 'resubmit', port: OFPP.IN_PORT, table: 71, ct: false }, { type: 'resubmit', port: 3, table: 0xff, ct: false }, { type: 'resubmit', port: 2, table: 5, ct: true }], { ...IP, ...CT }],
  ['output_reg', [{ type: 'output_reg', src: { field: 'reg1', ofs: 0, nBits: 16 }, maxLen: 0xffff }]],
  ['conjunction', [{ type: 'conjunction', id: 22, clause: 2, nClauses: 2 }]],
  ['note', [{ type: 'note', data: Buffer.from([1, 2, 3, 0, 0, 0]) }]],
  ['ct', [{ type: 'ct', commit: true, force: false, zone: { field: 'reg6', ofs: 0, nBits: 16 }, recircTable: 72, alg: 21, actions: [{ type: 'set_field', field: 'ct_mark', value: 1 }] }, { type: 'ct_clear' }], { ...IP, ip_proto: 6 }],
  ['ct nat', [{ type: 'ct', commit: true, force: true, zone: 5, recircTable: 0xff, alg: 0, actions: [{ type: 'nat', flags: 1 | 4 | 16, ipv4Min: '10.0.0.1', ipv4Max: '10.0.0.5', protoMin: 100, protoMax: 200 }] }], IP],
  ['ct nat v6', [{ type: 'ct', commit: true, force: false, zone: 0, recircTable: 0xff, alg: 0, actions: [{ type: 'nat', flags: 2, ipv6Min: 'fe80::1', protoMin: 80 }] }], IP6],
  ['learn', [{
    type: 'learn', idleTimeout: 10, hardTimeout: 300, priority: 1, cookie: 5n, flags: 3, tableId: 20, finIdleTimeout: 2, finHardTimeout: 4,
    specs: [
      { kind: 'match_field', src: { field: 'vlan_tci', ofs: 0, nBits: 12 }, dst: { field: 'vlan_tci', ofs: 0, nBits: 12 } },
      { kind: 'match_field', src: { field: 'eth_src', ofs: 0, nBits: 48 }, dst: { field: 'eth_dst', ofs: 0, nBits: 48 } },
      { kind: 'match_immediate', value: 0x800n, dst: { field: 'eth_type', ofs: 0, nBits: 16 } },
      { kind: 'match_immediate', value: 5n, dst: { field: 'reg1', ofs: 0, nBits: 8 } },
      { kind: 'load_immediate', value: 0n, dst: { field: 'vlan_tci', ofs: 0, nBits: 16 } },
      { kind: 'load_field', src: { field: 'tun_id', ofs: 0, nBits: 64 }, dst: { field: 'tun_id', ofs: 0, nBits: 64 } },
      { kind: 'output_field', src: { field: 'in_port', ofs: 0, nBits: 16 } },
    ],
  }]],
  ['multipath', [{ type: 'multipath', fields: 1, basis: 1024, algorithm: 2, maxLink: 11, arg: 0, dst: { field: 'reg1', ofs: 0, nBits: 16 } }]],
  ['clone, exit', [{ type: 'clone', actions: [{ type: 'output', port: 1, maxLen: 0 }] }, { type: 'exit' }]],
];

const INSTRUCTIONS: Array<[string, Instruction[]]> = [
  ['goto_table', [{ type: 'goto_table', tableId: 5 }]],
  ['every instruction', [
    { type: 'meter', meterId: 1 },
    { type: 'apply_actions', actions: [{ type: 'output', port: 3, maxLen: 0 }] },
    { type: 'clear_actions' },
    { type: 'write_actions', actions: [{ type: 'group', groupId: 1 }] },
    { type: 'write_metadata', metadata: 0x1n, mask: 0x1n },
    { type: 'goto_table', tableId: 9 },
  ]],
  ['write_metadata exact', [{ type: 'write_metadata', metadata: 0x5n, mask: 0xffffffffffffffffn }]],
  ['drop', []],
];

describe('openflow text: round trips', () => {
  describe('codec Match → text → Match', () => {
    for (const [name, match] of MATCHES) {
      it(name, () => {
        const text = formatMatch(match);
        expect(parseMatch(text), text).to.deep.equal(match);
      });
    }
  });

  describe('codec actions → text → actions', () => {
    for (const [name, actions, match] of ACTIONS) {
      it(name, () => {
        const text = formatActions(actions);
        expect(parseActions(text, match), text).to.deep.equal([{ type: 'apply_actions', actions }]);
      });
    }
  });

  describe('codec instructions → text → instructions', () => {
    for (const [name, instructions] of INSTRUCTIONS) {
      it(name, () => {
        const text = formatInstructions(instructions);
        expect(parseActions(text), text).to.deep.equal(instructions);
      });
    }
  });

  it('text → FlowMod → text → FlowMod is stable for the whole corpus', () => {
    const unstable: string[] = [];
    for (const line of corpus()) {
      const fm = parseFlow(line);
      const text = formatFlow(fm);
      const again = parseFlow(text);
      if (formatFlow(again) !== text) unstable.push(line);
      expect(again, `${line}\n→ ${text}`).to.deep.equal(fm);
    }
    expect(unstable).to.deep.equal([]);
  });

  it('prints a decoded NXAST_SET_TUNNEL64 as OVS does (text set_tunnel becomes set_field, as in ovs-ofctl)', () => {
    expect(formatActions([{ type: 'set_tunnel', tunId: 5n }])).to.equal('set_tunnel64:0x5');
    expect(parseActions('set_tunnel64:0x5')).to.deep.equal([{ type: 'apply_actions', actions: [{ type: 'set_field', field: 'tun_id', value: 5n }] }]);
  });

  it('keeps flow attributes: table, priority, cookie, timeouts, flags', () => {
    const fm = parseFlow('cookie=0x5,table=3,priority=42,idle_timeout=30,hard_timeout=600,send_flow_rem,check_overlap,in_port=7,actions=drop');
    expect(fm).to.include({ cookie: 5n, tableId: 3, priority: 42, idleTimeout: 30, hardTimeout: 600, flags: 3 });
    expect(formatFlow(fm)).to.equal('cookie=0x5, table=3, idle_timeout=30, hard_timeout=600, send_flow_rem check_overlap priority=42,in_port=7 actions=drop');
  });

  it('reads cookie masks and out_port for deletes, new cookies for modifies', () => {
    const del = parseFlow('cookie=0x1234/-1,table=0,in_port=5,out_port=2', { command: 'delete_strict' });
    expect(del).to.include({ command: 'delete_strict', cookie: 0x1234n, cookieMask: 0xffffffffffffffffn, outPort: 2, tableId: 0 });
    expect(parseFlow('cookie=0x1/0xff', { command: 'delete' })).to.include({ tableId: 0xff, cookieMask: 0xffn });
    expect(parseFlow('cookie=0x9,in_port=5,actions=drop', { command: 'modify' })).to.include({ cookie: 9n, cookieMask: 0n });
  });

  it('reads add-flows files: comments, blank lines, command words', () => {
    const fms = parseFlowFile('# x\n\nin_port=1,actions=drop\nadd in_port=2,actions=drop\n  delete_strict priority=5,in_port=3\nmodify cookie=0x1/-1,actions=NORMAL\n');
    expect(fms.map((f) => f.command)).to.deep.equal(['add', 'add', 'delete_strict', 'modify']);
    expect(fms[2]).to.include({ priority: 5, tableId: 0xff });
    expect(fms[3]).to.include({ cookie: 1n, cookieMask: 0xffffffffffffffffn });
  });

  it('reads a dump-flows line with its statistics', () => {
    const line = 'cookie=0x8a3c, duration=12.5s, table=82, n_packets=42, n_bytes=4200, idle_timeout=30, priority=77,ct_state=+est-rel-rpl,tcp,reg5=0x7,tp_dst=22 actions=output:7';
    const st = parseFlowStats(line);
    expect(st).to.include({ cookie: 0x8a3cn, durationSec: 12, durationNsec: 500000000, tableId: 82, packetCount: 42n, byteCount: 4200n, idleTimeout: 30, priority: 77 });
    expect(formatFlowStats(st)).to.equal(line.replace('12.5s', '12.500s'));
    expect(formatFlow(parseFlow(line))).to.equal('cookie=0x8a3c, table=82, idle_timeout=30, priority=77,ct_state=+est-rel-rpl,tcp,reg5=0x7,tp_dst=22 actions=output:7');
  });

  it('prints the canonical forms operators see in dump-flows', () => {
    const cases: Array<[string, string]> = [
      ['table=0,priority=10,in_port=1,dl_vlan=5,actions=strip_vlan,output:2', 'priority=10,in_port=1,dl_vlan=5 actions=pop_vlan,output:2'],
      ['dl_type=0x0800,nw_proto=6,tcp_dst=0x0016,actions=drop', 'tcp,tp_dst=22 actions=drop'],
      ['vlan_tci=0x0000/0x1fff,actions=mod_vlan_vid:3,NORMAL', 'vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,set_field:4099->vlan_vid,NORMAL'],
      ['arp,nw_src=10.0.0.1,actions=drop', 'arp,arp_spa=10.0.0.1 actions=drop'],
      ['ct_state=+trk+new,actions=drop', 'ct_state=+new+trk actions=drop'],
      ['actions=set_field:0x1/0x5->reg0', 'actions=load:0x1->NXM_NX_REG0[0],load:0->NXM_NX_REG0[2]'],
      ['priority=32768,actions=', 'actions=drop'],
    ];
    for (const [input, printed] of cases) expect(formatFlow(parseFlow(input)), input).to.equal(printed);
  });
});
