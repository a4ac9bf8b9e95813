/**
 * Flows in ovs-ofctl syntax with the FlowMod each must be. Used by the oracle
 * test: ovs-ofctl encodes the text, our decoder must produce the object from
 * those bytes, and our encoder's bytes must print the same in ofp-print.
 */
import { NX_NAT_F, NX_LEARN_F, OFPCML, OFPFF, OFPP, OFPR } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { add, apply, output, sf } from './helpers/build.js';

export interface FlowCase {
  text: string;
  flow: FlowMod;
}

const drop: FlowMod['instructions'] = [];

export const FLOW_CASES: FlowCase[] = [
  {
    text: 'table=0,priority=10,in_port=1,dl_vlan=5,actions=strip_vlan,output:2',
    flow: add({ priority: 10, match: { in_port: 1, vlan_vid: 0x1005 }, instructions: apply({ type: 'pop_vlan' }, output(2)) }),
  },
  {
    text: 'priority=20,dl_src=fa:16:3e:00:00:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=NORMAL',
    flow: add({
      priority: 20,
      match: { eth_dst: { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' }, eth_src: 'fa:16:3e:00:00:01' },
      instructions: apply(output(OFPP.NORMAL)),
    }),
  },
  {
    text: 'arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=fa:16:3e:00:00:01,actions=drop',
    flow: add({
      match: {
        eth_type: 0x0806,
        arp_op: 1,
        arp_spa: '10.0.0.1',
        arp_tpa: { value: '10.0.0.0', mask: '255.255.255.0' },
        arp_sha: 'fa:16:3e:00:00:01',
      },
      instructions: drop,
    }),
  },
  {
    text: 'udp,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,ip_dscp=8,udp_src=68,udp_dst=67,actions=CONTROLLER:65535',
    flow: add({
      match: {
        eth_type: 0x0800,
        ip_dscp: 8,
        ip_proto: 17,
        ip_src: { value: '10.0.0.0', mask: '255.0.0.0' },
        ip_dst: '192.168.1.1',
        udp_src: 68,
        udp_dst: 67,
      },
      instructions: apply(output(OFPP.CONTROLLER, OFPCML.NO_BUFFER)),
    }),
  },
  {
    text: 'tcp6,ipv6_src=2001:db8::/32,ipv6_dst=fe80::1,tcp_dst=0x0050/0xfff0,actions=drop',
    flow: add({
      match: {
        eth_type: 0x86dd,
        ip_proto: 6,
        ipv6_src: { value: '2001:db8::', mask: 'ffff:ffff::' },
        ipv6_dst: 'fe80::1',
        tcp_dst: { value: 0x50, mask: 0xfff0 },
      },
      instructions: drop,
    }),
  },
  {
    text: 'icmp6,icmp_type=136,nd_target=fe80::1,nd_tll=fa:16:3e:00:00:02,actions=drop',
    flow: add({
      match: { eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 136, nd_target: 'fe80::1', nd_tll: 'fa:16:3e:00:00:02' },
      instructions: drop,
    }),
  },
  {
    text: 'icmp6,icmp_type=135,icmp_code=0,nd_sll=fa:16:3e:00:00:01,actions=drop',
    flow: add({
      match: { eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 135, icmpv6_code: 0, nd_sll: 'fa:16:3e:00:00:01' },
      instructions: drop,
    }),
  },
  {
    text: 'icmp,icmp_type=8,icmp_code=0,actions=drop',
    flow: add({ match: { eth_type: 0x0800, ip_proto: 1, icmp_type: 8, icmp_code: 0 }, instructions: drop }),
  },
  {
    text: 'sctp,sctp_src=1,sctp_dst=0x100/0xff00,actions=drop',
    flow: add({ match: { eth_type: 0x0800, ip_proto: 132, sctp_src: 1, sctp_dst: { value: 0x100, mask: 0xff00 } }, instructions: drop }),
  },
  {
    text: 'reg0=0x5/0xff,reg15=7,metadata=0x1/0x1,actions=drop',
    flow: add({ match: { metadata: { value: 1n, mask: 1n }, reg0: { value: 5, mask: 0xff }, reg15: 7 }, instructions: drop }),
  },
  {
    text: 'tun_id=0x64,tun_src=1.1.1.1,tun_dst=2.2.2.0/24,actions=drop',
    flow: add({
      match: { tun_id: 0x64n, tun_src: '1.1.1.1', tun_dst: { value: '2.2.2.0', mask: '255.255.255.0' } },
      instructions: drop,
    }),
  },
  {
    text: 'tun_ipv6_src=2001:db8::1,tun_ipv6_dst=2001:db8::2,actions=drop',
    flow: add({ match: { tun_ipv6_src: '2001:db8::1', tun_ipv6_dst: '2001:db8::2' }, instructions: drop }),
  },
  {
    text: 'ip,ct_state=+trk+est-inv,ct_zone=5,ct_mark=0x1/0x1,ct_label=0x1/0xff,actions=drop',
    flow: add({
      match: {
        ct_state: { value: 0x22, mask: 0x32 },
        ct_zone: 5,
        ct_mark: { value: 1, mask: 1 },
        ct_label: { value: 1n, mask: 0xffn },
        eth_type: 0x0800,
      },
      instructions: drop,
    }),
  },
  {
    text: 'ip,ct_state=+trk-inv,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.0/8,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x1000/0xf000,actions=drop',
    flow: add({
      match: {
        ct_state: { value: 0x20, mask: 0x30 },
        ct_nw_src: '10.0.0.1',
        ct_nw_dst: { value: '10.0.0.0', mask: '255.0.0.0' },
        ct_nw_proto: 6,
        ct_tp_src: 80,
        ct_tp_dst: { value: 0x1000, mask: 0xf000 },
        eth_type: 0x0800,
      },
      instructions: drop,
    }),
  },
  {
    text: 'ipv6,ct_state=+trk-inv,ct_ipv6_src=::1,ct_ipv6_dst=2001:db8::/64,actions=drop',
    flow: add({
      match: {
        ct_state: { value: 0x20, mask: 0x30 },
        ct_ipv6_src: '::1',
        ct_ipv6_dst: { value: '2001:db8::', mask: 'ffff:ffff:ffff:ffff::' },
        eth_type: 0x86dd,
      },
      instructions: drop,
    }),
  },
  // OVS accepts the conntrack tuple with any state bit that implies a valid connection, not only +trk-inv.
  {
    text: 'ipv6,ct_state=+est+trk,ct_ipv6_src=::1,actions=drop',
    flow: add({
      match: { ct_state: { value: 0x22, mask: 0x22 }, ct_ipv6_src: '::1', eth_type: 0x86dd },
      instructions: drop,
    }),
  },
  {
    text: 'ip,ct_state=+new,ct_nw_dst=10.0.0.2,ct_nw_proto=17,ct_tp_dst=53,actions=drop',
    flow: add({
      match: { ct_state: { value: 0x01, mask: 0x01 }, ct_nw_dst: '10.0.0.2', ct_nw_proto: 17, ct_tp_dst: 53, eth_type: 0x0800 },
      instructions: drop,
    }),
  },
  {
    text: 'ip,ct_state=+rpl+trk,ct_nw_src=10.0.0.0/8,actions=drop',
    flow: add({
      match: { ct_state: { value: 0x28, mask: 0x28 }, ct_nw_src: { value: '10.0.0.0', mask: '255.0.0.0' }, eth_type: 0x0800 },
      instructions: drop,
    }),
  },
  {
    text: 'pkt_mark=0x10/0xff,conj_id=7,dp_hash=0x5/0xf,recirc_id=3,actions=drop',
    flow: add({
      match: { recirc_id: 3, dp_hash: { value: 5, mask: 0xf }, conj_id: 7, pkt_mark: { value: 0x10, mask: 0xff } },
      instructions: drop,
    }),
  },
  {
    text: 'tcp,tcp_flags=+syn-ack,actions=drop',
    flow: add({ match: { eth_type: 0x0800, ip_proto: 6, tcp_flags: { value: 0x002, mask: 0x012 } }, instructions: drop }),
  },
  {
    text: 'mpls,mpls_label=5,mpls_tc=3,mpls_bos=1,actions=dec_mpls_ttl,set_mpls_ttl:10,pop_mpls:0x0800',
    flow: add({
      match: { eth_type: 0x8847, mpls_label: 5, mpls_tc: 3, mpls_bos: 1 },
      instructions: apply({ type: 'dec_mpls_ttl' }, { type: 'set_mpls_ttl', ttl: 10 }, { type: 'pop_mpls', ethertype: 0x0800 }),
    }),
  },
  {
    text: 'ip,nw_ttl=5,ip_frag=first,nw_ecn=1,actions=dec_ttl,mod_nw_ttl:9',
    flow: add({
      match: { eth_type: 0x0800, ip_ecn: 1, ip_frag: 1, nw_ttl: 5 },
      instructions: apply({ type: 'dec_nw_ttl' }, { type: 'set_nw_ttl', ttl: 9 }),
    }),
  },
  {
    text: 'dl_vlan=10,dl_vlan_pcp=3,actions=push_vlan:0x8100,set_field:4101->vlan_vid,push_mpls:0x8847',
    flow: add({
      match: { vlan_vid: 0x100a, vlan_pcp: 3 },
      instructions: apply(
        { type: 'push_vlan', ethertype: 0x8100 },
        { type: 'set_field', field: 'vlan_vid', value: 4101 },
        { type: 'push_mpls', ethertype: 0x8847 },
      ),
    }),
  },
  {
    text:
      'cookie=0x1234,table=5,priority=100,idle_timeout=10,hard_timeout=20,send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,actions=output:1,group:5,set_queue:3',
    flow: add({
      cookie: 0x1234n,
      tableId: 5,
      priority: 100,
      idleTimeout: 10,
      hardTimeout: 20,
      flags: OFPFF.SEND_FLOW_REM | OFPFF.CHECK_OVERLAP | OFPFF.RESET_COUNTS | OFPFF.NO_PKT_COUNTS | OFPFF.NO_BYT_COUNTS,
      instructions: apply(output(1), { type: 'group', groupId: 5 }, { type: 'set_queue', queueId: 3 }),
    }),
  },
  {
    text: 'ip,actions=set_field:fa:16:3e:00:00:01->eth_src,set_field:10.0.0.1->ip_src,set_field:0x5->tun_id,set_field:0x7->pkt_mark',
    flow: add({
      match: { eth_type: 0x0800 },
      instructions: apply(
        { type: 'set_field', field: 'eth_src', value: 'fa:16:3e:00:00:01' },
        { type: 'set_field', field: 'ip_src', value: '10.0.0.1' },
        { type: 'set_field', field: 'tun_id', value: 5n },
        { type: 'set_field', field: 'pkt_mark', value: 7 },
      ),
    }),
  },
  {
    text: 'ip,ct_state=+trk-inv,actions=resubmit(,10),resubmit(1),resubmit(2,3),resubmit(,11,ct),resubmit(in_port,5)',
    flow: add({
      match: { ct_state: { value: 0x20, mask: 0x30 }, eth_type: 0x0800 },
      instructions: apply(
        { type: 'resubmit', port: OFPP.IN_PORT, table: 10, ct: false },
        { type: 'resubmit', port: 1, table: 0xff, ct: false },
        { type: 'resubmit', port: 2, table: 3, ct: false },
        { type: 'resubmit', port: OFPP.IN_PORT, table: 11, ct: true },
        { type: 'resubmit', port: OFPP.IN_PORT, table: 5, ct: false },
      ),
    }),
  },
  {
    text: 'actions=move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],load:0x5->NXM_NX_REG2[0..7],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],load:0xfa163e000001->NXM_OF_ETH_DST[],move:NXM_OF_IN_PORT[]->NXM_NX_REG3[0..15]',
    flow: add({
      instructions: apply(
        { type: 'reg_move', src: sf('reg0', 0, 16), dst: sf('reg1', 16, 16) },
        { type: 'reg_load', dst: sf('reg2', 0, 8), value: 5n },
        { type: 'reg_move', src: sf('eth_src', 0, 48), dst: sf('eth_dst', 0, 48) },
        { type: 'reg_load', dst: sf('eth_dst', 0, 48), value: 0xfa163e000001n },
        { type: 'reg_move', src: sf('in_port', 0, 16), dst: sf('reg3', 0, 16) },
      ),
    }),
  },
  {
    text: 'actions=set_field:0x5/0x5->reg3,set_field:0x100/0xff00->reg4',
    flow: add({
      instructions: apply(
        // OVS splits a non-contiguous mask into one load per run of ones.
        { type: 'reg_load', dst: sf('reg3', 0, 1), value: 1n },
        { type: 'reg_load', dst: sf('reg3', 2, 1), value: 1n },
        { type: 'reg_load', dst: sf('reg4', 8, 8), value: 1n },
      ),
    }),
  },
  {
    text: 'actions=conjunction(10,1/2),conjunction(11,2/3)',
    flow: add({
      instructions: apply({ type: 'conjunction', id: 10, clause: 1, nClauses: 2 }, { type: 'conjunction', id: 11, clause: 2, nClauses: 3 }),
    }),
  },
  {
    text: 'actions=note:01.02.03.04.05.06,note:aa.bb.cc.dd.ee.ff.00.11.22.33.44.55.66.77',
    flow: add({
      instructions: apply(
        { type: 'note', data: Buffer.from('010203040506', 'hex') },
        { type: 'note', data: Buffer.from('aabbccddeeff0011223344556677', 'hex') },
      ),
    }),
  },
  {
    text:
      'table=10,actions=learn(table=20,hard_timeout=300,priority=1,cookie=0x1,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:NXM_OF_IN_PORT[]),output:1',
    flow: add({
      tableId: 10,
      instructions: apply(
        {
          type: 'learn',
          idleTimeout: 0,
          hardTimeout: 300,
          priority: 1,
          cookie: 1n,
          flags: 0,
          tableId: 20,
          finIdleTimeout: 0,
          finHardTimeout: 0,
          specs: [
            { kind: 'match_field', src: sf('vlan_tci', 0, 12), dst: sf('vlan_tci', 0, 12) },
            { kind: 'match_field', src: sf('eth_src', 0, 48), dst: sf('eth_dst', 0, 48) },
            { kind: 'load_immediate', value: 0n, dst: sf('vlan_tci', 0, 16) },
            { kind: 'load_field', src: sf('tun_id', 0, 64), dst: sf('tun_id', 0, 64) },
            { kind: 'output_field', src: sf('in_port', 0, 16) },
          ],
        },
        output(1),
      ),
    }),
  },
  {
    // Neutron's br-tun learn (T10): the output spec names the 32-bit OXM in_port.
    text:
      'table=10,priority=1,actions=learn(table=20,hard_timeout=300,priority=1,cookie=0x8e6e2a1b0dcb4ee5,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:1',
    flow: add({
      tableId: 10,
      priority: 1,
      instructions: apply(
        {
          type: 'learn',
          idleTimeout: 0,
          hardTimeout: 300,
          priority: 1,
          cookie: 0x8e6e2a1b0dcb4ee5n,
          flags: 0,
          tableId: 20,
          finIdleTimeout: 0,
          finHardTimeout: 0,
          specs: [
            { kind: 'match_field', src: sf('vlan_tci', 0, 12), dst: sf('vlan_tci', 0, 12) },
            { kind: 'match_field', src: sf('eth_src', 0, 48), dst: sf('eth_dst', 0, 48) },
            { kind: 'load_immediate', value: 0n, dst: sf('vlan_tci', 0, 16) },
            { kind: 'load_field', src: sf('tun_id', 0, 64), dst: sf('tun_id', 0, 64) },
            { kind: 'output_field', src: sf('in_port', 0, 32) },
          ],
        },
        output(1),
      ),
    }),
  },
  {
    text: 'actions=move:OXM_OF_IN_PORT[]->NXM_NX_REG5[],load:0x10000->OXM_OF_IN_PORT[]',
    flow: add({
      instructions: apply(
        { type: 'reg_move', src: sf('in_port', 0, 32), dst: sf('reg5', 0, 32) },
        { type: 'reg_load', dst: sf('in_port', 0, 32), value: 0x10000n },
      ),
    }),
  },
  {
    text:
      'ip,actions=learn(table=1,idle_timeout=5,fin_idle_timeout=5,fin_hard_timeout=10,send_flow_rem,delete_learned,dl_type=0x800,NXM_OF_IP_SRC[]=NXM_OF_IP_DST[],load:0x2a->NXM_NX_REG0[0..7])',
    flow: add({
      match: { eth_type: 0x0800 },
      instructions: apply({
        type: 'learn',
        idleTimeout: 5,
        hardTimeout: 0,
        priority: 0x8000,
        cookie: 0n,
        flags: NX_LEARN_F.SEND_FLOW_REM | NX_LEARN_F.DELETE_LEARNED,
        tableId: 1,
        finIdleTimeout: 5,
        finHardTimeout: 10,
        specs: [
          { kind: 'match_immediate', value: 0x800n, dst: sf('eth_type', 0, 16) },
          { kind: 'match_field', src: sf('ip_dst', 0, 32), dst: sf('ip_src', 0, 32) },
          { kind: 'load_immediate', value: 0x2an, dst: sf('reg0', 0, 8) },
        ],
      }),
    }),
  },
  {
    text: 'ip,actions=ct(table=10,zone=NXM_NX_REG6[0..15])',
    flow: add({
      match: { eth_type: 0x0800 },
      instructions: apply({ type: 'ct', commit: false, force: false, zone: sf('reg6', 0, 16), recircTable: 10, alg: 0, actions: [] }),
    }),
  },
  {
    text: 'ip,actions=ct(commit,zone=5,exec(set_field:0x1->ct_mark,set_field:0x5->ct_label))',
    flow: add({
      match: { eth_type: 0x0800 },
      instructions: apply({
        type: 'ct',
        commit: true,
        force: false,
        zone: 5,
        recircTable: 0xff,
        alg: 0,
        actions: [
          { type: 'set_field', field: 'ct_mark', value: 1 },
          { type: 'set_field', field: 'ct_label', value: 5n },
        ],
      }),
    }),
  },
  {
    text: 'ip,actions=ct(commit,nat(src=10.0.0.1-10.0.0.5:1000-2000,persistent,random)),ct(nat),ct_clear',
    flow: add({
      match: { eth_type: 0x0800 },
      instructions: apply(
        {
          type: 'ct',
          commit: true,
          force: false,
          zone: 0,
          recircTable: 0xff,
          alg: 0,
          actions: [
            {
              type: 'nat',
              flags: NX_NAT_F.SRC | NX_NAT_F.PERSISTENT | NX_NAT_F.PROTO_RANDOM,
              ipv4Min: '10.0.0.1',
              ipv4Max: '10.0.0.5',
              protoMin: 1000,
              protoMax: 2000,
            },
          ],
        },
        { type: 'ct', commit: false, force: false, zone: 0, recircTable: 0xff, alg: 0, actions: [{ type: 'nat', flags: 0 }] },
        { type: 'ct_clear' },
      ),
    }),
  },
  {
    text: 'ipv6,actions=ct(commit,nat(dst=[2001:db8::1]-[2001:db8::5]:80,hash))',
    flow: add({
      match: { eth_type: 0x86dd },
      instructions: apply({
        type: 'ct',
        commit: true,
        force: false,
        zone: 0,
        recircTable: 0xff,
        alg: 0,
        actions: [
          { type: 'nat', flags: NX_NAT_F.DST | NX_NAT_F.PROTO_HASH, ipv6Min: '2001:db8::1', ipv6Max: '2001:db8::5', protoMin: 80 },
        ],
      }),
    }),
  },
  {
    text: 'tcp,actions=ct(commit,force,alg=ftp,table=3)',
    flow: add({
      match: { eth_type: 0x0800, ip_proto: 6 },
      instructions: apply({ type: 'ct', commit: true, force: true, zone: 0, recircTable: 3, alg: 21, actions: [] }),
    }),
  },
  {
    text: 'actions=controller(reason=no_match,max_len=128,id=5),controller(userdata=01.02,pause),controller(id=3,meter_id=5)',
    flow: add({
      instructions: apply(
        { type: 'controller', maxLen: 128, controllerId: 5, reason: OFPR.NO_MATCH },
        { type: 'controller', maxLen: OFPCML.NO_BUFFER, controllerId: 0, reason: OFPR.ACTION, userdata: Buffer.from([1, 2]), pause: true },
        { type: 'controller', maxLen: OFPCML.NO_BUFFER, controllerId: 3, reason: OFPR.ACTION, meterId: 5 },
      ),
    }),
  },
  {
    text: 'ip,actions=output:NXM_NX_REG1[0..15],dec_ttl(1,2),multipath(eth_src,50,hrw,12,0,NXM_NX_REG0[0..3])',
    flow: add({
      match: { eth_type: 0x0800 },
      instructions: apply(
        { type: 'output_reg', src: sf('reg1', 0, 16), maxLen: OFPCML.NO_BUFFER },
        { type: 'dec_ttl', controllerIds: [1, 2] },
        { type: 'multipath', fields: 0, basis: 50, algorithm: 2, maxLink: 11, arg: 0, dst: sf('reg0', 0, 4) },
      ),
    }),
  },
  {
    text: 'actions=write_metadata:0x1/0xff,goto_table:10',
    flow: add({ instructions: [{ type: 'write_metadata', metadata: 1n, mask: 0xffn }, { type: 'goto_table', tableId: 10 }] }),
  },
  {
    text: 'actions=meter:1,clear_actions,write_actions(output:1),goto_table:3',
    flow: add({
      instructions: [
        { type: 'meter', meterId: 1 },
        { type: 'clear_actions' },
        { type: 'write_actions', actions: [output(1)] },
        { type: 'goto_table', tableId: 3 },
      ],
    }),
  },
  {
    text: 'actions=clone(set_field:1->reg0,output:1),exit',
    flow: add({
      instructions: apply({ type: 'clone', actions: [{ type: 'set_field', field: 'reg0', value: 1 }, output(1)] }, { type: 'exit' }),
    }),
  },
  {
    // Nicira actions without a type of their own are kept as bytes and sent back unchanged.
    text: 'tcp,actions=pop_queue,fin_timeout(idle_timeout=10,hard_timeout=20),sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3),output(port=2,max_len=100)',
    flow: add({
      match: { eth_type: 0x0800, ip_proto: 6 },
      instructions: apply(
        { type: 'experimenter', experimenter: 0x2320, data: Buffer.from('0005000000000000', 'hex') },
        { type: 'experimenter', experimenter: 0x2320, data: Buffer.from('0013000a00140000', 'hex') },
        { type: 'experimenter', experimenter: 0x2320, data: Buffer.from('001d0064000000010000000200000003', 'hex') },
        { type: 'experimenter', experimenter: 0x2320, data: Buffer.from('0027000200000064', 'hex') },
      ),
    }),
  },
  {
    text: 'in_port=LOCAL,actions=output:IN_PORT,output:FLOOD,output:ALL,output:LOCAL',
    flow: add({
      match: { in_port: OFPP.LOCAL },
      instructions: apply(output(OFPP.IN_PORT), output(OFPP.FLOOD), output(OFPP.ALL), output(OFPP.LOCAL)),
    }),
  },
];
